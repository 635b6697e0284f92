#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Install the Debian packages xflow needs to build, run and test.
# --if-missing: do nothing when everything is already installed.
set -euo pipefail

PKGS=(
    build-essential pkg-config clang libclang-rt-14-dev cppcheck clang-tidy
    nginx nginx-dev libpcre2-dev zlib1g-dev libssl-dev
    librdkafka-dev libzstd-dev libdeflate-dev libbrotli-dev libmaxminddb-dev
    check libcurl4-openssl-dev libjansson-dev
    wrk kcat prometheus curl zstd python3 python3-yaml
)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$p")
done

if [ "${1:-}" = "--if-missing" ] && [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all packages present"
    exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts nginx on port 80 when it is installed; xflow's runs bring
# their own nginx, so stop that one if a service manager started it.
$SUDO service nginx stop >/dev/null 2>&1 || true
