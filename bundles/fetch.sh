#!/usr/bin/env bash
# Build step: fetches the pinned Clerk SDK packages of bundles/package-lock.json from the npm registry with
# `npm ci` (which checks every tarball against the lock's integrity hash), keeps each package's package.json and
# the files directly under its dist/ in OUT/packages/<name>/, and drops node_modules (the packages' own
# dependencies are already inside their browser bundles).
# Usage: bundles/fetch.sh SOURCE_DIR OUT_DIR STAMP
set -euo pipefail
src=$1 out=$2 stamp=$3
fail() {
  echo "latchkey: cannot fetch the Clerk SDK bundles pinned in bundles/package-lock.json: $*" >&2
  echo "latchkey: the build needs node and npm (scripts/deps.sh build) and, once, the npm registry (or a warm npm cache)." >&2
  exit 1
}
command -v npm >/dev/null 2>&1 || fail "npm is not installed"
command -v node >/dev/null 2>&1 || fail "node is not installed"
work="$out/npm"
rm -rf "$work" "$out/packages"
mkdir -p "$work" "$out/packages"
cp "$src/package.json" "$src/package-lock.json" "$work/"
# --ignore-scripts: nothing from the registry runs at build time. Peer and optional dependencies are not needed
# to read the packages' dist/ folders.
if ! (cd "$work" && npm ci --ignore-scripts --omit=peer --omit=optional --omit=dev --prefer-offline \
        --no-audit --no-fund --loglevel=error >npm-ci.log 2>&1); then
  tail -n 20 "$work/npm-ci.log" >&2 || true
  fail "npm ci failed (log above)"
fi
for name in $(node -e 'for (const n of Object.keys(require(process.argv[1]).dependencies)) console.log(n)' "$src/package.json"); do
  from="$work/node_modules/$name"
  [ -f "$from/package.json" ] && [ -d "$from/dist" ] || fail "$name has no dist/ after npm ci"
  mkdir -p "$out/packages/$name/dist"
  cp "$from/package.json" "$out/packages/$name/"
  find "$from/dist" -maxdepth 1 -type f -exec cp {} "$out/packages/$name/dist/" \;
done
rm -rf "$work/node_modules"
touch "$stamp"
