// Clerk's prebuilt components, unmodified (@clerk/ui from the bundles latchkey ships), driven like a person in
// Chromium: type, click, read the screen. They run in latchkey's Account Portal (/sign-in, /sign-up, /user on
// the FAPI origin), so the page is same-origin with the FAPI and needs nothing but the keys latchkey prints.
// Instance: production (pk_live_), its public FAPI URL the listener itself (http://127.0.0.1:<port>), multi-session,
// usernames required, legal consent required, branded. One server and one browser for the whole file; each test gets a
// fresh browser context (its own cookies). Codes come from the server's outbox, as a person reads their mail.
// Every page is checked for Content-Security-Policy violations and page errors; the first screen of each
// component is kept in <build>/e2e-artifacts/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { launchBrowser, newPage } from './lib/browser.mjs';
import { LATCHKEY_BIN, skipWithoutBinary, startLatchkey, strongPassword, uniq } from './lib/server.mjs';

const T = { timeout: 150000 };
const WAIT = { timeout: 20000 };
const BRAND = { application_name: 'Acme Portal', primary_color: '#0a7d3b' };

const ARTIFACTS = process.env.E2E_ARTIFACTS_DIR ||
  (LATCHKEY_BIN ? join(dirname(dirname(resolve(LATCHKEY_BIN))), 'e2e-artifacts') : join(tmpdir(), 'latchkey-e2e-artifacts'));

/** A port free right now on 127.0.0.1 (the public FAPI URL must be known before latchkey starts). */
function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

