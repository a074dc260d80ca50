// What the prebuilt-component suites share: driving @clerk/ui like a person (type, click, read the screen), a page
// per test with CSP / page-error checks and diagnostics on failure, first-screen screenshots kept as artefacts.
// `kit(ctx)` reads ctx.browser, ctx.server, ctx.fapi and ctx.bapi when a helper runs (the suite fills them in its
// `before`), so one kit serves a whole file.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { newPage } from './browser.mjs';
import { LATCHKEY_BIN, strongPassword, uniq } from './server.mjs';

export const WAIT = { timeout: 20000 };

/** Where screenshots go: <build>/e2e-artifacts beside the binary's directory (or E2E_ARTIFACTS_DIR). */
export const ARTIFACTS = process.env.E2E_ARTIFACTS_DIR ||
  (LATCHKEY_BIN ? join(dirname(dirname(resolve(LATCHKEY_BIN))), 'e2e-artifacts') : join(tmpdir(), 'latchkey-e2e-artifacts'));

/** A port free right now on 127.0.0.1 (the public FAPI URL must be known before latchkey starts). */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

export const primary = page => page.locator('.cl-formButtonPrimary').first();

/** Types a one-time code into the OTP field, as a person does (focus the first box, type the digits). */
export async function typeCode(page, code) {
  const input = page.locator('input[autocomplete="one-time-code"]');
  await input.waitFor(WAIT);
  await input.focus();
  await page.keyboard.type(code, { delay: 30 });
}

/** Ticks a checkbox of a controlled React form. A click that lands while the form is still re-rendering
 *  (clerk-js settling its state) can be swallowed; ticking again until the box reads checked is what a person
 *  does. */
export async function checkBox(box) {
  for (let i = 0; i < 5; ++i) {
    await box.click(WAIT);
    if (await box.isChecked()) return;
    await box.page().waitForTimeout(200);
  }
  assert.fail('the checkbox never stayed checked');
}

/** The row of `text` in a UserProfile section (emailAddresses, phoneNumbers, username, ...). */
export const row = (page, section, text) => page.locator(`.cl-profileSectionItem__${section}`).filter({ hasText: text });

/** Opens the "..." menu of a row and picks `item`. */
export async function rowMenu(page, section, text, item) {
  await row(page, section, text).locator('.cl-menuButton').click(WAIT);
  await page.getByRole('menuitem', { name: item }).click(WAIT);
}

/** A US number outside the test-mode range (555-01xx), so a real code goes to the outbox. `digits` is E.164 without
 *  the +1, `national` what a person types into the phone field (its country is the United States by default). */
export function randomUsPhone() {
  const n = () => Math.floor(Math.random() * 10);
  const national = `4157${n()}${n()}${n()}${n()}${n()}${n()}`;
  return { national, e164: `+1${national}` };
}

export function kit(ctx, { prefix = 'components', check = () => {}, allowHosts = [] } = {}) {
  const artefact = name => { mkdirSync(ARTIFACTS, { recursive: true }); return join(ARTIFACTS, `${prefix}-${name}.png`); };
  const shot = (page, name) => page.screenshot({ path: artefact(name), fullPage: true, timeout: 10000, animations: 'disabled' });

  /** A fresh browser context (reaching loopback and `allowHosts` only); CSP violations and page errors fail the test (and `check(p)`); diagnostics on failure. */
  async function withPage(name, fn) {
    const p = await newPage(ctx.browser, { allowHosts });
    await p.context.addInitScript(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation',
        e => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
    });
    try {
      await fn(p.page, p);
      // Violations show on the console of every document the test went through (and in the last one's list).
      const last = await p.page.evaluate(() => window.__csp ?? []).catch(() => []);
      const cspConsole = p.diag.console.filter(c => /Content Security Policy/i.test(c));
      assert.deepEqual([...last, ...cspConsole], [], 'no Content-Security-Policy violation');
      assert.deepEqual(p.diag.pageErrors, [], 'no page error');
      await check(p);
    } catch (e) {
      await p.page.screenshot({ path: artefact(`FAILED-${name}`), fullPage: true, timeout: 5000 }).catch(() => {});
      const diag = `\n--- at ${p.page.url()}\n${p.report()}\n--- latchkey log tail ---\n${ctx.server.logTail(25)}`;
      try { e.stack = `${e.stack ?? e.message}${diag}`; } catch { process.stderr.write(diag); }
      throw e;
    } finally {
      await p.close();
    }
  }

  /** A password user made through BAPI (as an admin would). */
  async function makeUser(prefixName) {
    const u = { email: `${uniq(prefixName)}@example.com`, password: strongPassword() };
    const user = await ctx.bapi.users.createUser({ emailAddress: [u.email], password: u.password, skipPasswordChecks: true });
    u.id = user.id;
    return u;
  }

  async function waitForProfile(page) {
    await page.waitForURL(u => new URL(u).pathname === '/user', WAIT);
    await page.locator('.cl-userProfile-root').waitFor(WAIT);
  }

  /** Signs in through the portal's <SignIn/> with the password; ends on the portal's /user page. */
  async function signIn(page, u, { path = '/sign-in' } = {}) {
    await page.goto(`${ctx.fapi}${path}`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').fill(u.email, WAIT);
    await primary(page).click();
    await page.locator('input[name="password"]').fill(u.password, WAIT);
    await primary(page).click();
    await waitForProfile(page);
  }

  /** Sessions of `userId` with status active, from BAPI. */
  async function activeSessions(userId) {
    const r = await ctx.bapi.sessions.getSessionList({ userId, status: 'active' });
    return Array.isArray(r) ? r : r.data;
  }

  return { shot, withPage, makeUser, waitForProfile, signIn, activeSessions };
}
