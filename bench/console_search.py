#!/usr/bin/env python3
"""The console's bench rows (issue 23): BAPI user search (GET /v1/users?query=<prefix>, the console's search box)
over N users by kind of prefix, p50/p99 at the client on loopback beside the same run's GET /v1/users/{id}
(the baseline: one record by key, so the difference is the search), and the console's page load (time to the
first byte and transferred bytes of the document and its assets, brotli / gzip / identity).

  bench/console_search.py --bin build/release/server/latchkey [--users 1000000] [--queries 200]
                          [--data-dir DIR]   # reuse a store this script imported before (--keep prints it)

Makes a Clerk Dashboard CSV of N users (30 first x 30 last names, emails <first>.<last><i>@<domain>), `latchkey
import`s it into a fresh data dir (its users/s is printed), starts `latchkey serve` on it, then sends each kind of
query `--queries` times on one keep-alive connection with limit=20 and order_by=-created_at, as the console does
while typing. Prints a markdown table and one JSON line.
"""
import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

FIRST = ["ada", "alan", "grace", "edsger", "barbara", "donald", "ken", "dennis", "margaret", "linus", "guido", "bjarne",
         "frances", "john", "radia", "sophie", "tim", "vint", "whitfield", "leslie", "niklaus", "tony", "butler",
         "ivan", "katherine", "hedy", "annie", "mary", "carol", "jean"]
LAST = ["lovelace", "turing", "hopper", "dijkstra", "liskov", "knuth", "thompson", "ritchie", "hamilton", "torvalds",
        "rossum", "stroustrup", "allen", "mccarthy", "perlman", "wilson", "berners", "cerf", "diffie", "lamport",
        "wirth", "hoare", "lampson", "sutherland", "johnson", "lamarr", "easley", "jackson", "shaw", "sammet"]
DOMAINS = ["example.com", "mail.example", "corp.example", "uni.example", "lab.example"]


def user(i):
    f, l = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    return f, l, f"{f}.{l}{i}@{DOMAINS[i % len(DOMAINS)]}", f"user_2Bench{10000000 + i}"


