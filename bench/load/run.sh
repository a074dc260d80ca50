#!/usr/bin/env bash
# latchkey load benchmarks with same-run baselines (`make bench` runs this after a release build).
#
#   bench/load/run.sh [--quick] [--duration S] [--repeat N] [--no-micro] [--no-scale] [--no-idle] [--no-peer]
#                     [--scale-users N] [--idle-conns N] [--out FILE|-]
#   bench/load/run.sh --only-bundle [--duration S] [--repeat N] [--out FILE|-]   # the SDK bundle row alone
#
# --repeat N runs every wrk scenario N times and keeps the least disturbed run (the one in which other
# processes used the least CPU): the machine is shared, and that is the honest way to filter their noise.
#
# What it does, all on 127.0.0.1 and bounded in time:
#   1. baselines: `openssl speed -multi <cores> rsa2048` sign/s (the ceiling for token mint), nginx with 2
#      workers returning a static 200 with its access log on (the machine's HTTP floor), and the argon2id
#      verify rate on 1 and 2 threads (latchkey_bench; the ceiling for password sign-in);
#   2. latchkey on a fresh data dir: creates users over BAPI, signs them in over FAPI (cookie + session id),
#      then runs each scenario with wrk (2 threads, 64 connections, --latency; 16 for token mint);
#   2b. peer: better-auth (npm, pinned in bench/peer) on Node, get-session and password sign-in, next to
#      latchkey's GET /v1/client and sign-in (skipped with a reason when node/npm or the package is missing);
#   2c. SDK bundle: GET /npm/@clerk/clerk-js@6/dist/clerk.browser.js with Accept-Encoding: br from latchkey
#      (embedded, precompressed) and from nginx (2 workers, sendfile) serving the same .br bytes, same run;
#   2d. delivery (bench/load/delivery.mjs): sign-up throughput with the outbox vs email through the durable queue
#      to a local SMTP server (same run), and webhook delivery throughput to a local receiver;
#   3. scale: seeds N users + N sessions with latchkey-seed, reports seed time, store size, server start
#      time and GET /v1/client / token mint at that size;
#   4. idle: holds 10,000 keep-alive connections and reports the server's RSS;
#   5. writes a markdown report (bench/RESULTS.md by default) with machine, noise and the micro-benchmarks.
# Environment: LATCHKEY_BUILD (default build/release), BENCH_WRK_THREADS (2), BENCH_COMMIT (the commit the
# binaries were built from, when not the checkout's HEAD).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOAD_DIR="$ROOT/bench/load"
BUILD=${LATCHKEY_BUILD:-$ROOT/build/release}
LATCHKEY="$BUILD/server/latchkey"
SEED="$BUILD/bench/latchkey-seed"
IDLE="$BUILD/bench/latchkey-idle"
MICRO="$BUILD/bench/latchkey_bench"

DURATION=10
WRK_THREADS=${BENCH_WRK_THREADS:-2}
CONNS=64
MINT_CONNS=16
# Password sign-in: 8 connections keep the hash pool's queue full (8 in flight for 1 hashing slot) and the
# run twice as long. wrk's rate is completed requests / duration, and a FIFO pool finishes all in-flight
# requests once per round, so with 64 connections at ~50/s a 10 s run counts whole rounds of 64 (±6.4/s,
# ±13 %); 8 connections over 20 s make that ±0.4/s.
SIGNIN_CONNS=8
SCALE_USERS=1000000
IDLE_CONNS=10000
IDLE_HOLD=20
HTTP_USERS=64
REPEAT=1
DO_MICRO=1 DO_SCALE=1 DO_IDLE=1 DO_PEER=1 ONLY_BUNDLE=0
OUT="$ROOT/bench/RESULTS.md"

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) DURATION=3; SCALE_USERS=100000; IDLE_HOLD=5; HTTP_USERS=16 ;;
    --duration) DURATION=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --no-micro) DO_MICRO=0 ;;
    --no-scale) DO_SCALE=0 ;;
    --no-idle) DO_IDLE=0 ;;
    --no-peer) DO_PEER=0 ;;
    --only-bundle) ONLY_BUNDLE=1 ;;
    --scale-users) SCALE_USERS=$2; shift ;;
    --idle-conns) IDLE_CONNS=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | cut -c3-; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "run.sh: $*" >&2; exit 1; }
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

NEEDED=("$LATCHKEY" "$SEED" "$IDLE" "$MICRO")
[ "$ONLY_BUNDLE" = 1 ] && NEEDED=("$LATCHKEY")
for b in "${NEEDED[@]}"; do
  [ -x "$b" ] || die "missing $b (build the release preset first: make bench)"
done
for t in wrk nginx openssl curl awk sed du; do command -v "$t" >/dev/null || die "missing tool: $t (scripts/deps.sh bench)"; done

NCPU=$(nproc)
HZ=$(getconf CLK_TCK)
# Sockets: 10k idle connections need as many fds on each side.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-load-XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      pkill -TERM -P "$p" 2>/dev/null || true
      kill -TERM "$p" 2>/dev/null || true
    fi
  done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers

now_ms() { date +%s%3N; }
# lua_field FILE NAME: the first `NAME = "value"` in a generated Lua data file ("" if none). No pipes into
# head: with pipefail, an early-closing reader kills the script with SIGPIPE.
lua_field() { awk -v k="$2" '{ if (match($0, "[{ ,]" k " = \"[^\"]*\"")) { print substr($0, RSTART + length(k) + 5, RLENGTH - length(k) - 6); exit } }' "$1" 2>/dev/null || true; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# Busy jiffies of the whole machine (user nice system irq softirq steal) and steal alone.
machine_cpu() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $9}' /proc/stat; }
# CPU jiffies (user+system) of a process and its direct children (nginx workers).
proc_cpu() {
  local p t=0 v
  for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
    v=$(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
fmt() { awk -v x="$1" -v d="${2:-1}" 'BEGIN{printf "%.*f", d, x}'; }
fge() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a>=b)}'; }
flt() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a<b)}'; }

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    if [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ]; then echo "$p"; return; fi
  done
  die "no free port"
}

SK="sk_test_bench$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PASSWORD="bench-Passw0rd!x"
cat >"$WORK/config.json" <<'EOF'
{
  "attack_protection": { "rate_per_ip_per_minute": 1000000, "rate_per_identifier_per_minute": 1000000,
                         "max_attempts": 1000000 },
  "password_policy": { "reject_common": false },
  "max_connections": 30000
}
EOF

