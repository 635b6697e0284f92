#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""capacity-chart.py TSV SVG - the capacity chart of docs/benchmarks.md:
events/s one worker delivers and its CPU per event, against the events
per upload, from tests/bench/capacity.sh's table.  Plain SVG, no
plotting library: two panels side by side, log-scaled x axis."""

import csv
import math
import sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
sizes = [int(r["events_per_upload"]) for r in rows]
eps = [float(r["events_per_s"]) for r in rows]
cpu = [float(r["us_per_event"]) for r in rows]

W, H, L, R, T, B = 380, 260, 62, 14, 34, 44


def panel(x0, title, ys, fmt, color):
    hi = max(ys) * 1.15 or 1
    lo_x, hi_x = math.log(min(sizes)), math.log(max(sizes))
    span = hi_x - lo_x or 1

    def X(v):
        return x0 + L + (math.log(v) - lo_x) / span * (W - L - R)

    def Y(v):
        return T + (1 - v / hi) * (H - T - B)

    out = ['<text x="%d" y="20" class="t">%s</text>' % (x0 + L, title)]
    for k in range(5):
        v = hi * k / 4
        out.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" '
                   'class="g"/>' % (x0 + L, x0 + W - R, Y(v), Y(v)))
        out.append('<text x="%.1f" y="%.1f" class="a" text-anchor="end">'
                   '%s</text>' % (x0 + L - 6, Y(v) + 4, fmt(v)))
    for s in sizes:
        out.append('<text x="%.1f" y="%d" class="a" text-anchor="middle">'
                   '%d</text>' % (X(s), H - B + 16, s))
    out.append('<text x="%.1f" y="%d" class="a" text-anchor="middle">'
               'events per upload</text>' % (x0 + L + (W - L - R) / 2,
                                             H - 8))
    pts = " ".join("%.1f,%.1f" % (X(s), Y(v)) for s, v in zip(sizes, ys))
    out.append('<polyline points="%s" fill="none" stroke="%s" '
               'stroke-width="2.5"/>' % (pts, color))
    for s, v in zip(sizes, ys):
        out.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>'
                   % (X(s), Y(v), color))
        out.append('<text x="%.1f" y="%.1f" class="v" text-anchor="middle">'
                   '%s</text>' % (X(s), Y(v) - 8, fmt(v)))
    return out


def k(v):
    return "%.0fk" % (v / 1000) if v >= 1000 else "%.0f" % v


def us(v):
    return "%.1f" % v if v < 10 else "%.0f" % v


svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
       'font-family="sans-serif">' % (2 * W, H),
       '<style>.t{font-size:13px;font-weight:bold;fill:#222}'
       '.a{font-size:11px;fill:#555}.v{font-size:10px;fill:#222}'
       '.g{stroke:#ddd}</style>',
       '<rect width="100%" height="100%" fill="white"/>']
svg += panel(0, "events/s delivered, one worker", eps, k, "#2f6fd1")
svg += panel(W, "worker CPU per event (\u00b5s)", cpu, us, "#d1602f")
svg.append("</svg>")

open(sys.argv[2], "w").write("\n".join(svg) + "\n")
