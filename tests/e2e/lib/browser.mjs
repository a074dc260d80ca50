// Headless Chromium (Debian's /usr/bin/chromium) through playwright-core. One browser per suite, one fresh
// context per test. Every request that is not for localhost / 127.0.0.1 is aborted, so nothing reaches the internet.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** `extraArgs`: more Chromium switches (e.g. --host-resolver-rules and --ignore-certificate-errors-spki-list). */
export async function launchBrowser({ extraArgs = [] } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', ...extraArgs],
  });
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A fresh context + page with diagnostics. Returns { context, page, diag, close() } where
 * diag = { console: [], pageErrors: [], failed: [], blocked: [], fapi: [] }.
 * `fapi` records every FAPI request the page made (method, url, status), wherever it went.
 * `allowHosts`: host names besides localhost/127.0.0.1 the page may reach (ones the suite maps to 127.0.0.1 with
 * --host-resolver-rules).
 */
export async function newPage(browser, { allowHosts = [] } = {}) {
  const allowed = new Set([...LOCAL_HOSTS, ...allowHosts]);
  const context = await browser.newContext({ ignoreHTTPSErrors: false });
  context.setDefaultTimeout(30000);
  const diag = { console: [], pageErrors: [], failed: [], blocked: [], fapi: [] };
  await context.route('**/*', route => {
    const u = new URL(route.request().url());
    if ((u.protocol === 'http:' || u.protocol === 'https:') && allowed.has(u.hostname)) return route.continue();
    if (u.protocol === 'data:' || u.protocol === 'blob:') return route.continue();
    diag.blocked.push(`${route.request().method()} ${u.href}`);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', m => {
    if (m.type() === 'error' || m.type() === 'warning') diag.console.push(`[${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', e => diag.pageErrors.push(String(e?.stack ?? e)));
  page.on('requestfailed', r => {
    if (!diag.blocked.some(b => b.endsWith(r.url()))) diag.failed.push(`${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', r => {
    const u = new URL(r.url());
    if (u.pathname.includes('/v1/')) diag.fapi.push({ method: r.request().method(), url: r.url(), path: u.pathname, status: r.status() });
  });
  return {
    context,
    page,
    diag,
    async close() { await context.close().catch(() => {}); },
    /** Multi-line diagnostics for assertion messages. */
    report() {
      return [
        diag.pageErrors.length ? `page errors:\n  ${diag.pageErrors.join('\n  ')}` : '',
        diag.console.length ? `console:\n  ${diag.console.slice(-30).join('\n  ')}` : '',
        diag.failed.length ? `failed requests:\n  ${diag.failed.join('\n  ')}` : '',
        diag.fapi.length ? `FAPI:\n  ${diag.fapi.slice(-40).map(f => `${f.status} ${f.method} ${f.url}`).join('\n  ')}` : '',
      ].filter(Boolean).join('\n');
    },
  };
}

/**
 * Runs `fn(clerk, ...args)` in the page, where clerk = window.Clerk (the instance clerk.browser.js created).
 * `fn` must be self-contained (it is serialised) and should return plain data. A Clerk API error thrown in the page
 * is rethrown here as an Error carrying `.errors` (FAPI errors array, camel-cased meta), `.code` (errors[0].code)
 * and `.status`.
 */
export async function evalClerk(page, fn, ...args) {
  const res = await page.evaluate(async ([src, a]) => {
    // eslint-disable-next-line no-eval
    const f = (0, eval)(`(${src})`);
    try {
      return { ok: true, value: await f(window.Clerk, ...a) };
    } catch (e) {
      return {
        ok: false,
        error: {
          name: e?.name,
          message: String(e?.message ?? e),
          errors: Array.isArray(e?.errors) ? e.errors.map(x => ({ code: x.code, message: x.message, longMessage: x.longMessage, meta: x.meta })) : undefined,
          status: e?.status,
          code: e?.code,
          stack: e?.stack,
        },
      };
    }
  }, [fn.toString(), args]);
  if (res.ok) return res.value;
  const err = new Error(`in page: ${res.error.name}: ${res.error.message}`);
  err.errors = res.error.errors ?? [];
  err.code = res.error.errors?.[0]?.code ?? res.error.code;
  err.status = res.error.status;
  err.pageStack = res.error.stack;
  throw err;
}

/** Opens the app and runs clerk.load(); returns a snapshot. `proxy` is a page query (see lib/page.mjs). */
export async function openAndLoad(page, url, { loadTimeoutMs = 20000 } = {}) {
  await page.goto(url, { waitUntil: 'load', timeout: 20000 });
  await page.waitForFunction(() => !!window.Clerk, null, { timeout: 10000 });
  return loadClerk(page, { loadTimeoutMs });
}

/**
 * clerk.load() with a no-op custom router, so navigations Clerk performs after signOut()/setActive() are recorded
 * (window.__e2e.navigations) instead of reloading the page under the test.
 */
export async function loadClerk(page, { loadTimeoutMs = 20000 } = {}) {
  return evalClerk(page, async (clerk, ms) => {
    const nav = to => { window.__e2e.navigations.push(String(to)); };
    await Promise.race([
      clerk.load({ routerPush: nav, routerReplace: nav, telemetry: false, unsafe_disableDevelopmentModeConsoleWarning: true }),
      new Promise((_, rej) => setTimeout(() => rej(new Error(`clerk.load() did not settle in ${ms} ms`)), ms)),
    ]);
    clerk.addListener(({ session, user }) => window.__e2e.events.push({ session: session?.id ?? null, user: user?.id ?? null }));
    return { loaded: clerk.loaded, status: clerk.status, user: clerk.user?.id ?? null, session: clerk.session?.id ?? null };
  }, loadTimeoutMs);
}

/** Plain-data view of the auth state in the page. */
export function snapshot(page) {
  return evalClerk(page, clerk => ({
    loaded: clerk.loaded,
    user: clerk.user ? { id: clerk.user.id, email: clerk.user.primaryEmailAddress?.emailAddress ?? null } : null,
    session: clerk.session ? { id: clerk.session.id, status: clerk.session.status } : null,
    client: clerk.client ? {
      id: clerk.client.id,
      sessions: clerk.client.sessions.map(s => ({ id: s.id, status: s.status, user: s.user?.id })),
      signedIn: clerk.client.signedInSessions.map(s => s.id),
      lastActiveSessionId: clerk.client.lastActiveSessionId,
    } : null,
  }));
}
