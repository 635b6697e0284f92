#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# lint-selftest.sh - each rule of tests/support/lint.sh fails on a
# violation planted in a copy of the tree (make lint runs this first).
# A rule that passes its planted violation fails this test.

set -uo pipefail

cd "$(dirname "$0")/../.."

lint=$PWD/tests/support/lint.sh
tmp=$(mktemp -d /tmp/xflow-lint.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

core=ngx_xflow_module/core
failed=0

# A copy of the tree in a git index of its own; fresh() undoes whatever
# the last test planted
mkdir -p "$tmp/tree"
if [ -e .git ]; then
    git ls-files -z --cached --others --exclude-standard
else
    find . -path ./build -prune -o -type f -print0
fi | xargs -0 cp --parents -t "$tmp/tree"
git -C "$tmp/tree" init -q && git -C "$tmp/tree" add -A

fresh()
{
    git -C "$tmp/tree" checkout -q -- . && git -C "$tmp/tree" clean -qfd
}

# expect RULE WHAT: lint RULE on the planted copy must fail, naming a file
expect()
{
    local out

    out=$(LINT_FILES=${LINT_FILES:-} "$lint" --root "$tmp/tree" "$1" 2>&1)
    if [ $? -eq 1 ] && echo "$out" | grep -q "finding"; then
        echo "lint-selftest: $1 catches $2"
    else
        echo "lint-selftest: FAIL: $1 passed $2:" >&2
        echo "$out" >&2
        failed=1
    fi
}

plant_c()
{
    printf '%s\n' "$2" >> "$tmp/tree/$1"
}

fresh
plant_c $core/xf_base64.c "/* $(printf 'x%.0s' $(seq 1 80)) */"
expect columns "an 86-column line"

fresh
plant_c $core/xf_ip.c "$(printf 'static int\txf_t;')"
expect whitespace "a tab"

fresh
plant_c $core/xf_ip.c "static int  xf_t; "
expect whitespace "a trailing blank"

fresh
printf 'static int  xf_t;' >> "$tmp/tree/$core/xf_ip.c"
expect whitespace "a file without a final newline"

fresh
sed -i '0,/    if (/s//    if(/' "$tmp/tree/$core/xf_ip.c"
expect whitespace "\"if(\""

fresh
plant_c rate_limit/xrl_gcra.c '#include <ngx_core.h>'
expect nginx-free "an nginx include in rate_limit/"

fresh
plant_c $core/xf_json.c '#include "ngx_http.h"'
expect nginx-free "an nginx include in core/"

fresh
sed -i 's|^#endif /\* XF_IP_H \*/|int xf_ip_planted(void);\n&|' \
    "$tmp/tree/$core/xf_ip.h"
expect protodoc "a prototype without a comment"

fresh
sed -i 1d "$tmp/tree/$core/xf_seen.h"
expect spdx "a header without its SPDX line"

fresh
sed -i 2d "$tmp/tree/tests/support/callgraph.sh"
expect spdx "a script without its SPDX line"

fresh
up=..
plant_c tests/unit/test-ip.c "#include \"$up/shared/x.h\""
expect outside "a file that reads the sibling folder shared/"

fresh
touch "$tmp/tree/$core/xf_planted.c"
expect sources "a source config does not list"

fresh
rm "$tmp/tree/$core/xf_seen.c"
expect sources "a listed source that is no file"

fresh
cat > "$tmp/tree/ngx_xflow_module/ngx_http_xflow_planted_module.c" << 'EOF'
ngx_module_t  ngx_http_xflow_planted_module = {
EOF
planted='$ngx_addon_dir/ngx_xflow_module/ngx_http_xflow_planted_module.c'
sed -i "s|ngx_http_xflow_kafka.c \\\\|&\\n    $planted \\\\|" "$tmp/tree/config"
expect sources "an nginx module config does not declare"

fresh
cat > "$tmp/tree/$core/xf_planted.c" << 'EOF'
int
xf_planted(void)
{
    int  a[4];

    a[4] = 0;
    return a[0];
}
EOF
LINT_FILES=$core/xf_planted.c expect cppcheck "a write past an array"

fresh
cat > "$tmp/tree/$core/xf_planted.c" << 'EOF'
#include <stdlib.h>
#include <string.h>

char *
xf_planted(const char *s)
{
    return malloc(strlen(s + 1));
}
EOF
LINT_FILES=$core/xf_planted.c expect clang-tidy "malloc(strlen(s + 1))"

if [ $failed -ne 0 ]; then
    echo "lint-selftest: a rule does not catch what it is for" >&2
    exit 1
fi
echo "lint-selftest: every rule fails on its planted violation"
