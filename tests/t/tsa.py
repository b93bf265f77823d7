#!/usr/bin/python3
# A local RFC 3161 time-stamping authority for t/anchor.t: answers each
# POST by running `openssl ts -reply` with the test TSA's key and
# certificate.  MODE (a file the test writes) changes what it answers:
# "ok", "down" (HTTP 503), "garbage" (a reply that is no TimeStampResp).
# Prints "port N" once listening on loopback.
import http.server, subprocess, sys, os, tempfile

conf, mode_file = sys.argv[1], sys.argv[2]

class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        query = self.rfile.read(n)
        mode = open(mode_file).read().strip() if os.path.exists(mode_file) else 'ok'
        if mode == 'down':
            self.send_response(503); self.end_headers(); return
        if mode == 'garbage':
            body = b'\x30\x03\x02\x01\x00'
        else:
            with tempfile.NamedTemporaryFile(suffix='.tsq') as q:
                q.write(query); q.flush()
                body = subprocess.run(['openssl', 'ts', '-reply', '-config', conf, '-queryfile', q.name],
                                      capture_output=True, check=True).stdout
        self.send_response(200)
        self.send_header('Content-Type', 'application/timestamp-reply')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

s = http.server.HTTPServer(('127.0.0.1', 0), H)
print('port', s.server_address[1], flush=True)
s.serve_forever()
