#!/usr/bin/env bash
# Installs what latchkey needs on Debian 12 (as root, or with sudo), skipping what is already there.
# Usage: scripts/deps.sh [build|test|bench]
set -euo pipefail
what=${1:-build}
# nodejs + npm: the build fetches the pinned Clerk SDK bundles (npm ci in bundles/) and precompresses them.
pkgs=(build-essential cmake pkg-config libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
      libboost-test1.81-dev liblmdb-dev libssl-dev libargon2-dev libcrypt-dev libmaxminddb-dev libpsl-dev libcurl4-openssl-dev libbenchmark-dev
      libxml2-dev libxmlsec1-dev zlib1g-dev
      libcbor-dev libsecp256k1-dev
      libgoogle-perftools-dev openssl nodejs npm
      libpq-dev)  # libpq: the PostgreSQL store (store/pg, issue 16)
case "$what" in
  test)  pkgs+=(chromium lmdb-utils postgresql-15) ;;  # postgresql-15: store_pg, integration_postgres_cluster
  bench) pkgs+=(wrk nginx-light) ;;
  fuzz)  pkgs+=(clang libclang-rt-14-dev) ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere than Debian: accept any working node >= 18.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
clean=(); for p in "${missing[@]}"; do [ -n "$p" ] && clean+=("$p"); done
if [ ${#clean[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${clean[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${clean[@]}"
fi
if [ "$what" = test ] && [ -f tests/e2e/package.json ]; then
  (cd tests/e2e && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; })
fi
