#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check-license.py - every source file of ours opens with its SPDX line.

xflow is BSD-2-Clause (LICENSE).  A C file's first line is exactly

    /* SPDX-License-Identifier: BSD-2-Clause */

and a file with '#' comments (shell, Makefiles, Python, nginx and systemd
configuration, YAML, the Dockerfile) has

    # SPDX-License-Identifier: BSD-2-Clause

first, or second after a '#!' line; JavaScript, Lua, HTML and man pages
use their own comment.  Data is exempt: JSON, fixtures, fuzz corpora,
captured payloads, Markdown and the Debian control files.  The files are
what git tracks plus new ones it does not ignore (everything under the
top directory in a tree without .git).

    tests/support/check-license.py          list the files that lack it
    tests/support/check-license.py --fix    add it where it is missing

Exit status: 0 all carry it, 1 some do not (fixed with --fix).
"""
import os
import subprocess
import sys

ID = "SPDX-License-Identifier: BSD-2-Clause"

C = "/* " + ID + " */"
HASH = "# " + ID
LINES = {
    "c": C,
    "hash": HASH,
    "js": "// " + ID,
    "lua": "-- " + ID,
    "html": "<!-- " + ID + " -->",
    "man": '.\\" ' + ID,
}

# names with no telling suffix
HASH_NAMES = {"Makefile", "Dockerfile", "config", ".ci/run", "debian/rules"}
SUFFIXES = {
    ".c": "c", ".h": "c",
    ".sh": "hash", ".py": "hash", ".mk": "hash", ".conf": "hash",
    ".yml": "hash", ".yaml": "hash",
    ".js": "js", ".lua": "lua", ".html": "html", ".1": "man",
}
# data, not source: never carries the line
EXEMPT_DIRS = ("tests/fuzz/corpus/", "tests/bench/payloads/")


def kind(path):
    if path.startswith(EXEMPT_DIRS):
        return None
    if path in HASH_NAMES or path.endswith("/config") \
            or os.path.basename(path) in ("Makefile", "Dockerfile"):
        return "hash"
    return SUFFIXES.get(os.path.splitext(path)[1])


def files(root):
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "-co", "--exclude-standard"],
            check=True, capture_output=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for d, dirs, fs in os.walk(root):
            dirs[:] = [x for x in dirs
                       if x not in (".git", "build", "node_modules")]
            names += [os.path.relpath(os.path.join(d, f), root) for f in fs]
    return sorted(n for n in names if os.path.isfile(os.path.join(root, n)))


def check(root, path, fix):
    want = LINES[kind(path)]
    full = os.path.join(root, path)
    with open(full, encoding="utf-8") as f:
        lines = f.read().split("\n")
    at = 1 if lines and lines[0].startswith("#!") else 0
    if len(lines) > at and lines[at] == want:
        return True
    if fix:
        lines.insert(at, want)
        with open(full, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    return False


def main():
    fix = "--fix" in sys.argv[1:]
    root = os.path.normpath(os.path.join(os.path.dirname(__file__), "../.."))
    checked, missing = 0, []
    for path in files(root):
        if kind(path) is None:
            continue
        checked += 1
        if not check(root, path, fix):
            missing.append(path)
    for path in missing:
        print(("fixed " if fix else "FAIL ") + path + ": no '" + ID
              + "' on its first line")
    if missing:
        return 1
    print(f"ok   {checked} source files carry {ID}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
