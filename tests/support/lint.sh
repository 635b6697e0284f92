#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# lint.sh - the house rules (CONTRIBUTING.md), checked.
#
#   tests/support/lint.sh                  every rule on the tree
#   tests/support/lint.sh RULE...          only those rules
#   tests/support/lint.sh --root DIR ...   on another copy of the tree
#                                          (tests/support/lint-selftest.sh)
#
# Rules:
#   columns     C sources and headers: lines of at most 80 columns
#   whitespace  C: no tab, no trailing blank, a final newline, a space
#               after if/for/while/switch and between ")" and "{"
#   nginx-free  no nginx include in ngx_xflow_module/core/ or rate_limit/
#   protodoc    every prototype in a public header (the glue's, core's
#               and rate_limit's, not the *_impl.h ones) has a comment
#               right above it, or above the group of prototypes it opens
#   spdx        every C source and header opens with the SPDX line,
#               /* SPDX-License-Identifier: BSD-2-Clause */; every script
#               (shell, Python, make, config) has it in its first 3 lines
#   outside     no file reads the sibling folder shared/ beside the tree
#               (the tree reads only what it holds; .ci/run checks it too)
#   sources     config lists every source and header of the module and
#               nothing else; its module list is the ngx_module_t the glue
#               defines, no more, no fewer
#   cppcheck    cppcheck on core/ and rate_limit/: no finding
#   clang-tidy  the checks of .clang-tidy on core/ and rate_limit/: no
#               finding
#
# LINT_FILES, when set, is what cppcheck and clang-tidy look at instead
# of all of core/ and rate_limit/ (the self-test's planted file).
#
# A rule prints each finding as file:line: what, and the script exits 1
# when any rule found something.  clang-format is not run: .clang-format
# is nginx's style as near as it can say it, for editors; why it cannot
# check the tree is in docs/decisions.md.

set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:-}" = "--root" ]; then
    root=$(cd "$2" && pwd)
    shift 2
fi
cd "$root" || exit 2

all="columns whitespace nginx-free protodoc spdx outside sources cppcheck
     clang-tidy"
rules=${*:-$all}

core=ngx_xflow_module/core
glue=ngx_xflow_module


# The tree's files: what git tracks, or, in a copy without git, what is
# there but the build.
files()
{
    if [ -e .git ]; then
        # a file deleted but not yet from the index is no file
        git ls-files --cached --others --exclude-standard -- "$@" \
            | while read -r f; do [ -e "$f" ] && echo "$f"; done
    else
        find . -path ./build -prune -o -path '*/node_modules' -prune \
            -o -type f -print | sed 's|^\./||' | sort \
            | while read -r f; do
                  for p in "$@"; do
                      # shellcheck disable=SC2053
                      [[ $f == $p ]] && { echo "$f"; break; }
                  done
              done
    fi
}

c_files()
{
    files '*.c' '*.h'
}


rule_columns()
{
    c_files | xargs -r awk 'length($0) > 80 {
        printf "%s:%d: %d columns (80 at most)\n", FILENAME, FNR, length($0)
    }'
}


rule_whitespace()
{
    local f

    c_files | xargs -r grep -nP '\t' | sed 's/$/  <- tab/'
    c_files | xargs -r grep -nE '[[:space:]]+$' | sed 's/$/<- trailing blank/'
    c_files | xargs -r grep -nE '(^|[^a-z_0-9])(if|for|while|switch)\(' \
        | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)' \
        | grep -v '"' | sed 's/$/  <- no space before "("/'
    c_files | xargs -r grep -nE '\)\{' | grep -v '"' \
        | sed 's/$/  <- no space in "){"/'
    for f in $(c_files); do
        if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then
            echo "$f: no newline at the end"
        fi
    done
}


rule_nginx_free()
{
    local inc='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](ngx_|nginx)'

    files "$core/*.c" "$core/*.h" 'rate_limit/*.c' 'rate_limit/*.h' \
        | xargs -r grep -nE "$inc" \
        | sed 's/$/  <- an nginx include outside the glue/'
}


rule_protodoc()
{
    files "$glue/*.h" "$core/*.h" 'rate_limit/*.h' | grep -v '_impl\.h$' \
        | xargs -r python3 tests/support/lint-protodoc.py
}


