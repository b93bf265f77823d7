// Opens a dossier's index.html in headless Chromium (Debian's, driven by
// playwright-core: no browser download), checks that it renders with its
// sections and Japanese text, that it asks for nothing beyond file:// (every
// other request is refused and fails the check), and prints it to A4 PDF.
// usage: node dossier-browser.js DOSSIER-DIR PDF-OUT
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', 'node_modules', 'playwright-core'));

(async () => {
  const [dir, pdf] = process.argv.slice(2);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const failures = [];
  try {
    const page = await browser.newPage();
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      failures.push('external request: ' + url);
      return route.abort();
    });
    await page.goto('file://' + path.resolve(dir, 'index.html'));
    const title = await page.title();
    if (!title.startsWith('Dossier of project')) failures.push('title: ' + title);
    const h2 = await page.$$eval('h2', (hs) => hs.map((h) => h.textContent));
    for (const want of ['The project', "The baseline and the client's confirmation",
      'Changes: assessment, quote and the client\'s answer', 'Every entry in time order']) {
      if (!h2.includes(want)) failures.push('no section: ' + want);
    }
    const steps = await page.$$eval('.step', (s) => s.length);
    if (steps < 1) failures.push('no steps rendered');
    const text = await page.textContent('body');
    if (!text.includes('参考サイトAに沿ったデザイン')) failures.push('Japanese text missing');
    if (!text.includes('PRサイト制作 <web>')) failures.push('escaped text not shown as text');
    const lang = await page.getAttribute('html', 'lang');
    if (!lang) failures.push('no lang attribute');
    const box = await page.$eval('.step', (s) => s.getBoundingClientRect().height);
    if (!(box > 0)) failures.push('steps have no height');
    await page.pdf({ path: pdf, format: 'A4', printBackground: false });
  } finally {
    await browser.close();
  }
  for (const f of failures) console.log('# ' + f);
  process.exit(failures.length ? 1 : 0);
})().catch((e) => { console.log('# ' + e.message); process.exit(2); });
