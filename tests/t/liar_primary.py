#!/usr/bin/python3
# A primary that lies with its own key, for t/follow-liar.t: it serves, over
# HTTPS with CERT/KEY, a checkpoint for ORIGIN of SIZE entries and a made-up
# root, signed with the primary's Ed25519 signing key SKEY (PEM) under the
# name and key id of VKEY, and full level-0 tiles of zero hashes.
# Prints "port N" once listening on loopback.
import base64, http.server, ssl, sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key

cert, key, skey, vkey, size = sys.argv[1:6]
name, keyid = vkey.split('+')[0], bytes.fromhex(vkey.split('+')[1])
sk = load_pem_private_key(open(skey, 'rb').read(), None)
text = '%s\n%s\n%s\n' % (name, size, base64.b64encode(b'\x01' * 32).decode())
sig = base64.b64encode(keyid + sk.sign(text.encode())).decode()
note = ('%s\n\u2014 %s %s\n' % (text, name, sig)).encode()

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        body = note if self.path == '/checkpoint' else bytes(256 * 32)
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
