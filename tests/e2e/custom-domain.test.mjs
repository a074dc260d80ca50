// Production on a custom domain, as a real deployment runs it: the FAPI at https://clerk.example.test (latchkey's
// own TLS, a certificate from a CA this suite makes with the openssl CLI), the app at https://app.example.test (an
// Express server with @clerk/express's unmodified clerkMiddleware() + getAuth(req)), Chromium mapping both names to
// 127.0.0.1 with --host-resolver-rules (port 443 of each name to the listener's port) and trusting the certificate
// with --ignore-certificate-errors-spki-list. The app server is its own node process (lib/express-app.mjs) trusting
// the test CA through NODE_EXTRA_CA_CERTS, since latchkey's BAPI listener is TLS too. No proxyUrl, no
// allowed_origins: clerk-js on the app page talks to https://<key host> directly and the FAPI accepts the app's
// origin because it is on the instance's site.
// One latchkey, one app server and one browser for the file; each test gets a fresh browser context.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, newPage } from './lib/browser.mjs';
import { loadClerk, setActive, signInPassword, signOut, snapshot } from './lib/flows.mjs';
import { hostFromPublishableKey, skipWithoutBinary, startLatchkey, strongPassword, uniq, withTimeout } from './lib/server.mjs';
import { makeTestCa } from './lib/tls.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const T = { timeout: 120000 };
const FAPI_HOST = 'clerk.example.test';
const APP_HOST = 'app.example.test';
const APP = `https://${APP_HOST}`;

