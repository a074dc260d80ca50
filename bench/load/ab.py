#!/usr/bin/env python3
"""Same-run A/B of two latchkey builds on the hot paths (issue 17: the architecture work must leave health,
GET /v1/client, token mint and password sign-in within noise of the build before it).

  bench/load/ab.py --a OLD/build/release/server/latchkey --b build/release/server/latchkey
                   [--label-a a2efb41] [--label-b HEAD] [--rounds 3] [--duration 8] [--out FILE]

Both servers run at once on 127.0.0.1 (port 0), each on its own fresh data dir with the config and environment
bench/load/run.sh uses (fsync per commit, access log on). Each gets the same number of users over BAPI and as
many signed-in browsers over FAPI. Then, for every round and scenario, wrk (2 threads, the same Lua scripts as
run.sh) runs against A and B back to back, the order alternating per round so drift in the machine's load falls
on both; an idle server uses no CPU while the other is measured. The table keeps the median of the rounds, the
spread (min–max) beside it, the server's own CPU time per request (user + system from /proc, all its threads:
far less sensitive to other load on the machine than req/s) and B ÷ A of both. Prints markdown (and appends it to --out when given).
"""
import argparse
import http.client
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

LOAD_DIR = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "bench-Passw0rd!x"
CONFIG = {
    "attack_protection": {"rate_per_ip_per_minute": 1000000, "rate_per_identifier_per_minute": 1000000,
                          "max_attempts": 1000000},
    "password_policy": {"reject_common": False},
    "max_connections": 30000,
}
# key, label, connections, wrk script, path, duration factor
SCENARIOS = [
    ("health", "GET /v1/health", 64, "report.lua", "/v1/health", 1),
    ("client", "GET /v1/client (signed in)", 64, "client.lua", "/v1/client", 1),
    ("mint", "POST /v1/client/sessions/{id}/tokens", 16, "tokens.lua", "/v1/client/sessions/x/tokens", 1),
    ("sign_in", "POST /v1/client/sign_ins (password)", 8, "sign_in.lua", "/v1/client/sign_ins", 2),
]


