#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# callgraph.sh - the file-level call graph of the nginx glue, from the
# object files nginx's build left: file A -> file B when A calls (or takes
# the address of) a function B defines.  Data symbols (the module
# structures every part reads its configuration through) are not calls.
#
#   tests/support/callgraph.sh [OBJDIR]        print the edges
#   tests/support/callgraph.sh --check [OBJDIR] fail on a cycle
#
# A cycle is what tsort(1) reports as a loop; the check fails with it.

set -eu

check=0
if [ "${1:-}" = "--check" ]; then
    check=1
    shift
fi

objs=${1:-build/nginx/objs/addon/ngx_xflow_module}

defs=$(mktemp)
edges=$(mktemp)
trap 'rm -f "$defs" "$edges"' EXIT

for o in "$objs"/ngx_http_xflow_*.o; do
    f=$(basename "$o" .o)
    # defined global functions: "T name"
    nm --defined-only -g "$o" | awk -v f="$f" '$2 == "T" { print $3, f }'
done | sort > "$defs"

for o in "$objs"/ngx_http_xflow_*.o; do
    f=$(basename "$o" .o)
    nm -u "$o" | awk '{ print $2 }' | sort -u \
        | join - "$defs" | awk -v f="$f" '$2 != f { print f, $2 }'
done | sort -u > "$edges"

if [ "$check" = 0 ]; then
    cat "$edges"
    exit 0
fi

if ! tsort "$edges" >/dev/null 2>"$defs.err"; then
    echo "callgraph: the glue's call graph has a cycle:" >&2
    grep -v '^tsort: -*$' "$defs.err" >&2 || true
    rm -f "$defs.err"
    exit 1
fi

rm -f "$defs.err"
echo "callgraph: $(wc -l < "$edges") edges between glue files, no cycle"
