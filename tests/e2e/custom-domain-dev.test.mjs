// A development instance on a custom domain (lib/custom-domain.mjs: latchkey's TLS at https://clerk.example.test,
// the @clerk/express app at https://app.example.test, Chromium mapping both to 127.0.0.1), configured with exactly
// what latchkey prints: a pk_test_ key for a dev-browser host (latchkey-<hex>.lcl.dev, never contacted) and
// proxy_url https://clerk.example.test, passed as clerk-js's proxyUrl and as CLERK_PROXY_URL. clerk-js keeps its dev
// browser in __clerk_db_jwt on the app's host, which is what @clerk/backend demands in development.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { APP_HOST, FAPI_HOST, startCustomDomain } from './lib/custom-domain.mjs';
import { loadClerk, snapshot } from './lib/flows.mjs';
import { hostFromPublishableKey, skipWithoutBinary } from './lib/server.mjs';

const T = { timeout: 120000 };

describe('Development on a custom domain (printed key + proxy_url, TLS, @clerk/express)', { skip: skipWithoutBinary, timeout: 600000 }, () => {
  let d;

  before(async () => {
    d = await startCustomDomain({ instance: 'development' });
    assert.match(d.server.publishableKey, /^pk_test_/);
    assert.match(hostFromPublishableKey(d.server.publishableKey), /^latchkey-[0-9a-f]{12}\.lcl\.dev$/);
    assert.equal(d.server.proxyUrl, `https://${FAPI_HOST}`);
  });
  after(async () => { await d?.stop(); });

  it('clerk-js runs the dev-browser flow through the proxy URL, signs in, and the app server sees the user (handshake too)', T, () => d.withPage(async (page, p) => {
    const u = await d.makeUser();
    await d.openApp(page);
    await loadClerk(page);
    const calls = p.diag.fapi.filter(f => f.path !== '/v1/client/handshake');
    assert.ok(calls.length > 0);
    for (const f of calls) {
      assert.equal(new URL(f.url).origin, `https://${FAPI_HOST}`);
      assert.match(new URL(f.url).searchParams.get('__clerk_db_jwt') ?? '', /^dvb_/, f.url);
    }
    await d.signIn(page, u);
    assert.equal((await snapshot(page)).user?.id, u.id);
    const cookies = await p.context.cookies();
    assert.ok(cookies.some(c => c.name.startsWith('__clerk_db_jwt') && c.domain === APP_HOST), 'dev browser on the app host');
    assert.equal((await d.appAuth(page)).userId, u.id);

    await p.context.clearCookies({ name: /^__session/ });
    const before = p.diag.fapi.length;
    assert.equal((await d.appAuth(page)).userId, u.id);
    const hs = p.diag.fapi.slice(before).filter(f => f.path === '/v1/client/handshake');
    assert.equal(hs.length, 1);
    assert.equal(new URL(hs[0].url).host, FAPI_HOST);
    assert.match(new URL(hs[0].url).searchParams.get('__clerk_db_jwt') ?? '', /^dvb_/);
  }));

  it('a browser that never signed in is signed out on the app server (it gets a dev browser, no loop)', T, () => d.withPage(async (page, p) => {
    assert.equal((await d.appAuth(page)).userId, null);
    assert.ok(p.diag.fapi.filter(f => f.path === '/v1/client/handshake').length <= 1);
    assert.ok((await p.context.cookies()).some(c => c.name.startsWith('__clerk_db_jwt') && c.domain === APP_HOST));
  }));
});