describe('Production on a custom domain (clerk.example.test / app.example.test, TLS, @clerk/express)', { skip: skipWithoutBinary, timeout: 600000 }, () => {
  let ca;
  let server;
  let app;
  let browser;
  const appErr = []; // the app server's stderr

  before(async () => {
    ca = makeTestCa([FAPI_HOST, APP_HOST, 'example.test']);
    server = await startLatchkey({
      instance: 'production',
      frontendApi: `https://${FAPI_HOST}`,
      env: { LATCHKEY_TLS_CERT: ca.certFile, LATCHKEY_TLS_KEY: ca.keyFile },
    });
    assert.match(server.publishableKey, /^pk_live_/);
    assert.equal(hostFromPublishableKey(server.publishableKey), FAPI_HOST);
    assert.equal(server.proxyUrl, '', 'the SDKs reach https://clerk.example.test themselves');

    // The app's server, its own process: @clerk/express reads its settings from the environment and trusts the
    // test CA as an app trusts its own (NODE_EXTRA_CA_CERTS); latchkey's BAPI listener is TLS too.
    app = spawn(process.execPath, [join(here, 'lib', 'express-app.mjs')], {
      env: {
        PATH: process.env.PATH,
        NODE_EXTRA_CA_CERTS: ca.caFile,
        CLERK_SECRET_KEY: server.secretKey,
        CLERK_PUBLISHABLE_KEY: server.publishableKey,
        CLERK_API_URL: server.bapiUrl,
        CLERK_TELEMETRY_DISABLED: '1',
        APP_TLS_CERT: ca.certFile,
        APP_TLS_KEY: ca.keyFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    app.stderr.setEncoding('utf8');
    app.stderr.on('data', c => appErr.push(c));
    const appPort = await withTimeout(new Promise((ok, fail) => {
      let buf = '';
      app.stdout.setEncoding('utf8');
      app.stdout.on('data', c => { buf += c; const i = buf.indexOf('\n'); if (i >= 0) ok(JSON.parse(buf.slice(0, i)).port); });
      app.once('exit', code => fail(new Error(`the app exited (${code}): ${appErr.join('')}`)));
    }), 20000, 'the app server did not start');

    browser = await launchBrowser({
      extraArgs: [
        `--host-resolver-rules=MAP ${FAPI_HOST}:443 127.0.0.1:${server.fapiPort},MAP ${APP_HOST}:443 127.0.0.1:${appPort}`,
        `--ignore-certificate-errors-spki-list=${ca.spki}`,
      ],
    });
  });
  after(async () => {
    await browser?.close().catch(() => {});
    if (app && app.exitCode === null) { app.kill('SIGTERM'); await new Promise(ok => { app.once('exit', ok); setTimeout(ok, 5000); }); }
    await server?.stop();
    ca?.remove();
  });

  /** A password user made through the BAPI (over TLS, trusting the test CA). */
  async function makeUser() {
    const u = { email: `${uniq('dom')}@example.test`, password: strongPassword() };
    const body = JSON.stringify({ email_address: [u.email], password: u.password, skip_password_checks: true });
    const created = await withTimeout(new Promise((ok, fail) => {
      const req = httpsRequest(`${server.bapiUrl}/v1/users`, {
        method: 'POST', ca: ca.caPem,
        headers: { Authorization: `Bearer ${server.secretKey}`, 'Content-Type': 'application/json' },
      }, res => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', c => { text += c; });
        res.on('end', () => (res.statusCode === 200 ? ok(JSON.parse(text)) : fail(new Error(`POST /v1/users ${res.statusCode}: ${text}`))));
      });
      req.once('error', fail);
      req.end(body);
    }), 10000, 'POST /v1/users');
    u.id = created.id;
    return u;
  }

  async function withPage(fn) {
    const p = await newPage(browser, { allowHosts: [FAPI_HOST, APP_HOST] });
    try {
      await fn(p.page, p);
    } catch (e) {
      const diag = `\n--- at ${p.page.url()}\n${p.report()}\n--- latchkey log tail ---\n${server.logTail(25)}\n--- app stderr ---\n${appErr.join('').slice(-3000)}`;
      try { e.stack = `${e.stack ?? e.message}${diag}`; } catch { process.stderr.write(diag); }
      throw e;
    } finally {
      await p.close();
    }
  }

  /** Signs `u` in with clerk-js on the app page (already loaded) and makes the session active. */
  async function signIn(page, u) {
    const si = await signInPassword(page, u.email, u.password);
    assert.equal(si.status, 'complete');
    await setActive(page, si.createdSessionId);
  }

  /** The app server's view of the browser: a document navigation to /me (handshakes included). */
  async function appAuth(page) {
    const res = await page.goto(`${APP}/me`, { waitUntil: 'load', timeout: 20000 });
    assert.equal(res.status(), 200);
    return JSON.parse(await page.locator('body').textContent());
  }

  it('clerk-js on the app talks to https://clerk.example.test (site origin accepted) and signs in; the app server sees the user', T, () => withPage(async (page, p) => {
    const u = await makeUser();
    await page.goto(`${APP}/`, { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction(() => !!window.Clerk, null, { timeout: 10000 });
    const loaded = await loadClerk(page);
    assert.equal(loaded.loaded, true);
    assert.equal(loaded.user, null);
    // Every FAPI call went straight to the custom domain, over TLS, and none was refused.
    assert.ok(p.diag.fapi.length > 0);
    for (const f of p.diag.fapi) assert.equal(new URL(f.url).origin, `https://${FAPI_HOST}`);
    assert.deepEqual(p.diag.failed, []);

    await signIn(page, u);
    const snap = await snapshot(page);
    assert.equal(snap.user?.id, u.id);

    // Cookies as Clerk sets them: __client HttpOnly on the FAPI host only; __client_uat (and its suffixed twin)
    // on the registrable domain, so the app's server gets it; __session written by clerk-js on the app host.
    const cookies = await p.context.cookies();
    const client = cookies.find(c => c.name === '__client');
    assert.ok(client, '__client set');
    assert.equal(client.domain, FAPI_HOST);
    assert.equal(client.httpOnly, true);
    assert.equal(client.secure, true);
    const uats = cookies.filter(c => c.name.startsWith('__client_uat') && c.domain === '.example.test');
    assert.equal(uats.length, 2, `__client_uat and its suffixed twin on .example.test: ${JSON.stringify(cookies.map(c => [c.name, c.domain]))}`);
    for (const c of uats) assert.notEqual(c.value, '0');
    assert.ok(cookies.some(c => c.name === '__session' && c.domain === APP_HOST));

    const me = await appAuth(page);
    assert.equal(me.userId, u.id, 'clerkMiddleware() + getAuth(req) see the signed-in user');
    assert.equal(me.sessionId, snap.session.id);
  }));

  it('an app server with no __session yet: the handshake through clerk.example.test signs the request in', T, () => withPage(async (page, p) => {
    const u = await makeUser();
    await page.goto(`${APP}/`, { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction(() => !!window.Clerk, null, { timeout: 10000 });
    await loadClerk(page);
    await signIn(page, u);
    // As on the first visit to another app of the site: __client_uat is there, __session is not.
    await p.context.clearCookies({ name: /^__session/ });
    assert.ok(!(await p.context.cookies()).some(c => c.name.startsWith('__session')));
    const before = p.diag.fapi.length;
    const me = await appAuth(page);
    assert.equal(me.userId, u.id);
    const hs = p.diag.fapi.slice(before).filter(f => f.path === '/v1/client/handshake');
    assert.equal(hs.length, 1, 'one handshake');
    assert.equal(hs[0].status, 307);
    assert.equal(new URL(hs[0].url).host, FAPI_HOST);
    // The handshake's directives put __session back on the app host.
    assert.ok((await p.context.cookies()).some(c => c.name === '__session' && c.domain === APP_HOST));
  }));

  it('a browser that never signed in is signed out on the app server, without a handshake', T, () => withPage(async (page, p) => {
    const me = await appAuth(page);
    assert.equal(me.userId, null);
    assert.equal(p.diag.fapi.filter(f => f.path === '/v1/client/handshake').length, 0);
  }));

  it('sign-out from the app clears __client_uat on the site: the app server sees it signed out', T, () => withPage(async (page, p) => {
    const u = await makeUser();
    await page.goto(`${APP}/`, { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction(() => !!window.Clerk, null, { timeout: 10000 });
    await loadClerk(page);
    await signIn(page, u);
    assert.equal((await appAuth(page)).userId, u.id);
    await page.goto(`${APP}/`, { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction(() => !!window.Clerk, null, { timeout: 10000 });
    await loadClerk(page);
    await signOut(page);
    const uat = (await p.context.cookies()).find(c => c.name === '__client_uat' && c.domain === '.example.test');
    assert.equal(uat?.value, '0');
    assert.equal((await appAuth(page)).userId, null);
  }));
});
