// Two latchkey nodes on one PostgreSQL (issue 16, docs/postgres.md), driven by the unmodified SDKs. A throwaway
// PostgreSQL (lib/postgres.mjs: initdb + pg_ctl on a free loopback port), `latchkey migrate`, node A, then node B
// on a copy of A's data dir without its LMDB (same instance id, keys and secret key). The app's same-origin
// `/__clerk` proxy (lib/page.mjs, @clerk/backend's clerkFrontendApiProxy) is the load balancer: it sends each FAPI
// call to the node the test routes to, so clerk-js in Chromium talks to one origin. Which node answered is read
// from each node's own access log (`"event":"request"` lines), not from the test's routing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { verifyToken } from '@clerk/backend';
import { launchBrowser, newPage, openAndLoad, evalClerk } from './lib/browser.mjs';
import { setActive, signInPassword } from './lib/flows.mjs';
import { startApp } from './lib/page.mjs';
import { postgresBinDir, startPostgres } from './lib/postgres.mjs';
import { LATCHKEY_BIN, skipWithoutBinary, startLatchkey, strongPassword, uniq } from './lib/server.mjs';

const T = { timeout: 60000 };
const skip = skipWithoutBinary || (postgresBinDir() ? false : 'the PostgreSQL binaries (initdb, pg_ctl; Debian postgresql-15) are not installed');

/** The access-log lines of `node` for `method path` (a RegExp on the path), after log index `from`. */
const served = (node, method, path, from = 0) =>
  node.logs.slice(from).filter(l => l.event === 'request' && l.listener === 'fapi' && l.method === method && path.test(l.path));

async function until(what, ms, fn) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

describe('two nodes on one PostgreSQL: clerk-js through a load balancer, @clerk/backend on the other node', { skip, timeout: 120000 }, () => {
  let pg;
  let app;
  let a;
  let b;
  let browser;
  let route = 'a';
  const lb = {}; // what the app's proxy forwards to: the node the test routes to

  before(async () => {
    pg = await startPostgres();
    execFileSync(LATCHKEY_BIN, ['migrate', '--postgres-url', pg.url], { stdio: 'ignore', timeout: 30000 });
    app = await startApp();
    const common = {
      instance: 'production',
      frontendApi: `https://clerk.e2e-pg-${randomBytes(4).toString('hex')}.example.com`,
      secretKey: `sk_live_${randomBytes(20).toString('hex')}`,
      config: { allowed_origins: [app.origin] },
      env: { LATCHKEY_POSTGRES_URL: pg.url },
    };
    a = await startLatchkey(common);
    const bDir = mkdtempSync(join(tmpdir(), 'latchkey-e2e-'));
    cpSync(join(a.dataDir, 'data'), join(bDir, 'data'), {
      recursive: true,
      filter: src => !/[/\\](db|outbox\.jsonl)$/.test(src),
    });
    b = await startLatchkey({ ...common, dataDir: bDir });
    assert.equal(b.publishableKey, a.publishableKey);
    const nodes = { a, b };
    Object.defineProperties(lb, {
      fapiUrl: { get: () => nodes[route].fapiUrl },
      publishableKey: { value: a.publishableKey },
      secretKey: { value: a.secretKey },
    });
    app.attach(lb);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await app?.close().catch(() => {});
    const stops = [a, b].filter(Boolean).map(n => n.stop());
    const results = await Promise.allSettled(stops);
    await pg?.stop();
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  });

  it('signs in through A, mints on B; a revoke on B is refused by A within 1 s', T, async () => {
    // The user is made on B by @clerk/backend; A learns of it from PostgreSQL.
    const password = strongPassword();
    const email = `${uniq('pg')}@example.com`;
    const user = await b.backendClient().users.createUser({ emailAddress: [email], password, skipPasswordChecks: true });
    await until('A sees the user made on B', 2000, async () => (await a.bapi(`/users/${user.id}`)).status === 200);

    const p = await newPage(browser);
    try {
      route = 'a';
      await openAndLoad(p.page, app.sameOriginUrl());
      const signIn = await signInPassword(p.page, email, password);
      assert.equal(signIn.status, 'complete');
      const sid = signIn.createdSessionId;
      await setActive(p.page, sid);
      assert.equal(served(a, 'POST', /^\/v1\/client\/sign_ins/).filter(l => l.status === 200).length, 1, 'A took the sign-in');
      assert.equal(served(b, 'POST', /^\/v1\/client\/sign_ins/).length, 0);

      // The next mint goes to B, once B has the session from the change feed.
      await until('B sees the session made on A', 2000, async () => (await b.bapi(`/sessions/${sid}`)).status === 200);
      route = 'b';
      const bFrom = b.logs.length;
      const token = await evalClerk(p.page, clerk => clerk.session.getToken({ skipCache: true }));
      // The access-log line is written once the answer is sent: wait for it rather than race it.
      const minted = await until('B logs the mint', 2000, async () => {
        const m = served(b, 'POST', new RegExp(`^/v1/client/sessions/${sid}/tokens`), bFrom);
        return m.length ? m : null;
      }).catch(() => []);
      assert.equal(minted.length, 1, 'B minted the token');
      assert.equal(minted[0].status, 200);
      const claims = await verifyToken(token, { secretKey: a.secretKey, apiUrl: a.bapiUrl, authorizedParties: [app.origin] });
      assert.equal(claims.sid, sid);
      assert.equal(claims.sub, user.id);

      // @clerk/backend revokes on B; A refuses clerk-js's next mint within the bound.
      route = 'a';
      const aFrom = a.logs.length;
      const revoked = await b.backendClient().sessions.revokeSession(sid);
      assert.equal(revoked.status, 'revoked');
      const t0 = Date.now();
      let lag;
      for (;;) {
        const r = await evalClerk(p.page, async clerk => {
          try {
            if (!clerk.session) return { refused: 'no session' };
            const t = await clerk.session.getToken({ skipCache: true });
            return t ? { token: t } : { refused: 'null token' };
          } catch (e) {
            return { refused: String(e?.errors?.[0]?.code ?? e?.message ?? e) };
          }
        });
        if (r.refused) { lag = Date.now() - t0; break; }
        assert.ok(Date.now() - t0 < 1000, 'A still mints 1 s after the revoke on B');
        await sleep(5);
      }
      const mints = await until('A logs the refused mint', 2000, async () => {
        const m = served(a, 'POST', new RegExp(`^/v1/client/sessions/${sid}/tokens`), aFrom);
        return m.length && m.at(-1).status === 401 ? m : null;
      }).catch(() => served(a, 'POST', new RegExp(`^/v1/client/sessions/${sid}/tokens`), aFrom));
      assert.ok(mints.length >= 1, 'clerk-js asked A for a token after the revoke');
      assert.equal(mints[mints.length - 1].status, 401, `A refused: ${JSON.stringify(mints.at(-1))}`);
      assert.ok(lag < 1000, `refused after ${lag} ms`);
      process.stderr.write(`# revoke on B -> refused mint on A after ${lag} ms (clerk-js round trips included)\n`);
      await until('clerk-js drops the revoked session', 5000,
        async () => (await evalClerk(p.page, clerk => clerk.session?.id ?? null)) === null);
    } finally {
      await p.close();
    }
  });
});
