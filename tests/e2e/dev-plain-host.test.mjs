// A development instance on a plain host, with only what latchkey prints: the FAPI at http://127.0.0.1:<port> (no
// LATCHKEY_FRONTEND_API), a pk_test_ key whose host is a dev-browser host (latchkey-<id>.lcl.dev) and the reachable
// FAPI as proxy_url. The app (http://127.0.0.1:<other port>, an Express server with @clerk/express's unmodified
// clerkMiddleware() + getAuth(req), CLERK_PROXY_URL = the printed proxy_url) loads clerk-js and @clerk/ui from
// latchkey's /npm/ as @clerk/react would and mounts the prebuilt <SignIn/> and <SignUp/>: they render, sign in and
// sign up (no "Missing dev browser"), and the app's server sees the user through the dev browser clerk-js keeps in
// __clerk_db_jwt (cookies are not isolated by port). One latchkey, one app and one browser for the file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { launchBrowser, newPage } from './lib/browser.mjs';
import { hostFromPublishableKey, LATCHKEY_BIN, skipWithoutBinary, startLatchkey, strongPassword, uniq } from './lib/server.mjs';

const T = { timeout: 120000 };
const WAIT = { timeout: 20000 };

describe('Development instance on a plain host (printed keys, @clerk/ui, @clerk/express)', { skip: skipWithoutBinary, timeout: 600000 }, () => {
  let server;
  let printed;
  let app;
  let appOrigin;
  let browser;
  let bapi;

  before(async () => {
    server = await startLatchkey({ instance: 'development', frontendApi: null });
    // What `latchkey keys` prints for this data dir and listener is what the app is configured with.
    const out = execFileSync(LATCHKEY_BIN, ['keys', '--data-dir', join(server.dataDir, 'data'), '--listen', `127.0.0.1:${server.fapiPort}`], {
      env: { PATH: process.env.PATH, LATCHKEY_SECRET_KEY: server.secretKey, LATCHKEY_INSTANCE: 'development' },
      timeout: 20000,
    }).toString();
    printed = Object.fromEntries(out.trim().split('\n').map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(printed.publishable_key, server.publishableKey);
    assert.match(printed.publishable_key, /^pk_test_/);
    assert.match(hostFromPublishableKey(printed.publishable_key), /^latchkey-[0-9a-f]{12}\.lcl\.dev$/);
    assert.equal(printed.frontend_api, `http://127.0.0.1:${server.fapiPort}`);
    assert.equal(printed.proxy_url, printed.frontend_api);
    assert.equal(printed.secret_key, server.secretKey);
    bapi = server.backendClient();

    process.env.CLERK_SECRET_KEY = printed.secret_key;
    process.env.CLERK_PUBLISHABLE_KEY = printed.publishable_key;
    process.env.CLERK_PROXY_URL = printed.proxy_url;
    process.env.CLERK_API_URL = server.bapiUrl;
    process.env.CLERK_TELEMETRY_DISABLED = '1';
    const { default: express } = await import('express');
    const { clerkMiddleware, getAuth } = await import('@clerk/express');
    const web = express();
    web.use(clerkMiddleware());
    const page = component => (req, res) => {
      const proxy = printed.proxy_url;
      res.type('html').send(`<!doctype html><html><head><meta charset="utf-8"><title>dev app</title>
<script src="${proxy}/npm/@clerk/clerk-js@6/dist/clerk.browser.js" data-clerk-publishable-key="${printed.publishable_key}"
  data-clerk-proxy-url="${proxy}" crossorigin="anonymous"></script>
<script src="${proxy}/npm/@clerk/ui@1/dist/ui.browser.js" crossorigin="anonymous"></script>
<script>
window.addEventListener('load', function () {
  window.Clerk.load({ ui: { ClerkUI: window.__internal_ClerkUICtor }, telemetry: false }).then(function () {
    var root = document.getElementById('root');
    var opts = { routing: 'hash', forceRedirectUrl: '/me' };
    if (${JSON.stringify(component)} === 'sign-up') window.Clerk.mountSignUp(root, opts);
    else window.Clerk.mountSignIn(root, opts);
    window.__mounted = true;
  }, function (e) { window.__loadError = String(e && e.message || e); });
});
</script></head><body><main id="root"></main></body></html>`);
    };
    web.get('/', page('sign-in'));
    web.get('/sign-up', page('sign-up'));
    web.get('/me', (req, res) => {
      const auth = getAuth(req);
      res.json({ userId: auth.userId ?? null, sessionId: auth.sessionId ?? null });
    });
    app = createServer(web);
    await new Promise((ok, fail) => { app.once('error', fail); app.listen(0, '127.0.0.1', ok); });
    appOrigin = `http://127.0.0.1:${app.address().port}`;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    if (app) await new Promise(ok => { app.closeAllConnections?.(); app.close(() => ok()); });
    await server?.stop();
  });

  async function withPage(fn) {
    const p = await newPage(browser);
    try {
      await fn(p.page, p);
      assert.deepEqual(p.diag.pageErrors, [], 'no page error');
      assert.ok(!p.diag.console.some(c => /Missing dev browser/i.test(c)), 'no "Missing dev browser"');
    } catch (e) {
      const diag = `\n--- at ${p.page.url()}\n${p.report()}\n--- latchkey log tail ---\n${server.logTail(25)}`;
      try { e.stack = `${e.stack ?? e.message}${diag}`; } catch { process.stderr.write(diag); }
      throw e;
    } finally {
      await p.close();
    }
  }

  const primary = page => page.locator('.cl-formButtonPrimary').first();

  async function appAuth(page) {
    const res = await page.goto(`${appOrigin}/me`, { waitUntil: 'load', timeout: 20000 });
    assert.equal(res.status(), 200);
    return JSON.parse(await page.locator('body').textContent());
  }

  async function openComponent(page, path) {
    await page.goto(`${appOrigin}${path}`, { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction(() => window.__mounted || window.__loadError, null, WAIT);
    assert.equal(await page.evaluate(() => window.__loadError ?? null), null);
  }

  it('<SignIn/> renders with the printed keys (dev browser), signs in, and the app server sees the user', T, () => withPage(async (page, p) => {
    const u = { email: `${uniq('dev')}@example.com`, password: strongPassword() };
    u.id = (await bapi.users.createUser({ emailAddress: [u.email], password: u.password, skipPasswordChecks: true })).id;
    await openComponent(page, '/');
    await page.locator('input[name="identifier"]').fill(u.email, WAIT);
    // The component's cross-origin link to the sign-up page renders (it needs the dev browser).
    await page.locator('.cl-footerActionLink').first().waitFor(WAIT);
    // clerk-js is on the dev-browser path, through the printed proxy URL: every FAPI call carries the dev browser
    // (here the one the app server's handshake handed out on the first page load, adopted from the cookie).
    const db = (await p.context.cookies()).find(c => c.name === '__clerk_db_jwt');
    assert.ok(db?.value.startsWith('dvb_'), 'clerk-js keeps the dev browser in __clerk_db_jwt');
    const calls = p.diag.fapi.filter(f => f.path !== '/v1/client/handshake');
    assert.ok(calls.length > 0);
    for (const f of calls) {
      assert.ok(f.url.startsWith(`${printed.proxy_url}/v1/`), f.url);
      assert.match(new URL(f.url).searchParams.get('__clerk_db_jwt') ?? '', /^dvb_/, f.url);
    }
    await primary(page).click();
    await page.locator('input[name="password"]').fill(u.password, WAIT);
    await primary(page).click();
    // forceRedirectUrl: /me, where clerkMiddleware() + getAuth(req) answer.
    await page.waitForURL(url => new URL(url).pathname === '/me', WAIT);
    assert.equal(JSON.parse(await page.locator('body').textContent()).userId, u.id);
    assert.equal((await appAuth(page)).userId, u.id);

    // Without __session the app server handshakes through the proxy URL with the dev browser and is signed in.
    await p.context.clearCookies({ name: /^__session/ });
    const before = p.diag.fapi.length;
    assert.equal((await appAuth(page)).userId, u.id);
    const hs = p.diag.fapi.slice(before).filter(f => f.path === '/v1/client/handshake');
    assert.equal(hs.length, 1);
    assert.ok(hs[0].url.startsWith(`${printed.proxy_url}/v1/client/handshake?`));
  }));

  it('<SignUp/> renders with the printed keys, signs up with email, password and the emailed code', T, () => withPage(async page => {
    const email = `${uniq('devnew')}@example.com`;
    await openComponent(page, '/sign-up');
    await page.locator('input[name="emailAddress"]').fill(email, WAIT);
    await page.locator('input[name="password"]').fill(strongPassword());
    const before = server.outboxCount(email);
    await primary(page).click();
    const code = await server.waitForCode(email, { after: before, timeoutMs: 10000 });
    const input = page.locator('input[autocomplete="one-time-code"]');
    await input.waitFor(WAIT);
    await input.focus();
    await page.keyboard.type(code, { delay: 30 });
    await page.waitForURL(url => new URL(url).pathname === '/me', WAIT);
    const list = await bapi.users.getUserList({ emailAddress: [email] });
    assert.equal(list.data.length, 1);
    assert.equal(JSON.parse(await page.locator('body').textContent()).userId, list.data[0].id);
  }));

  it('the Account Portal of the development instance signs in, and the app on another port of the host sees the user', T, () => withPage(async page => {
    const u = { email: `${uniq('devportal')}@example.com`, password: strongPassword() };
    u.id = (await bapi.users.createUser({ emailAddress: [u.email], password: u.password, skipPasswordChecks: true })).id;
    // The portal's <SignIn/> (display_config.sign_in_url) on the FAPI origin, with the same key and proxy URL.
    await page.goto(`${printed.frontend_api}/sign-in`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').fill(u.email, WAIT);
    await primary(page).click();
    await page.locator('input[name="password"]').fill(u.password, WAIT);
    await primary(page).click();
    await page.waitForURL(url => new URL(url).pathname === '/user', WAIT);
    await page.locator('.cl-userProfile-root').waitFor(WAIT);
    // Cookies are not isolated by port: the dev browser, __session and __client_uat clerk-js wrote on 127.0.0.1
    // reach the app's server on its own port.
    assert.equal((await appAuth(page)).userId, u.id);
  }));

  it('a first visit to the app server (no dev browser yet): the handshake hands it one, signed out, no loop', T, () => withPage(async (page, p) => {
    const me = await appAuth(page);
    assert.equal(me.userId, null);
    assert.equal(p.diag.fapi.filter(f => f.path === '/v1/client/handshake').length, 1);
    const db = (await p.context.cookies()).find(c => c.name === '__clerk_db_jwt');
    assert.ok(db?.value.startsWith('dvb_'));
    // clerk-js adopts that dev browser instead of making another.
    await openComponent(page, '/');
    await page.locator('input[name="identifier"]').waitFor(WAIT);
    assert.equal(p.diag.fapi.filter(f => f.path === '/v1/dev_browser').length, 0);
    assert.equal((await appAuth(page)).userId, null);
  }));
});
