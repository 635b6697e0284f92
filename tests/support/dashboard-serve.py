#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""dashboard-serve.py PORT PROMETHEUS_URL DIR - serve DIR (the dashboard
renderer and grafana-xflow.json) on 127.0.0.1:PORT and pass /api/ to
Prometheus, so the page and the data share one origin."""

import http.server
import os
import sys
import urllib.request

port, prom, root = int(sys.argv[1]), sys.argv[2].rstrip("/"), sys.argv[3]


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=root, **kw)

    def do_GET(self):
        if not self.path.startswith("/api/"):
            return super().do_GET()
        try:
            with urllib.request.urlopen(prom + self.path, timeout=30) as r:
                body = r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            body, status = e.read(), e.code
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


os.chdir(root)
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
