#!/usr/bin/env bash
# clang-tidy with the checks of .clang-tidy on the given files (default: every .cpp under conf crypto store server
# tests). It reads build/asan's compile commands without GCC's precompiled header and GCC-only warnings, which clang
# cannot take. Usage: scripts/tidy.sh [FILE...]   (build the asan preset first)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/asan/compile_commands.json ] || { echo "tidy: build the asan preset first (make test)" >&2; exit 2; }
mkdir -p build/tidy
python3 - build/asan/compile_commands.json build/tidy/compile_commands.json <<'PY'
import json, re, sys
db = json.load(open(sys.argv[1]))
for e in db:
    c = re.sub(r' -include \S+cmake_pch\.hxx', '', e['command'])
    for gcc_only in (' -Winvalid-pch', ' -Wlogical-op', ' -Wduplicated-cond'):
        c = c.replace(gcc_only, '')
    e['command'] = c
json.dump(db, open(sys.argv[2], 'w'), indent=1)
PY
if [ $# -eq 0 ]; then set -- $(git ls-files 'conf/*.cpp' 'crypto/*.cpp' 'store/*.cpp' 'server/*.cpp' 'tests/*.cpp'); fi
exec clang-tidy -p build/tidy --quiet "$@"
