// Production on a custom domain, as a real deployment runs it: the FAPI at https://clerk.example.test (latchkey's
// own TLS), the app at https://app.example.test (an Express server with @clerk/express's unmodified
// clerkMiddleware() + getAuth(req)), Chromium mapping both names to 127.0.0.1 (lib/custom-domain.mjs). No proxyUrl,
// no allowed_origins: clerk-js on the app page talks to https://<key host> directly and the FAPI accepts the app's
// origin because it is on the instance's site. One latchkey, one app server and one browser for the file; each
// test gets a fresh browser context.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { APP_HOST, FAPI_HOST, startCustomDomain } from './lib/custom-domain.mjs';
import { loadClerk, signOut, snapshot } from './lib/flows.mjs';
import { hostFromPublishableKey, skipWithoutBinary } from './lib/server.mjs';

const T = { timeout: 120000 };

describe('Production on a custom domain (clerk.example.test / app.example.test, TLS, @clerk/express)', { skip: skipWithoutBinary, timeout: 600000 }, () => {
  let d;

  before(async () => {
    d = await startCustomDomain({ instance: 'production' });
    assert.match(d.server.publishableKey, /^pk_live_/);
    assert.equal(hostFromPublishableKey(d.server.publishableKey), FAPI_HOST);
    assert.equal(d.server.proxyUrl, '', 'the SDKs reach https://clerk.example.test themselves');
  });
  after(async () => { await d?.stop(); });

  it('clerk-js on the app talks to https://clerk.example.test (site origin accepted) and signs in; the app server sees the user', T, () => d.withPage(async (page, p) => {
    const u = await d.makeUser();
    await d.openApp(page);
    const loaded = await loadClerk(page);
    assert.equal(loaded.loaded, true);
    assert.equal(loaded.user, null);
    // Every FAPI call went straight to the custom domain, over TLS, and none was refused.
    assert.ok(p.diag.fapi.length > 0);
    for (const f of p.diag.fapi) assert.equal(new URL(f.url).origin, `https://${FAPI_HOST}`);
    assert.deepEqual(p.diag.failed, []);

    await d.signIn(page, u);
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

    const me = await d.appAuth(page);
    assert.equal(me.userId, u.id, 'clerkMiddleware() + getAuth(req) see the signed-in user');
    assert.equal(me.sessionId, snap.session.id);
  }));

  it('an app server with no __session yet: the handshake through clerk.example.test signs the request in', T, () => d.withPage(async (page, p) => {
    const u = await d.makeUser();
    await d.openApp(page);
    await loadClerk(page);
    await d.signIn(page, u);
    // As on the first visit to another app of the site: __client_uat is there, __session is not.
    await p.context.clearCookies({ name: /^__session/ });
    assert.ok(!(await p.context.cookies()).some(c => c.name.startsWith('__session')));
    const before = p.diag.fapi.length;
    const me = await d.appAuth(page);
    assert.equal(me.userId, u.id);
    const hs = p.diag.fapi.slice(before).filter(f => f.path === '/v1/client/handshake');
    assert.equal(hs.length, 1, 'one handshake');
    assert.equal(hs[0].status, 307);
    assert.equal(new URL(hs[0].url).host, FAPI_HOST);
    // The handshake's directives put __session back on the app host.
    assert.ok((await p.context.cookies()).some(c => c.name === '__session' && c.domain === APP_HOST));
  }));

  it('a browser that never signed in is signed out on the app server, without a handshake', T, () => d.withPage(async (page, p) => {
    const me = await d.appAuth(page);
    assert.equal(me.userId, null);
    assert.equal(p.diag.fapi.filter(f => f.path === '/v1/client/handshake').length, 0);
  }));

  it('sign-out from the app clears __client_uat on the site: the app server sees it signed out', T, () => d.withPage(async (page, p) => {
    const u = await d.makeUser();
    await d.openApp(page);
    await loadClerk(page);
    await d.signIn(page, u);
    assert.equal((await d.appAuth(page)).userId, u.id);
    await d.openApp(page);
    await loadClerk(page);
    await signOut(page);
    const uat = (await p.context.cookies()).find(c => c.name === '__client_uat' && c.domain === '.example.test');
    assert.equal(uat?.value, '0');
    assert.equal((await d.appAuth(page)).userId, null);
  }));
});
