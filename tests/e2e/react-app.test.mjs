// A React app built the way Clerk's quickstart says — @clerk/react's <ClerkProvider>, <SignIn/>, <UserButton/>,
// useAuth/useUser — bundled by esbuild and served by a tiny static server on 127.0.0.1:0. Nothing is overridden:
// @clerk/react hot-loads clerk-js and @clerk/ui from the URLs @clerk/shared builds (`<proxy>/npm/@clerk/clerk-js@6/
// dist/clerk.browser.js`, `<proxy>/npm/@clerk/ui@1/dist/ui.browser.js`), and latchkey serves them from the bundles
// embedded in its binary. Instance: production (pk_live_ key as latchkey prints it) whose public FAPI URL is the
// app's same-origin proxy path (`http://127.0.0.1:<app>/__clerk`, forwarded by @clerk/backend's proxy helper), so
// the key's host is 127.0.0.1:<app>, cookies are first-party and the default avatar URL is reachable.
// In Chromium: the prebuilt <SignIn/> signs in a password user created via BAPI, the signed-in state survives a
// reload, <UserButton/> signs out. The first screen is kept as a screenshot in <build>/e2e-artifacts/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { launchBrowser, newPage } from './lib/browser.mjs';
import { PROXY_PATH, proxyToFapi } from './lib/page.mjs';
import { LATCHKEY_BIN, skipWithoutBinary, startLatchkey, strongPassword, uniq } from './lib/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const T = { timeout: 120000 };
const WAIT = { timeout: 30000 };

/** Screenshots go beside the binary's build tree (<build>/e2e-artifacts), else to the temp dir. */
const ARTIFACTS = process.env.E2E_ARTIFACTS_DIR ||
  (LATCHKEY_BIN ? join(dirname(dirname(resolve(LATCHKEY_BIN))), 'e2e-artifacts') : join(tmpdir(), 'latchkey-e2e-artifacts'));

