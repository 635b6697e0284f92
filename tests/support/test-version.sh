#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test-version.sh: version.sh gives each build a Debian version that
# upgrades the one before, in a scratch git repository:
#
#   - no tag: 0.1.0+git<date>.<count>.g<hash>, growing with each commit,
#     above debian/changelog's 0.1.0; commit = the hash
#   - uncommitted changes: ".dirty" above its commit, "-dirty" commit
#   - a tag v0.2.0 on HEAD: 0.2.0, above every untagged build before it;
#     one commit later above 0.2.0
#   - no git (a tarball): debian/changelog's version, commit "unknown";
#     .version wins when it is there
#   - --c writes the C definitions, --changelog a first entry that
#     dpkg-parsechangelog reads back
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/xflow-test-version.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

check() {
    # $1 what, then a command that must succeed
    local what=$1
    shift
    if "$@"; then
        echo "ok   version: $what"
    else
        echo "FAIL version: $what"
        fail=1
    fi
}

newer() {
    dpkg --compare-versions "$1" gt "$2"
}

repo=$tmp/repo
mkdir -p "$repo/debian"
cp "$root/version.sh" "$repo/"
cp "$root/debian/changelog" "$root/debian/control" "$repo/debian/"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com \
       GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" commit -q -m one
v1=$("$repo/version.sh" --version)
c1=$("$repo/version.sh" --commit)
h1=$(git -C "$repo" rev-parse --short=7 HEAD)
echo two > "$repo/file"
git -C "$repo" add file
git -C "$repo" commit -q -m two
v2=$("$repo/version.sh" --version)
echo three > "$repo/file"
v2d=$("$repo/version.sh" --version)
c2d=$("$repo/version.sh" --commit)
git -C "$repo" commit -q -am three
v3=$("$repo/version.sh" --version)
git -C "$repo" tag v0.2.0
vt=$("$repo/version.sh" --version)
echo four > "$repo/file"
git -C "$repo" commit -q -am four
v4=$("$repo/version.sh" --version)

d1=$(TZ=UTC0 git -C "$repo" log -1 --format=%cd --date=format-local:%Y%m%d \
         "$h1")
check "first commit $v1, commit $c1" \
    test "$v1" = "0.1.0+git$d1.1.g$h1" -a "$c1" = "$h1"
check "$v1 upgrades 0.1.0" newer "$v1" 0.1.0
check "$v1: with a 4-digit count within lintian's 31 characters" \
    test $((${#v1} + 3)) -le 31
check "$v2 upgrades $v1" newer "$v2" "$v1"
check "dirty $v2d, commit $c2d" \
    test "$v2d" = "$v2.dirty" -a "$c2d" = "${v2##*.g}-dirty"
check "$v2d upgrades $v2" newer "$v2d" "$v2"
check "$v3 upgrades $v2d" newer "$v3" "$v2d"
check "tag v0.2.0: $vt" test "$vt" = 0.2.0
check "$vt upgrades $v3" newer "$vt" "$v3"
check "after the tag: $v4 upgrades $vt" newer "$v4" "$vt"

# a copy without .git
tarball=$tmp/tarball
mkdir -p "$tarball"
cp -r "$repo/version.sh" "$repo/debian" "$tarball/"
check "no git: $("$tarball/version.sh")" \
    test "$("$tarball/version.sh")" = "0.1.0 unknown"
echo "$v4 abc" > "$tarball/.version"
check "no git, .version: $("$tarball/version.sh")" \
    test "$("$tarball/version.sh")" = "$v4 abc"

# a copy inside the checkout (make deb's, under build/) is not the checkout
mkdir -p "$repo/build/copy"
cp -r "$tarball/version.sh" "$tarball/debian" "$tarball/.version" \
    "$repo/build/copy/"
check "a copy inside the checkout reads its .version" \
    test "$("$repo/build/copy/version.sh")" = "$v4 abc"

"$repo/version.sh" --c "$tmp/v.c"
check "--c: the C definitions" \
    grep -qx "const char  ngx_http_xflow_version\[\] = \"$v4\";" "$tmp/v.c"
cp "$repo/debian/changelog" "$tmp/changelog"
"$repo/version.sh" --changelog "$tmp/changelog"
check "--changelog: dpkg-parsechangelog reads $v4" \
    test "$(dpkg-parsechangelog -l "$tmp/changelog" -S Version)" = "$v4"

[ "$fail" = 0 ] || exit 1
