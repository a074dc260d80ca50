#!/usr/bin/env bash
# The PostgreSQL shared store (issue 16, docs/postgres.md) against LMDB alone, same run, all on 127.0.0.1.
#
#   bench/load/pg.sh [--duration S] [--scale-users N] [--no-scale | --only-scale] [--out FILE|-]
#
#   1. a throwaway PostgreSQL (initdb + pg_ctl on a free loopback port, as `postgres` when run as root), migrated;
#   2. latchkey on LMDB alone, then nodes A and B on the PostgreSQL store (B: A's keys, its own replica): GET
#      /v1/client (64 conns), token mint (16 conns) and password sign-in (8 conns, 2× duration) with wrk on each;
#   3. revocation visibility: a session signed in on A, revoked on B over BAPI, A's mint polled until refused
#      (bench/load/pg_revoke.py; 200 rounds, p50/p99/max);
#   4. the rejected design: every request reading PostgreSQL. pgbench, 64 clients, a random existing latchkey_kv
#      row by primary key per transaction (what a per-request read of a client or session costs at best);
#   5. scale: latchkey-seed N users + N sessions into an LMDB dir, `latchkey store copy` into PostgreSQL (time), a
#      node started on that store with an empty replica (start time = snapshot load; RSS), GET /v1/client and mint
#      there.
# Environment: LATCHKEY_BUILD (build/release when built, else build/asan; the report says which).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOAD_DIR="$ROOT/bench/load"
if [ -n "${LATCHKEY_BUILD:-}" ]; then BUILD=$LATCHKEY_BUILD
elif [ -x "$ROOT/build/release/server/latchkey" ]; then BUILD=$ROOT/build/release
else BUILD=$ROOT/build/asan; fi
LATCHKEY="$BUILD/server/latchkey"
SEED="$BUILD/bench/latchkey-seed"
DURATION=10 SCALE_USERS=1000000 DO_SCALE=1 ONLY_SCALE=0 OUT=-
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift ;;
    --scale-users) SCALE_USERS=$2; shift ;;
    --no-scale) DO_SCALE=0 ;;
    --only-scale) ONLY_SCALE=1 ;;
    --out) OUT=$2; shift ;;
    *) echo "pg.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "pg.sh: $*" >&2; exit 1; }
