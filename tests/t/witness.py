#!/usr/bin/python3
# A small C2SP tlog-witness for t/witnessing.t: add-checkpoint for the logs
# whose verifier keys it is given, cosignature/v1 (Ed25519) answers, its
# state (each origin's cosigned size and root) in STATE, written before it
# answers.  Usage: witness.py NAME SEED_HEX STATE LOG_VKEY...
# Prints "vkey V" and "port N" once listening on loopback.
import base64, hashlib, http.server, json, os, sys, time
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives import serialization

name, seed, state_file, vkeys = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3], sys.argv[4:]
sk = Ed25519PrivateKey.from_private_bytes(seed)
pub = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
kid = hashlib.sha256(name.encode() + b'\n\x04' + pub).digest()[:4]
logs = {}
for v in vkeys:
    n, h, k = v.split('+', 2)
    raw = base64.b64decode(k)
    logs[n] = (bytes.fromhex(h), Ed25519PublicKey.from_public_bytes(raw[1:]))

def H(*p): return hashlib.sha256(b''.join(p)).digest()

def consistent(m, n, r1, r2, proof):
    if m == n: return r1 == r2 and not proof
    if m & (m - 1) == 0: proof = [r1] + proof
    if not proof: return False
    fn, sn = m - 1, n - 1
    while fn & 1: fn >>= 1; sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            fr, sr = H(b'\x01', c, fr), H(b'\x01', c, sr)
            while fn and not fn & 1: fn >>= 1; sn >>= 1
        else:
            sr = H(b'\x01', sr, c)
        fn >>= 1; sn >>= 1
    return sn == 0 and fr == r1 and sr == r2

def load():
    return json.load(open(state_file)) if os.path.exists(state_file) else {}

class W(http.server.BaseHTTPRequestHandler):
    def answer(self, code, body=b'', ctype='text/plain'):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        if self.path.rstrip('/').split('/')[-1] != 'add-checkpoint': return self.answer(404)
        req = self.rfile.read(int(self.headers.get('Content-Length', '0'))).decode()
        head, _, note = req.partition('\n\n')
        lines = head.split('\n')
        old = int(lines[0].split(' ')[1]); proof = [base64.b64decode(l) for l in lines[1:]]
        text, _, sigs = note.partition('\n\n')
        text += '\n'
        origin, size, root = text.split('\n')[:3]
        size, root = int(size), base64.b64decode(root)
        if origin not in logs: return self.answer(404)
        lkid, lpub = logs[origin]
        good = False
        for s in sigs.split('\n'):
            if not s.startswith('\u2014 ' + origin + ' '): continue
            raw = base64.b64decode(s.split(' ')[2])
            if raw[:4] != lkid: continue
            try: lpub.verify(raw[4:], text.encode()); good = True
            except Exception: return self.answer(403)
        if not good: return self.answer(403)
        if old > size: return self.answer(400)
        st = load()
        have = st.get(origin, [0, None])
        if old != have[0]: return self.answer(409, b'%d\n' % have[0], 'text/x.tlog.size')
        if old == 0 and proof: return self.answer(422)
        if old > 0 and not consistent(old, size, base64.b64decode(have[1]), root, proof): return self.answer(422)
        st[origin] = [size, base64.b64encode(root).decode()]
        json.dump(st, open(state_file + '.new', 'w')); os.replace(state_file + '.new', state_file)
        t = int(time.time())
        sig = sk.sign(b'cosignature/v1\ntime %d\n' % t + text.encode())
        line = '\u2014 %s %s\n' % (name, base64.b64encode(kid + t.to_bytes(8, 'big') + sig).decode())
        self.answer(200, line.encode())
    def log_message(self, *a):
        pass

s = http.server.HTTPServer(('127.0.0.1', int(os.environ.get('WITNESS_PORT', '0'))), W)
print('vkey %s+%s+%s' % (name, kid.hex(), base64.b64encode(b'\x04' + pub).decode()), flush=True)
print('port', s.server_address[1], flush=True)
s.serve_forever()