SRV_PID="" FAPI="" BAPI="" START_MS=""
# start_server NAME DATA_DIR DURABLE: starts latchkey, waits for the "listening" line.
start_server() {
  local name=$1 dir=$2 durable=$3 log="$WORK/server-$1.log" line="" t0 ts
  t0=$(now_ms)
  env LATCHKEY_SECRET_KEY="$SK" LATCHKEY_TEST_MODE=true LATCHKEY_DURABLE="$durable" \
      LATCHKEY_CONFIG="$WORK/config.json" \
      "$LATCHKEY" serve --listen 127.0.0.1:0 --backend-listen 127.0.0.1:0 --data-dir "$dir" >"$log" 2>&1 &
  SRV_PID=$!
  PIDS+=("$SRV_PID")
  for _ in $(seq 1 3000); do
    line=$(grep -m1 '"event":"listening"' "$log" 2>/dev/null || true)
    [ -n "$line" ] && break
    kill -0 "$SRV_PID" 2>/dev/null || { cat "$log" >&2; die "latchkey ($name) exited during start"; }
    sleep 0.01
  done
  [ -n "$line" ] || die "latchkey ($name) did not start within 30 s"
  ts=$(sed -n 's/.*"ts":\([0-9]*\).*/\1/p' <<<"$line")
  START_MS=$((ts - t0))
  FAPI="http://$(sed -n 's/.*"fapi":"\([^"]*\)".*/\1/p' <<<"$line")"
  BAPI="http://$(sed -n 's/.*"bapi":"\([^"]*\)".*/\1/p' <<<"$line")"
  log "latchkey ($name, durable=$durable) up in ${START_MS} ms: fapi $FAPI bapi $BAPI"
}
stop_server() {
  [ -n "$SRV_PID" ] || return 0
  kill -TERM "$SRV_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
}

# lua_rows FILE ROW_FN ITEM...: writes FILE as a Lua list of the rows ROW_FN prints for each ITEM (on a failure
# ROW_FN logs why and prints nothing; three failures stop the list); prints how many rows it wrote.
lua_rows() {
  local file=$1 row_fn=$2 item row ok=0 fails=0
  shift 2
  echo "return {" >"$file"
  for item in "$@"; do
    row=$("$row_fn" "$item")
    if [ -z "$row" ]; then
      fails=$((fails + 1)); [ "$fails" -ge 3 ] && break
      continue
    fi
    echo "  $row," >>"$file"
    ok=$((ok + 1))
  done
  echo "}" >>"$file"
  echo "$ok"
}

# A user over BAPI, as a Lua row with id + email. user_row EMAIL
user_row() {
  local email=$1 body id
  body=$(curl -s -m 30 -X POST "$BAPI/v1/users" -H "Authorization: Bearer $SK" \
         -H 'Content-Type: application/json' \
         -d "{\"email_address\":[\"$email\"],\"password\":\"$PASSWORD\",\"skip_password_checks\":true}" || true)
  id=$(grep -m1 -o '"id":"user_[A-Za-z0-9]*"' <<<"$body" | cut -d'"' -f4 | sed -n 1p || true)
  if [ -z "$id" ]; then
    log "BAPI POST /v1/users failed: $(head -c 300 <<<"$body")"
    return 0
  fi
  echo "{ id = \"$id\", email = \"$email\" }"
}

# Users over BAPI: writes LK_USERS (Lua) with id + email. create_users COUNT PREFIX FILE
create_users() {
  local n=$1 prefix=$2 file=$3 i emails=()
  for ((i = 0; i < n; i++)); do emails+=("$prefix$i@example.com"); done
  lua_rows "$file" user_row "${emails[@]}"
}

# A signed-in browser over FAPI, as a Lua row with the __client cookie and session id. identity_row EMAIL
identity_row() {
  local email=$1 hdr cookie sid
  hdr=$(curl -s -m 30 -D - -o "$WORK/sign_in.json" -X POST "$FAPI/v1/client/sign_ins" \
        --data-urlencode "identifier=$email" --data-urlencode "password=$PASSWORD" -d strategy=password || true)
  cookie=$(tr -d '\r' <<<"$hdr" | sed -n 's/^[Ss]et-[Cc]ookie: __client=\([^;]*\).*/\1/p' | sed -n 1p)
  sid=$(grep -m1 -o '"created_session_id":"sess_[A-Za-z0-9]*"' "$WORK/sign_in.json" 2>/dev/null | cut -d'"' -f4 | sed -n 1p || true)
  if [ -z "$cookie" ] || [ -z "$sid" ]; then
    log "FAPI sign-in of $email failed: $(sed -n 1p <<<"$hdr" | tr -d '\r') $(head -c 300 "$WORK/sign_in.json" 2>/dev/null || true)"
    return 0
  fi
  echo "{ cookie = \"$cookie\", sid = \"$sid\" }"
}

# Signed-in browsers over FAPI: writes LK_IDENTITIES (Lua) with the __client cookie and session id.
# sign_in_users FILE EMAIL...
sign_in_users() {
  local file=$1
  shift
  lua_rows "$file" identity_row "$@"
}

# Result of the last run_wrk: R_RPS R_P50 R_P99 (ms) R_ERR R_RSS (MB) R_SRV R_WRK R_OTHER (% of machine)
# R_STEAL (%), R_OK (1 when wrk produced a result).
declare -A RES
# run_wrk KEY CONNS SCRIPT URL [ENV=VAL...]; runs wrk for DURATION seconds against the running server.
run_wrk() {
  local key=$1 rep best="" f
  shift
  for ((rep = 1; rep <= REPEAT; rep++)); do
    run_wrk_once "$key~$rep" "$@"
    [ "${RES[$key~$rep.ok]:-0}" = 1 ] || continue
    if [ -z "$best" ] || flt "${RES[$key~$rep.other]}" "${RES[$key~$best.other]}"; then best=$rep; fi
  done
  [ -n "$best" ] || best=1
  for f in ok rps p50 p99 err requests rss srv wrk other steal why; do
    [ -n "${RES[$key~$best.$f]+x}" ] && RES[$key.$f]=${RES[$key~$best.$f]}
  done
  [ "$REPEAT" -gt 1 ] && log "$key: kept run $best of $REPEAT (least other CPU)"
  return 0
}
run_wrk_once() {
  local key=$1 conns=$2 script=$3 url=$4
  shift 4
  local out="$WORK/wrk-$key.txt" tf="$WORK/wrk-$key.time" wp rss=0 r
  local c0 c1 s0 s1 t0 t1
  read -r c0 st0 < <(machine_cpu); s0=$(proc_cpu "$SRV_PID"); t0=$(now_ms)
  ( export LK_LOAD_DIR="$LOAD_DIR" LK_PASSWORD="$PASSWORD" LK_SECRET_KEY="$SK" "$@"
    TIMEFORMAT='%U %S'
    time timeout $((DURATION + 30)) wrk -t"$WRK_THREADS" -c"$conns" -d"${DURATION}s" --timeout 15s --latency \
         -s "$LOAD_DIR/$script" "$url" >"$out" 2>&1 ) 2>"$tf" &
  wp=$!
  PIDS+=("$wp")
  while kill -0 "$wp" 2>/dev/null; do
    r=$(rss_kb "$SRV_PID"); [ "${r:-0}" -gt "$rss" ] && rss=$r
    sleep 0.5
  done
  wait "$wp" || true
  read -r c1 st1 < <(machine_cpu); s1=$(proc_cpu "$SRV_PID"); t1=$(now_ms)
  collect "$key" "$out" "$tf" "$rss" "$((c1 - c0))" "$((st1 - st0))" "$((s1 - s0))" "$((t1 - t0))"
}
# collect KEY OUT TIMEFILE RSS_KB BUSY_J STEAL_J SRV_J ELAPSED_MS
collect() {
  local key=$1 out=$2 tf=$3 rss=$4 busy=$5 steal=$6 srv=$7 el=$8 line wrk_s
  line=$(grep -m1 '^LK_RESULT' "$out" || true)
  if [ -z "$line" ]; then
    RES[$key.ok]=0
    log "wrk produced no result for $key: $(tail -3 "$out" | tr '\n' ' ')"
    return
  fi
  wrk_s=$(awk '{print $1+$2}' "$tf" 2>/dev/null | tail -1); wrk_s=${wrk_s:-0}
  eval "$(sed 's/^LK_RESULT //; s/ /\n/g' <<<"$line" | sed 's/^/local w_/')"
  RES[$key.ok]=1
  RES[$key.rps]=$(awk -v n="$w_requests" -v d="$w_duration_us" 'BEGIN{printf "%.0f", n/(d/1e6)}')
  RES[$key.p50]=$(awk -v x="$w_p50_us" 'BEGIN{printf "%.2f", x/1000}')
  RES[$key.p99]=$(awk -v x="$w_p99_us" 'BEGIN{printf "%.2f", x/1000}')
  RES[$key.err]=$((w_status_errors + w_socket_errors))
  RES[$key.requests]=$w_requests
  RES[$key.rss]=$(awk -v k="$rss" 'BEGIN{printf "%.0f", k/1024}')
  local cap
  cap=$(awk -v e="$el" -v n="$NCPU" 'BEGIN{print e/1000*n}')
  RES[$key.srv]=$(awk -v j="$srv" -v hz="$HZ" -v c="$cap" 'BEGIN{printf "%.0f", j/hz/c*100}')
  RES[$key.wrk]=$(awk -v s="$wrk_s" -v c="$cap" 'BEGIN{printf "%.0f", s/c*100}')
  RES[$key.other]=$(awk -v b="$busy" -v j="$srv" -v s="$wrk_s" -v hz="$HZ" -v c="$cap" \
                    'BEGIN{o=(b-j)/hz-s; if(o<0)o=0; printf "%.0f", o/c*100}')
  RES[$key.steal]=$(awk -v j="$steal" -v hz="$HZ" -v c="$cap" 'BEGIN{printf "%.0f", j/hz/c*100}')
  log "$key: ${RES[$key.rps]} req/s p50 ${RES[$key.p50]} ms p99 ${RES[$key.p99]} ms errors ${RES[$key.err]} rss ${RES[$key.rss]} MB (cpu: server ${RES[$key.srv]}% wrk ${RES[$key.wrk]}% other ${RES[$key.other]}%)"
}

# probe METHOD URL [curl args...]: prints the HTTP status of one request.
probe() {
  local m=$1 u=$2
  shift 2
  curl -s -m 10 -o "$WORK/probe.out" -w '%{http_code}' -X "$m" "$@" "$u" || echo 000
}

# Report rows (the markdown tables at the end).
ok() { if "$@"; then echo yes; else echo "**no**"; fi; }
row() {  # row KEY LABEL CONNS BASELINE_NAME BASELINE_VALUE TARGET_TEXT CHECK_FN
  local key=$1 label=$2 conns=$3 bname=$4 bval=$5 ttext=$6 check=$7 ratio="" met=""
  if [ "${RES[$key.ok]:-0}" != 1 ]; then
    echo "| $label | $conns | n/a | | | | | $bname | | $ttext | not run: ${RES[$key.why]:-wrk failed} | | | |"
    return
  fi
  if [ -n "$bval" ] && fge "$bval" 1; then ratio=$(awk -v a="${RES[$key.rps]}" -v b="$bval" 'BEGIN{printf "%.2f", a/b}'); fi
  if [ -n "$check" ]; then
    if [ -n "$ratio" ] || [ "$check" = chk_storm_mint ]; then
      if $check "$key" "${ratio:-0}"; then met=yes; else met="**no**"; fi
    else
      met="no baseline"
    fi
  fi
  echo "| $label | $conns | ${RES[$key.rps]} | ${RES[$key.p50]} | ${RES[$key.p99]} | ${RES[$key.err]} | ${RES[$key.rss]} | $bname | ${ratio:-} | $ttext | $met | ${RES[$key.srv]} | ${RES[$key.wrk]} | ${RES[$key.other]} |"
}
chk_health() { fge "$2" 0.9; }
chk_client() { fge "$2" 0.6; }
chk_mint16() { fge "$2" 0.85 && flt "${RES[$1.p99]}" 5; }
chk_mint64() { fge "$2" 0.85 && flt "${RES[$1.p99]}" 15; }
chk_sign_in() { fge "$2" 0.9; }
chk_storm_mint() { flt "${RES[$1.p99]}" 20; }
chk_bundle() { fge "$2" 0.8; }
bundle_rows() {
  row nginx_bundle "nginx: the same .br file (${BUNDLE_BYTES:-?} bytes), sendfile" "$CONNS" "" "" "(baseline)" ""
  row bundle "GET /npm/@clerk/clerk-js@6/dist/clerk.browser.js (br)" "$CONNS" "nginx, same file" \
      "${RES[nginx_bundle.rps]:-}" "≥ 0.8× nginx" chk_bundle
}

# ---------------------------------------------------------------- machine and noise

CPU_MODEL=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
MEM_GB=$(awk '/^MemTotal/{printf "%.0f", $2/1048576}' /proc/meminfo)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
COMMIT=${BENCH_COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}  # what the binaries were built from
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
read -r q0 qs0 < <(machine_cpu); sleep 2; read -r q1 qs1 < <(machine_cpu)
IDLE_BUSY=$(awk -v b=$((q1 - q0)) -v hz="$HZ" -v n="$NCPU" 'BEGIN{printf "%.0f", b/hz/(2*n)*100}')
TOP_OTHERS=$(ps -eo pcpu=,comm= --sort=-pcpu | awk 'NR<=5{printf "%s %s%%; ", $2, $1}')
log "machine: $NCPU x $CPU_MODEL, ${MEM_GB} GiB; load $LOAD_BEFORE; busy before start ${IDLE_BUSY}%"

# start_nginx DIR PORT HTTP SERVER: nginx (2 workers, access log on) with prefix DIR (its logs and temp dirs there)
# on 127.0.0.1:PORT; HTTP is added to the http block, SERVER is the body of the server block. Sets NGINX_PID (and
# adds it to PIDS).
start_nginx() {
  local dir=$1 port=$2 http=$3 server=$4
  mkdir -p "$dir/logs" "$dir/tmp"
  cat >"$dir/nginx.conf" <<NGINX
worker_processes 2;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 20000; }
http {
  access_log $dir/logs/access.log;
  keepalive_requests 1000000;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
$http
  server {
    listen 127.0.0.1:$port;
$server
  }
}
NGINX
  nginx -p "$dir" -c "$dir/nginx.conf" >"$dir/logs/stdout.log" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
}

# ---------------------------------------------------------------- SDK bundle vs nginx, same precompressed file

BUNDLE_PATH=/npm/@clerk/clerk-js@6/dist/clerk.browser.js
BUNDLE_BYTES=""
# run_bundle: needs a running latchkey ($FAPI). Saves the br body latchkey serves, has nginx serve exactly those
# bytes with the same headers, and runs wrk against both (keys nginx_bundle and bundle).
run_bundle() {
  local ngx="$WORK/nginx-bundle" www="$WORK/nginx-bundle/www" port pid st save
  mkdir -p "$www$(dirname "$BUNDLE_PATH")" "$ngx/logs" "$ngx/tmp"
  st=$(curl -s -m 10 -H 'Accept-Encoding: br' -D "$ngx/probe.hdr" -o "$www$BUNDLE_PATH" -w '%{http_code}' \
       "$FAPI$BUNDLE_PATH" || echo 000)
  if [ "$st" != 200 ] || ! grep -qi '^content-encoding: br' "$ngx/probe.hdr"; then
    RES[bundle.ok]=0 RES[nginx_bundle.ok]=0
    RES[bundle.why]="probe returned HTTP $st without br"; RES[nginx_bundle.why]=${RES[bundle.why]}
    log "bundle skipped: probe returned $st"
    return
  fi
  BUNDLE_BYTES=$(stat -c %s "$www$BUNDLE_PATH")
  # nginx's workers drop root: let them reach (not list) the work dir and read the file.
  chmod o+x "$WORK" "$ngx"
  chmod -R o+rX "$www"
  port=$(free_port)
  start_nginx "$ngx" "$port" '  sendfile on;
  tcp_nopush on;
  types { }
  default_type "application/javascript; charset=utf-8";' "    root $www;
    location /npm/ {
      add_header Content-Encoding br;
      add_header Vary Accept-Encoding;
      add_header Cache-Control \"public, max-age=300\";
      add_header Access-Control-Allow-Origin *;
      add_header Cross-Origin-Resource-Policy cross-origin;
    }"
  pid=$NGINX_PID
  for _ in $(seq 1 100); do [ "$(probe GET "http://127.0.0.1:$port$BUNDLE_PATH")" = 200 ] && break; sleep 0.1; done
  cmp -s "$WORK/probe.out" "$www$BUNDLE_PATH" || log "bundle: nginx does not serve the saved bytes"
  log "bundle: ${BUNDLE_BYTES} bytes (br); nginx (2 workers, sendfile) on 127.0.0.1:$port"
  save=$SRV_PID
  SRV_PID=$pid
  run_wrk nginx_bundle "$CONNS" bundle.lua "http://127.0.0.1:$port$BUNDLE_PATH"
  SRV_PID=$save
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  run_wrk bundle "$CONNS" bundle.lua "$FAPI$BUNDLE_PATH"
}

if [ "$ONLY_BUNDLE" = 1 ]; then
  start_server bundle "$WORK/data-bundle" true
  run_bundle
  stop_server
  {
    echo "# latchkey: SDK bundle vs nginx ($DATE, commit \`$COMMIT\`, $NCPU cores, ${DURATION} s per run, best of $REPEAT)"
    echo
    echo "| scenario | conns | req/s | p50 ms | p99 ms | errors | RSS MB | baseline | ratio | target | met | latchkey CPU % | wrk CPU % | other CPU % |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    bundle_rows
  } >"$WORK/bundle.md"
  # The full report (bench/RESULTS.md) is never replaced by this one row.
  [ "$OUT" = "-" ] || [ "$OUT" = "$ROOT/bench/RESULTS.md" ] || cp "$WORK/bundle.md" "$OUT"
  cat "$WORK/bundle.md"
  exit 0
fi

# ---------------------------------------------------------------- micro-benchmarks + hash baseline

MICRO_TXT="" HASH1=0 HASH2=0
if [ "$DO_MICRO" = 1 ]; then
  log "micro-benchmarks"
  MICRO_TXT=$("$MICRO" --benchmark_filter='-BM_password' --benchmark_min_time=0.3 2>&1 | grep -v '^\*\*\*' || true)
fi
log "password hash baseline (argon2id verify, 1 and 2 threads)"
"$MICRO" --benchmark_filter='BM_password_verify' --benchmark_min_time=3 \
  --benchmark_out="$WORK/hash.json" --benchmark_out_format=json >"$WORK/hash.txt" 2>&1 || true
hash_rate() {
  awk -v want="$1" '/"name":/{n=$0} /"items_per_second":/{ if (index(n, want)) { gsub(/[^0-9.e+]/, "", $2); print $2+0; exit } }' \
    "$WORK/hash.json" 2>/dev/null
}
HASH1=$(hash_rate 'threads:1"'); HASH1=${HASH1:-0}
HASH2=$(hash_rate 'threads:2"'); HASH2=${HASH2:-0}
HASH_THREADS=$((NCPU > 1 ? NCPU - 1 : 1))
if [ "$HASH_THREADS" -ge 2 ]; then HASH_CEIL=$(awk -v r="$HASH2" -v t="$HASH_THREADS" 'BEGIN{print r*t/2}'); else HASH_CEIL=$HASH1; fi
log "argon2id verify: $(fmt "$HASH1") /s on 1 thread, $(fmt "$HASH2") /s on 2; server hashes on $HASH_THREADS thread(s)"

# ---------------------------------------------------------------- openssl baseline

log "openssl speed -multi $NCPU -seconds 5 rsa2048"
RSA_SIGN=0
for ((rep = 1; rep <= REPEAT; rep++)); do  # the ceiling: keep the best run
  openssl speed -multi "$NCPU" -seconds 5 rsa2048 >"$WORK/openssl.txt" 2>&1 || true
  v=$(awk '/^rsa +2048 bits/{v=$(NF-1)} END{print v+0}' "$WORK/openssl.txt")
  fge "$v" "$RSA_SIGN" && RSA_SIGN=$v
done
log "openssl rsa2048: $RSA_SIGN sign/s"

# ---------------------------------------------------------------- nginx baseline

NGX="$WORK/nginx"
NGX_PORT=$(free_port)
start_nginx "$NGX" "$NGX_PORT" "" '    location / { return 200 "ok"; }'
NGX_PID=$NGINX_PID
for _ in $(seq 1 100); do [ "$(probe GET "http://127.0.0.1:$NGX_PORT/")" = 200 ] && break; sleep 0.1; done
log "nginx (2 workers, access log on) on 127.0.0.1:$NGX_PORT"
SAVE_PID=$SRV_PID
SRV_PID=$NGX_PID
run_wrk nginx "$CONNS" report.lua "http://127.0.0.1:$NGX_PORT/"
# nginx serves from its workers: count their CPU and memory too.
NGX_RSS=$(for p in $(pgrep -P "$NGX_PID"); do rss_kb "$p"; done | awk '{s+=$1} END{printf "%.0f", s/1024}')
RES[nginx.rss]=$NGX_RSS
SRV_PID=$SAVE_PID
kill -TERM "$NGX_PID" 2>/dev/null || true
wait "$NGX_PID" 2>/dev/null || true
NGINX_RPS=${RES[nginx.rps]:-0}

# ---------------------------------------------------------------- latchkey: empty store

DATA="$WORK/data-main"
start_server main "$DATA" true
START_EMPTY_MS=$START_MS
STORE_EMPTY_KB=$(du -sk "$DATA/db" 2>/dev/null | cut -f1)

log "creating $HTTP_USERS users over BAPI"
NUSERS=$(create_users "$HTTP_USERS" bench "$WORK/users.lua")
USERS_HOW="$NUSERS users created over BAPI"
if [ "$NUSERS" = 0 ]; then
  # BAPI user creation is not available in this build: seed the users (no sessions) instead.
  log "BAPI POST /v1/users unavailable: seeding $HTTP_USERS users with latchkey-seed"
  stop_server
  "$SEED" --data-dir "$DATA" --users "$HTTP_USERS" --sessions 0 --password "$PASSWORD" >/dev/null 2>"$WORK/seed-main.err" \
    || { tail -5 "$WORK/seed-main.err" >&2; die "seeding the main store failed"; }
  { echo "return {"; for ((i = 0; i < HTTP_USERS; i++)); do echo "  { email = \"seed$i@example.com\" },"; done; echo "}"; } >"$WORK/users.lua"
  start_server main "$DATA" true
  USERS_HOW="BAPI user creation unavailable in this build: $HTTP_USERS users seeded by latchkey-seed"
fi
mapfile -t EMAILS < <(sed -n 's/.*email = "\([^"]*\)".*/\1/p' "$WORK/users.lua")
log "signing in ${#EMAILS[@]} users over FAPI"
NIDS=0
[ "${#EMAILS[@]}" -gt 0 ] && NIDS=$(sign_in_users "$WORK/identities.lua" "${EMAILS[@]}")
log "$NUSERS users, $NIDS signed-in browsers"
IDENTITIES_HOW="$USERS_HOW, $NIDS signed in over FAPI (one-step password sign-in; \`__client\` cookie + created_session_id)"
if [ "$NIDS" = 0 ]; then
  # The FAPI sign-in (or the BAPI) is not available: seed signed-in browsers directly so the read and
  # mint scenarios still run (latchkey-seed writes the server's own credential for each client).
  log "no browser could sign in over HTTP: seeding $HTTP_USERS users + sessions with latchkey-seed instead"
  stop_server
  "$SEED" --data-dir "$DATA" --users "$HTTP_USERS" --sessions "$HTTP_USERS" --password "$PASSWORD" --prefix fallback \
          --identities-out "$WORK/identities.lua" --identities "$HTTP_USERS" >/dev/null 2>"$WORK/seed-main.err" \
    || { tail -5 "$WORK/seed-main.err" >&2; die "seeding the main store failed"; }
  [ "$NUSERS" = 0 ] && cp "$WORK/identities.lua" "$WORK/users.lua"
  start_server main "$DATA" true
  IDENTITIES_HOW="HTTP sign-in unavailable in this build: $HTTP_USERS users + signed-in sessions seeded by latchkey-seed"
fi
touch "$WORK/identities.lua" "$WORK/users.lua"
FIRST_COOKIE=$(lua_field "$WORK/identities.lua" cookie)
FIRST_SID=$(lua_field "$WORK/identities.lua" sid)
FIRST_USER=$(lua_field "$WORK/users.lua" id)
mapfile -t EMAILS < <(sed -n 's/.*email = "\([^"]*\)".*/\1/p' "$WORK/users.lua")

IDS_ENV=(LK_IDENTITIES="$WORK/identities.lua" LK_USERS="$WORK/users.lua")
# scenario KEY CONNS SCRIPT PATH PROBE_METHOD [BASE]: probes one request, then runs wrk.
scenario() {
  local key=$1 conns=$2 script=$3 url=$4 st=$5
  if [ "${st:0:1}" != 2 ]; then
    RES[$key.ok]=0
    if [[ "$st" =~ ^[0-9]+$ ]]; then RES[$key.why]="probe returned HTTP $st"; else RES[$key.why]=$st; fi
    log "$key skipped: probe returned $st ($(head -c 200 "$WORK/probe.out" 2>/dev/null))"
    return
  fi
  run_wrk "$key" "$conns" "$script" "$url" "${IDS_ENV[@]}"
}

st=$(probe GET "$FAPI/v1/health")
scenario health "$CONNS" report.lua "$FAPI/v1/health" "$st"
st=$(probe GET "$FAPI/v1/environment")
scenario environment "$CONNS" report.lua "$FAPI/v1/environment" "$st"
st="no signed-in browser"; [ -n "$FIRST_COOKIE" ] && st=$(probe GET "$FAPI/v1/client" -H "Cookie: __client=$FIRST_COOKIE")
if [ "${st:0:1}" = 2 ] && ! grep -q "$FIRST_SID" "$WORK/probe.out"; then st="200-without-session"; fi
scenario client "$CONNS" client.lua "$FAPI/v1/client" "$st"
st="no signed-in browser"; [ -n "$FIRST_COOKIE" ] && st=$(probe POST "$FAPI/v1/client/sessions/$FIRST_SID/tokens" -H "Cookie: __client=$FIRST_COOKIE" -d '')
scenario mint16 "$MINT_CONNS" tokens.lua "$FAPI/v1/client/sessions/x/tokens" "$st"
scenario mint64 "$CONNS" tokens.lua "$FAPI/v1/client/sessions/x/tokens" "$st"
MINT_ST=$st
st="no users were created over BAPI"; [ -n "$FIRST_USER" ] && st=$(probe GET "$BAPI/v1/users/$FIRST_USER" -H "Authorization: Bearer $SK")
scenario bapi_user "$CONNS" bapi_user.lua "$BAPI/v1/users/x" "$st"
st="no signed-in browser"; [ -n "$FIRST_COOKIE" ] && st=$MINT_ST
scenario mixed "$CONNS" mixed.lua "$FAPI/v1/client" "$st"
run_bundle
st=000; [ "${#EMAILS[@]}" -gt 0 ] && st=$(probe POST "$FAPI/v1/client/sign_ins" --data-urlencode "identifier=${EMAILS[0]}" \
                                           --data-urlencode "password=$PASSWORD" -d strategy=password)
SIGNIN_ST=$st
DURATION=$((DURATION * 2)) scenario sign_in "$SIGNIN_CONNS" sign_in.lua "$FAPI/v1/client/sign_ins" "$st"

# Token mint (16 connections) while a sign-in storm (64 connections) saturates the hash pool.
if [ "${SIGNIN_ST:0:1}" = 2 ] && [ "${MINT_ST:0:1}" = 2 ]; then
  log "storm: sign-in x$CONNS + token mint x$MINT_CONNS concurrently"
  read -r c0 st0 < <(machine_cpu); s0=$(proc_cpu "$SRV_PID"); t0=$(now_ms)
  for k in storm_sign_in storm_mint; do
    if [ $k = storm_sign_in ]; then sc=sign_in.lua; cn=$CONNS; u="$FAPI/v1/client/sign_ins"; else sc=tokens.lua; cn=$MINT_CONNS; u="$FAPI/v1/client"; fi
    ( export LK_LOAD_DIR="$LOAD_DIR" LK_PASSWORD="$PASSWORD" LK_SECRET_KEY="$SK" "${IDS_ENV[@]}"
      TIMEFORMAT='%U %S'
      time timeout $((DURATION + 30)) wrk -t"$WRK_THREADS" -c"$cn" -d"${DURATION}s" --timeout 15s --latency \
           -s "$LOAD_DIR/$sc" "$u" >"$WORK/wrk-$k.txt" 2>&1 ) 2>"$WORK/wrk-$k.time" &
    PIDS+=($!)
    eval "pid_$k=$!"
  done
  rss=0
  while kill -0 "$pid_storm_sign_in" 2>/dev/null || kill -0 "$pid_storm_mint" 2>/dev/null; do
    r=$(rss_kb "$SRV_PID"); [ "${r:-0}" -gt "$rss" ] && rss=$r
    sleep 0.5
  done
  wait "$pid_storm_sign_in" "$pid_storm_mint" || true
  read -r c1 st1 < <(machine_cpu); s1=$(proc_cpu "$SRV_PID"); t1=$(now_ms)
  awk '{a+=$1; b+=$2} END{print a, b}' "$WORK/wrk-storm_sign_in.time" "$WORK/wrk-storm_mint.time" >"$WORK/wrk-storm.time"
  for k in storm_sign_in storm_mint; do
    collect "$k" "$WORK/wrk-$k.txt" "$WORK/wrk-storm.time" "$rss" $((c1 - c0)) $((st1 - st0)) $((s1 - s0)) $((t1 - t0))
  done
else
  RES[storm_sign_in.ok]=0 RES[storm_mint.ok]=0
  RES[storm_sign_in.why]="sign-in or mint probe failed"; RES[storm_mint.why]="sign-in or mint probe failed"
fi
STORE_MAIN_KB=$(du -sk "$DATA/db" 2>/dev/null | cut -f1)
stop_server

# Sign-in again without fsync per commit (LATCHKEY_DURABLE=false), same data dir.
if [ "${SIGNIN_ST:0:1}" = 2 ]; then
  start_server nosync "$DATA" false
  START_RESTART_MS=$START_MS
  DURATION=$((DURATION * 2)) scenario sign_in_nosync "$SIGNIN_CONNS" sign_in.lua "$FAPI/v1/client/sign_ins" "$SIGNIN_ST"
  stop_server
else
  RES[sign_in_nosync.ok]=0; RES[sign_in_nosync.why]="sign-in probe failed"
fi

# ---------------------------------------------------------------- peer: better-auth on Node (optional)
# One Node process: better-auth's in-memory adapter cannot be shared by a cluster, so the peer uses one core
# where latchkey uses both; each hashes passwords with its own default (better-auth: scrypt; latchkey: argon2id).
PEER_DIR="$ROOT/bench/peer" PEER_VERSION="" PEER_WHY="" PEER_PID=""
if [ "$DO_PEER" = 0 ]; then
  PEER_WHY="--no-peer"
elif ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PEER_WHY="node/npm not installed (scripts/deps.sh bench)"
elif ! (cd "$PEER_DIR" && { [ -f node_modules/better-auth/package.json ] ||
        timeout 300 npm ci --no-audit --no-fund --loglevel=error >"$WORK/peer-npm.log" 2>&1; }); then
  PEER_WHY="npm ci in bench/peer failed: $(tail -1 "$WORK/peer-npm.log" 2>/dev/null)"
else
  PEER_VERSION=$(node -p "require('$PEER_DIR/node_modules/better-auth/package.json').version" 2>/dev/null || echo "?")
  PEER_NODE=$(node --version)
  PEER_SECRET="peer$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  env PEER_SECRET="$PEER_SECRET" NODE_ENV=production node "$PEER_DIR/server.mjs" >"$WORK/peer.log" 2>&1 &
  PEER_PID=$!
  PIDS+=("$PEER_PID")
  PEER_PORT=""
  for _ in $(seq 1 300); do
    PEER_PORT=$(sed -n 's/.*"event":"listening","port":\([0-9]*\).*/\1/p' "$WORK/peer.log" | head -1)
    [ -n "$PEER_PORT" ] && break
    kill -0 "$PEER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$PEER_PORT" ]; then
    PEER_WHY="better-auth did not start: $(tail -1 "$WORK/peer.log" 2>/dev/null)"
  else
    PEER="http://127.0.0.1:$PEER_PORT"
    log "better-auth $PEER_VERSION (node $PEER_NODE, one process, memory adapter) on $PEER"
    echo "return {" >"$WORK/peer-cookies.lua"; echo "return {" >"$WORK/peer-users.lua"
    n=0
    for ((i = 0; i < HTTP_USERS; i++)); do
      email="peer$i@example.com"
      hdr=$(curl -s -m 30 -D - -o /dev/null -X POST "$PEER/api/auth/sign-up/email" -H 'Content-Type: application/json' \
            -H 'Origin: http://127.0.0.1' -d "{\"email\":\"$email\",\"password\":\"$PASSWORD\",\"name\":\"Peer $i\"}" || true)
      cookie=$(grep -i -m1 '^set-cookie: better-auth.session_token=' <<<"$hdr" | sed 's/^[^:]*: //; s/;.*//' | tr -d '\r' || true)
      [ -n "$cookie" ] || continue
      echo "  \"$cookie\"," >>"$WORK/peer-cookies.lua"
      echo "  { email = \"$email\" }," >>"$WORK/peer-users.lua"
      n=$((n + 1))
    done
    echo "}" >>"$WORK/peer-cookies.lua"; echo "}" >>"$WORK/peer-users.lua"
    if [ "$n" = 0 ]; then
      PEER_WHY="better-auth sign-up failed: $(head -c 200 <<<"$hdr")"
    else
      log "better-auth: $n users signed up"
      SAVE_PID=$SRV_PID
      SRV_PID=$PEER_PID
      run_wrk peer_session "$CONNS" peer_session.lua "$PEER/api/auth/get-session" LK_PEER_COOKIES="$WORK/peer-cookies.lua"
      DURATION=$((DURATION * 2)) run_wrk peer_sign_in "$SIGNIN_CONNS" peer_sign_in.lua "$PEER/api/auth/sign-in/email" \
        LK_USERS="$WORK/peer-users.lua"
      SRV_PID=$SAVE_PID
    fi
  fi
  kill -TERM "$PEER_PID" 2>/dev/null || true
  wait "$PEER_PID" 2>/dev/null || true
fi

# ---------------------------------------------------------------- delivery: email queue vs outbox, webhooks

DELIVERY_MD="" DELIVERY_WHY=""
if [ "$ONLY_BUNDLE" = 1 ]; then
  DELIVERY_WHY="--only-bundle"
elif ! command -v node >/dev/null 2>&1 || [ ! -f "$ROOT/tests/e2e/node_modules/smtp-server/package.json" ]; then
  DELIVERY_WHY="node or tests/e2e/node_modules missing (cd tests/e2e && npm ci)"
else
  log "delivery: sign-up with the outbox vs the SMTP queue (same run); webhook delivery throughput"
  if node "$LOAD_DIR/delivery.mjs" --bin "$LATCHKEY" --duration "$DURATION" >"$WORK/delivery.md" 2>"$WORK/delivery.err"; then
    DELIVERY_MD="$WORK/delivery.md"
  else
    DELIVERY_WHY="bench/load/delivery.mjs failed: $(tail -1 "$WORK/delivery.err" 2>/dev/null)"
  fi
fi

# ---------------------------------------------------------------- scale: 1M users + 1M sessions

SEED_S="" STORE_SCALE_KB="" START_SCALE_MS=""
if [ "$DO_SCALE" = 1 ]; then
  SDATA="$WORK/data-scale"
  mkdir -p "$SDATA"; chmod 700 "$SDATA"
  log "seeding $SCALE_USERS users + $SCALE_USERS sessions (+ clients)"
  t0=$(now_ms)
  "$SEED" --data-dir "$SDATA" --users "$SCALE_USERS" --sessions "$SCALE_USERS" --batch 20000 \
          --password "$PASSWORD" --identities-out "$WORK/identities-scale.lua" --identities "$HTTP_USERS" \
          >"$WORK/seed.json" 2>"$WORK/seed.err" || { tail -5 "$WORK/seed.err" >&2; die "seeding failed"; }
  SEED_S=$(awk -v a="$t0" -v b="$(now_ms)" 'BEGIN{printf "%.1f", (b-a)/1000}')
  STORE_SCALE_KB=$(du -sk "$SDATA/db" | cut -f1)
  log "seeded in ${SEED_S} s: $(cat "$WORK/seed.json"); store $(fmt "$((STORE_SCALE_KB / 1024))" 0) MB"
  # The seeder bootstrapped the data dir (keys exist): this is the restart an operator sees.
  start_server scale "$SDATA" true
  START_SCALE_MS=$START_MS
  # One real password sign-in of a seeded user at that size (the store's email index at 1M).
  SCALE_SIGNIN_MS=""
  t0=$(now_ms)
  st=$(probe POST "$FAPI/v1/client/sign_ins" --data-urlencode "identifier=seed$((SCALE_USERS / 2))@example.com" \
             --data-urlencode "password=$PASSWORD" -d strategy=password)
  [ "${st:0:1}" = 2 ] && SCALE_SIGNIN_MS=$(( $(now_ms) - t0 ))
  IDS_ENV=(LK_IDENTITIES="$WORK/identities-scale.lua" LK_USERS="$WORK/users.lua")
  SC_COOKIE=$(lua_field "$WORK/identities-scale.lua" cookie)
  SC_SID=$(lua_field "$WORK/identities-scale.lua" sid)
  st=000; [ -n "$SC_COOKIE" ] && st=$(probe GET "$FAPI/v1/client" -H "Cookie: __client=$SC_COOKIE")
  scenario scale_client "$CONNS" client.lua "$FAPI/v1/client" "$st"
  st=000; [ -n "$SC_COOKIE" ] && st=$(probe POST "$FAPI/v1/client/sessions/$SC_SID/tokens" -H "Cookie: __client=$SC_COOKIE" -d '')
  scenario scale_mint64 "$CONNS" tokens.lua "$FAPI/v1/client" "$st"
  stop_server
fi

# ---------------------------------------------------------------- idle keep-alive connections

IDLE_LINE="" IDLE_RSS="" IDLE_BASE_RSS=""
if [ "$DO_IDLE" = 1 ]; then
  start_server idle "$WORK/data-idle" true
  port=${FAPI##*:}
  IDLE_BASE_RSS=$(awk -v k="$(rss_kb "$SRV_PID")" 'BEGIN{printf "%.0f", k/1024}')
  log "idle: opening $IDLE_CONNS keep-alive connections (server RSS before: ${IDLE_BASE_RSS} MB)"
  "$IDLE" --port "$port" --conns "$IDLE_CONNS" --hold-seconds "$IDLE_HOLD" >"$WORK/idle.out" 2>"$WORK/idle.err" &
  IDLE_PID=$!
  PIDS+=("$IDLE_PID")
  for _ in $(seq 1 1500); do grep -q '"holding"' "$WORK/idle.out" 2>/dev/null && break; kill -0 "$IDLE_PID" 2>/dev/null || break; sleep 0.1; done
  IDLE_LINE=$(grep -m1 '"holding"' "$WORK/idle.out" || true)
  sleep 2
  IDLE_RSS=$(awk -v k="$(rss_kb "$SRV_PID")" 'BEGIN{printf "%.0f", k/1024}')
  IDLE_HEALTH=$(probe GET "$FAPI/v1/health")
  log "idle: $IDLE_LINE; server RSS ${IDLE_RSS} MB; health during hold: $IDLE_HEALTH"
  kill -TERM "$IDLE_PID" 2>/dev/null || true
  wait "$IDLE_PID" 2>/dev/null || true
  stop_server
fi

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report


{
  echo "# latchkey benchmark results"
  echo
  echo "Generated by \`bench/load/run.sh\` (\`make bench\`). Latest run: **$DATE**, commit \`$COMMIT\`."
  echo
  echo "- Machine: $NCPU cores ($CPU_MODEL), ${MEM_GB} GiB RAM; wrk runs on the same machine ($WRK_THREADS threads)."
  echo "- Noise: load average $LOAD_BEFORE before, $LOAD_AFTER after; the machine was ${IDLE_BUSY}% busy in the 2 s before the run (top: $TOP_OTHERS)."
  echo "  Per scenario, 'other CPU' is the share of the machine used by neither latchkey (or nginx) nor wrk: other engineers' builds,"
  echo "  the kernel's softirq work not charged to a process, etc. Above ~10% treat the row as noisy."
  echo "- Each scenario: ${DURATION} s (password sign-in: $((DURATION * 2)) s on $SIGNIN_CONNS connections), best (least disturbed) of $REPEAT run(s), wrk -t$WRK_THREADS, keep-alive, \`--latency\`; errors = non-2xx/3xx + socket errors; RSS = peak sampled server RSS."
  echo "- latchkey: release build, LATCHKEY_DURABLE=true (fsync per commit) unless noted, access log on (stdout to a file). Browsers: $IDENTITIES_HOW."
  echo
  echo "## Baselines (same run)"
  echo
  echo "| baseline | value |"
  echo "|---|---|"
  echo "| openssl speed -multi $NCPU -seconds 5 rsa2048 | $RSA_SIGN sign/s |"
  echo "| nginx 1.22, 2 workers, \`return 200 \"ok\"\`, access log on, $CONNS conns | ${NGINX_RPS} req/s (p50 ${RES[nginx.p50]:-?} ms, p99 ${RES[nginx.p99]:-?} ms, RSS ${RES[nginx.rss]:-?} MB) |"
  echo "| argon2id verify (m=19 MiB, t=2, p=1), 1 thread | $(fmt "$HASH1") /s |"
  echo "| argon2id verify, 2 threads | $(fmt "$HASH2") /s |"
  echo "| sign-in ceiling: verify rate on the server's $HASH_THREADS hash thread(s) | $(fmt "$HASH_CEIL") /s |"
  echo
  echo "## Load scenarios"
  echo
  echo "| scenario | conns | req/s | p50 ms | p99 ms | errors | RSS MB | baseline | ratio | target | met | latchkey CPU % | wrk CPU % | other CPU % |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  row health "GET /v1/health" "$CONNS" nginx "$NGINX_RPS" "≥ 0.9× nginx" chk_health
  row environment "GET /v1/environment" "$CONNS" nginx "$NGINX_RPS" "" ""
  row client "GET /v1/client (signed in)" "$CONNS" nginx "$NGINX_RPS" "≥ 0.6× nginx" chk_client
  row mint16 "POST …/sessions/{id}/tokens" "$MINT_CONNS" "openssl sign/s" "$RSA_SIGN" "≥ 0.85×, p99 < 5 ms" chk_mint16
  row mint64 "POST …/sessions/{id}/tokens" "$CONNS" "openssl sign/s" "$RSA_SIGN" "≥ 0.85×, p99 < 15 ms" chk_mint64
  row bapi_user "BAPI GET /v1/users/{id}" "$CONNS" nginx "$NGINX_RPS" "" ""
  row mixed "mixed browser (2 env : 3 client : 5 mint)" "$CONNS" nginx "$NGINX_RPS" "" ""
  bundle_rows
  row sign_in "POST /v1/client/sign_ins (password)" "$SIGNIN_CONNS" "argon2 verify ×$HASH_THREADS" "$HASH_CEIL" "≥ 0.9×" chk_sign_in
  row sign_in_nosync "sign-in, LATCHKEY_DURABLE=false" "$SIGNIN_CONNS" "argon2 verify ×$HASH_THREADS" "$HASH_CEIL" "≥ 0.9×" chk_sign_in
  row storm_sign_in "storm: sign-in (concurrent with ↓)" "$CONNS" "argon2 verify ×$HASH_THREADS" "$HASH_CEIL" "(load only)" ""
  row storm_mint "storm: token mint during sign-in storm" "$MINT_CONNS" "openssl sign/s" "$RSA_SIGN" "p99 < 20 ms" chk_storm_mint
  if [ "$DO_SCALE" = 1 ]; then
    row scale_client "GET /v1/client @ ${SCALE_USERS} users+sessions" "$CONNS" "same, empty store" "${RES[client.rps]:-}" "" ""
    row scale_mint64 "token mint @ ${SCALE_USERS} users+sessions" "$CONNS" "same, empty store" "${RES[mint64.rps]:-}" "" ""
  fi
  echo
  echo "## Peer: better-auth"
  echo
  if [ -n "$PEER_WHY" ]; then
    echo "Not run: $PEER_WHY."
  else
    echo "better-auth $PEER_VERSION on Node $PEER_NODE (bench/peer: one process, in-memory adapter, rate limit off), same wrk settings."
    echo "The peer uses one core (its adapter cannot be shared by a cluster) where latchkey uses two; each hashes"
    echo "passwords with its own default (better-auth scrypt, latchkey argon2id m=19 MiB, t=2)."
    echo
    echo "| peer scenario | conns | req/s | p50 ms | p99 ms | errors | RSS MB | latchkey counterpart | latchkey req/s | latchkey ÷ peer |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    peer_row() {  # peer_row KEY LABEL CONNS COUNTERPART_LABEL COUNTERPART_KEY
      local key=$1 cmp=""
      if [ "${RES[$key.ok]:-0}" != 1 ]; then echo "| $2 | $3 | n/a | | | | | $4 | | |"; return; fi
      if [ "${RES[$5.ok]:-0}" = 1 ] && fge "${RES[$key.rps]}" 1; then
        cmp=$(awk -v a="${RES[$5.rps]}" -v b="${RES[$key.rps]}" 'BEGIN{printf "%.1f×", a/b}')
      fi
      echo "| $2 | $3 | ${RES[$key.rps]} | ${RES[$key.p50]} | ${RES[$key.p99]} | ${RES[$key.err]} | ${RES[$key.rss]} | $4 | ${RES[$5.rps]:-n/a} | $cmp |"
    }
    peer_row peer_session "GET /api/auth/get-session (signed in)" "$CONNS" "GET /v1/client (signed in)" client
    peer_row peer_sign_in "POST /api/auth/sign-in/email" "$SIGNIN_CONNS" "POST /v1/client/sign_ins (password)" sign_in
  fi
  echo
  if [ -n "$DELIVERY_MD" ]; then
    cat "$DELIVERY_MD"
  else
    echo "## Delivery (email queue vs outbox, webhooks)"
    echo
    echo "Not run: ${DELIVERY_WHY:-?}."
  fi
  echo
  echo "## Scale and footprint"
  echo
  echo "| measure | value | target | met |"
  echo "|---|---|---|---|"
  echo "| server start, fresh data dir (exec → listening line; generates the RSA key) | ${START_EMPTY_MS} ms | | |"
  echo "| server restart, small store | ${START_RESTART_MS:-n/a} ms | | |"
  if [ "$DO_SCALE" = 1 ]; then
    echo "| seed ${SCALE_USERS} users + ${SCALE_USERS} sessions + ${SCALE_USERS} clients (latchkey-seed, 20k/txn, nosync + one fsync) | ${SEED_S} s | | |"
    echo "| store on disk after seeding (du) | $(fmt "$(awk -v k="$STORE_SCALE_KB" 'BEGIN{print k/1024}')" 0) MB | < 2048 MB | $(ok flt "$STORE_SCALE_KB" 2097152) |"
    echo "| one password sign-in of a seeded user at that size (curl, incl. argon2id) | ${SCALE_SIGNIN_MS:-n/a} ms | | |"
    echo "| server start at that size (restart) | ${START_SCALE_MS} ms | < 100 ms | $(ok flt "$START_SCALE_MS" 100) |"
  fi
  echo "| store after the main scenarios (du) | $(fmt "$(awk -v k="${STORE_MAIN_KB:-0}" 'BEGIN{print k/1024}')" 1) MB | | |"
  if [ "$DO_IDLE" = 1 ]; then
    echo "| $IDLE_CONNS idle keep-alive connections: server RSS (before: ${IDLE_BASE_RSS} MB) | ${IDLE_RSS} MB | < 200 MB | $(ok flt "${IDLE_RSS:-999999}" 200) |"
    echo "| idle client report | \`${IDLE_LINE:-none}\`; GET /v1/health during the hold: ${IDLE_HEALTH:-?} | | |"
  fi
  if [ -n "$MICRO_TXT" ]; then
    echo
    echo "## Micro-benchmarks (latchkey_bench, --benchmark_min_time=0.3)"
    echo
    echo '```'
    echo "$MICRO_TXT" | sed "s|$ROOT/||g"  # no machine paths in the committed file
    echo '```'
  fi
  echo
  echo "## Password hashing (latchkey_bench --benchmark_filter=BM_password_verify --benchmark_min_time=3)"
  echo
  echo '```'
  grep -E '^BM_|^-|^Benchmark' "$WORK/hash.txt" || true
  echo '```'
} >"$WORK/report.md"

if [ "$OUT" = "-" ]; then
  cat "$WORK/report.md"
else
  # Keep any hand-written analysis below the generated part.
  if [ -f "$OUT" ] && grep -q '^<!-- analysis -->' "$OUT"; then
    { cat "$WORK/report.md"; echo; sed -n '/^<!-- analysis -->/,$p' "$OUT"; } >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
  else
    cp "$WORK/report.md" "$OUT"
  fi
  cat "$WORK/report.md"
  log "written to $OUT"
fi
