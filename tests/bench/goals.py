#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""goals.py - the goals of the performance issues (16: throughput and
latency; 27: the real mix, bytes on the wire), for every profile that
run.sh ran, from the raw files it left (runs.tsv, half.tsv, soak.tsv,
floor.txt, mix.tsv, mixbytes.tsv under DIR/PROFILE/).  Medians as in
run.sh's tables.  No goal fails the run: the table is for people.

    tests/bench/goals.py DIR PROFILE...
"""

import csv
import os
import re
import statistics
import sys

HZ = os.sysconf("SC_CLK_TCK")


def rows(path):
    if not os.path.exists(path):
        return []
    return list(csv.DictReader(open(path), delimiter="\t"))


def medians(runs):
    out = {}
    for key in dict.fromkeys((r["case"], r["target"]) for r in runs):
        rs = [r for r in runs if (r["case"], r["target"]) == key]
        per = []
        for r in rs:
            req = int(r["requests"])
            dur = int(r["duration_us"]) / 1e6
            ev = float(r["events_per_req"])
            cpu = int(r["cpu_ticks"]) / HZ * 1e6
            per.append({"rps": req / dur, "eps": req * ev / dur,
                        "cpu_req": cpu / req, "cpu_ev": cpu / (req * ev),
                        "rss": int(r["rss_kb"]) / 1024})
        out[key] = {k: statistics.median(p[k] for p in per)
                    for k in per[0]}
        out[key]["rss_max"] = max(p["rss"] for p in per)
    return out


def main():
    top, profiles = sys.argv[1], sys.argv[2:]
    lines = []

    def goal(name, prof, value, ok):
        lines.append((name, prof, value,
                      "-" if ok is None else ("yes" if ok else "NO")))

    loads = []
    for prof in profiles:
        d = os.path.join(top, prof)
        runs = rows(os.path.join(d, "runs.tsv"))
        if not runs:
            continue
        loads += [float(r["load1"]) for r in runs]
        m = medians(runs)
        get = lambda c, t: m.get((c, t))

        b = get("batch50gz", "xflow-local")
        if b:
            goal("batch50gz >= 1,000,000 events/s", prof,
                 "%.0f events/s" % b["eps"], b["eps"] >= 1e6)
            goal("batch50gz <= 1 us CPU/event", prof,
                 "%.3f us/event" % b["cpu_ev"], b["cpu_ev"] <= 1.0)

        e, base = get("event300", "xflow-local"), get("event300", "read")
        if e and base:
            goal("event300 >= 0.8x baseline req/s", prof,
                 "%.2fx (%.0f / %.0f)" % (e["rps"] / base["rps"], e["rps"],
                                          base["rps"]),
                 e["rps"] / base["rps"] >= 0.8)
            goal("event300 <= 1.15x baseline CPU/req", prof,
                 "%.2fx (%.2f / %.2f us)" % (e["cpu_req"] / base["cpu_req"],
                                             e["cpu_req"], base["cpu_req"]),
                 e["cpu_req"] / base["cpu_req"] <= 1.15)

        for c in ("event300", "batch50gz"):
            k, l = get(c, "xflow-kafka"), get(c, "xflow-local")
            if k and l:
                goal("%s ack=kafka >= 0.7x local req/s" % c, prof,
                     "%.2fx" % (k["rps"] / l["rps"]),
                     k["rps"] / l["rps"] >= 0.7)

        for h in rows(os.path.join(d, "half.tsv")):
            p99 = int(h["p99_us"]) / 1000
            goal("%s %s p99 <= 5 ms at half peak"
                 % (h["case"], h["target"].replace("xflow-", "ack=")),
                 prof, "%.2f ms (%s of %s r/s)" % (p99, h["rps"],
                                                   h["want_rps"]),
                 p99 <= 5.0)

        rss = [v["rss_max"] for (c, t), v in m.items()
               if t.startswith("xflow-")]
        if rss:
            goal("worker RSS <= 64 MB", prof, "max %.1f MB" % max(rss),
                 max(rss) <= 64)
        soak = rows(os.path.join(d, "soak.tsv"))
        if soak:
            r = [int(x["rss_kb"]) / 1024 for x in soak]
            first, last = r[0], r[-1]
            goal("RSS flat over the soak (%ss)" % soak[-1]["second"], prof,
                 "%.1f -> %.1f MB (max %.1f)" % (first, last, max(r)),
                 max(r) <= 64 and last <= first * 1.1)

        for t, label in (("xflow-privacy", "privacy+GeoIP"),
                         ("xflow-routes", "1,000 routes")):
            for c in ("event300", "batch50gz"):
                x, l = get(c, t), get(c, "xflow-local")
                if x and l:
                    goal("%s %s <= 1.2x plain CPU/event" % (c, label), prof,
                         "%.2fx (%.2f / %.2f us)"
                         % (x["cpu_ev"] / l["cpu_ev"], x["cpu_ev"],
                            l["cpu_ev"]),
                         x["cpu_ev"] / l["cpu_ev"] <= 1.2)

        fl = os.path.join(d, "floor.txt")
        floor = None
        if os.path.exists(fl) and os.path.getsize(fl):
            us = re.search(r"([0-9.]+) us CPU/message", open(fl).read())
            floor = float(us.group(1)) if us else None
            goal("floor: librdkafka alone, CPU/message", prof,
                 "%s us (a bare producer)" % (us.group(1) if us else "?"),
                 None)

        # issue 27: the real mix, the shipped privacy setup, bytes
        mx, mb = get("realmix", "xflow-shipped"), get("realmix", "read")
        mp = get("realmix", "xflow-mix")
        if mx and mb:
            goal("realmix shipped <= 1.3x baseline CPU/req", prof,
                 "%.2fx (%.2f / %.2f us)" % (mx["cpu_req"] / mb["cpu_req"],
                                             mx["cpu_req"], mb["cpu_req"]),
                 mx["cpu_req"] / mb["cpu_req"] <= 1.3)
        if mx and mp:
            goal("realmix privacy <= 1.2x plain CPU/req", prof,
                 "%.2fx (%.2f / %.2f us)" % (mx["cpu_req"] / mp["cpu_req"],
                                             mx["cpu_req"], mp["cpu_req"]),
                 mx["cpu_req"] / mp["cpu_req"] <= 1.2)
        for r in rows(os.path.join(d, "mixbytes.tsv")):
            if r["target"] != "xflow-shipped" or not int(r["events"]):
                continue
            tx, dec = int(r["tx_bytes"]), float(r["decoded_manifest"])
            goal("realmix Kafka wire bytes <= 30% of decoded", prof,
                 "%.1f%% (%.0f / %.0f B/event)"
                 % (100 * tx / dec, tx / int(r["events"]),
                    dec / int(r["events"])),
                 tx <= 0.3 * dec)
        b, fl_us = get("batch50gz", "xflow-local"), floor
        if b and fl_us:
            goal("batch50gz <= 1.5x librdkafka-only CPU/msg", prof,
                 "%.2fx (%.3f / %.3f us)" % (b["cpu_ev"] / fl_us,
                                             b["cpu_ev"], fl_us),
                 b["cpu_ev"] / fl_us <= 1.5)

    print()
    print("== goals (issues 16 and 27), per profile; ratios within each"
          " profile's own run")
    if loads:
        print("1-min load average during the runs: %.2f..%.2f on %d CPUs"
              % (min(loads), max(loads), os.cpu_count()))
    print("%-46s %-8s %-34s %s" % ("goal", "profile", "measured", "met"))
    for name, prof, value, ok in lines:
        print("%-46s %-8s %-34s %s" % (name, prof, value, ok))
    print("(RSS flat over a 10-minute soak of the real mix: BENCH_SOAK=600"
          " BENCH_SOAK_CASE=realmix)")


main()
