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
import { LATCHKEY_BIN, startLatchkey, strongPassword, uniq } from './server.mjs';

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

/** Types `code` again after the component refused one: clears the field and types until it holds the whole code
 *  (it then submits by itself). Keystrokes that land while the component is still showing its error can be dropped
 *  on a loaded machine; a person types again. A field that is gone has submitted and moved on. */
export async function retypeCode(page, code) {
  const input = page.locator('input[autocomplete="one-time-code"]');
  for (let i = 0; i < 3; ++i) {
    await input.fill('');
    await typeCode(page, code);
    const held = await input.inputValue({ timeout: 1000 }).catch(() => code);
    if (held === code) return;
    await page.waitForTimeout(300);
  }
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

  /** Opens the portal's <SignIn/>, types `email` and continues; ends on the password step. */
  async function toPasswordStep(page, email) {
    await page.goto(`${ctx.fapi}/sign-in`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').fill(email, WAIT);
    await primary(page).click();
    await page.locator('input[name="password"]').waitFor(WAIT);
  }

  /** Signs in through the portal's <SignIn/> with the password; ends on the portal's /user page. */
  async function signIn(page, u, { path = '/sign-in' } = {}) {
    await page.goto(`${ctx.fapi}${path}`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').fill(u.email, WAIT);
    await primary(page).click();
    await passwordStep(page, u.password);
  }

  /** Sessions of `userId` with status active, from BAPI. */
  async function activeSessions(userId) {
    const r = await ctx.bapi.sessions.getSessionList({ userId, status: 'active' });
    return Array.isArray(r) ? r : r.data;
  }

  /** Types `password` into the password field, clicks on, and waits for the profile (second step of sign-in). */
  async function passwordStep(page, password) {
    await page.locator('input[name="password"]').fill(password, WAIT);
    await primary(page).click();
    await waitForProfile(page);
  }

  /** The <UserButton/>'s steps a person takes on the portal's /user page. */
  const trigger = page => page.locator('.cl-userButtonTrigger');
  const userButton = {
    /** With the card open, "Add account": the portal's sign-in as `u`, then back on the profile as `u`. */
    async addAccount(page, u) {
      await page.locator('.cl-userButtonPopoverActionButton__addAccount').click();
      await page.waitForURL(x => new URL(x).pathname === '/sign-in', WAIT);
      await page.locator('input[name="identifier"]').fill(u.email, WAIT);
      await primary(page).click();
      await passwordStep(page, u.password);
      await row(page, 'emailAddresses', u.email).waitFor(WAIT);
    },
    /** Switches to the signed-in account `u` from the list of active sessions. */
    async switchTo(page, u) {
      await trigger(page).click();
      await page.getByRole('group', { name: 'Active sessions' }).getByRole('button', { name: new RegExp(u.email) }).click(WAIT);
      await row(page, 'emailAddresses', u.email).waitFor(WAIT);
    },
    /** "Sign out" of the current account; ends on /sign-in. */
    async signOutOne(page) {
      await trigger(page).click();
      await page.locator('.cl-userButtonPopoverActionButton__signOut').click(WAIT);
      await page.waitForURL(x => new URL(x).pathname === '/sign-in', WAIT);
    },
    /** Back on /user as the remaining account `u`, then "Sign out of all"; ends on the sign-in form. */
    async signOutAll(page, u) {
      await page.goto(`${ctx.fapi}/user`, { waitUntil: 'load', timeout: 20000 });
      await row(page, 'emailAddresses', u.email).waitFor(WAIT);
      await trigger(page).click();
      await page.locator('.cl-userButtonPopoverActionButton__signOutAll, .cl-userButtonPopoverActionButton__signOut').first().click(WAIT);
      await page.waitForURL(x => new URL(x).pathname === '/sign-in', WAIT);
      await page.locator('input[name="identifier"]').waitFor(WAIT);
    },
  };

  /** With the <UserButton/> card open as `a`: add account `b`, switch back to `a`, sign out of `a` only, then out
   *  of all; checks through BAPI the active sessions of both after each step. */
  async function addSwitchSignOut(page, a, b) {
    await userButton.addAccount(page, b);

    // Switch back to the first account from the list of signed-in accounts.
    await userButton.switchTo(page, a);
    assert.equal((await activeSessions(a.id)).length, 1);
    assert.equal((await activeSessions(b.id)).length, 1);

    // Sign out of the current account only: the other stays signed in.
    await userButton.signOutOne(page);
    assert.equal((await activeSessions(a.id)).length, 0);
    assert.equal((await activeSessions(b.id)).length, 1);

    // Back on the profile as the remaining account, then sign out of all.
    await userButton.signOutAll(page, b);
    assert.equal((await activeSessions(b.id)).length, 0);
  }

  /** Two password users (`names` their prefixes), the first signed in on `page` with its <UserButton/> card open;
   *  returns { a, b, card }. */
  async function twoUsersCardOpen(page, names) {
    const a = await makeUser(names[0]);
    const b = await makeUser(names[1]);
    await signIn(page, a);
    return { a, b, card: await openUserButton(page) };
  }

  /** Opens the <UserButton/> card; returns it. */
  async function openUserButton(page) {
    await trigger(page).click();
    const card = page.locator('.cl-userButtonPopoverCard');
    await card.waitFor(WAIT);
    return card;
  }

  /** <UserProfile/>'s steps a person takes on the portal's /user page. */
  const profile = {
    /** Profile section: first and last name, saved; the row shows them. */
    async setNames(page, first, last) {
      await page.locator('.cl-profileSectionPrimaryButton__profile').click();
      await page.locator('input[name="firstName"]').fill(first, WAIT);
      await page.locator('input[name="lastName"]').fill(last);
      await primary(page).click();
      await page.locator('.cl-profileSectionItem__profile').filter({ hasText: `${first} ${last}` }).waitFor(WAIT);
    },
    /** "Add email address", the emailed code typed in: the row shows `email`. */
    async addEmail(page, email) {
      await page.locator('.cl-profileSectionPrimaryButton__emailAddresses').click();
      await page.locator('input[name="emailAddress"]').fill(email, WAIT);
      const before = ctx.server.outboxCount(email);
      await primary(page).click();
      const code = await ctx.server.waitForCode(email, { after: before, timeoutMs: 10000 });
      await typeCode(page, code);
      await row(page, 'emailAddresses', email).waitFor(WAIT);
    },
    /** Makes `email` primary, then removes `old`. */
    async swapPrimaryEmail(page, email, old) {
      await rowMenu(page, 'emailAddresses', email, 'Set as primary');
      await row(page, 'emailAddresses', email).filter({ hasText: 'Primary' }).waitFor(WAIT);
      await rowMenu(page, 'emailAddresses', old, /Remove/);
      await primary(page).click(WAIT);
      await row(page, 'emailAddresses', old).waitFor({ state: 'detached', timeout: 20000 });
    },
    /** Adds and verifies a new email (`uniq(prefix)@example.com`), makes it primary, removes `old`; returns it. */
    async replacePrimaryEmail(page, old, prefixName) {
      const email = `${uniq(prefixName)}@example.com`;
      await profile.addEmail(page, email);
      await profile.swapPrimaryEmail(page, email, old);
      return email;
    },
    /** Security page: sets a new password (typing the current one when asked); returns it. */
    async changePassword(page, current) {
      await page.locator('.cl-navbarButton__security').click();
      await page.locator('.cl-profileSectionPrimaryButton__password').click(WAIT);
      const fresh = strongPassword();
      await page.locator('input[name="newPassword"]').waitFor(WAIT);
      const currentInput = page.locator('input[name="currentPassword"]');
      if (await currentInput.isVisible()) await currentInput.fill(current);
      await page.locator('input[name="newPassword"]').fill(fresh);
      await page.locator('input[name="confirmPassword"]').fill(fresh);
      await primary(page).click();
      await page.locator('.cl-profileSectionPrimaryButton__password').waitFor(WAIT);
      return fresh;
    },
    /** Security page with two active devices: "Sign out of device" on the other one; returns the FAPI's reply. */
    async signOutOtherDevice(page) {
      const otherDevice = page.locator('.cl-activeDeviceListItem:not(.cl-activeDeviceListItem__current)');
      await otherDevice.locator('.cl-menuButton').click(WAIT);
      const revoked = page.waitForResponse(r => /\/v1\/me\/sessions\/[^/]+\/revoke/.test(r.url()), WAIT);
      await page.getByRole('menuitem', { name: /Sign out of device/i }).click(WAIT);
      return revoked;
    },
  };

  /** Signs `u` in on another device (a second browser context), which is then closed. */
  async function signInElsewhere(u) {
    const other = await newPage(ctx.browser);
    try {
      await signIn(other.page, u);
    } finally {
      await other.close();
    }
  }

  /** On the sign-in form's password step: "Use another method", the button named `method` (a code sent to `to`),
   *  the code typed in; ends on the profile. */
  async function codeInstead(page, to, method) {
    await page.getByText('Use another method').click();
    const before = ctx.server.outboxCount(to);
    await page.getByRole('button', { name: method }).click(WAIT);
    const code = await ctx.server.waitForCode(to, { after: before, timeoutMs: 10000 });
    await typeCode(page, code);
    await waitForProfile(page);
  }

  /** On the sign-in form's password step: "Forgot password?", the code sent to `to` typed in, a new password;
   *  ends on the profile; returns the new password. */
  async function resetPassword(page, to) {
    const before = ctx.server.outboxCount(to);
    await page.getByText('Forgot password?').click();
    // The component may offer the reset on its own screen first.
    const resetButton = page.getByRole('button', { name: /Reset your password/i });
    if (await resetButton.isVisible().catch(() => false)) await resetButton.click();
    const code = await ctx.server.waitForCode(to, { after: before, timeoutMs: 10000 });
    await typeCode(page, code);
    const fresh = strongPassword();
    const password = page.locator('input[name="password"]');
    await password.fill(fresh, WAIT);
    await page.locator('input[name="confirmPassword"]').fill(fresh);
    // A click that lands while the form is still re-rendering can be swallowed on a loaded machine (the request is
    // never made); a person clicks again while the form is still there.
    for (let i = 0; i < 3; ++i) {
      await primary(page).click();
      if (await password.waitFor({ state: 'hidden', timeout: 4000 }).then(() => true, () => false)) break;
    }
    await waitForProfile(page);
    return fresh;
  }

  return {
    shot, withPage, makeUser, waitForProfile, signIn, activeSessions, passwordStep, userButton, openUserButton, addSwitchSignOut,
    twoUsersCardOpen, profile, signInElsewhere, resetPassword, codeInstead, toPasswordStep,
  };
}

/** Starts a production latchkey whose public FAPI URL is its own listener on a port chosen beforehand (retried on
 *  another port if that one was taken meanwhile); returns { server, fapi }. */
export async function startOnOwnPort(config) {
  let lastError;
  for (let attempt = 0; attempt < 3; ++attempt) {
    const port = await freePort();
    const fapi = `http://127.0.0.1:${port}`;
    try {
      return { server: await startLatchkey({ instance: 'production', frontendApi: fapi, listen: `127.0.0.1:${port}`, config }), fapi };
    } catch (e) { lastError = e; }
  }
  throw lastError;
}