describe('Prebuilt components in the Account Portal (production instance)', { skip: skipWithoutBinary, timeout: 900000 }, () => {
  let server;
  let browser;
  let fapi;
  let bapi;

  before(async () => {
    let lastError;
    for (let attempt = 0; attempt < 3 && !server; ++attempt) {
      const port = await freePort();
      fapi = `http://127.0.0.1:${port}`;
      try {
        server = await startLatchkey({
          instance: 'production', frontendApi: fapi, listen: `127.0.0.1:${port}`,
          config: {
            application_name: BRAND.application_name,
            single_session_mode: false,
            username: { enabled: true, required: true, used_for_first_factor: true },
            legal_consent: { enabled: true, terms_url: 'https://example.com/terms', privacy_policy_url: 'https://example.com/privacy' },
            branding: { primary_color: BRAND.primary_color },
          },
        });
      } catch (e) { lastError = e; }
    }
    if (!server) throw lastError;
    assert.match(server.publishableKey, /^pk_live_/);
    bapi = server.backendClient();
    browser = await launchBrowser();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  /** A password user made through BAPI (as an admin would). */
  async function makeUser(prefix) {
    const u = { email: `${uniq(prefix)}@example.com`, password: strongPassword() };
    const user = await bapi.users.createUser({ emailAddress: [u.email], password: u.password, skipPasswordChecks: true });
    u.id = user.id;
    return u;
  }

  /** A fresh browser context; CSP violations and page errors fail the test; diagnostics on failure. */
  async function withPage(name, fn) {
    const p = await newPage(browser);
    await p.context.addInitScript(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation',
        e => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
    });
    const csp = [];
    p.page.on('framenavigated', () => {});
    const collect = async () => {
      try { csp.push(...await p.page.evaluate(() => window.__csp ?? [])); } catch { /* navigating */ }
    };
    p.page.on('load', () => { /* per-document lists are read before each navigation below */ });
    try {
      await fn(p.page, p, collect);
      await collect();
      const cspConsole = p.diag.console.filter(c => /Content Security Policy/i.test(c));
      assert.deepEqual([...csp, ...cspConsole], [], 'no Content-Security-Policy violation');
      assert.deepEqual(p.diag.pageErrors, [], 'no page error');
    } catch (e) {
      await p.page.screenshot({ path: join(ARTIFACTS, `components-FAILED-${name}.png`), fullPage: true, timeout: 5000 }).catch(() => {});
      e.message += `\nat ${p.page.url()}\n${p.report()}\nlatchkey:\n${server.logTail(25)}`;
      throw e;
    } finally {
      await p.close();
    }
  }

  const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `components-${name}.png`), fullPage: true, timeout: 10000 });
  const primary = page => page.locator('.cl-formButtonPrimary').first();

  /** Types a one-time code into the OTP field, as a person does (focus the first box, type the digits). */
  async function typeCode(page, code) {
    const input = page.locator('input[autocomplete="one-time-code"]');
    await input.waitFor(WAIT);
    await input.focus();
    await page.keyboard.type(code, { delay: 30 });
  }

  async function waitForProfile(page) {
    await page.waitForURL(u => new URL(u).pathname === '/user', WAIT);
    await page.locator('.cl-userProfile-root').waitFor(WAIT);
  }

  /** Signs in through <SignIn/> with the password; ends on the portal's /user page. */
  async function signIn(page, u, { path = '/sign-in' } = {}) {
    await page.goto(`${fapi}${path}`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').fill(u.email, WAIT);
    await primary(page).click();
    await page.locator('input[name="password"]').fill(u.password, WAIT);
    await primary(page).click();
    await waitForProfile(page);
  }

  it('first screens: <SignIn/>, <SignUp/>, <UserProfile/> behind sign-in, branded, no CSP violation', T, () => withPage('first-screens', async page => {
    await page.goto(`${fapi}/sign-in`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').waitFor(WAIT);
    assert.equal(await page.locator('.cl-headerTitle').textContent(), `Sign in to ${BRAND.application_name}`);
    assert.equal(await page.title(), `Sign in · ${BRAND.application_name}`);
    // The brand colour reaches the primary button through appearance.variables.
    const bg = await primary(page).evaluate(el => getComputedStyle(el).backgroundColor);
    assert.equal(bg, 'rgb(10, 125, 59)');
    await shot(page, 'sign-in');

    await page.goto(`${fapi}/sign-up`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="emailAddress"]').waitFor(WAIT);
    assert.match(await page.locator('.cl-headerTitle').textContent(), /Create your account/);
    await page.locator('input[name="legalAccepted"]').waitFor(WAIT);
    await shot(page, 'sign-up');

    // Signed out, /user sends the person to sign in and back.
    await page.goto(`${fapi}/user`, { waitUntil: 'load', timeout: 20000 });
    await page.waitForURL(u => new URL(u).pathname === '/sign-in', WAIT);
    assert.equal(new URL(page.url()).searchParams.get('sign_in_force_redirect_url'), `${fapi}/user`, page.url());
    await page.locator('input[name="identifier"]').waitFor(WAIT);
  }));

  it('<SignIn/>: unknown email and wrong password shown inline, then the password signs in', T, () => withPage('sign-in-password', async page => {
    const u = await makeUser('pw');
    await page.goto(`${fapi}/sign-in`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').fill(`${uniq('nobody')}@example.com`, WAIT);
    await primary(page).click();
    const idError = page.locator('#error-identifier');
    await idError.waitFor(WAIT);
    assert.match(await idError.textContent(), /couldn.t find your account/i);

    await page.locator('input[name="identifier"]').fill(u.email);
    await primary(page).click();
    await page.locator('input[name="password"]').fill('not-the-password-1', WAIT);
    await primary(page).click();
    const pwError = page.locator('#error-password');
    await pwError.waitFor(WAIT);
    assert.match(await pwError.textContent(), /password is incorrect/i);

    await page.locator('input[name="password"]').fill(u.password);
    await primary(page).click();
    await waitForProfile(page);
    assert.ok(await page.getByText(u.email).first().isVisible());
    await shot(page, 'user-profile');
  }));

  it('<SignIn/>: "Use another method" → email code from the outbox', T, () => withPage('sign-in-code', async page => {
    const u = await makeUser('code');
    await page.goto(`${fapi}/sign-in`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').fill(u.email, WAIT);
    await primary(page).click();
    await page.locator('input[name="password"]').waitFor(WAIT);
    await page.getByText('Use another method').click();
    const before = server.outboxCount(u.email);
    await page.getByRole('button', { name: /Email code to/ }).click(WAIT);
    const code = await server.waitForCode(u.email, { after: before, timeoutMs: 10000 });
    await typeCode(page, code);
    await waitForProfile(page);
  }));

  it('<SignIn/>: forgot password → code → new password → signed in; the new password works', T, () => withPage('reset', async page => {
    const u = await makeUser('reset');
    await page.goto(`${fapi}/sign-in`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').fill(u.email, WAIT);
    await primary(page).click();
    await page.locator('input[name="password"]').waitFor(WAIT);
    const before = server.outboxCount(u.email);
    await page.getByText('Forgot password?').click();
    // The component may offer the reset on its own screen first.
    const resetButton = page.getByRole('button', { name: /Reset your password/i });
    if (await resetButton.isVisible().catch(() => false)) await resetButton.click();
    const code = await server.waitForCode(u.email, { after: before, timeoutMs: 10000 });
    await typeCode(page, code);
    const fresh = strongPassword();
    await page.locator('input[name="password"]').fill(fresh, WAIT);
    await page.locator('input[name="confirmPassword"]').fill(fresh);
    await primary(page).click();
    await waitForProfile(page);
    const verified = await bapi.users.verifyPassword({ userId: u.id, password: fresh });
    assert.equal(verified.verified, true);
  }));

  it('<SignUp/>: email, username, password, legal consent, emailed code → signed in', T, () => withPage('sign-up', async page => {
    const email = `${uniq('new')}@example.com`;
    const username = uniq('user').slice(0, 20);
    const password = strongPassword();
    await page.goto(`${fapi}/sign-up`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="emailAddress"]').fill(email, WAIT);
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    await page.locator('input[name="legalAccepted"]').check();
    const before = server.outboxCount(email);
    await primary(page).click();
    const code = await server.waitForCode(email, { after: before, timeoutMs: 10000 });
    await typeCode(page, code);
    await waitForProfile(page);
    const list = await bapi.users.getUserList({ emailAddress: [email] });
    assert.equal(list.data.length, 1);
    assert.equal(list.data[0].username, username);
    assert.ok(list.data[0].legalAcceptedAt, 'legal consent recorded');
  }));
});
