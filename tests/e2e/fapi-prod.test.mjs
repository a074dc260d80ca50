// Production instance: pk_live_ key, no dev browser. The browser is identified by the FAPI's own HttpOnly
// `__client` cookie, and the FAPI (not clerk-js) sets `__client_uat` (+ its suffixed twin). clerk-js reaches the
// FAPI through the app's same-origin proxy (/__clerk), so those cookies land on the app's host.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { verifyToken } from '@clerk/backend';
import { newPage } from './lib/browser.mjs';
import { cookieMap, evalClerk, getToken, loadClerk, openAndLoad, setActive, signInPassword, signInPasswordTwoStep,
  signOut, signUpWithEmailCode, startBrowserSuite } from './lib/flows.mjs';
import { createUserViaFapi } from './lib/fapi.mjs';
import { decodeJwt, skipWithoutBinary, strongPassword, testEmail, uniq } from './lib/server.mjs';

const T = { timeout: 90000 };

/** clerk-wire.md section 4: first 8 chars of base64url(SHA-1(publishable key)). */
const cookieSuffix = pk => createHash('sha1').update(pk).digest('base64url').slice(0, 8);

describe('FAPI, production instance, clerk-js in Chromium behind a same-origin proxy', { skip: skipWithoutBinary, timeout: 600000 }, () => {
  let s;
  let bapi;
  const carol = { email: `${uniq('carol')}@example.com`, password: strongPassword() };

  before(async () => {
    s = await startBrowserSuite({
      instance: 'production',
      config: { single_session_mode: false, first_factors: ['password', 'email_code', 'email_link', 'reset_password_email_code'] },
    });
    assert.match(s.server.publishableKey, /^pk_live_/);
    bapi = s.server.backendClient();
  });
  let carolReady;
  const ensureCarol = () => (carolReady ??= createUserViaFapi(s.server, { ...carol, origin: s.app.origin }).then(u => { carol.id = u.id; }));
  after(async () => { await s?.stop(); });

  const verify = token =>
    verifyToken(token, { secretKey: s.server.secretKey, apiUrl: s.server.bapiUrl, authorizedParties: [s.app.origin] });

  it('load(): signed out, no dev browser, environment says production', T, () => s.withPage(async p => {
    const state = await openAndLoad(p.page, s.app.sameOriginUrl());
    assert.equal(state.loaded, true);
    assert.equal(state.user, null);
    const paths = p.diag.fapi.map(f => `${f.method} ${new URL(f.url).pathname}`);
    assert.ok(!paths.some(x => x.includes('dev_browser')), `prod must not use the dev browser: ${paths}`);
    assert.ok(paths.includes('GET /__clerk/v1/environment'), `paths: ${paths}`);
    assert.ok(paths.includes('GET /__clerk/v1/client'), `paths: ${paths}`);
    for (const f of p.diag.fapi) {
      assert.ok(f.url.startsWith(`${s.app.origin}/__clerk/v1/`), f.url);
      assert.equal(new URL(f.url).searchParams.get('__clerk_db_jwt'), null);
      assert.ok(f.status < 400, `${f.status} ${f.method} ${f.url}`);
    }
    const type = await evalClerk(p.page, clerk => clerk.environment?.displayConfig?.instanceEnvironmentType);
    assert.equal(type, 'production');
  }));

  it('sign-up (+clerk_test, 424242): HttpOnly __client, FAPI-set __client_uat, reload resumes, other browsers do not', T, () => s.withPage(async p => {
    await openAndLoad(p.page, s.app.sameOriginUrl());
    const email = testEmail('prod');
    const r = await signUpWithEmailCode(p.page, s.server, { email, password: strongPassword() });
    assert.equal(r.final.status, 'complete');
    assert.ok(r.final.clientHasSession);
    const active = await setActive(p.page, r.final.createdSessionId);
    assert.equal(active.email, email);
    const claims = await verify(await getToken(p.page));
    assert.equal(claims.sub, r.final.createdUserId);
    assert.equal(claims.sid, r.final.createdSessionId);

    const cookies = await cookieMap(p.context);
    const client = cookies.get('__client');
    assert.ok(client?.value, '__client cookie set through the proxy');
    assert.equal(client.httpOnly, true, '__client is HttpOnly');
    assert.equal(client.domain, 'localhost', '__client is host-only on the app host');
    const docCookie = await p.page.evaluate(() => document.cookie);
    assert.ok(!/(^|;\s*)__client=/.test(docCookie), '__client is not visible to scripts');

    const uat = cookies.get('__client_uat');
    assert.ok(uat, '__client_uat is set (by the FAPI in production)');
    assert.ok(Number(uat.value) > 0, `__client_uat=${uat.value}`);
    const suffixed = cookies.get(`__client_uat_${cookieSuffix(s.server.publishableKey)}`);
    assert.ok(suffixed, 'suffixed __client_uat_<suffix> is set');
    assert.equal(suffixed.value, uat.value);
    const freshIat = decodeJwt(await getToken(p.page, { skipCache: true })).payload.iat;
    assert.ok(Number(uat.value) <= freshIat, `__client_uat ${uat.value} must not be later than a fresh token iat ${freshIat}`);
    assert.equal(decodeJwt(cookies.get('__session').value).payload.sid, r.final.createdSessionId);

    // Reload: the __client cookie brings the session back.
    await p.page.reload();
    const state = await loadClerk(p.page);
    assert.equal(state.user, r.final.createdUserId);
    assert.equal(state.session, r.final.createdSessionId);
    const fapiCalls = p.diag.fapi.filter(f => f.method === 'GET' && new URL(f.url).pathname.endsWith('/v1/client'));
    assert.ok(fapiCalls.length >= 2);

    // After the reload clerk-js rewrites __session from the client's last_active_token, which came from a
    // same-origin GET (no Origin header, only Referer). An app server that checks authorizedParties must still
    // accept it, so the token needs the right azp.
    const after = await cookieMap(p.context);
    const reloadedToken = after.get('__session')?.value;
    assert.ok(reloadedToken, '__session after reload');
    const req = new Request(`${s.app.origin}/dashboard`, {
      headers: { cookie: `__session=${reloadedToken}; __client_uat=${after.get('__client_uat')?.value}` },
    });
    const st = await s.server.backendClient().authenticateRequest(req, { authorizedParties: [s.app.origin] });
    assert.equal(st.isSignedIn, true, `after reload: ${st.reason} ${st.message}; azp=${decodeJwt(reloadedToken).payload.azp}`);
    assert.equal(st.toAuth().sessionId, r.final.createdSessionId);

    // A different browser (fresh context, no cookies) is signed out.
    const other = await newPage(s.browser);
    try {
      const st = await openAndLoad(other.page, s.app.sameOriginUrl());
      assert.equal(st.user, null, 'another browser is not signed in');
    } finally {
      await other.close();
    }
  }));

  it('sign-out: clerk.signOut() → signed out, __client_uat=0, stays signed out after reload', T, () => s.withPage(async p => {
    await ensureCarol();
    await openAndLoad(p.page, s.app.sameOriginUrl());
    const si = await signInPassword(p.page, carol.email, carol.password);
    await setActive(p.page, si.createdSessionId);
    const out = await signOut(p.page);
    assert.equal(out.user, null);
    assert.deepEqual(out.signedIn, []);
    const cookies = await cookieMap(p.context);
    assert.equal(cookies.get('__client_uat')?.value, '0', '__client_uat reset to 0 by the FAPI');
    assert.ok(!cookies.get('__session')?.value, '__session removed');
    await p.page.reload();
    const state = await loadClerk(p.page);
    assert.equal(state.user, null);
    assert.notEqual((await bapi.sessions.getSession(si.createdSessionId)).status, 'active');
  }));

  it('sign-in with password (one step and two steps); errors keep codes; the app server authenticates the cookies', T, () => s.withPage(async p => {
    await ensureCarol();
    await openAndLoad(p.page, s.app.sameOriginUrl());
    await assert.rejects(
      evalClerk(p.page, (clerk, id) => clerk.client.signIn.create({ identifier: id, password: 'nope-Wrong-123', strategy: 'password' }), carol.email),
      e => e.code === 'form_password_incorrect');
    const two = await signInPasswordTwoStep(p.page, carol.email, carol.password);
    assert.equal(two.step1.status, 'needs_first_factor');
    assert.equal(two.status, 'complete');
    await setActive(p.page, two.createdSessionId);
    await signOut(p.page);

    const si = await signInPassword(p.page, carol.email, carol.password);
    assert.equal(si.status, 'complete');
    const active = await setActive(p.page, si.createdSessionId);
    assert.equal(active.user, carol.id);
    const token = await getToken(p.page, { skipCache: true });
    assert.equal((await verify(token)).sub, carol.id);

    // What an app server would do with the browser's cookies (@clerk/backend authenticateRequest).
    const cookies = await cookieMap(p.context);
    const cookieHeader = ['__session', '__client_uat'].map(n => `${n}=${cookies.get(n)?.value ?? ''}`).join('; ');
    const req = new Request(`${s.app.origin}/dashboard`, { headers: { cookie: cookieHeader } });
    const state = await bapi.authenticateRequest(req, { authorizedParties: [s.app.origin] });
    assert.equal(state.isSignedIn, true, `reason: ${state.reason} ${state.message}`);
    const auth = state.toAuth();
    assert.equal(auth.userId, carol.id);
    assert.equal(auth.sessionId, si.createdSessionId);
  }));

  // Issue 14: createEmailLinkFlow() polls the sign-in while the emailed link is opened in a second tab. The link's
  // host (this suite's public FAPI name) is not reachable from the browser, so the tab opens it through the app's
  // same-origin proxy (/__clerk), as it would reach an app whose FAPI is that proxy.
  it('email link: the link from the outbox opened in a second tab completes the first tab\'s sign-in', T, () => s.withPage(async p => {
    await ensureCarol();
    await openAndLoad(p.page, s.app.sameOriginUrl());
    const before = s.server.outboxCount(carol.email, 'email_link');
    await evalClerk(p.page, async (clerk, email) => {
      const si = await clerk.client.signIn.create({ identifier: email });
      const f = si.supportedFirstFactors.find(x => x.strategy === 'email_link');
      if (!f) throw new Error(`no email_link factor: ${JSON.stringify(si.supportedFirstFactors)}`);
      const { startEmailLinkFlow } = si.createEmailLinkFlow();
      window.__emailLink = startEmailLinkFlow({ emailAddressId: f.emailAddressId, redirectUrl: `${location.origin}/verified` })
        .then(r => ({ status: r.status, sessionId: r.createdSessionId, verification: r.firstFactorVerification.status }),
          e => ({ error: String(e?.message ?? e) }));
      return true;
    }, carol.email);
    const link = new URL(await s.server.waitForCode(carol.email, { kind: 'email_link', after: before }));
    assert.equal(`${link.origin}${link.pathname}`, `${s.server.frontendApi}/v1/verify`);
    const tab = await p.context.newPage();
    try {
      await tab.goto(`${s.app.origin}/__clerk${link.pathname}${link.search}`);
      const landed = new URL(tab.url());
      assert.equal(`${landed.origin}${landed.pathname}`, `${s.app.origin}/verified`);
      assert.equal(landed.searchParams.get('__clerk_status'), 'verified');
      const sid = landed.searchParams.get('__clerk_created_session');
      assert.match(sid ?? '', /^sess_/);
      const result = await evalClerk(p.page, () => window.__emailLink);
      assert.deepEqual(result, { status: 'complete', sessionId: sid, verification: 'verified' });
      const active = await setActive(p.page, sid);
      assert.equal(active.user, carol.id);
      // Single use: the same link again reports failed.
      await tab.goto(`${s.app.origin}/__clerk${link.pathname}${link.search}`);
      assert.equal(new URL(tab.url()).searchParams.get('__clerk_status'), 'failed');
    } finally {
      await tab.close();
    }
    await signOut(p.page);
  }));

  it('tickets: a BAPI sign-in token in clerk-js, an actor token whose session token has act, an invitation sign-up', T, async () => {
    await ensureCarol();
    const ticketOf = url => new URL(url).searchParams.get('__clerk_ticket') ?? new URL(url).searchParams.get('ticket');
    // A sign-in token (@clerk/backend signInTokens) redeemed by clerk-js: signIn.create({ strategy: 'ticket' }).
    const sit = await bapi.signInTokens.createSignInToken({ userId: carol.id, expiresInSeconds: 600 });
    assert.equal(sit.status, 'pending');
    await s.withPage(async p => {
      await openAndLoad(p.page, s.app.sameOriginUrl());
      const si = await evalClerk(p.page, async (clerk, ticket) => {
        const r = await clerk.client.signIn.create({ strategy: 'ticket', ticket });
        return { status: r.status, createdSessionId: r.createdSessionId };
      }, sit.token);
      assert.equal(si.status, 'complete');
      const active = await setActive(p.page, si.createdSessionId);
      assert.equal(active.user, carol.id);
      assert.equal((await verify(await getToken(p.page, { skipCache: true }))).act, undefined);
    });
    // An actor token: an operator signs in as carol in another browser; every token has act, the app sees the actor.
    const admin = await bapi.users.createUser({ emailAddress: [`${uniq('admin')}@example.com`], password: strongPassword(), skipPasswordChecks: true });
    const act = await bapi.actorTokens.create({ userId: carol.id, actor: { sub: admin.id }, sessionMaxDurationInSeconds: 600 });
    assert.equal(act.actor.sub, admin.id);
    await s.withPage(async p => {
      await openAndLoad(p.page, s.app.sameOriginUrl());
      const si = await evalClerk(p.page, async (clerk, ticket) => {
        const r = await clerk.client.signIn.create({ strategy: 'ticket', ticket });
        return { status: r.status, createdSessionId: r.createdSessionId };
      }, ticketOf(act.url) ?? act.token);
      assert.equal(si.status, 'complete');
      await setActive(p.page, si.createdSessionId);
      const actor = await evalClerk(p.page, clerk => clerk.session?.actor ?? null);
      assert.equal(actor?.sub, admin.id);
      const claims = await verify(await getToken(p.page, { skipCache: true }));
      assert.equal(claims.sub, carol.id);
      assert.equal(claims.act?.sub, admin.id);
      const cookies = await cookieMap(p.context);
      const cookieHeader = ['__session', '__client_uat'].map(n => `${n}=${cookies.get(n)?.value ?? ''}`).join('; ');
      const state = await bapi.authenticateRequest(new Request(`${s.app.origin}/dashboard`, { headers: { cookie: cookieHeader } }),
        { authorizedParties: [s.app.origin] });
      assert.equal(state.isSignedIn, true, `reason: ${state.reason} ${state.message}`);
      assert.equal(state.toAuth().actor?.sub, admin.id);
      assert.equal(state.toAuth().userId, carol.id);
    });
    // An invitation (@clerk/backend invitations): clerk-js signs up with its ticket; the metadata lands on the user.
    const email = `${uniq('invited')}@example.com`;
    const inv = await bapi.invitations.createInvitation({ emailAddress: email, publicMetadata: { plan: 'pro' }, notify: false });
    assert.equal(inv.status, 'pending');
    await s.withPage(async p => {
      await openAndLoad(p.page, s.app.sameOriginUrl());
      const su = await evalClerk(p.page, async (clerk, ticket, password) => {
        const r = await clerk.client.signUp.create({ strategy: 'ticket', ticket, password });
        return { status: r.status, userId: r.createdUserId, email: r.emailAddress };
      }, ticketOf(inv.url), strongPassword());
      assert.equal(su.status, 'complete');
      assert.equal(su.email, email);
      assert.equal((await bapi.users.getUser(su.userId)).publicMetadata.plan, 'pro');
    });
    const list = await bapi.invitations.getInvitationList({ status: 'accepted' });
    assert.ok(list.data.some(i => i.id === inv.id), JSON.stringify(list));
  });
});
