#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""realmix.py - the real mix of `make bench`: every recorded request of
every SDK family in tests/fixtures (the browser captures of
sdk-captures/, the app uploads of app-sdk/), written as complete HTTP/1.1
requests, one file each, for wrk (realmix.lua) and xflow-load (-f).

    tests/bench/realmix.py OUTDIR HEADERS_FILE [CAPTURES APPSDK]

HEADERS_FILE holds the browser's "Name: value" lines (run.sh's
write_headers: a ~2 KB Cookie, Chrome's User-Agent, X-Forwarded-For,
...).  Browser requests get them all (the Cookie after the SDK's own,
the User-Agent instead of the headless one); app uploads keep their own
User-Agent and get only X-Forwarded-For, as an app sends no browser
cookie.  A chunked upload is sent with a Content-Length instead (wrk
sends whole requests).

Writes OUTDIR/NNN.req, OUTDIR/list (their paths, in order) and
OUTDIR/manifest.tsv: per request its source, method, path, body bytes on
the wire and decoded bytes: the bytes of the final layer the events are
read from (after Content-Encoding, a raw gzip body, a form's data or
data_list field, base64 and gzip inside it, or a GET beacon's data
parameter), 0 for a request without events (remote config, feature
flags, a preflight).
"""

import base64
import binascii
import glob
import gzip
import json
import os
import sys
import urllib.parse

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DROP = ("host", "content-length", "connection", "transfer-encoding")


def b64(s):
    s = s.strip().replace("-", "+").replace("_", "/").replace(" ", "+")
    return base64.b64decode(s + "=" * (-len(s) % 4))


def peel(b):
    """gzip if it is gzip, as often as it is."""
    while b[:2] == b"\x1f\x8b":
        b = gzip.decompress(b)
    return b


def is_json(b):
    try:
        json.loads(b)
        return True
    except ValueError:
        return False


def form_layer(text):
    q = urllib.parse.parse_qs(text, keep_blank_values=True)
    for k in ("data_list", "data"):
        if k in q:
            v = q[k][0]
            if is_json(v.encode()):
                return v.encode()
            try:
                return peel(b64(v))
            except (binascii.Error, ValueError, OSError):
                return v.encode()
    return None


def decoded(method, path, query, body):
    """The final layer's bytes: what the events are split from."""
    if "/flags" in path or "/decide" in path:
        return 0            # feature flags: an answer, no events
    if method == "GET":
        d = form_layer(query or "")
        return len(d) if d else 0
    if not body:
        return 0
    b = peel(body)
    if is_json(b):
        return len(b)
    try:
        d = form_layer(b.decode())
    except UnicodeDecodeError:
        d = None
    return len(d) if d else len(b)


def captures(path):
    out = []
    for f in sorted(glob.glob(os.path.join(path, "*.json"))):
        src = os.path.basename(f)[:-5]
        for r in json.load(open(f))["serverRecords"]:
            hs = [(k, v) for k, v in r["headers"].items()
                  if k not in DROP]
            body = base64.b64decode(r.get("bodyBase64") or "")
            # recorded queries keep their "?" (as the app uploads' do)
            out.append((src, r["method"], r["path"],
                        (r.get("query") or "").lstrip("?"), hs, body, True))
    return out


def app_uploads(path):
    out = []
    for f in sorted(glob.glob(os.path.join(path, "*.json"))):
        d = json.load(open(f))
        hs = []
        for line in d["headers"]:
            k, v = line.split(":", 1)
            if k.strip().lower() not in DROP:
                hs.append((k.strip().lower(), v.strip()))
        out.append(("app:" + os.path.basename(f)[:-5], d["method"],
                    d["path"], (d.get("query") or "").lstrip("?"), hs,
                    base64.b64decode(d["body_b64"]), False))
    return out


def main():
    outdir, hfile = sys.argv[1], sys.argv[2]
    caps = (sys.argv[3] if len(sys.argv) > 3
            else os.path.join(ROOT, "tests/fixtures/sdk-captures"))
    apps = (sys.argv[4] if len(sys.argv) > 4
            else os.path.join(ROOT, "tests/fixtures/app-sdk"))

    browser = []
    if hfile and os.path.exists(hfile):
        for line in open(hfile):
            k, v = line.rstrip("\n").split(": ", 1)
            browser.append((k.lower(), v))

    os.makedirs(outdir, exist_ok=True)
    lst = open(os.path.join(outdir, "list"), "w")
    man = open(os.path.join(outdir, "manifest.tsv"), "w")
    man.write("file\tsource\tmethod\tpath\tbody_bytes\tdecoded_bytes\n")

    for i, (src, method, path, query, hs, body, is_browser) in enumerate(
            captures(caps) + app_uploads(apps)):
        h = dict(hs)
        for k, v in browser:
            if not is_browser and k != "x-forwarded-for":
                continue
            if k == "cookie" and h.get("cookie"):
                h["cookie"] = h["cookie"] + "; " + v
            else:
                h[k] = v
        target = path + ("?" + query if query else "")
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (method, target)
        for k, v in h.items():
            head += "%s: %s\r\n" % ("-".join(p.capitalize()
                                              for p in k.split("-")), v)
        if body or method not in ("GET", "HEAD", "OPTIONS"):
            head += "Content-Length: %d\r\n" % len(body)
        name = os.path.join(outdir, "%03d.req" % i)
        with open(name, "wb") as f:
            f.write(head.encode() + b"\r\n" + body)
        lst.write(name + "\n")
        man.write("%s\t%s\t%s\t%s\t%d\t%d\n" % (
            name, src, method, path, len(body),
            decoded(method, path, query, body)))


main()
