// Flows shared by the browser suites: each runs clerk-js's public JS API inside the page, the way an app (or
// Clerk's own UI components) would, and returns plain data.
import { evalClerk, launchBrowser, loadClerk, newPage, openAndLoad, snapshot } from './browser.mjs';
import { startApp } from './page.mjs';
import { startLatchkey } from './server.mjs';

export { evalClerk, loadClerk, openAndLoad, snapshot };

/**
 * One latchkey + one app + one Chromium for a suite. Call from `before`; `ctx.stop()` from `after`.
 * `withPage(fn)` gives each test a fresh browser context and, on failure, appends page diagnostics and the
 * server's log tail to the error.
 */
export async function startBrowserSuite({ instance, config = {}, testMode = true, frontendApi } = {}) {
  const app = await startApp();
  let server;
  let browser;
  try {
    server = await startLatchkey({ instance, testMode, frontendApi, config: { allowed_origins: [app.origin], ...config } });
    app.attach(server);
    browser = await launchBrowser();
  } catch (e) {
    await server?.stop().catch(() => {});
    await app.close();
    throw e;
  }
  const ctx = {
    server,
    app,
    browser,
    async withPage(fn) {
      const p = await newPage(browser);
      try {
        return await fn(p);
      } catch (e) {
        const diag = `--- page diagnostics ---\n${p.report()}\n--- latchkey log tail ---\n${server.logTail(30)}`;
        if (e && typeof e === 'object') {
          try { e.stack = `${e.stack ?? e.message}\n${diag}`; } catch { /* read-only */ }
        } else {
          process.stderr.write(`\n${diag}\n`);
        }
        throw e;
      } finally {
        await p.close();
      }
    },
    async stop() {
      await browser?.close().catch(() => {});
      await app.close().catch(() => {});
      await server?.stop();
    },
  };
  return ctx;
}

/** Code for `email`: 424242 for +clerk_test addresses (test mode), else the newest outbox entry after `after`. */
async function codeFor(server, email, { after, kind, useOutbox }) {
  if (!useOutbox && email.includes('+clerk_test')) return '424242';
  return server.waitForCode(email, { after, kind });
}

/**
 * Sign-up with email + password + email code via clerk.client.signUp (create, prepareEmailAddressVerification,
 * attemptEmailAddressVerification). Returns { created, prepared, final } summaries.
 */
export async function signUpWithEmailCode(page, server, { email, password, firstName, useOutbox = false }) {
  const after = server.outboxCount(email);
  const created = await evalClerk(page, async (clerk, email, password, firstName) => {
    const su = await clerk.client.signUp.create({ emailAddress: email, password, ...(firstName ? { firstName } : {}) });
    return {
      id: su.id, status: su.status, emailAddress: su.emailAddress, unverifiedFields: su.unverifiedFields,
      clientSignUpId: clerk.client.signUp?.id ?? null,
      emailVerification: { status: su.verifications.emailAddress.status, nextAction: su.verifications.emailAddress.nextAction },
    };
  }, email, password, firstName ?? null);
  const prepared = await evalClerk(page, async clerk => {
    const su = await clerk.client.signUp.prepareEmailAddressVerification({ strategy: 'email_code' });
    const v = su.verifications.emailAddress;
    return { id: su.id, status: su.status, verification: { status: v.status, strategy: v.strategy, nextAction: v.nextAction, expireAt: v.expireAt ? +v.expireAt : null } };
  });
  const code = await codeFor(server, email, { after, kind: 'email_code', useOutbox });
  const final = await evalClerk(page, async (clerk, code) => {
    const su = await clerk.client.signUp.attemptEmailAddressVerification({ code });
    return {
      id: su.id, status: su.status, createdSessionId: su.createdSessionId, createdUserId: su.createdUserId,
      verification: su.verifications.emailAddress.status,
      clientHasSession: clerk.client.sessions.some(s => s.id === su.createdSessionId),
    };
  }, code);
  return { created, prepared, final, code };
}

