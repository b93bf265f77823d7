#!/usr/bin/python3
# A TLS-terminating proxy for t/follow.t between a follower and the
# primary's tiles listener: it presents CERT/KEY to the follower, asks
# UPSTREAM (https://HOST:PORT) with the client certificate CCERT/CKEY, both
# checked against CA, and passes each answer on.  MODE (a file the test
# writes) says what it alters in transit: "none", "bundle" (the last byte
# of every entry bundle: a byte of its last entry, always one the follower
# lacks), "tile" (the last byte of every level-0 hash tile) or "cosig" (a
# byte of the signature in the checkpoint's last cosignature/v1 line, for
# t/follow-witness.t).
# Prints "port N" once listening on loopback.
import base64, http.client, http.server, os, re, ssl, sys

upstream, cert, key, ccert, ckey, ca, mode_file = sys.argv[1:8]
host, port = re.match(r'https://([^:/]+):(\d+)$', upstream).groups()
client = ssl.create_default_context(cafile=ca)
client.load_cert_chain(ccert, ckey)
client.check_hostname = False


def alter_cosig(body):
    lines = body.decode().split('\n')
    for i in range(len(lines) - 1, -1, -1):
        parts = lines[i].split(' ')
        if len(parts) == 3 and parts[0] == '\u2014':
            blob = bytearray(base64.b64decode(parts[2]))
            if len(blob) == 76:  # key id, time, Ed25519 signature
                blob[-1] ^= 0x01
                lines[i] = ' '.join(parts[:2] + [base64.b64encode(bytes(blob)).decode()])
                break
    return bytearray('\n'.join(lines).encode())


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        up = http.client.HTTPSConnection(host, int(port), context=client, timeout=30)
        up.request('GET', self.path, headers={'Accept-Encoding': 'identity'})
        r = up.getresponse()
        body = bytearray(r.read())
        up.close()
        mode = open(mode_file).read().strip() if os.path.exists(mode_file) else 'none'
        if r.status == 200 and body and (
                (mode == 'bundle' and self.path.startswith('/tile/entries')) or
                (mode == 'tile' and self.path.startswith('/tile/0/'))):
            body[-1] ^= 0x01
        if r.status == 200 and mode == 'cosig' and self.path == '/checkpoint':
            body = alter_cosig(bytes(body))
        self.send_response(r.status)
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