def make_store(bin_, n, d):
    csv = os.path.join(d, "users.csv")
    with open(csv, "w") as f:
        f.write("id,first_name,last_name,username,primary_email_address,primary_phone_number,verified_email_addresses,"
                "unverified_email_addresses,verified_phone_numbers,unverified_phone_numbers,totp_secret,password_digest,"
                "password_hasher\n")
        for i in range(n):
            fn, ln, email, uid = user(i)
            f.write(f"{uid},{fn.title()},{ln.title()},,{email},,{email},,,,,,\n")
    data = os.path.join(d, "data")
    t0 = time.monotonic()
    subprocess.run([bin_, "import", csv, "--data-dir", data], check=True, stdout=subprocess.DEVNULL)
    os.unlink(csv)
    return data, time.monotonic() - t0


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(round(len(v) * p / 100.0)) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200, help="per kind of query")
    ap.add_argument("--data-dir", help="a store imported by an earlier run (--keep)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="latchkey-console-bench-")
    import_s = None
    try:
        if a.data_dir:
            data = a.data_dir
        else:
            data, import_s = make_store(a.bin, a.users, d)
        sk = "sk_test_" + secrets.token_hex(20)
        env = dict(os.environ, LATCHKEY_SECRET_KEY=sk, LATCHKEY_INSTANCE="development")
        log = open(os.path.join(d, "server.log"), "w+")  # a file, not a pipe: the server never blocks on its log
        srv = subprocess.Popen([a.bin, "serve", "--listen", "127.0.0.1:0", "--backend-listen", "127.0.0.1:0",
                                "--data-dir", data], env=env, stdout=log, stderr=subprocess.DEVNULL, text=True)
        try:
            bapi = None
            deadline = time.monotonic() + 120
            while bapi is None:
                if time.monotonic() > deadline or srv.poll() is not None:
                    sys.exit("the server did not print its listening line")
                time.sleep(0.1)
                with open(log.name) as f:
                    for line in f:
                        try:
                            rec = json.loads(line)
                        except ValueError:
                            continue
                        if rec.get("event") == "listening":
                            bapi = rec["bapi"]
            host, port = bapi.rsplit(":", 1)
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            auth = {"Authorization": f"Bearer {sk}"}

            def get(path, headers=auth):
                t = time.perf_counter()
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                first = time.perf_counter()
                body = r.read()
                done = time.perf_counter()
                if r.status != 200:
                    sys.exit(f"{path}: {r.status} {body[:200]}")
                return r, body, (first - t) * 1000, (done - t) * 1000

            n = a.users
            rnd = random.Random(23)
            q = lambda s: s.replace(" ", "%20").replace("+", "%2B").replace("@", "%40")
            def pick():
                return user(rnd.randrange(n))

            def search(query, extra="&order_by=-created_at"):
                return f"/v1/users?query={q(query)}&limit=20{extra}"

            def narrow():
                e = pick()[2]
                return search(e[: e.index("@") - rnd.randint(0, 2)])

            def medium():
                f, l, _, _ = pick()
                return search(rnd.choice([f"{f}.{l}", f"{f} {l[:2]}"]))

            def name(lo, hi):
                f, l, _, _ = pick()
                return rnd.choice([f, l])[: rnd.randint(lo, hi)]

            kinds = [
                ("baseline: GET /v1/users/{id}", lambda: f"/v1/users/{pick()[3]}"),
                ("baseline: GET /v1/users?limit=20 (the newest 20, no query)", lambda: "/v1/users?limit=20"),
                ("no match (4-8 letters)", lambda: search("".join(rnd.choice("qxz") for _ in range(rnd.randint(4, 8))))),
                ("exact id", lambda: search(pick()[3])),
                ("exact email", lambda: search(pick()[2])),
                ("narrow: an email to its last digits (1-11 matches)", narrow),
                ("medium: first.last, \"first la\" (~1,100)", medium),
                ("broad: 3-8 letters of a first or last name (33k-100k)", lambda: search(name(3, 8))),
                ("broad, page 5 (offset 80)", lambda: search(name(3, 3), "&offset=80&order_by=-created_at")),
                ("broad, oldest first (+created_at)", lambda: search(name(4, 4), "&order_by=%2Bcreated_at")),
                ("one letter (10%+ of users)", lambda: search(rnd.choice("adgjlmt"))),
                ("count, broad (capped at 10,000)", lambda: f"/v1/users/count?query={q(name(3, 3))}"),
                ("count, medium (exact)", lambda: (lambda u: f"/v1/users/count?query={q(u[0] + '.' + u[1])}")(pick())),
            ]
            for _ in range(20):  # warm-up
                get(kinds[0][1]())
            rows = []
            for kind, make in kinds:
                lat, hits = [], []
                for _ in range(a.queries):
                    path = make()
                    _, body, _, ms = get(path)
                    lat.append(ms)
                    doc = json.loads(body)
                    hits.append(doc["total_count"] if isinstance(doc, dict) and "total_count" in doc else
                                len(doc) if isinstance(doc, list) else 1)
                rows.append({"kind": kind, "p50_ms": round(pct(lat, 50), 2), "p99_ms": round(pct(lat, 99), 2),
                             "max_ms": round(max(lat), 2), "mean_results": round(sum(hits) / len(hits), 1)})
            # The console's page load: the document and its assets, as a browser asks for them.
            page = []
            for enc in ["br", "gzip", "identity"]:
                for path in ["/console/", "/console/assets/console.js", "/console/assets/console.css"]:
                    ttfb, size = [], 0
                    for _ in range(20):
                        r, body, first, _ = get(path, {"Accept-Encoding": enc})
                        ttfb.append(first)
                        size = len(body)
                        got = r.getheader("Content-Encoding") or "identity"
                    page.append({"path": path, "asked": enc, "sent": got, "bytes": size,
                                 "ttfb_p50_ms": round(pct(ttfb, 50), 2)})
        finally:
            srv.terminate()
            srv.wait(timeout=60)
        print(f"\n{a.label} {n} users" + (f", import {import_s:.1f} s = {n / import_s:.0f} users/s" if import_s else ""))
        print("\n| query | p50 | p99 | max | results (mean) |\n|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['kind']} | {r['p50_ms']} ms | {r['p99_ms']} ms | {r['max_ms']} ms | {r['mean_results']} |")
        print("\n| console file | Accept-Encoding | sent | bytes | first byte p50 |\n|---|---|---|---|---|")
        for p in page:
            print(f"| `{p['path']}` | {p['asked']} | {p['sent']} | {p['bytes']} | {p['ttfb_p50_ms']} ms |")
        for enc in ["br", "gzip", "identity"]:
            total = sum(p["bytes"] for p in page if p["asked"] == enc)
            print(f"| page total | {enc} | | {total} | |")
        print(json.dumps({"users": n, "import_s": import_s and round(import_s, 1), "rows": rows, "page": page}))
        if a.keep and not a.data_dir:
            print(f"kept: --data-dir {data}", file=sys.stderr)
    finally:
        if not (a.keep and not a.data_dir):
            shutil.rmtree(d, ignore_errors=True)
        else:
            os.unlink(os.path.join(d, "server.log")) if os.path.exists(os.path.join(d, "server.log")) else None


if __name__ == "__main__":
    main()
