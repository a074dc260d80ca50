#!/usr/bin/env bash
# Prints the time of every ctest entry (slowest first) and the sum per kind of suite, from the log that
# `ctest -O LOG` wrote, then repeats ctest's closing lines so that they stay the last thing `make test` prints.
# Usage: scripts/test-times.sh LOG
set -euo pipefail
log=${1:?usage: scripts/test-times.sh CTEST_LOG}
[ -f "$log" ] || { echo "test-times: no ctest log at $log" >&2; exit 0; }

# One line per finished entry: seconds, name, status, kind. ctest's line for one is
#  " 3/27 Test #14: integration_foundation ...........   Passed   12.34 sec" (or ***Failed, ***Timeout, ...).
entries=$(awk '
  /^ *[0-9]+\/[0-9]+ Test +#[0-9]+: / {
    line = $0; sub(/^.*Test +#[0-9]+: /, "", line)
    name = line; sub(/ .*/, "", name)
    rest = substr(line, length(name) + 1); sub(/^ *\.* */, "", rest); sub(/^\**/, "", rest)
    sec = 0
    if (match(rest, /[0-9.]+ sec *$/)) { sec = substr(rest, RSTART) + 0; rest = substr(rest, 1, RSTART - 1) }
    gsub(/ +$/, "", rest)
    kind = "other"
    if (name ~ /^integration(_|$)/) kind = "integration"; else if (name ~ /^e2e_/) kind = "e2e"
    else if (name ~ /^fuzz_/) kind = "fuzz"; else if (name ~ /_unit$/) kind = "unit"
    printf "%.2f\t%s\t%s\t%s\n", sec, name, rest, kind
  }' "$log")

echo
echo "Time per suite, slowest first (entries run in parallel: the sum exceeds the wall time):"
printf '%s\n' "$entries" | sort -t$'\t' -k1,1 -rn | awk -F'\t' 'NF { printf "%10.2f s  %-44s %s\n", $1, $2, $3 }'
echo "Per kind (sum of its entries):"
printf '%s\n' "$entries" | awk -F'\t' 'NF { t[$4] += $1; n[$4]++ } END { for (k in t) printf "%.2f\t%s\t%d\n", t[k], k, n[k] }' |
  sort -t$'\t' -k1,1 -rn | awk -F'\t' '{ printf "%10.2f s  %s (%d)\n", $1, $2, $3 }'
echo
# ctest's own closing lines: the verdict, the wall time, the failures.
sed -n '/tests passed, .* tests failed out of/,$p' "$log" | sed '/^Label Time Summary:/,/^$/d; /^\[[A-Z_]*\] *$/d' | uniq