rule_spdx()
{
    local f spdx='SPDX-License-Identifier: BSD-2-Clause'

    for f in $(c_files); do
        [ "$(head -n 1 "$f")" = "/* $spdx */" ] \
            || echo "$f:1: not the SPDX line"
    done
    for f in $(files '*.sh' '*.py' '*.mk' Makefile config); do
        head -n 3 "$f" | grep -q "$spdx" \
            || echo "$f:1: no SPDX line in the first 3 lines"
    done
}


rule_outside()
{
    # the pattern is spelled so that this file does not match itself
    files '*' | grep -v '^\.ci/run$' \
        | xargs -r grep -nIE '\.\./(s)hared' /dev/null \
        | sed 's/$/  <- reads outside the repository/'
}


rule_sources()
{
    local listed onfile defined declared

    listed=$(grep -oE '\$ngx_addon_dir/[^ "\\]+\.[ch]\b' config \
             | sed 's|^\$ngx_addon_dir/||' | sort)
    onfile=$(files "$glue/*.c" "$glue/*.h" "$core/*.c" "$core/*.h" \
                   'rate_limit/*.c' 'rate_limit/*.h' | sort -u)

    comm -13 <(echo "$listed") <(echo "$onfile") \
        | sed 's/$/: a source config does not list/'
    comm -23 <(echo "$listed") <(echo "$onfile") \
        | sed 's/^/config: lists /; s/$/, which is no file/'
    echo "$listed" | sort | uniq -d | sed 's/^/config: lists twice: /'

    # the nginx modules: what XFLOW_MODULES says against the definitions
    declared=$(sed -n '/^XFLOW_MODULES="/,/"$/p' config \
               | grep -oE 'ngx_http_xflow[a-z_]*_module' | sort)
    defined=$(files "$glue/*.c" | xargs -r grep -ohE \
               '^ngx_module_t[[:space:]]+ngx_http_xflow[a-z_]*_module' \
               | awk '{ print $2 }' | sort)
    comm -13 <(echo "$declared") <(echo "$defined") \
        | sed 's/^/config: /; s/$/ is defined but not in XFLOW_MODULES/'
    comm -23 <(echo "$declared") <(echo "$defined") \
        | sed 's/^/config: XFLOW_MODULES names /; s/$/, defined nowhere/'
}


# The core's flags as the unit build has them (Makefile CFLAGS_BASE).
ANALYZE_FLAGS=(-D_GNU_SOURCE -I"$core" -Irate_limit)

rule_cppcheck()
{
    command -v cppcheck > /dev/null || {
        echo "cppcheck: not installed (Debian: apt-get install cppcheck)"
        return
    }
    # The compiler's predefined macros cppcheck does not know: x86-64
    # with lock-free 64-bit atomics (rate_limit/xrl_table.c refuses to
    # build without them).  Suppressions are inline, each with its why:
    # // cppcheck-suppress id ; because ...
    # shellcheck disable=SC2046
    cppcheck --quiet --std=c11 --enable=warning,portability \
        -j "$(nproc)" --inline-suppr --error-exitcode=0 \
        --template='{file}:{line}: {severity}: {message} [{id}]' \
        -D__x86_64__ -D__GCC_ATOMIC_LLONG_LOCK_FREE=2 \
        "${ANALYZE_FLAGS[@]}" \
        ${LINT_FILES:-$(files "$core/*.c" 'rate_limit/*.c')} 2>&1
}


rule_clang_tidy()
{
    local tidy f

    tidy=$(command -v clang-tidy-14 || command -v clang-tidy) || {
        echo "clang-tidy: not installed (Debian: apt-get install clang-tidy)"
        return
    }
    # the checks and their reasons are in .clang-tidy; one file per
    # process, a process per core (the findings are sorted after)
    # shellcheck disable=SC2046
    printf '%s\n' ${LINT_FILES:-$(files "$core/*.c" 'rate_limit/*.c')} \
        | xargs -P "$(nproc)" -I{} "$tidy" --quiet {} -- -std=gnu11 \
            "${ANALYZE_FLAGS[@]}" 2>/dev/null \
        | grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' \
        | sed "s|^$root/||" | sort -u
}


status=0
for r in $rules; do
    fn=rule_${r//-/_}
    if ! declare -F "$fn" > /dev/null; then
        echo "lint: no rule $r (rules: $(echo $all))" >&2
        exit 2
    fi
    out=$("$fn" 2>&1)
    if [ -n "$out" ]; then
        echo "$out"
        echo "lint: $r: $(echo "$out" | wc -l) finding(s)"
        status=1
    else
        echo "lint: $r: ok"
    fi
done

exit $status
