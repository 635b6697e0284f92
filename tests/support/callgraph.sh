#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# callgraph.sh - the file-level call graph of the module, from the object
# files nginx's build left: file A -> file B when A calls (or takes the
# address of) a function B defines.  Data symbols (the module structures
# every part reads its configuration through) are not calls.
#
#   tests/support/callgraph.sh [OBJDIR]         print the edges
#   tests/support/callgraph.sh --check [OBJDIR] fail on a cycle, or on a
#                                               call from core up into glue
#
# The nodes: each glue file (ngx_http_xflow_*); each core/ and rate_limit/
# file, except that the files of one unit split behind its private header
# (xf_<unit>_impl.h, as zstd splits its units) are one node, xf_<unit>.
# A cycle is what tsort(1) reports as a loop.  core/ and rate_limit/ know
# no nginx: an edge from them to a glue file fails the check too.

set -eu

check=0
if [ "${1:-}" = "--check" ]; then
    check=1
    shift
fi

objs=${1:-build/nginx/objs/addon}
src=$(cd "$(dirname "$0")/../.." && pwd)

defs=$(mktemp)
edges=$(mktemp)
trap 'rm -f "$defs" "$edges" "$defs.err"' EXIT

# node OBJ: the graph's name for an object file
node()
{
    f=$(basename "$1" .o)
    case "$f" in
    ngx_http_xflow_*)
        echo "$f"
        ;;
    *)
        c=$(ls "$src/ngx_xflow_module/core/$f.c" "$src/rate_limit/$f.c" \
            2>/dev/null | head -1 || true)
        u=$(grep -o '^#include "xf_[a-z]*_impl\.h"' "$c" 2>/dev/null \
            | sed 's/^#include "\(xf_[a-z]*\)_impl\.h"/\1/' | head -1)
        echo "${u:-$f}"
        ;;
    esac
}

all=$(ls "$objs"/ngx_xflow_module/ngx_http_xflow_*.o "$objs"/core/*.o \
         "$objs"/rate_limit/*.o 2>/dev/null || true)

if [ -z "$all" ]; then
    echo "callgraph: no object files under $objs: make module first" >&2
    exit 1
fi

for o in $all; do
    n=$(node "$o")
    # defined global functions: "T name"
    nm --defined-only -g "$o" | awk -v n="$n" '$2 == "T" { print $3, n }'
done | sort > "$defs"

for o in $all; do
    n=$(node "$o")
    nm -u "$o" | awk '{ print $2 }' | sort -u \
        | join - "$defs" | awk -v n="$n" '$2 != n { print n, $2 }'
done | sort -u > "$edges"

if [ "$check" = 0 ]; then
    cat "$edges"
    exit 0
fi

up=$(awk '$1 !~ /^ngx_http_xflow_/ && $2 ~ /^ngx_http_xflow_/' "$edges")
if [ -n "$up" ]; then
    echo "callgraph: core or rate_limit calls up into the glue:" >&2
    echo "$up" >&2
    exit 1
fi

if ! tsort "$edges" >/dev/null 2>"$defs.err"; then
    echo "callgraph: the call graph has a cycle:" >&2
    grep -v '^tsort: -*$' "$defs.err" >&2 || true
    exit 1
fi

glue=$(awk '$1 ~ /^ngx_http_xflow_/ && $2 ~ /^ngx_http_xflow_/' "$edges" \
       | wc -l)
echo "callgraph: $(wc -l < "$edges") edges ($glue between glue files)," \
     "no cycle, none from core up into the glue"