/** clerk.setActive({ session }) and the resulting state. */
export async function setActive(page, sessionId) {
  return evalClerk(page, async (clerk, sid) => {
    await clerk.setActive({ session: sid });
    return {
      session: clerk.session?.id ?? null,
      user: clerk.user?.id ?? null,
      email: clerk.user?.primaryEmailAddress?.emailAddress ?? null,
      signedIn: clerk.client.signedInSessions.map(s => s.id),
    };
  }, sessionId);
}

/** One-step password sign-in: signIn.create({ identifier, password, strategy: 'password' }). */
export async function signInPassword(page, identifier, password) {
  return evalClerk(page, async (clerk, identifier, password) => {
    const si = await clerk.client.signIn.create({ identifier, password, strategy: 'password' });
    return { id: si.id, status: si.status, createdSessionId: si.createdSessionId, clientHasSession: clerk.client.sessions.some(s => s.id === si.createdSessionId) };
  }, identifier, password);
}

/** Two-step password sign-in: signIn.create({ identifier }) then attemptFirstFactor({ strategy: 'password' }). */
export async function signInPasswordTwoStep(page, identifier, password) {
  return evalClerk(page, async (clerk, identifier, password) => {
    const first = await clerk.client.signIn.create({ identifier });
    const step1 = {
      id: first.id, status: first.status, identifier: first.identifier,
      factors: (first.supportedFirstFactors ?? []).map(f => f.strategy),
    };
    const si = await clerk.client.signIn.attemptFirstFactor({ strategy: 'password', password });
    return { step1, id: si.id, status: si.status, createdSessionId: si.createdSessionId, clientHasSession: clerk.client.sessions.some(s => s.id === si.createdSessionId) };
  }, identifier, password);
}

/** Email-code sign-in: create({ identifier }), prepareFirstFactor({ strategy: 'email_code', emailAddressId }), attempt. */
export async function signInEmailCode(page, server, identifier, { useOutbox = false } = {}) {
  const after = server.outboxCount(identifier);
  const step1 = await evalClerk(page, async (clerk, identifier) => {
    const si = await clerk.client.signIn.create({ identifier });
    const f = (si.supportedFirstFactors ?? []).find(x => x.strategy === 'email_code');
    if (!f) throw new Error(`no email_code first factor in ${JSON.stringify(si.supportedFirstFactors)}`);
    const prepared = await clerk.client.signIn.prepareFirstFactor({ strategy: 'email_code', emailAddressId: f.emailAddressId });
    return {
      id: si.id, status: prepared.status, emailAddressId: f.emailAddressId, safeIdentifier: f.safeIdentifier,
      verification: { status: prepared.firstFactorVerification?.status, strategy: prepared.firstFactorVerification?.strategy },
    };
  }, identifier);
  const code = await codeFor(server, identifier, { after, kind: undefined, useOutbox });
  const done = await evalClerk(page, async (clerk, code) => {
    const si = await clerk.client.signIn.attemptFirstFactor({ strategy: 'email_code', code });
    return { id: si.id, status: si.status, createdSessionId: si.createdSessionId, clientHasSession: clerk.client.sessions.some(s => s.id === si.createdSessionId) };
  }, code);
  return { step1, ...done };
}

/** clerk.signOut(opts) and the resulting state. */
export async function signOut(page, opts) {
  return evalClerk(page, async (clerk, opts) => {
    await (opts ? clerk.signOut(opts) : clerk.signOut());
    return {
      user: clerk.user?.id ?? null,
      session: clerk.session?.id ?? null,
      signedIn: clerk.client.signedInSessions.map(s => s.id),
      navigations: window.__e2e.navigations.slice(),
    };
  }, opts ?? null);
}

/** clerk.session.getToken(); `skipCache` forces a mint. */
export async function getToken(page, { skipCache = false, template } = {}) {
  return evalClerk(page, async (clerk, skipCache, template) => {
    if (!clerk.session) throw new Error('no active session');
    return clerk.session.getToken({ skipCache, ...(template ? { template } : {}) });
  }, skipCache, template ?? null);
}

/** Cookies of the page's context, by name. */
export async function cookieMap(context) {
  const m = new Map();
  for (const c of await context.cookies()) m.set(c.name, c);
  return m;
}