async function bundleApp() {
  const out = await build({
    entryPoints: [join(here, 'react-app', 'main.jsx')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  return out.outputFiles[0].text;
}

const indexHtml = config => `<!doctype html>
<html><head><meta charset="utf-8"><title>latchkey React app</title>
<script>window.__app_config = ${JSON.stringify(config)};</script>
</head><body><div id="root"></div><script src="/app.js"></script></body></html>`;

/** The app: index.html for every page path, /app.js, and the /__clerk proxy to latchkey. */
async function startReactApp(appJs) {
  const requests = [];
  let server = null;
  let origin;
  const http = createServer(async (req, res) => {
    const url = new URL(req.url, origin);
    const entry = { method: req.method, path: url.pathname, status: 0 };
    requests.push(entry);
    try {
      if (url.pathname === PROXY_PATH || url.pathname.startsWith(`${PROXY_PATH}/`)) {
        entry.status = await proxyToFapi(req, res, url, server);
      } else if (req.method === 'GET' && url.pathname === '/app.js') {
        res.writeHead(200, { 'Content-Type': 'application/javascript; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(appJs);
        entry.status = 200;
      } else if (req.method === 'GET' && !url.pathname.includes('.')) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(indexHtml({ publishableKey: server.publishableKey, proxyUrl: PROXY_PATH }));
        entry.status = 200;
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        entry.status = 404;
      }
    } catch (e) {
      entry.status = 500;
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(e?.stack ?? e));
    }
  });
  await new Promise((ok, fail) => { http.once('error', fail); http.listen(0, '127.0.0.1', ok); });
  origin = `http://127.0.0.1:${http.address().port}`;
  return {
    origin,
    requests,
    attach(s) { server = s; },
    close: () => new Promise(ok => { http.closeAllConnections?.(); http.close(() => ok()); }),
  };
}

describe('React app: @clerk/react with the SDK bundles served by latchkey', { skip: skipWithoutBinary, timeout: 300000 }, () => {
  let app;
  let server;
  let browser;
  const alice = { email: `${uniq('alice')}@example.com`, password: strongPassword() };

  before(async () => {
    app = await startReactApp(await bundleApp());
    server = await startLatchkey({ instance: 'production', frontendApi: `${app.origin}${PROXY_PATH}` });
    app.attach(server);
    assert.match(server.publishableKey, /^pk_live_/);
    browser = await launchBrowser();
    const user = await server.backendClient().users.createUser({
      emailAddress: [alice.email], password: alice.password, skipPasswordChecks: true,
    });
    alice.id = user.id;
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await app?.close();
    await server?.stop();
  });

  it('serves the bundles: brotli from latchkey, the same bytes as the npm package', T, async () => {
    const npmFile = readFileSync(join(here, 'node_modules', '@clerk', 'clerk-js', 'dist', 'clerk.browser.js'), 'utf8');
    const res = await fetch(`${server.fapiUrl}/npm/@clerk/clerk-js@6/dist/clerk.browser.js`, {
      headers: { 'Accept-Encoding': 'br' }, signal: AbortSignal.timeout(10000),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-encoding'), 'br');
    assert.equal(res.headers.get('content-type'), 'application/javascript; charset=utf-8');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
    assert.equal(await res.text(), npmFile, 'fetch decodes br to the npm file');
    // Through the app's proxy (which asks for identity), as the browser gets it.
    const viaProxy = await fetch(`${app.origin}${PROXY_PATH}/npm/@clerk/ui@1/dist/ui.browser.js`, { signal: AbortSignal.timeout(10000) });
    assert.equal(viaProxy.status, 200);
    assert.match(await viaProxy.text(), /__internal_ClerkUICtor/);
  });

  it('<SignIn/> signs in a BAPI-created password user, the session survives a reload, <UserButton/> signs out', T, async () => {
    const p = await newPage(browser);
    try {
      const { page } = p;
      await page.goto(`${app.origin}/`, { waitUntil: 'load', timeout: 20000 });
      const identifier = page.locator('input[name="identifier"]');
      await identifier.waitFor(WAIT);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'react-app-sign-in.png'), fullPage: true, timeout: 10000 });

      // The SDK chose the URLs; latchkey answered them (through the app's proxy).
      const loaded = app.requests.filter(r => r.path.startsWith(`${PROXY_PATH}/npm/`));
      const seen = path => loaded.find(r => r.path === `${PROXY_PATH}${path}`);
      assert.equal(seen('/npm/@clerk/clerk-js@6/dist/clerk.browser.js')?.status, 200, JSON.stringify(loaded));
      assert.equal(seen('/npm/@clerk/ui@1/dist/ui.browser.js')?.status, 200, JSON.stringify(loaded));
      assert.ok(loaded.every(r => r.status === 200), `every bundle request answered: ${JSON.stringify(loaded)}`);
      assert.ok(!p.diag.blocked.some(b => b.includes('/npm/')), `no bundle went to the internet: ${p.diag.blocked}`);

      // Sign in like a person: the identifier, then the password (on the same screen if the UI shows it there).
      await identifier.fill(alice.email);
      const password = page.locator('input[name="password"]');
      const oneStep = await password.isVisible();
      if (oneStep) await password.fill(alice.password);
      await page.locator('.cl-formButtonPrimary').first().click();
      if (!oneStep) {
        await password.waitFor(WAIT);
        await password.fill(alice.password);
        await page.locator('.cl-formButtonPrimary').first().click();
      }
      await page.locator('#signed-in').waitFor(WAIT);
      assert.equal(await page.locator('#signed-in').getAttribute('data-user-id'), alice.id);
      assert.equal(await page.locator('#email').textContent(), alice.email);

      // A reload resumes the session from latchkey's cookies.
      await page.reload({ waitUntil: 'load', timeout: 20000 });
      await page.locator('#signed-in').waitFor(WAIT);
      assert.equal(await page.locator('#signed-in').getAttribute('data-user-id'), alice.id);
      // A user without a picture points at latchkey's default avatar, reachable through the proxy.
      const imageUrl = await page.evaluate(() => window.Clerk.user.imageUrl);
      assert.equal(imageUrl, `${app.origin}${PROXY_PATH}/v1/avatar/default`);
      const avatar = await page.evaluate(async u => { const r = await fetch(u); return { status: r.status, type: r.headers.get('content-type') }; }, imageUrl);
      assert.deepEqual(avatar, { status: 200, type: 'image/svg+xml' });

      // <UserButton/>: open it, sign out.
      await page.locator('.cl-userButtonTrigger').click();
      await page.locator('.cl-userButtonPopoverActionButton__signOut, .cl-userButtonPopoverActionButton:has-text("Sign out")')
        .first().click(WAIT);
      await page.locator('#signed-out').waitFor(WAIT);
      await page.reload({ waitUntil: 'load', timeout: 20000 });
      await page.locator('input[name="identifier"]').waitFor(WAIT);
      const sessions = await server.bapi('/sessions', { query: { user_id: alice.id, status: 'active' } });
      assert.equal(sessions.status, 200);
      assert.equal((Array.isArray(sessions.body) ? sessions.body : sessions.body.data).length, 0, 'no active session left');
      assert.deepEqual(p.diag.pageErrors, []);
    } catch (e) {
      e.message += `\n${p.report()}\napp requests:\n  ${app.requests.slice(-40).map(r => `${r.status} ${r.method} ${r.path}`).join('\n  ')}\nlatchkey:\n${server.logTail(20)}`;
      throw e;
    } finally {
      await p.close();
    }
  });
});