class Server:
    def __init__(self, label, binary, work, secret_key, users):
        self.label, self.binary = label, binary
        self.dir = os.path.join(work, label)
        os.makedirs(self.dir)
        config = os.path.join(self.dir, "config.json")
        with open(config, "w") as f:
            json.dump(CONFIG, f)
        env = dict(os.environ, LATCHKEY_SECRET_KEY=secret_key, LATCHKEY_TEST_MODE="true", LATCHKEY_DURABLE="true",
                   LATCHKEY_CONFIG=config)
        self.log = open(os.path.join(self.dir, "server.log"), "w+")
        self.proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--backend-listen", "127.0.0.1:0",
                                      "--data-dir", os.path.join(self.dir, "data")],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.fapi = self.bapi = None
        deadline = time.time() + 30
        while time.time() < deadline and self.fapi is None:
            if self.proc.poll() is not None:
                sys.exit(f"ab.py: {label} exited during start")
            self.log.seek(0)
            for line in self.log:
                if '"event":"listening"' in line:
                    ev = json.loads(line)
                    self.fapi, self.bapi = ev["fapi"], ev["bapi"]
                    break
            time.sleep(0.02)
        if self.fapi is None:
            sys.exit(f"ab.py: {label} did not start within 30 s")
        self.secret_key = secret_key
        self.users = os.path.join(self.dir, "users.lua")
        self.identities = os.path.join(self.dir, "identities.lua")
        self._seed(users)

    def _call(self, base, method, path, body, headers):
        host, port = base.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp, resp.read()

    def _seed(self, n):
        users, identities = [], []
        for i in range(n):
            email = f"ab{i}@example.com"
            resp, body = self._call(self.bapi, "POST", "/v1/users", json.dumps(
                {"email_address": [email], "password": PASSWORD, "skip_password_checks": True}),
                {"Authorization": f"Bearer {self.secret_key}", "Content-Type": "application/json"})
            if resp.status != 200:
                sys.exit(f"ab.py: {self.label}: POST /v1/users {resp.status} {body[:200]!r}")
            users.append(email)
            form = urllib.parse.urlencode({"identifier": email, "password": PASSWORD, "strategy": "password"})
            resp, body = self._call(self.fapi, "POST", "/v1/client/sign_ins", form,
                                    {"Content-Type": "application/x-www-form-urlencoded"})
            cookie = next((m.group(1) for h, v in resp.getheaders() if h.lower() == "set-cookie"
                           for m in [re.match(r"__client=([^;]*)", v)] if m), None)
            sid = json.loads(body).get("response", {}).get("created_session_id")
            if resp.status != 200 or not cookie or not sid:
                sys.exit(f"ab.py: {self.label}: sign-in {resp.status} {body[:200]!r}")
            identities.append((cookie, sid))
        with open(self.users, "w") as f:
            f.write("return {\n" + "".join(f'  {{ email = "{e}" }},\n' for e in users) + "}\n")
        with open(self.identities, "w") as f:
            f.write("return {\n" + "".join(f'  {{ cookie = "{c}", sid = "{s}" }},\n' for c, s in identities) + "}\n")

    def cpu_seconds(self):
        """User + system CPU of the server process so far (its threads included), from /proc."""
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wrk(self, conns, script, path, duration):
        env = dict(os.environ, LK_LOAD_DIR=LOAD_DIR, LK_PASSWORD=PASSWORD, LK_SECRET_KEY=self.secret_key,
                   LK_IDENTITIES=self.identities, LK_USERS=self.users)
        cpu0 = self.cpu_seconds()
        out = subprocess.run(["timeout", str(duration + 30), "wrk", "-t2", f"-c{conns}", f"-d{duration}s",
                              "--timeout", "15s", "--latency", "-s", os.path.join(LOAD_DIR, script),
                              f"http://{self.fapi}{path}"], env=env, capture_output=True, text=True).stdout
        cpu = self.cpu_seconds() - cpu0
        m = re.search(r"^LK_RESULT (.*)$", out, re.M)
        if not m:
            return None
        r = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
        return {"rps": r["requests"] / (r["duration_us"] / 1e6), "p99": r["p99_us"] / 1000,
                "cpu_us": cpu / max(r["requests"], 1) * 1e6, "errors": int(r["status_errors"] + r["socket_errors"])}

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--label-a", default="A")
    ap.add_argument("--label-b", default="B")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--users", type=int, default=64)
    ap.add_argument("--only", help="comma-separated scenario keys (health,client,mint,sign_in)")
    ap.add_argument("--out")
    args = ap.parse_args()
    scenarios = [s for s in SCENARIOS if not args.only or s[0] in args.only.split(",")]
    work = tempfile.mkdtemp(prefix="latchkey-ab-")
    secret_key = "sk_test_ab" + secrets.token_hex(18)
    load_before = open("/proc/loadavg").read().split()[:3]
    servers = [Server(args.label_a, args.a, work, secret_key, args.users),
               Server(args.label_b, args.b, work, secret_key, args.users)]
    results = {(s.label, key): [] for s in servers for key, *_ in scenarios}
    try:
        for rnd in range(args.rounds):
            order = servers if rnd % 2 == 0 else servers[::-1]
            for key, _, conns, script, path, factor in scenarios:
                for s in order:
                    r = s.wrk(conns, script, path, args.duration * factor)
                    if r:
                        results[(s.label, key)].append(r)
                    print(f"[ab] round {rnd + 1} {key} {s.label}: {r}", file=sys.stderr)
    finally:
        for s in servers:
            s.stop()
    load_after = open("/proc/loadavg").read().split()[:3]

    def cell(label, key):
        runs = results[(label, key)]
        if not runs:
            return (None, None), "n/a"
        rps = [r["rps"] for r in runs]
        med = statistics.median(rps)
        p99 = statistics.median(r["p99"] for r in runs)
        cpu = statistics.median(r["cpu_us"] for r in runs)
        errors = sum(r["errors"] for r in runs)
        text = f"{med:,.0f} ({min(rps):,.0f}–{max(rps):,.0f}) p99 {p99:.2f} ms, {cpu:,.1f} µs CPU/req"
        return (med, cpu), text + (f", {errors} errors" if errors else "")

    la, lb = args.label_a, args.label_b
    lines = [f"A/B, same run ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
             f"load {' '.join(load_before)} → {' '.join(load_after)}; {args.rounds} rounds × {args.duration} s "
             f"(sign-in 2×), order alternating; median req/s (min–max), median p99):",
             "", f"| scenario | conns | {la} | {lb} | {lb} ÷ {la} req/s | {lb} ÷ {la} CPU/req |",
             "|---|---|---|---|---|---|"]
    for key, label, conns, *_ in scenarios:
        (ma, ca), ta = cell(la, key)
        (mb, cb), tb = cell(lb, key)
        ratio = f"{mb / ma:.2f}" if ma and mb else "n/a"
        cratio = f"{cb / ca:.2f}" if ca and cb else "n/a"
        lines.append(f"| {label} | {conns} | {ta} | {tb} | {ratio} | {cratio} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