log() { echo "[pg-bench $(date +%H:%M:%S)] $*" >&2; }
now_ms() { date +%s%3N; }
rss_mb() { awk '/^VmRSS:/{printf "%.0f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
[ -x "$LATCHKEY" ] || die "missing $LATCHKEY"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || die "PostgreSQL binaries not found (Debian postgresql-15)"
for t in wrk curl python3; do command -v "$t" >/dev/null || die "missing tool: $t"; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-pgbench-XXXXXX")
chmod 711 "$WORK"  # PostgreSQL runs as another user below it
PIDS=()
AS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- PostgreSQL
mkdir -p "$WORK/pg"
if [ "$(id -u)" = 0 ]; then
  PGUSER_OS=postgres; id postgres >/dev/null 2>&1 || PGUSER_OS=nobody
  chown "$PGUSER_OS" "$WORK/pg"; AS=(runuser -u "$PGUSER_OS" --)
fi
PGPORT=$((20000 + RANDOM % 30000))
"${AS[@]}" "$PGBIN/initdb" -D "$WORK/pg/data" -A trust -U latchkey --no-sync -E UTF8 >/dev/null
# Durable PostgreSQL (fsync on, synchronous_commit on): what a deployment runs.
"${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/data/server.log" -w -t 30 \
  -o "-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
PGURL="postgresql://latchkey@127.0.0.1:$PGPORT/postgres"
"$LATCHKEY" migrate --postgres-url "$PGURL" >/dev/null
log "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on port $PGPORT"

SK="sk_test_pgbench$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PASSWORD="bench-Passw0rd!x"
cat >"$WORK/config.json" <<'EOF'
{ "attack_protection": { "rate_per_ip_per_minute": 1000000, "rate_per_identifier_per_minute": 1000000,
                         "max_attempts": 1000000 },
  "password_policy": { "reject_common": false } }
EOF

# start_node NAME DATA_DIR [PGURL]: sets PID FAPI BAPI START_MS
start_node() {
  local name=$1 dir=$2 url=${3:-} logf="$WORK/$1.log" line="" t0 ts
  t0=$(now_ms)
  env LATCHKEY_SECRET_KEY="$SK" LATCHKEY_TEST_MODE=true LATCHKEY_CONFIG="$WORK/config.json" \
      ${url:+LATCHKEY_POSTGRES_URL="$url"} \
      "$LATCHKEY" serve --listen 127.0.0.1:0 --backend-listen 127.0.0.1:0 --data-dir "$dir" >"$logf" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  # The first "listening" line; tail ends with the process, timeout bounds a hang.
  line=$(timeout 120 tail -n +1 --pid="$PID" -f "$logf" 2>/dev/null | grep -m1 '"event":"listening"' || true)
  [ -n "$line" ] || { tail -5 "$logf" >&2; die "latchkey $name did not start (exited, or not within 120 s)"; }
  ts=$(sed -n 's/.*"ts":\([0-9]*\).*/\1/p' <<<"$line")
  START_MS=$((ts - t0))
  FAPI="http://$(sed -n 's/.*"fapi":"\([^"]*\)".*/\1/p' <<<"$line")"
  BAPI="http://$(sed -n 's/.*"bapi":"\([^"]*\)".*/\1/p' <<<"$line")"
  log "$name up in $START_MS ms (fapi $FAPI)"
}
stop_node() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# users BAPI PREFIX N FILE: LK_USERS; identities FAPI FILE EMAIL...: LK_IDENTITIES (cookie + sid)
users() {
  local bapi=$1 prefix=$2 n=$3 file=$4 i
  echo "return {" >"$file"
  for ((i = 0; i < n; i++)); do
    curl -sf -m 30 -o /dev/null -X POST "$bapi/v1/users" -H "Authorization: Bearer $SK" -H 'Content-Type: application/json' \
      -d "{\"email_address\":[\"$prefix$i@example.com\"],\"password\":\"$PASSWORD\",\"skip_password_checks\":true}" \
      || die "BAPI POST /v1/users failed"
    echo "  { email = \"$prefix$i@example.com\" }," >>"$file"
  done
  echo "}" >>"$file"
}
identities() {
  local fapi=$1 file=$2 email hdr cookie sid
  shift 2
  echo "return {" >"$file"
  for email in "$@"; do
    hdr=$(curl -s -m 30 -D - -o "$WORK/si.json" -X POST "$fapi/v1/client/sign_ins" \
          --data-urlencode "identifier=$email" --data-urlencode "password=$PASSWORD" -d strategy=password)
    cookie=$(tr -d '\r' <<<"$hdr" | sed -n 's/^[Ss]et-[Cc]ookie: __client=\([^;]*\).*/\1/p' | sed -n 1p)
    sid=$(grep -o '"created_session_id":"sess_[A-Za-z0-9]*"' "$WORK/si.json" | cut -d'"' -f4 | sed -n 1p)
    [ -n "$cookie" ] && [ -n "$sid" ] || die "sign-in of $email failed"
    echo "  { cookie = \"$cookie\", sid = \"$sid\" }," >>"$file"
  done
  echo "}" >>"$file"
}

# wrk_row LABEL CONNS SCRIPT URL DURATION ENV...: prints "rps p50 p99 errors" and keeps it in R
wrk_run() {
  local conns=$1 script=$2 url=$3 dur=$4 out line
  shift 4
  out=$(env LK_LOAD_DIR="$LOAD_DIR" LK_PASSWORD="$PASSWORD" "$@" \
        timeout $((dur + 30)) wrk -t2 -c"$conns" -d"${dur}s" --timeout 15s --latency -s "$LOAD_DIR/$script" "$url" 2>&1)
  line=$(grep -m1 '^LK_RESULT' <<<"$out" || true)
  [ -n "$line" ] || { echo "n/a n/a n/a n/a"; return; }
  awk '{for(i=2;i<=NF;i++){split($i,a,"="); v[a[1]]=a[2]}
        printf "%.0f %.2f %.2f %d\n", v["requests"]/(v["duration_us"]/1e6), v["p50_us"]/1000, v["p99_us"]/1000,
               v["status_errors"]+v["socket_errors"]}' <<<"$line"
}

declare -A R
scenarios() {  # scenarios TAG FAPI IDS USERS
  local tag=$1 fapi=$2 ids=$3 usersf=$4
  R[$tag.client]=$(wrk_run 64 client.lua "$fapi/v1/client" "$DURATION" LK_IDENTITIES="$ids")
  log "$tag GET /v1/client: ${R[$tag.client]}"
  R[$tag.mint]=$(wrk_run 16 tokens.lua "$fapi/v1/client" "$DURATION" LK_IDENTITIES="$ids")
  log "$tag mint: ${R[$tag.mint]}"
  R[$tag.signin]=$(wrk_run 8 sign_in.lua "$fapi/v1/client/sign_ins" $((DURATION * 2)) LK_USERS="$usersf")
  log "$tag sign-in: ${R[$tag.signin]}"
}

N=16
PGB="" REVOKE=""
if [ "$ONLY_SCALE" = 0 ]; then
# ---- LMDB alone
start_node lmdb "$WORK/lmdb"
users "$BAPI" l "$N" "$WORK/users-l.lua"
identities "$FAPI" "$WORK/ids-l.lua" $(seq -f "l%g@example.com" 0 $((N - 1)))
scenarios lmdb "$FAPI" "$WORK/ids-l.lua" "$WORK/users-l.lua"
stop_node "$PID"

# ---- nodes A and B on PostgreSQL
start_node a "$WORK/a" "$PGURL"; PID_A=$PID FAPI_A=$FAPI BAPI_A=$BAPI
mkdir -p "$WORK/b"
for f in "$WORK/a"/*; do case "$(basename "$f")" in db|outbox.jsonl) ;; *) cp -r "$f" "$WORK/b/" ;; esac; done
start_node b "$WORK/b" "$PGURL"; PID_B=$PID FAPI_B=$FAPI BAPI_B=$BAPI
users "$BAPI_A" p "$N" "$WORK/users-p.lua"
sleep 0.5
identities "$FAPI_A" "$WORK/ids-a.lua" $(seq -f "p%g@example.com" 0 $((N - 1)))
identities "$FAPI_B" "$WORK/ids-b.lua" $(seq -f "p%g@example.com" 0 $((N - 1)))
scenarios pgA "$FAPI_A" "$WORK/ids-a.lua" "$WORK/users-p.lua"
scenarios pgB "$FAPI_B" "$WORK/ids-b.lua" "$WORK/users-p.lua"

# ---- revocation visibility
REVOKE=$(python3 "$LOAD_DIR/pg_revoke.py" "$FAPI_A" "$BAPI_B" "$SK" "p0@example.com" "$PASSWORD" 200)
log "revocation visibility (ms): $REVOKE"
RSS_A=$(rss_mb "$PID_A") RSS_B=$(rss_mb "$PID_B")

# ---- the rejected design: a PostgreSQL read per request
if [ -x "$PGBIN/pgbench" ]; then
  "$PGBIN/psql" -q -X "$PGURL" -c "CREATE TABLE bench_keys AS SELECT row_number() OVER () AS i, tbl, k FROM latchkey_kv;
                                    CREATE UNIQUE INDEX ON bench_keys (i);" >/dev/null
  NKEYS=$("$PGBIN/psql" -qtAX "$PGURL" -c "SELECT count(*) FROM bench_keys")
  cat >"$WORK/read.sql" <<EOF
\\set i random(1, $NKEYS)
SELECT kv.v FROM latchkey_kv kv JOIN bench_keys b ON kv.tbl = b.tbl AND kv.k = b.k WHERE b.i = :i;
EOF
  PGB=$("$PGBIN/pgbench" -n -c 64 -j 2 -T "$DURATION" -f "$WORK/read.sql" "$PGURL" 2>&1 |
        awk '/latency average/{l=$4} /^tps/{t=$3} END{printf "%.0f %.2f", t, l}')
  log "pgbench point reads: $PGB (tps, avg latency ms)"
fi
stop_node "$PID_A"; stop_node "$PID_B"
fi

# ---- scale
SCALE=""
if [ "$DO_SCALE" = 1 ]; then
  [ -x "$SEED" ] || die "missing $SEED (cmake --build ... --target latchkey-seed)"
  "$PGBIN/psql" -q -X "$PGURL" -c "CREATE DATABASE scale" >/dev/null
  SURL="${PGURL%/*}/scale"
  "$LATCHKEY" migrate --postgres-url "$SURL" >/dev/null
  t0=$(now_ms)
  "$SEED" --data-dir "$WORK/seed" --users "$SCALE_USERS" --sessions "$SCALE_USERS" --batch 20000 --password "$PASSWORD" \
          --identities-out "$WORK/ids-scale.lua" --identities "$N" >/dev/null 2>"$WORK/seed.err" || die "seed failed"
  SEED_S=$(( ($(now_ms) - t0) / 1000 ))
  t0=$(now_ms)
  COPY_OUT=$(/usr/bin/time -f "%M" "$LATCHKEY" store copy --from "lmdb:$WORK/seed/db" --to "$SURL" 2>"$WORK/copy.time")
  COPY_S=$(awk -v a="$t0" -v b="$(now_ms)" 'BEGIN{printf "%.1f", (b-a)/1000}')
  COPY_RSS=$(awk '{printf "%.0f", $1/1024}' <(tail -1 "$WORK/copy.time"))
  ROWS=$("$PGBIN/psql" -qtAX "$SURL" -c "SELECT count(*) FROM latchkey_kv")
  PGSIZE=$("$PGBIN/psql" -qtAX "$SURL" -c "SELECT pg_database_size('scale') / 1048576")
  log "copy: $COPY_OUT in $COPY_S s (rss $COPY_RSS MB); $ROWS kv rows, $PGSIZE MB"
  mkdir -p "$WORK/s1"
  for f in "$WORK/seed"/*; do case "$(basename "$f")" in db|outbox.jsonl) ;; *) cp -r "$f" "$WORK/s1/" ;; esac; done
  start_node scale "$WORK/s1" "$SURL"
  S_START=$START_MS S_RSS=$(rss_mb "$PID")
  S_CLIENT=$(wrk_run 64 client.lua "$FAPI/v1/client" "$DURATION" LK_IDENTITIES="$WORK/ids-scale.lua")
  S_MINT=$(wrk_run 16 tokens.lua "$FAPI/v1/client" "$DURATION" LK_IDENTITIES="$WORK/ids-scale.lua")
  S_RSS2=$(rss_mb "$PID")
  stop_node "$PID"
  start_node scale-restart "$WORK/s1" "$SURL"
  S_RESTART=$START_MS
  stop_node "$PID"
  SCALE=1
fi

# ---- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "n/a" }'; }
col() { awk -v n="$2" '{print $n}' <<<"$1"; }
{
  echo "### PostgreSQL shared store (bench/load/pg.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$ROOT" rev-parse --short HEAD))"
  echo
  echo "$(basename "$BUILD") build; $(nproc) cores shared with the rest of the machine (load average $(cut -d' ' -f1-3 /proc/loadavg) at the end);"
  echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') durable (fsync, synchronous_commit on) on the same machine; wrk -t2, ${DURATION} s (sign-in 2×)."
  echo
  [ "$ONLY_SCALE" = 0 ] && echo "| scenario | conns | LMDB alone req/s | node A req/s (p99 ms) | node B req/s (p99 ms) | A ÷ LMDB | B ÷ LMDB | goal |"
  [ "$ONLY_SCALE" = 0 ] && echo "|---|---|---|---|---|---|---|---|"
  [ "$ONLY_SCALE" = 0 ] && for s in client:64:"GET /v1/client (signed in)":0.8 mint:16:"POST …/sessions/{id}/tokens":0.9 signin:8:"POST /v1/client/sign_ins (password)":0.9; do
    IFS=: read -r k c label goal <<<"$s"
    l=$(col "${R[lmdb.$k]}" 1); a=$(col "${R[pgA.$k]}" 1); b=$(col "${R[pgB.$k]}" 1)
    echo "| $label | $c | $l (p99 $(col "${R[lmdb.$k]}" 3)) | $a ($(col "${R[pgA.$k]}" 3)) | $b ($(col "${R[pgB.$k]}" 3)) | $(ratio "$a" "$l") | $(ratio "$b" "$l") | ≥ $goal× |"
  done
  echo
  echo "| measure | value |"
  echo "|---|---|"
  [ -n "$REVOKE" ] && echo "| revocation on B → first refused mint on A, 200 rounds (p50 / p99 / max ms) | $REVOKE |"
  [ -n "$REVOKE" ] && echo "| RSS of node A / B after the runs | $RSS_A / $RSS_B MB |"
  [ -n "$PGB" ] && echo "| rejected design: a PostgreSQL point read per request (pgbench, 64 clients, a random latchkey_kv row; tps, avg ms) | $(col "$PGB" 1) reads/s, $(col "$PGB" 2) ms |"
  [ -n "$PGB" ] && echo "| the same request on the LMDB replica: GET /v1/client on node A (reads the client, its sessions and their users) | $(col "${R[pgA.client]}" 1) req/s |"
  if [ -n "$SCALE" ]; then
    echo "| seed $SCALE_USERS users + $SCALE_USERS sessions (+ clients) into LMDB (latchkey-seed) | $SEED_S s |"
    echo "| \`latchkey store copy\` of that LMDB into PostgreSQL (batches; peak RSS of the copy) | $COPY_S s, $COPY_RSS MB; $ROWS kv rows, $PGSIZE MB in PostgreSQL |"
    echo "| node start with an empty replica on that store (snapshot load; exec → listening) | $S_START ms, RSS $S_RSS MB |"
    echo "| node restart with its replica current | $S_RESTART ms |"
    echo "| GET /v1/client / mint at that size on that node (req/s, p99 ms) | $(col "$S_CLIENT" 1) ($(col "$S_CLIENT" 3)) / $(col "$S_MINT" 1) ($(col "$S_MINT" 3)); RSS $S_RSS2 MB |"
  fi
} >"$WORK/report.md"
if [ "$OUT" = - ]; then cat "$WORK/report.md"; else cat "$WORK/report.md" >>"$OUT"; log "appended to $OUT"; fi
