#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# version.sh - xflow's version and commit, from one source: git describe.
#
#   ./version.sh                  "<version> <commit>"
#   ./version.sh --version        the version only
#   ./version.sh --commit         the commit only
#   ./version.sh --c FILE         the C definitions the module is built
#                                 with (config), written only on a change
#   ./version.sh --changelog FILE prepend this build's entry to a copy of
#                                 debian/changelog (make deb)
#
# The version is the one Debian package versions sort by (dpkg
# --compare-versions), so that each build upgrades the one before:
#
#   v1.2.0 tagged on HEAD      1.2.0
#   7 commits after v1.2.0     1.2.0+git20261207.7.g0123456
#   no tag                     0.1.0+git20261207.259.g0123456
#                              (debian/changelog's first version, the
#                              commit count since the first commit)
#   uncommitted changes        the above + ".dirty" ("+dirty" on a tag)
#
# The date is HEAD's commit date (UTC), the count grows with every
# commit.  The commit is HEAD's hash (7 digits or more, as git abbreviates
# it), "-dirty" when changed.  Short, for lintian: package-has-long-file-
# name counts the .buildinfo's name, which leaves a committed build's
# version 31 characters (a dirty build, never shipped, goes beyond).
#
# Without git (a tarball, the Docker build context, the copy make deb
# builds in) the file .version at the top ("<version> <commit>") says it;
# without that either, debian/changelog's version and commit "unknown".

set -eu

root=$(cd "$(dirname "$0")" && pwd)
abbrev=7

base=$(sed -n '1s/^[^(]*(\([^)+~]*\).*/\1/p' "$root/debian/changelog" \
       2>/dev/null || true)
base=${base:-0.1.0}
version=
commit=

in_git() {
    command -v git > /dev/null 2>&1 || return 1
    top=$(git -C "$root" rev-parse --show-toplevel 2>/dev/null) || return 1
    # a directory inside another checkout (make deb's copy under build/)
    # is not this tree's checkout
    [ "$(cd "$top" && pwd -P)" = "$(cd "$root" && pwd -P)" ]
}

if in_git; then
    desc=$(git -C "$root" describe --tags --always --dirty --long \
               --abbrev=$abbrev --match 'v[0-9]*' --match '[0-9]*')
    dirty=
    case $desc in
    *-dirty) dirty=1; desc=${desc%-dirty} ;;
    esac

    date=$(TZ=UTC0 git -C "$root" log -1 --format=%cd \
               --date=format-local:%Y%m%d)

    case $desc in
    *-*-g*)
        # <tag>-<commits since>-g<hash>
        hash=${desc##*-g}
        rest=${desc%-g*}
        count=${rest##*-}
        tag=${rest%-*}
        base=$(echo "${tag#v}" | tr - "~")
        ;;
    *)
        hash=$desc
        count=$(git -C "$root" rev-list --count HEAD)
        tag=
        ;;
    esac

    if [ -n "$tag" ] && [ "$count" = 0 ]; then
        version=$base
    else
        version=$base+git$date.$count.g$hash
    fi

    commit=$hash
    if [ -n "$dirty" ]; then
        case $version in
        *+*) version=$version.dirty ;;
        *)   version=$version+dirty ;;
        esac
        commit=$hash-dirty
    fi

elif [ -s "$root/.version" ]; then
    read -r version commit < "$root/.version"
fi

version=${version:-$base}
commit=${commit:-unknown}

case ${1:-} in
"")
    echo "$version $commit"
    ;;
--version)
    echo "$version"
    ;;
--commit)
    echo "$commit"
    ;;
--c)
    # nginx's configure (config) and make module: the module's
    # ngx_http_xflow_version and ngx_http_xflow_commit
    out=$2
    printf '%s\n' \
        "/* Written by version.sh when the module is configured or built. */" \
        "" \
        "const char  ngx_http_xflow_version[] = \"$version\";" \
        "const char  ngx_http_xflow_commit[] = \"$commit\";" > "$out.tmp"
    if cmp -s "$out.tmp" "$out"; then
        rm -f "$out.tmp"
    else
        mv -f "$out.tmp" "$out"
    fi
    ;;
--changelog)
    # a new first entry for this build, unless the version is already
    # the first one (a release, or no git): the package's version and
    # SOURCE_DATE_EPOCH come from it
    out=$2
    top=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$out")
    [ "$top" = "$version" ] && exit 0
    head -1 "$out" | grep -q "^[^ ]* (.*) [^;]*;" \
        || { echo "version.sh: $out: no changelog entry" >&2; exit 1; }
    pkg=$(sed -n '1s/ .*//p' "$out")
    dist=$(sed -n '1s/^[^)]*) \([^;]*\);.*/\1/p' "$out")
    maint=$(sed -n 's/^Maintainer: //p' "$root/debian/control")
    if in_git; then
        date=$(LC_ALL=C git -C "$root" log -1 \
                   --date='format:%a, %d %b %Y %H:%M:%S %z' --format=%cd)
    else
        date=$(LC_ALL=C date -R)
    fi
    {
        echo "$pkg ($version) $dist; urgency=medium"
        echo
        echo "  * Build of commit $commit."
        echo
        echo " -- $maint  $date"
        echo
        cat "$out"
    } > "$out.tmp"
    mv -f "$out.tmp" "$out"
    ;;
*)
    echo "usage: version.sh [--version | --commit | --c FILE |" \
         "--changelog FILE]" >&2
    exit 2
    ;;
esac
