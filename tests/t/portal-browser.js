// The client portal in headless Chromium (Debian's, driven by playwright-core:
// no browser download), for tests/t/portal-browser.t.  The browser trusts the
// portal's certificate by its public key only (--ignore-certificate-errors-spki-list),
// nothing else.  Each check prints one line, "ok|WHAT" or "not ok|WHAT|WHY";
// every page is saved as SHOTS/NAME.png, the downloaded receipt as
// SHOTS/receipt-approve.json.
// usage: node portal-browser.js LINKS-FILE SHOTS-DIR SPKI-SHA256-BASE64
const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', 'node_modules', 'playwright-core'));

const [linksFile, shots, spki] = process.argv.slice(2);
const url = {};
for (const line of fs.readFileSync(linksFile, 'utf8').split('\n').filter(Boolean)) {
  const [name, u] = line.split(' ');
  url[name] = u;
}
const check = (cond, what, why) => console.log(cond ? 'ok|' + what
  : 'not ok|' + what + '|' + String(why || '').replace(/\s+/g, ' ').slice(0, 400));
// With PORTAL_DOCS set, the pages the README shows are also saved there, the
// top 1300 px only (how docs/portal/ is made; then pngquant).
const DOCS = ['change-ja', 'change-en', 'receipt', 'used', 'project', 'refused', 'superseded', 'expired',
  'forged', 'notice', 'delivery'];
async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
  if (process.env.PORTAL_DOCS && DOCS.includes(name)) {
    await page.screenshot({ path: path.join(process.env.PORTAL_DOCS, name + '.png'), fullPage: true,
      clip: { x: 0, y: 0, width: 800, height: 1300 } });
  }
}
const text = (page) => page.textContent('body');
const hasForm = async (page) => (await page.$('form.answer')) !== null;

// The definition list of the page as { term: description }.
const facts = (page) => page.$$eval('dl dt', (dts) => Object.fromEntries(dts.map((dt) => [dt.textContent.trim(),
  dt.nextElementSibling ? dt.nextElementSibling.textContent.trim() : ''])));
const amount = (s) => Number(String(s || '').replace(/[^0-9]/g, ''));

// Submits the answer form and returns the HTTP status of the page it leads to.
async function answer(page, decision, reason) {
  await page.check(`input[name=decision][value=${decision}]`);
  if (reason !== undefined) await page.fill('textarea[name=reason]', reason);
  const [resp] = await Promise.all([page.waitForNavigation(), page.click('form.answer button[type=submit]')]);
  return resp.status();
}

