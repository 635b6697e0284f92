#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Fetch the full nginx source of Debian's nginx package into $1 (Debian's
# nginx-dev ships headers only; an nginx binary built with ASan+UBSan for
# the e2e tests needs the .c files).  Uses Debian's source archive through
# apt with a private deb-src list, so the system's apt setup is untouched.
set -euo pipefail

dest=${1:?usage: nginx-source.sh DEST}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

version=$(dpkg-query -W -f='${Version}' nginx-dev | sed 's/-.*//')

cat > "$work/src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC

mkdir -p "$work/lists/partial"
apt_opts=(-o Dir::Etc::SourceList="$work/src.sources"
          -o Dir::Etc::SourceParts=/dev/null
          -o Dir::State::Lists="$work/lists"
          -o APT::Sandbox::User=root)

apt-get "${apt_opts[@]}" update -qq
(cd "$work" && apt-get "${apt_opts[@]}" source --download-only -qq nginx)

tarball=$(ls "$work"/nginx_"$version".orig.tar.gz)
rm -rf "$dest" && mkdir -p "$dest"
tar -xzf "$tarball" -C "$dest" --strip-components=1
echo "nginx-source: nginx $version in $dest"
