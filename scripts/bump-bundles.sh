#!/usr/bin/env bash
# Moves the Clerk SDK bundles latchkey embeds (and serves under /npm/) to other versions: rewrites the pins in
# bundles/package.json and refreshes bundles/package-lock.json (versions and integrity hashes) with npm. The next
# build fetches, checks and embeds them; `latchkey --version` lists them.
# Usage: scripts/bump-bundles.sh [CLERK_JS_VERSION [UI_VERSION]]   (default: the latest release of each)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../bundles"
command -v npm >/dev/null 2>&1 || { echo "bump-bundles: npm is not installed (scripts/deps.sh build)" >&2; exit 1; }
js=${1:-$(npm view @clerk/clerk-js version)}
ui=${2:-$(npm view @clerk/ui version)}
for spec in "@clerk/clerk-js@$js" "@clerk/ui@$ui"; do
  [ "$(npm view "$spec" version 2>/dev/null | tail -n 1)" != "" ] || { echo "bump-bundles: $spec is not on the registry" >&2; exit 1; }
done
node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
  p.dependencies["@clerk/clerk-js"] = process.argv[1];
  p.dependencies["@clerk/ui"] = process.argv[2];
  fs.writeFileSync("package.json", JSON.stringify(p, null, 2) + "\n");
' "$js" "$ui"
npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error
echo "bundles: @clerk/clerk-js $js, @clerk/ui $ui pinned in bundles/package-lock.json; rebuild to embed them."
echo "Keep tests/e2e/package.json's @clerk/clerk-js (the npm copy the e2e suites compare against) on the same version."