// The fonts Chromium really drew an element's text with (DevTools protocol).
async function fontsOf(page, selector) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument');
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
  const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
  await cdp.detach();
  return fonts;
}

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--ignore-certificate-errors-spki-list=' + spki] });
  const attacker = http.createServer();
  try {
    const ja = await browser.newContext({ locale: 'ja-JP', viewport: { width: 800, height: 800 } });
    const en = await browser.newContext({ locale: 'en-US', viewport: { width: 800, height: 800 } });
    const page = await ja.newPage();

    // ---- a quote in Japanese, then English; approved; the receipt ----
    let resp = await page.goto(url.approve);
    check(resp.status() === 200, 'the quote\'s page opens over HTTPS (status 200)', 'status ' + resp.status());
    check(await page.getAttribute('main', 'lang') === 'ja', '  Accept-Language ja: the page is Japanese');
    let t = await text(page);
    check(t.includes('見積') && t.includes('採用ページの追加') && t.includes('会社概要ページ'),
      '  it shows お見積, the change and the agreed item it touches', t.slice(0, 200));
    const fonts = await fontsOf(page, 'main h1');
    check(fonts.some((f) => /IPAex/.test(f.familyName) && f.glyphCount > 0), '  drawn with the Japanese font (IPAex Gothic)',
      JSON.stringify(fonts));
    check(await hasForm(page), '  with the answer form');
    await shot(page, 'change-ja');
    await Promise.all([page.waitForNavigation(), page.click('a[href$="lang=en"]')]);
    check(await page.getAttribute('main', 'lang') === 'en', 'the switch shows it in English');
    const f = await facts(page);
    const fee = amount(f['Fee (before tax)']), tax = amount(f['Tax']), total = amount(f['Total (with tax)']);
    check(fee === 200000 && tax === 20000 && total === 220000, '  fee 200,000, tax 20,000, total 220,000 JPY',
      JSON.stringify(f));
    await shot(page, 'change-en');
    await page.setViewportSize({ width: 375, height: 812 });
    const wide = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    check(wide[0] <= wide[1], '  on a phone (375 px) no horizontal scroll', 'scrollWidth ' + wide[0] + ' > ' + wide[1]);
    await shot(page, 'change-phone');
    await page.setViewportSize({ width: 800, height: 800 });
    check(await answer(page, 'approved') === 200, 'approve: the receipt page');
    t = await text(page);
    check(t.includes('Receipt of your answer') && (t.match(/Entry number\s*\d+/g) || []).length === 1,
      '  says what was recorded and its entry number, once', t.slice(0, 600));
    await shot(page, 'receipt');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('a.download')]);
    await dl.saveAs(path.join(shots, 'receipt-approve.json'));
    const receipt = JSON.parse(fs.readFileSync(path.join(shots, 'receipt-approve.json'), 'utf8'));
    check(typeof receipt.page === 'string' && receipt.page.startsWith('<main'), '  the receipt downloads, with the page shown');
    resp = await page.goto(url.approve);
    t = await text(page);
    check(!(await hasForm(page)) && t.includes('このリンクからは既にご回答いただいています') && t.includes('承認済'),
      'the used link shows the answer and no form', t.slice(0, 300));
    await shot(page, 'used');

    // ---- a rejection: without a reason refused and shown again, then recorded ----
    await page.goto(url.reject);
    check(await answer(page, 'rejected') === 422, 'a rejection without a reason is refused (422)');
    check(await hasForm(page) && (await page.textContent('p.error')).includes('もう一度送信してください'), '  the form again, with the message in Japanese');
    await shot(page, 'refused');
    check(await answer(page, 'rejected', '予算の都合により今回は見送ります。') === 200, '  with a reason it is recorded');

    // ---- links that cannot answer ----
    await page.goto(url.old);
    t = await text(page);
    check(!(await hasForm(page)) && t.includes('新しい版に差し替えられています'),
      'a link for an old quote revision: superseded, no form', t.slice(0, 300));
    await shot(page, 'superseded');
    const enPage = await en.newPage();
    resp = await enPage.goto(url.expired);
    t = await text(enPage);
    check(!(await hasForm(enPage)) && t.includes('expired'), 'an expired link says so, no form', t.slice(0, 300));
    await shot(enPage, 'expired');
    resp = await enPage.goto(url.forged);
    check(resp.status() === 404 && (await text(enPage)).includes('not found'), 'a forged token: 404, not found');
    await shot(enPage, 'forged');

    // ---- a cross-site form post, with the real page's own csrf and shown ----
    await enPage.goto(url.cross);
    const fields = await enPage.$$eval('form.answer input[type=hidden]', (is) => is.map((i) => [i.name, i.value]));
    attacker.on('request', (req, res) => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end('<!doctype html><form method="post" action="' + url.cross + '">' +
        fields.map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`).join('') +
        '<input type="hidden" name="decision" value="approved"><button>Win a prize</button></form>');
    });
    await new Promise((ok) => attacker.listen(0, '127.0.0.1', ok));
    await enPage.goto(`http://localhost:${attacker.address().port}/`);
    const [cross] = await Promise.all([enPage.waitForNavigation(), enPage.click('button')]);
    check(cross.status() === 403, 'a form posted from another site is refused (403)', 'status ' + cross.status());
    await shot(enPage, 'cross-site');
    await enPage.goto(url.cross);
    check(await hasForm(enPage), '  and the link still awaits its answer');

    // ---- a notice acknowledged, a delivery failed ----
    await page.goto(url.notice);
    t = await text(page);
    check(t.includes('遅延のおそれ') && t.includes('CMSの提供元'), 'the notice\'s page shows its type and text', t.slice(0, 300));
    await shot(page, 'notice');
    check(await answer(page, 'acknowledged') === 200, '  acknowledged: the receipt');
    await page.goto(url.delivery);
    t = await text(page);
    check(t.includes('第1回納品') && t.includes('検収期限'), 'the delivery\'s page shows the deliverable and its deadline',
      t.slice(0, 300));
    await shot(page, 'delivery');
    check(await answer(page, 'failed', '短い') === 422, '  failed with a reason under 30 characters is refused');
    check(await page.isChecked('input[name=decision][value=failed]') &&
      (await page.inputValue('textarea[name=reason]')) === '短い', '  the form again keeps the choice and the reason typed');
    check(await answer(page, 'failed', 'トップページのお知らせ欄に、1週間より前の記事が一件も表示されません。') === 200,
      '  failed with what fails: the receipt');
    await shot(page, 'delivery-receipt');

    // ---- the project's read-only page ----
    await page.goto(url.project);
    t = await text(page);
    check(!(await hasForm(page)) && t.includes('閲覧専用') && t.includes('採用ページの追加') && t.includes('英語版トップページ'),
      'the project page: read only, every change', t.slice(0, 300));
    check(t.includes('承認済') && t.includes('却下'), '  with the answers recorded through the portal');
    await shot(page, 'project');
    // CR-3, quoted twice: each revision with its own fee, the first marked replaced
    const cr3 = page.locator('section.item', { hasText: 'お問い合わせフォームの項目追加' });
    const revs = await cr3.locator('section.revision').allTextContents();
    check(revs.length === 2 && revs[0].includes('見積版数 1') && revs[0].includes('80,000円') &&
      revs[0].includes('第2版に差し替えられています') && revs[0].includes('項目は3つまでに絞ってください。') &&
      revs[0].includes('打合せ') && revs[1].includes('見積版数 2') && revs[1].includes('60,000円'),
      '  every quote revision of CR-3, each with its own fee, the first replaced, with the revision asked for', JSON.stringify(revs).slice(0, 400));
    const cr2 = await page.locator('section.item', { hasText: '英語版トップページ' }).locator('section.revision').allTextContents();
    check(cr2.length === 1 && cr2[0].includes('予算の都合により今回は見送ります。') && cr2[0].includes('木村'),
      '  CR-2\'s revision with its rejection, who and why', JSON.stringify(cr2).slice(0, 400));
    await cr3.screenshot({ path: path.join(shots, 'project-revisions.png') });
    if (process.env.PORTAL_DOCS) await cr3.screenshot({ path: path.join(process.env.PORTAL_DOCS, 'project-revisions.png') });
  } finally {
    attacker.close();
    await browser.close();
  }
})().catch((e) => { console.error(e.stack || e.message); process.exit(2); });
