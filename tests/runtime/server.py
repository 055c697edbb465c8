"""A small threaded HTTP server on 127.0.0.1 for the runtime tests.

Prints `PORT <n>` on its first line, then serves until its standard input closes:
  GET  /json           a JSON document
  GET  /text           plain text
  GET  /query?..       the query parameters and the X-Test header, as JSON
  POST /echo           the request body back, with its content type
  GET  /redirect       302 to /json
  anything else        404
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

DOCUMENT = {"name": "unblock", "items": [3, 1, 2], "nested": {"ok": True}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def send_body(self, status, body, content_type):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/json":
            self.send_body(200, json.dumps(DOCUMENT), "application/json")
        elif url.path == "/text":
            self.send_body(200, "plain text from the test server\n", "text/plain")
        elif url.path == "/query":
            params = {k: v[0] for k, v in sorted(parse_qs(url.query).items())}
            reply = {"params": params, "x_test": self.headers.get("X-Test")}
            self.send_body(200, json.dumps(reply), "application/json")
        elif url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/json")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_body(404, "not found\n", "text/plain")

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if urlparse(self.path).path == "/echo":
            self.send_body(200, body, self.headers.get("Content-Type") or "application/octet-stream")
        else:
            self.send_body(404, "not found\n", "text/plain")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
