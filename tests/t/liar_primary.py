#!/usr/bin/python3
# A primary that lies with its own key, for t/follow-liar.t and
# t/follow-oversize.t: it serves, over HTTPS with CERT/KEY, a checkpoint
# for ORIGIN of SIZE entries signed with the primary's Ed25519 signing key
# SKEY (PEM) under the name and key id of VKEY.  MODE (default "root"):
#   root            a made-up root, and full level-0 tiles of zero hashes
#   big-checkpoint  the checkpoint is 600 MB of zeros (chunked)
#   big-bundle      a true tree of SIZE made-up entries; its entry bundles
#                   are 600 MB of zeros (chunked)
#   many-bundles    a true tree of SIZE made-up entries of 60000 bytes, each
#                   bundle served as it is (they hash to their leaves, but
#                   are no entries the follower could store)
# Prints "port N" once listening on loopback.
import base64, hashlib, http.server, re, ssl, struct, sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key

cert, key, skey, vkey, size = sys.argv[1:6]
mode = sys.argv[6] if len(sys.argv) > 6 else 'root'
size = int(size)
name, keyid = vkey.split('+')[0], bytes.fromhex(vkey.split('+')[1])
sk = load_pem_private_key(open(skey, 'rb').read(), None)
BIG = 600 * 2**20


def entry(i):
    return struct.pack('>Q', i) * (7500 if mode == 'many-bundles' else 1)


def node(l, r):
    return hashlib.sha256(b'\x01' + l + r).digest()


def mth(h):	# RFC 6962 tree hash of the leaf hashes h
    if len(h) == 1:
        return h[0]
    k = 1
    while k * 2 < len(h):
        k *= 2
    return node(mth(h[:k]), mth(h[k:]))


leaves, root = [], b'\x01' * 32
if mode in ('big-bundle', 'many-bundles'):
    leaves = [hashlib.sha256(b'\x00' + entry(i)).digest() for i in range(size)]
    root = mth(leaves)
text = '%s\n%d\n%s\n' % (name, size, base64.b64encode(root).decode())
sig = base64.b64encode(keyid + sk.sign(text.encode())).decode()
note = ('%s\n\u2014 %s %s\n' % (text, name, sig)).encode()
TILE = re.compile(r'/tile/(0|entries32)/(\d{3})(?:\.p/(\d+))?$')


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def chunked(self, n):	# n bytes of zeros, 1 MiB a chunk, until the client gives up
        self.send_response(200)
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        zeros = bytes(2**20)
        try:
            for _ in range(n // len(zeros)):
                self.wfile.write(b'%x\r\n' % len(zeros) + zeros + b'\r\n')
            self.wfile.write(b'0\r\n\r\n')
        except OSError:
            pass
        self.close_connection = True

    def do_GET(self):
        m = TILE.search(self.path)
        if self.path.endswith('/checkpoint') and mode == 'big-checkpoint':
            return self.chunked(BIG)
        if self.path.endswith('/checkpoint'):
            body = note
        elif mode == 'root' or m is None:
            body = bytes(256 * 32)
        else:
            t = int(m.group(2))
            first, w = t * 256, int(m.group(3) or 256)
            if m.group(1) == '0':
                body = b''.join(leaves[first:first + w])
            elif mode == 'big-bundle':
                return self.chunked(BIG)
            else:
                body = b''.join(struct.pack('>I', len(entry(i))) + entry(i) for i in range(first, first + w))
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server.load_cert_chain(cert, key)
s.socket = server.wrap_socket(s.socket, server_side=True)
print('port', s.server_address[1], flush=True)
s.serve_forever()
