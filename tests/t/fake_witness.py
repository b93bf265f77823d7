#!/usr/bin/python3
# A witness that refuses, for t/witness-answers.t: answers every POST to
# /add-checkpoint as MODE (a file the test writes) says, over plain HTTP on
# loopback (scoped allows http:// there):
#   403, 404, 422     that status, with a reason line
#   409-ahead:N       409, text/x.tlog.size "N\n" (N beyond the log's size)
#   409:N             409, text/x.tlog.size "N\n" (a size the log has)
#   trickle           200 with a body of 1000 bytes sent one byte a second,
#                     never idle long enough for an inactivity timeout
# Each request's first line ("old N") and its number of proof lines are
# appended to LOG.  Prints "port N" once listening.
import http.server, os, sys, time

mode_file, log_file = sys.argv[1], sys.argv[2]

class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        body = self.rfile.read(n).decode('utf-8', 'replace')
        head, _, _ = body.partition('\n\n')
        lines = head.split('\n')
        with open(log_file, 'a') as f:
            f.write('%s proofs %d\n' % (lines[0], len(lines) - 1))
        mode = open(mode_file).read().strip() if os.path.exists(mode_file) else '404'
        ctype, status = 'text/plain', mode
        if mode == 'trickle':
            self.send_response(200)
            self.send_header('Content-Type', ctype)
            self.send_header('Content-Length', '1000')
            self.end_headers()
            self.wfile.flush()
            try:
                for _ in range(1000):
                    self.wfile.write(b'x')
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:	# the log gave up on it
                pass
            return
        if mode.startswith('409'):
            status, text = '409', mode.split(':')[1] + '\n'
            ctype = 'text/x.tlog.size'
        else:
            text = {'403': 'no signature by a trusted key\n', '404': 'unknown origin\n',
                    '422': 'consistency proof does not verify\n'}[mode]
        data = text.encode()
        self.send_response(int(status))
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass

s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
print('port', s.server_address[1], flush=True)
s.serve_forever()
