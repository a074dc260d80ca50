#!/usr/bin/env python3
"""Revocation visibility between two latchkey nodes on one PostgreSQL store (bench/load/pg.sh).

    pg_revoke.py A_FAPI B_BAPI SECRET_KEY EMAIL PASSWORD ROUNDS

Each round: a password sign-in on node A (its __client cookie and session id), node B's BAPI sees the session
(polled), B revokes it, then A's token mint for it is polled (keep-alive, no pause) until A refuses it. The time
from B's 200 to A's first refusal is one sample. Prints "p50 / p99 / max" in ms. Every call is on 127.0.0.1 and
bounded (10 s per request, 5 s per wait)."""
import http.client
import json
import sys
import time
import urllib.parse


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


def main():
    a_fapi, b_bapi, sk, email, password, rounds = sys.argv[1:7]
    a, b = conn(a_fapi), conn(b_bapi)
    auth = {"Authorization": "Bearer " + sk}
    lags = []
    for _ in range(int(rounds)):
        body = urllib.parse.urlencode({"identifier": email, "password": password, "strategy": "password"})
        a.request("POST", "/v1/client/sign_ins", body, {"Content-Type": "application/x-www-form-urlencoded"})
        r = a.getresponse()
        data = json.loads(r.read())
        cookie = next(v.split(";")[0] for k, v in r.getheaders() if k.lower() == "set-cookie" and v.startswith("__client="))
        sid = data["response"]["created_session_id"]
        deadline = time.monotonic() + 5
        while True:
            b.request("POST", "/v1/sessions/%s/revoke" % sid, "", auth)
            r = b.getresponse()
            r.read()
            if r.status == 200:
                break
            if time.monotonic() > deadline:
                sys.exit("B never saw the session: %d" % r.status)
        t0 = time.monotonic()
        while True:
            a.request("POST", "/v1/client/sessions/%s/tokens" % sid, "",
                      {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
            r = a.getresponse()
            r.read()
            if r.status != 200:
                lags.append((time.monotonic() - t0) * 1000)
                break
            if time.monotonic() - t0 > 5:
                sys.exit("A still mints 5 s after the revoke")
    lags.sort()
    pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]
    print("%.1f / %.1f / %.1f" % (pick(0.5), pick(0.99), lags[-1]))


if __name__ == "__main__":
    main()
