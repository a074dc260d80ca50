#!/usr/bin/env python3
"""The console's bench rows (issue 23): BAPI user search (GET /v1/users?query=<prefix>, answered from the search
index) over N users, p50/p99 at the client on loopback, and the console's page load in transferred (brotli)
bytes.

  bench/console_search.py --bin build/release/server/latchkey [--users 1000000] [--queries 2000]

Makes a Clerk Dashboard CSV of N users (varied first and last names, emails <first>.<last><i>@<domain>),
`latchkey import`s it into a fresh data dir, starts `latchkey serve` on it, then sends the queries one at a
time on one keep-alive connection: prefixes (3 to 8 characters) of a random user's email, first name, last name
or full name, each with limit=20 as the console sends it while typing. Prints one JSON line.
"""
import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import statistics
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
    return f, l, f"{f}.{l}{i}@{DOMAINS[i % len(DOMAINS)]}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="latchkey-console-bench-")
    try:
        csv = os.path.join(d, "users.csv")
        with open(csv, "w") as f:
            f.write("id,first_name,last_name,username,primary_email_address,primary_phone_number,verified_email_addresses,"
                    "unverified_email_addresses,verified_phone_numbers,unverified_phone_numbers,totp_secret,password_digest,"
                    "password_hasher\n")
            for i in range(a.users):
                fn, ln, email = user(i)
                uid = f"user_2Bench{10000000 + i}"
                f.write(f"{uid},{fn.title()},{ln.title()},,{email},,{email},,,,,,\n")
        data = os.path.join(d, "data")
        t0 = time.monotonic()
        subprocess.run([a.bin, "import", csv, "--data-dir", data], check=True, stdout=subprocess.DEVNULL)
        import_s = time.monotonic() - t0
        sk = "sk_test_" + secrets.token_hex(20)
        env = dict(os.environ, LATCHKEY_SECRET_KEY=sk, LATCHKEY_INSTANCE="development")
        log = open(os.path.join(d, "server.log"), "w+")  # a file, not a pipe: the server never blocks on its log
        srv = subprocess.Popen([a.bin, "serve", "--listen", "127.0.0.1:0", "--backend-listen", "127.0.0.1:0",
                                "--data-dir", data], env=env, stdout=log, stderr=subprocess.DEVNULL, text=True)
        try:
            bapi = None
            deadline = time.monotonic() + 60
            while bapi is None:
                if time.monotonic() > deadline:
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
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            rnd = random.Random(23)
            lat, hits = [], []
            for q in range(a.queries + 50):
                fn, ln, email = user(rnd.randrange(a.users))
                text = rnd.choice([email, fn, ln, f"{fn} {ln}"])
                prefix = text[: rnd.randint(3, 8)].replace(" ", "%20")
                t = time.perf_counter()
                conn.request("GET", f"/v1/users?query={prefix}&limit=20&order_by=-created_at",
                             headers={"Authorization": f"Bearer {sk}"})
                r = conn.getresponse()
                body = r.read()
                dt = (time.perf_counter() - t) * 1000
                if r.status != 200:
                    sys.exit(f"{r.status} {body[:200]}")
                if q >= 50:  # warm-up excluded
                    lat.append(dt)
                    hits.append(len(json.loads(body)))
            lat.sort()
            # The console's first load: the document and its two assets, as Chromium asks for them.
            page_bytes = {}
            for path in ["/console/", "/console/assets/console.js", "/console/assets/console.css"]:
                conn.request("GET", path, headers={"Accept-Encoding": "gzip, deflate, br"})
                r = conn.getresponse()
                page_bytes[path] = (len(r.read()), r.getheader("Content-Encoding") or "identity")
            print(json.dumps({
                "users": a.users, "import_s": round(import_s, 1), "queries": len(lat),
                "p50_ms": round(statistics.median(lat), 2), "p99_ms": round(lat[int(len(lat) * 0.99) - 1], 2),
                "max_ms": round(lat[-1], 2), "mean_hits": round(sum(hits) / len(hits), 1),
                "page_load_bytes": sum(b for b, _ in page_bytes.values()),
                "page_files": {k: f"{b} B {enc}" for k, (b, enc) in page_bytes.items()},
            }))
        finally:
            srv.terminate()
            srv.wait(timeout=30)
    finally:
        if not a.keep:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
