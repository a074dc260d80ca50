// Development instance: pk_test_ key whose host ends in .accounts.dev, so clerk-js runs the dev-browser flow
// (POST /v1/dev_browser, ?__clerk_db_jwt= on every request) and writes every app cookie itself. clerk-js reaches
// the FAPI through the app's same-origin proxy (/__clerk) unless a test says otherwise.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { verifyToken } from '@clerk/backend';
import { cookieMap, evalClerk, getToken, loadClerk, openAndLoad, setActive, signInEmailCode, signInPassword,
  signInPasswordTwoStep, signOut, signUpWithEmailCode, snapshot, startBrowserSuite } from './lib/flows.mjs';
import { createUserViaFapi } from './lib/fapi.mjs';
import { decodeJwt, skipWithoutBinary, strongPassword, testEmail, uniq } from './lib/server.mjs';

const T = { timeout: 90000 };

describe('FAPI, development instance, clerk-js in Chromium', { skip: skipWithoutBinary, timeout: 600000 }, () => {
  let s; // suite context: server, app, browser, withPage
  let bapi;
  const alice = { email: `${uniq('alice')}@example.com`, password: strongPassword() };
  const bob = { email: `${uniq('bob')}@example.com`, password: strongPassword() };

  before(async () => {
    s = await startBrowserSuite({ instance: 'development', config: { single_session_mode: false } });
    assert.match(s.server.publishableKey, /^pk_test_/);
    bapi = s.server.backendClient();
  });
  // alice and bob are signed up through the FAPI (node client, outbox codes) on first use, so a missing BAPI
  // endpoint does not take the FAPI tests down with it.
  let users;
  const ensureUsers = () => (users ??= Promise.all([alice, bob].map(async u => {
    u.id = (await createUserViaFapi(s.server, { ...u, origin: s.app.origin })).id;
  })));
  after(async () => { await s?.stop(); });

  /** alice and bob exist; the page loaded clerk-js through the app's proxy, signed out. */
  const openWithUsers = async p => {
    await ensureUsers();
    await openAndLoad(p.page, s.app.sameOriginUrl());
  };
  /** The sign-in `si` clerk-js made on the page completed, and its session, made active, is `user`'s. */
  const activateCompleted = async (p, si, user) => {
    assert.equal(si.status, 'complete');
    const active = await setActive(p.page, si.createdSessionId);
    assert.equal(active.user, user.id);
    return active;
  };

  const verify = (token, extra = {}) =>
    verifyToken(token, { secretKey: s.server.secretKey, apiUrl: s.server.bapiUrl, authorizedParties: [s.app.origin], ...extra });

  it('load(): signed out, dev browser created, every FAPI call goes through the proxy', T, () => s.withPage(async p => {
    const state = await openAndLoad(p.page, s.app.sameOriginUrl());
    assert.equal(state.loaded, true);
    assert.equal(state.user, null);
    assert.equal(state.session, null);

    const paths = p.diag.fapi.map(f => `${f.method} ${new URL(f.url).pathname}`);
    assert.ok(paths.includes('POST /__clerk/v1/dev_browser'), `no dev_browser call: ${paths}`);
    assert.ok(paths.some(x => x === 'POST /__clerk/v1/environment' || x === 'GET /__clerk/v1/environment'), `no environment call: ${paths}`);
    assert.ok(paths.includes('GET /__clerk/v1/client'), `no client call: ${paths}`);
    for (const f of p.diag.fapi) {
      assert.ok(f.url.startsWith(`${s.app.origin}/__clerk/v1/`), `FAPI call bypassed the proxy: ${f.url}`);
      assert.ok(f.status < 400, `FAPI call failed: ${f.status} ${f.method} ${f.url}`);
    }
    const afterDevBrowser = p.diag.fapi.filter(f => !f.url.includes('/v1/dev_browser'));
    assert.ok(afterDevBrowser.every(f => new URL(f.url).searchParams.get('__clerk_db_jwt')), 'requests after dev_browser carry __clerk_db_jwt');

    const env = await evalClerk(p.page, clerk => ({
      type: clerk.environment?.displayConfig?.instanceEnvironmentType,
      singleSession: clerk.environment?.authConfig?.singleSessionMode,
    }));
    assert.equal(env.type, 'development');
    assert.equal(env.singleSession, false);

    const cookies = await cookieMap(p.context);
    assert.ok(cookies.get('__clerk_db_jwt')?.value, 'clerk-js stores the dev-browser token in __clerk_db_jwt');
  }));

  it('sign-up: email + password + email code from the outbox, setActive, token verifies in @clerk/backend', T, () => s.withPage(async p => {
    await openAndLoad(p.page, s.app.sameOriginUrl());
    const email = `${uniq('signup')}@example.com`; // not +clerk_test: the code must come from the outbox
    const password = strongPassword();
    const r = await signUpWithEmailCode(p.page, s.server, { email, password, useOutbox: true });
    assert.equal(r.created.status, 'missing_requirements');
    assert.deepEqual(r.created.unverifiedFields, ['email_address']);
    assert.equal(r.created.clientSignUpId, r.created.id, 'the piggy-backed client carries sign_up');
    assert.equal(r.prepared.verification.status, 'unverified');
    assert.equal(r.prepared.verification.strategy, 'email_code');
    assert.match(r.code, /^\d{6}$/);
    assert.equal(r.final.status, 'complete');
    assert.equal(r.final.verification, 'verified');
    assert.ok(r.final.createdSessionId && r.final.createdUserId);
    assert.ok(r.final.clientHasSession, 'piggy-backed client contains created_session_id');

    const active = await setActive(p.page, r.final.createdSessionId);
    assert.equal(active.session, r.final.createdSessionId);
    assert.equal(active.user, r.final.createdUserId);
    assert.equal(active.email, email);

    const token = await getToken(p.page);
    const claims = await verify(token);
    assert.equal(claims.sub, r.final.createdUserId);
    assert.equal(claims.sid, r.final.createdSessionId);
    assert.equal(claims.azp, s.app.origin);
    assert.equal(claims.iss, `https://${s.server.frontendApiHost}`);
    const { header } = decodeJwt(token);
    assert.equal(header.alg, 'RS256');
    assert.ok(header.kid);

    // A forced refresh mints a new token for the same session.
    const fresh = await getToken(p.page, { skipCache: true });
    const freshClaims = await verify(fresh);
    assert.equal(freshClaims.sid, r.final.createdSessionId);
    assert.ok(freshClaims.iat >= claims.iat);

    // clerk-js wrote the app cookies itself (dev instance on localhost).
    const cookies = await cookieMap(p.context);
    assert.equal(decodeJwt(cookies.get('__session').value).payload.sid, r.final.createdSessionId);
    assert.ok(Number(cookies.get('__client_uat')?.value) > 0, '__client_uat is a non-zero timestamp');

    // The user exists on the backend side with the verified address.
    const u = await bapi.users.getUser(r.final.createdUserId);
    assert.equal(u.primaryEmailAddress?.emailAddress, email);
    assert.equal(u.primaryEmailAddress?.verification?.status, 'verified');
    assert.equal(u.passwordEnabled, true);
  }));

  it('sign-up: +clerk_test address, wrong code rejected, 424242 accepted', T, () => s.withPage(async p => {
    await openAndLoad(p.page, s.app.sameOriginUrl());
    const email = testEmail('tm');
    const password = strongPassword();
    await evalClerk(p.page, async (clerk, email, password) => {
      await clerk.client.signUp.create({ emailAddress: email, password });
      await clerk.client.signUp.prepareEmailAddressVerification({ strategy: 'email_code' });
    }, email, password);
    await assert.rejects(
      evalClerk(p.page, clerk => clerk.client.signUp.attemptEmailAddressVerification({ code: '000001' }).then(() => 'accepted')),
      e => { assert.equal(e.code, 'form_code_incorrect', e.message); assert.notEqual(e.status, 401); return true; });
    const done = await evalClerk(p.page, async clerk => {
      const su = await clerk.client.signUp.attemptEmailAddressVerification({ code: '424242' });
      await clerk.setActive({ session: su.createdSessionId });
      return { status: su.status, user: clerk.user?.primaryEmailAddress?.emailAddress };
    });
    assert.equal(done.status, 'complete');
    assert.equal(done.user, email);
  }));

  it('sign-in: password in one step, then setActive', T, () => s.withPage(async p => {
    await openWithUsers(p);
    const si = await signInPassword(p.page, alice.email, alice.password);
    assert.ok(si.createdSessionId);
    assert.ok(si.clientHasSession, 'piggy-backed client contains created_session_id');
    const active = await activateCompleted(p, si, alice);
    assert.equal(active.email, alice.email);
    const claims = await verify(await getToken(p.page));
    assert.equal(claims.sub, alice.id);
    assert.equal(claims.sid, si.createdSessionId);
  }));

  it('sign-in: identifier first, then attemptFirstFactor with the password', T, () => s.withPage(async p => {
    await openWithUsers(p);
    const si = await signInPasswordTwoStep(p.page, alice.email, alice.password);
    assert.equal(si.step1.status, 'needs_first_factor');
    assert.equal(si.step1.identifier, alice.email);
    assert.ok(si.step1.factors.includes('password'), `factors: ${si.step1.factors}`);
    assert.ok(si.step1.factors.includes('email_code'), `factors: ${si.step1.factors}`);
    await activateCompleted(p, si, alice);
  }));

  it('sign-in: email code (prepareFirstFactor + attemptFirstFactor), code from the outbox', T, () => s.withPage(async p => {
    await openWithUsers(p);
    const si = await signInEmailCode(p.page, s.server, alice.email, { useOutbox: true });
    assert.equal(si.step1.verification.status, 'unverified');
    assert.equal(si.step1.verification.strategy, 'email_code');
    assert.ok(si.step1.emailAddressId);
    await activateCompleted(p, si, alice);
  }));

  it('sign-in errors: wrong password is form_password_incorrect, unknown identifier is form_identifier_not_found', T, () => s.withPage(async p => {
    await openWithUsers(p);
    const attempt = (fn, ...a) => evalClerk(p.page, fn, ...a).then(() => assert.fail('expected an error'), e => e);

    let e = await attempt((clerk, id) => clerk.client.signIn.create({ identifier: id, password: 'definitely-Wrong-9', strategy: 'password' }), alice.email);
    assert.equal(e.code, 'form_password_incorrect', e.message);
    assert.ok(e.status >= 400 && e.status < 500 && e.status !== 401, `status ${e.status}`);

    e = await attempt(async (clerk, id) => {
      await clerk.client.signIn.create({ identifier: id });
      return clerk.client.signIn.attemptFirstFactor({ strategy: 'password', password: 'definitely-Wrong-9' });
    }, alice.email);
    assert.equal(e.code, 'form_password_incorrect', e.message);

    e = await attempt(clerk => clerk.client.signIn.create({ identifier: `nobody-${Date.now()}@example.com` }));
    assert.equal(e.code, 'form_identifier_not_found', e.message);
    assert.notEqual(e.status, 401);

    const state = await snapshot(p.page);
    assert.equal(state.user, null, 'still signed out');
    assert.equal(state.loaded, true);
  }));

  it('sign-out: clerk.signOut() ends the session, clears __session, __client_uat=0', T, () => s.withPage(async p => {
    await openWithUsers(p);
    const si = await signInPassword(p.page, alice.email, alice.password);
    await setActive(p.page, si.createdSessionId);
    assert.ok((await cookieMap(p.context)).get('__session')?.value);

    const out = await signOut(p.page);
    assert.equal(out.user, null);
    assert.equal(out.session, null);
    assert.deepEqual(out.signedIn, []);
    const cookies = await cookieMap(p.context);
    assert.ok(!cookies.get('__session')?.value, '__session removed');
    assert.equal(cookies.get('__client_uat')?.value, '0');

    const sess = await bapi.sessions.getSession(si.createdSessionId);
    assert.notEqual(sess.status, 'active');

    // The server agrees: a fresh load on the same client is signed out.
    await p.page.reload();
    const state = await loadClerk(p.page);
    assert.equal(state.user, null);
  }));

  it('reload: the session survives page.reload() + load()', T, () => s.withPage(async p => {
    await openWithUsers(p);
    const si = await signInPassword(p.page, bob.email, bob.password);
    await setActive(p.page, si.createdSessionId);
    await p.page.reload();
    const state = await loadClerk(p.page);
    assert.equal(state.user, bob.id);
    assert.equal(state.session, si.createdSessionId);
    const claims = await verify(await getToken(p.page, { skipCache: true }));
    assert.equal(claims.sid, si.createdSessionId);
  }));

  it('multi-session: two users on one client, setActive switches, signOut({sessionId}) and signOut() all', T, () => s.withPage(async p => {
    await openWithUsers(p);
    const a = await signInPassword(p.page, alice.email, alice.password);
    await setActive(p.page, a.createdSessionId);
    const b = await signInPassword(p.page, bob.email, bob.password);
    let st = await activateCompleted(p, b, bob);
    assert.equal(st.session, b.createdSessionId);
    assert.deepEqual([...st.signedIn].sort(), [a.createdSessionId, b.createdSessionId].sort());

    st = await setActive(p.page, a.createdSessionId);
    assert.equal(st.session, a.createdSessionId);
    assert.equal(st.user, alice.id);
    assert.equal((await verify(await getToken(p.page, { skipCache: true }))).sub, alice.id);

    st = await setActive(p.page, b.createdSessionId);
    assert.equal(st.user, bob.id);
    assert.equal((await verify(await getToken(p.page, { skipCache: true }))).sub, bob.id);

    // The switch is server-side too: after a reload the last active session is still bob's.
    await p.page.reload();
    const reloaded = await loadClerk(p.page);
    assert.equal(reloaded.session, b.createdSessionId);

    // Sign out one (the inactive one): the other stays active.
    let out = await signOut(p.page, { sessionId: a.createdSessionId });
    assert.equal(out.session, b.createdSessionId);
    assert.deepEqual(out.signedIn, [b.createdSessionId]);

    // Sign in alice again, then sign out everything.
    const a2 = await signInPassword(p.page, alice.email, alice.password);
    await setActive(p.page, a2.createdSessionId);
    out = await signOut(p.page);
    assert.equal(out.user, null);
    assert.deepEqual(out.signedIn, []);
    const snap = await snapshot(p.page);
    assert.deepEqual(snap.client.signedIn, []);
    for (const sid of [b.createdSessionId, a2.createdSessionId]) {
      assert.notEqual((await bapi.sessions.getSession(sid)).status, 'active', `session ${sid} still active`);
    }
  }));

  it('direct cross-origin FAPI (proxyUrl http://127.0.0.1:<port>): load, sign in, token (CORS with credentials)', T, () => s.withPage(async p => {
    await ensureUsers();
    const proxiedBefore = s.app.proxied().length;
    const state = await openAndLoad(p.page, s.app.directUrl());
    assert.equal(state.loaded, true);
    assert.equal(state.user, null);
    for (const f of p.diag.fapi) {
      assert.ok(f.url.startsWith(`${s.server.fapiUrl}/v1/`), `FAPI call not direct: ${f.url}`);
    }
    const si = await signInPassword(p.page, bob.email, bob.password);
    const active = await setActive(p.page, si.createdSessionId);
    assert.equal(active.user, bob.id);
    const claims = await verify(await getToken(p.page, { skipCache: true }));
    assert.equal(claims.sub, bob.id);
    assert.equal(claims.azp, s.app.origin);
    for (const f of p.diag.fapi) assert.ok(f.status < 400, `FAPI call failed: ${f.status} ${f.method} ${f.url}`);
    assert.equal(s.app.proxied().length, proxiedBefore, 'nothing went through the app proxy in direct mode');
  }));
});
