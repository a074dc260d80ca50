// The custom-domain set-up shared by custom-domain*.test.mjs: latchkey's own TLS at https://clerk.example.test (a
// certificate from a CA made with the openssl CLI), an app server (lib/express-app.mjs: Express + @clerk/express,
// its own node process trusting the CA through NODE_EXTRA_CA_CERTS, since latchkey's BAPI listener is TLS too) at
// https://app.example.test, and one Chromium mapping port 443 of both names to the listeners on 127.0.0.1
// (--host-resolver-rules) and trusting the certificate (--ignore-certificate-errors-spki-list).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, newPage } from './browser.mjs';
import { setActive, signInPassword } from './flows.mjs';
import { exitWithin, startLatchkey, strongPassword, uniq, withTimeout } from './server.mjs';
import { makeTestCa } from './tls.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const FAPI_HOST = 'clerk.example.test';
export const APP_HOST = 'app.example.test';
export const APP = `https://${APP_HOST}`;

/**
 * Starts the three parts for an `instance` ('production' | 'development') whose public FAPI URL is
 * https://clerk.example.test. The app is configured with exactly what latchkey printed: the publishable key, and
 * the proxy URL when it printed one (clerk-js's proxyUrl on the page, CLERK_PROXY_URL on the server).
 */
export async function startCustomDomain({ instance }) {
  const ca = makeTestCa([FAPI_HOST, APP_HOST, 'example.test']);
  const appErr = [];
  let server;
  let app;
  let browser;
  const stop = async () => {
    await browser?.close().catch(() => {});
    if (app && app.exitCode === null) {
      app.kill('SIGTERM');
      await exitWithin(new Promise(ok => app.once('exit', ok)), 5000);
    }
    await server?.stop();
    ca.remove();
  };
  try {
    server = await startLatchkey({
      instance,
      frontendApi: `https://${FAPI_HOST}`,
      env: { LATCHKEY_TLS_CERT: ca.certFile, LATCHKEY_TLS_KEY: ca.keyFile },
    });
    app = spawn(process.execPath, [join(here, 'express-app.mjs')], {
      env: {
        PATH: process.env.PATH,
        NODE_EXTRA_CA_CERTS: ca.caFile,
        CLERK_SECRET_KEY: server.secretKey,
        CLERK_PUBLISHABLE_KEY: server.publishableKey,
        ...(server.proxyUrl ? { CLERK_PROXY_URL: server.proxyUrl } : {}),
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
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }

  return {
    server,
    stop,

    /** A password user made through the BAPI (over TLS, trusting the test CA). */
    async makeUser() {
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
    },

    /** A fresh browser context allowed to reach the two names; diagnostics on failure. */
    async withPage(fn) {
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
    },

    /** Opens the app's page (clerk-js from the app, with the printed key and proxy URL), not loaded yet. */
    async openApp(page) {
      await page.goto(`${APP}/`, { waitUntil: 'load', timeout: 20000 });
      await page.waitForFunction(() => !!window.Clerk, null, { timeout: 10000 });
    },

    /** Signs `u` in with clerk-js on the (loaded) app page and makes the session active. */
    async signIn(page, u) {
      const si = await signInPassword(page, u.email, u.password);
      assert.equal(si.status, 'complete');
      await setActive(page, si.createdSessionId);
    },

    /** The app server's view of the browser: a document navigation to /me (handshakes included). */
    async appAuth(page) {
      const res = await page.goto(`${APP}/me`, { waitUntil: 'load', timeout: 20000 });
      assert.equal(res.status(), 200);
      return JSON.parse(await page.locator('body').textContent());
    },
  };
}
