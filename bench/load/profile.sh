#!/usr/bin/env bash
# Profiles latchkey under one load scenario with perf (software cpu-clock sampling, so it works in VMs
# without hardware counters) and prints the hottest symbols, flat and by shared object.
#
#   bench/load/profile.sh SCENARIO [SECONDS]
#     SCENARIO: health | client | mint | bapi_user | environment | sign_in
#
# The server runs on a fresh data dir seeded by latchkey-seed (64 signed-in browsers), 127.0.0.1 only;
# wrk (2 threads, 64 connections; 16 for mint) runs for SECONDS + 4 and perf samples SECONDS (default 8).
# Output: the report on stdout; perf.data stays in $PROFILE_OUT (default /tmp/latchkey-profile-<scenario>).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOAD_DIR="$ROOT/bench/load"
BUILD=${LATCHKEY_BUILD:-$ROOT/build/release}
SCEN=${1:?usage: profile.sh health|client|mint|bapi_user|environment|sign_in [SECONDS]}
SECS=${2:-8}
OUTDIR=${PROFILE_OUT:-/tmp/latchkey-profile-$SCEN}
command -v perf >/dev/null || { echo "profile.sh: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }

rm -rf "$OUTDIR"; mkdir -p "$OUTDIR"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-prof-XXXXXX")
SRV=""
WRK=""
cleanup() {
  [ -n "$WRK" ] && kill "$WRK" 2>/dev/null || true
  [ -n "$SRV" ] && kill "$SRV" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

SK="sk_test_profile$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PASSWORD="profile-$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$BUILD/bench/latchkey-seed" --data-dir "$WORK/data" --users 1000 --sessions 1000 --password "$PASSWORD" \
  --identities-out "$WORK/ids.lua" --identities 64 >/dev/null 2>&1
# Attack protection off for the load (the sign-in scenario would otherwise be rate limited).
cat >"$WORK/config.json" <<'EOF'
{ "attack_protection": { "rate_per_ip_per_minute": 1000000, "rate_per_identifier_per_minute": 1000000,
                         "max_attempts": 1000000 },
  "password_policy": { "reject_common": false } }
EOF
LATCHKEY_SECRET_KEY="$SK" LATCHKEY_DURABLE=${LATCHKEY_DURABLE:-true} LATCHKEY_CONFIG="$WORK/config.json" "$BUILD/server/latchkey" serve --listen 127.0.0.1:0 \
  --backend-listen 127.0.0.1:0 --data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
SRV=$!
for _ in $(seq 1 500); do grep -q '"listening"' "$WORK/server.log" && break; sleep 0.01; done
line=$(grep -m1 '"listening"' "$WORK/server.log")
FAPI="http://$(sed -n 's/.*"fapi":"\([^"]*\)".*/\1/p' <<<"$line")"
BAPI="http://$(sed -n 's/.*"bapi":"\([^"]*\)".*/\1/p' <<<"$line")"

conns=64
case "$SCEN" in
  health) script=report.lua; url="$FAPI/v1/health" ;;
  environment) script=report.lua; url="$FAPI/v1/environment" ;;
  client) script=client.lua; url="$FAPI/v1/client" ;;
  mint) script=tokens.lua; url="$FAPI/"; conns=16 ;;
  bapi_user) script=bapi_user.lua; url="$BAPI/" ;;
  sign_in) script=sign_in.lua; url="$FAPI/v1/client/sign_ins" ;;
  *) echo "profile.sh: unknown scenario $SCEN" >&2; exit 2 ;;
esac
LK_LOAD_DIR="$LOAD_DIR" LK_IDENTITIES="$WORK/ids.lua" LK_USERS="$WORK/ids.lua" LK_SECRET_KEY="$SK" \
  LK_PASSWORD="$PASSWORD" timeout $((SECS + 30)) wrk -t2 -c"$conns" -d"$((SECS + 4))s" --latency -s "$LOAD_DIR/$script" "$url" >"$OUTDIR/wrk.txt" 2>&1 &
WRK=$!
sleep 2
perf record -e cpu-clock -F 1999 -g -p "$SRV" -o "$OUTDIR/perf.data" -- sleep "$SECS" >/dev/null 2>&1
wait "$WRK" || true
WRK=""

echo "== $SCEN: $(grep -E 'Requests/sec' "$OUTDIR/wrk.txt")  $(grep -m1 LK_RESULT "$OUTDIR/wrk.txt")"
echo
echo "== by thread"
perf report -i "$OUTDIR/perf.data" --no-children --sort pid --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -8
echo
echo "== by shared object"
perf report -i "$OUTDIR/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -12
echo
echo "== hottest symbols (self; libcrypto has no symbols in Debian's build: see its total above)"
perf report -i "$OUTDIR/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null \
  | grep -E '^ +[0-9]' | grep -v 'libcrypto.so.3 *\[\.\] 0x' | head -45 | cut -c1-220
