#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
#
# lint-protodoc.py HEADER... - every function prototype in the headers has
# a comment right above it (tests/support/lint.sh, rule protodoc).
#
# A prototype is a declaration at file scope with a parameter list, not a
# typedef.  It is documented when the line above it ends a comment, when
# a comment ends on its own last line, or when it follows, with no blank
# line, a documented prototype (a group under one comment).  Prints
# file:line: name() for each one that is not; exits 1 if there is one.
import re, sys

def prototypes(path):
    text = open(path).read()
    lines = text.split('\n')
    # mask comments, remember the line each comment ends on
    out = []
    comment_end = set()
    i, n = 0, len(text)
    line = 1
    buf = []
    in_c = False
    while i < n:
        c = text[i]
        if in_c:
            if text.startswith('*/', i):
                in_c = False
                comment_end.add(line)
                buf.append('  ')
                i += 2
                continue
            buf.append('\n' if c == '\n' else ' ')
            if c == '\n':
                line += 1
            i += 1
            continue
        if text.startswith('/*', i):
            in_c = True
            buf.append('  ')
            i += 2
            continue
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            comment_end.add(line)
            buf.append(' ' * (j - i))
            i = j
            continue
        if c == '"' or c == "'":
            # a string or character literal: its braces are no block
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            buf.append(c + ' ' * (j - i - 1) + c)
            i = j + 1
            continue
        buf.append(c)
        if c == '\n':
            line += 1
        i += 1
    code = ''.join(buf).split('\n')
    depth = 0
    stmt, start = '', None
    cont = False
    protos = []
    for no, l in enumerate(code, 1):
        s = l.strip()
        if cont or (start is None and s.startswith('#')):
            cont = s.endswith('\\')
            continue
        for ch in l:
            if ch == '{':
                depth += 1
            elif ch == '}':
                depth -= 1
        if depth != 0 or not s:
            if depth != 0:
                stmt, start = '', None
            continue
        if start is None:
            start = no
        stmt += ' ' + s
        if s.endswith(';') or s.endswith('}'):
            st = stmt.strip()
            if ('(' in st and not st.startswith('typedef')
                    and not st.startswith('}') and '{' not in st
                    and re.search(r'\w\s*\(', st)):
                protos.append((start, no, st))
            stmt, start = '', None
    return protos, comment_end, lines

bad = 0
for path in sys.argv[1:]:
    protos, cend, lines = prototypes(path)
    ends = {}
    for (s, e, st) in protos:
        ends[e] = s
    documented = set()
    for (s, e, st) in protos:
        prev = s - 1
        ok = prev in cend or e in cend
        if not ok and prev in ends and ends[prev] in documented:
            ok = True
        if ok:
            documented.add(s)
        else:
            bad += 1
            name = re.search(r'(\w+)\s*\(', st)
            print('%s:%d: %s() has no comment right above it'
                  % (path, s, name.group(1) if name else '?'))
sys.exit(1 if bad else 0)
