// @clerk/backend (createClerkClient, verifyToken, authenticateRequest) against latchkey's BAPI, with sessions
// created through the FAPI by a small node client (lib/fapi.mjs) that speaks the wire like clerk-js.
// Production instance: the node client is identified by the FAPI's `__client` cookie, and authenticateRequest
// needs no dev browser.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifyToken } from '@clerk/backend';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { FapiClient, createUserViaFapi } from './lib/fapi.mjs';
import { decodeJwt, skipWithoutBinary, startLatchkey, strongPassword, testEmail, uniq } from './lib/server.mjs';

const ORIGIN = 'http://localhost:3000'; // the app origin the node FAPI client claims (allowed_origins)
const T = { timeout: 60000 };

/** Asserts that `promise` rejects with a BAPI error of HTTP `status`. */
async function rejectsWithStatus(promise, status) {
  await assert.rejects(promise, e => {
    assert.equal(e.status, status, `expected HTTP ${status}, got ${e.status}: ${e.message} ${JSON.stringify(e.errors)}`);
    return true;
  });
}

describe('@clerk/backend against the BAPI', { skip: skipWithoutBinary, timeout: 600000 }, () => {
  let server;
  let bapi;

  before(async () => {
    server = await startLatchkey({
      instance: 'production',
      config: {
        allowed_origins: [ORIGIN],
        single_session_mode: false,
        jwt_templates: [{ name: 'short', claims: { kind: 'short' }, lifetime: 1 }],
      },
    });
    bapi = server.backendClient();
  });
  after(async () => { await server?.stop(); });

  const newFapi = async () => new FapiClient({ baseUrl: server.fapiUrl, origin: ORIGIN }).init();
  const newUser = async (extra = {}) => {
    const email = `${uniq('bk')}@example.com`;
    const password = strongPassword();
    const user = await bapi.users.createUser({ emailAddress: [email], password, skipPasswordChecks: true, ...extra });
    return { user, email, password };
  };
  /**
   * A user signed up through the FAPI (+clerk_test, 424242) and signed in on a fresh node client:
   * { user: { id }, email, password, fapi, sessionId }. FAPI-made, so token/session tests do not hinge on
   * BAPI user creation (which has its own tests).
   */
  const signedInUser = async () => {
    const email = testEmail('bkf');
    const password = strongPassword();
    const made = await createUserViaFapi(server, { email, password, origin: ORIGIN });
    const u = { user: { id: made.id }, email, password };
    const fapi = await newFapi();
    const si = await fapi.signInPassword(u.email, u.password);
    assert.equal(si.status, 'complete');
    await fapi.setActive(si.created_session_id);
    return { ...u, fapi, sessionId: si.created_session_id };
  };
  const verify = (token, extra = {}) => verifyToken(token, { secretKey: server.secretKey, apiUrl: server.bapiUrl, ...extra });

  it('rejects requests without the secret key', T, async () => {
    assert.equal((await server.bapi('/jwks', { key: null })).status, 401);
    assert.equal((await server.bapi('/jwks', { key: 'sk_test_wrongwrongwrongwrongwrong' })).status, 401);
    assert.equal((await server.bapi('/users', { key: 'sk_test_wrongwrongwrongwrongwrong' })).status, 401);
    const ok = await server.bapi('/jwks');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), 'application/json', '@clerk/backend needs exactly application/json');
  });

  it('users: create, get, list with totalCount, update, metadata merge', T, async () => {
    const { user, email } = await newUser({ firstName: 'Ada', lastName: 'Lovelace', publicMetadata: { plan: 'free' } });
    assert.match(user.id, /^user_/);
    assert.equal(user.firstName, 'Ada');
    assert.equal(user.lastName, 'Lovelace');
    assert.equal(user.primaryEmailAddress?.emailAddress, email);
    assert.equal(user.emailAddresses.length, 1);
    assert.equal(user.passwordEnabled, true);
    assert.equal(user.banned, false);
    assert.equal(user.locked, false);
    assert.deepEqual(user.publicMetadata, { plan: 'free' });
    assert.ok(user.createdAt > 1e12, 'timestamps are milliseconds');

    const got = await bapi.users.getUser(user.id);
    assert.equal(got.id, user.id);
    assert.equal(got.primaryEmailAddressId, user.primaryEmailAddressId);

    const byEmail = await bapi.users.getUserList({ emailAddress: [email] });
    assert.equal(byEmail.totalCount, 1);
    assert.deepEqual(byEmail.data.map(u => u.id), [user.id]);

    await newUser();
    const page = await bapi.users.getUserList({ limit: 1 });
    assert.equal(page.data.length, 1, 'limit=1 returns one user');
    assert.ok(page.totalCount >= 2, `totalCount ${page.totalCount}`);
    assert.equal(await bapi.users.getCount(), page.totalCount);

    const updated = await bapi.users.updateUser(user.id, { firstName: 'Augusta' });
    assert.equal(updated.firstName, 'Augusta');
    assert.equal(updated.lastName, 'Lovelace');

    let m = await bapi.users.updateUserMetadata(user.id, { publicMetadata: { tier: 2 }, privateMetadata: { secret: 'x' } });
    assert.deepEqual(m.publicMetadata, { plan: 'free', tier: 2 });
    assert.deepEqual(m.privateMetadata, { secret: 'x' });
    m = await bapi.users.updateUserMetadata(user.id, { unsafeMetadata: { theme: 'dark' } });
    assert.deepEqual(m.unsafeMetadata, { theme: 'dark' });
    assert.deepEqual(m.publicMetadata, { plan: 'free', tier: 2 }, 'untouched fields stay');
  });

  it('users: replaceUserMetadata (PUT /users/{id}/metadata, also used by updateUser with metadata)', T, async () => {
    const { user } = await newUser({ publicMetadata: { a: 1, b: 2 } });
    const r = await bapi.users.replaceUserMetadata(user.id, { publicMetadata: { c: 3 } });
    assert.deepEqual(r.publicMetadata, { c: 3 });
  });

  it('users: verifyPassword, ban/unban, lock/unlock (and their effect on FAPI sign-in), delete', T, async () => {
    const { user, email, password } = await newUser();
    assert.deepEqual(await bapi.users.verifyPassword({ userId: user.id, password }), { verified: true });
    await assert.rejects(bapi.users.verifyPassword({ userId: user.id, password: 'not-the-password-1' }),
      e => e.status >= 400 && e.status < 500);

    const fapi = await newFapi();
    assert.equal((await bapi.users.banUser(user.id)).banned, true);
    await assert.rejects(fapi.signInPassword(email, password), e => { assert.equal(e.code, 'user_banned', e.message); return true; });
    assert.equal((await bapi.users.unbanUser(user.id)).banned, false);

    assert.equal((await bapi.users.lockUser(user.id)).locked, true);
    await assert.rejects(fapi.signInPassword(email, password), e => { assert.equal(e.code, 'user_locked', e.message); return true; });
    assert.equal((await bapi.users.unlockUser(user.id)).locked, false);

    const si = await fapi.signInPassword(email, password);
    assert.equal(si.status, 'complete');

    const deleted = await bapi.users.deleteUser(user.id);
    assert.equal(deleted.id, user.id);
    await rejectsWithStatus(bapi.users.getUser(user.id), 404);
    // Deleting a user ends its sessions (the session may read as not active, or be gone).
    const gone = await bapi.sessions.getSession(si.created_session_id).then(x => x.status, e => e.status);
    assert.ok(gone === 404 || (typeof gone === 'string' && gone !== 'active'), `session after user deletion: ${gone}`);
    await assert.rejects(fapi.token(si.created_session_id), e => e.status >= 400);
  });

  it('email addresses: create, get, update (primary, verified), delete', T, async () => {
    const { user } = await newUser();
    const extra = `${uniq('second')}@example.com`;
    const created = await bapi.emailAddresses.createEmailAddress({ userId: user.id, emailAddress: extra, verified: true, primary: false });
    assert.match(created.id, /^idn_/);
    assert.equal(created.emailAddress, extra);
    assert.equal(created.verification?.status, 'verified');
    assert.deepEqual(created.linkedTo, []);

    const got = await bapi.emailAddresses.getEmailAddress(created.id);
    assert.equal(got.emailAddress, extra);

    await bapi.emailAddresses.updateEmailAddress(created.id, { primary: true });
    const u = await bapi.users.getUser(user.id);
    assert.equal(u.primaryEmailAddressId, created.id);
    assert.equal(u.emailAddresses.length, 2);

    const del = await bapi.emailAddresses.deleteEmailAddress(user.primaryEmailAddressId);
    assert.equal(del.id, user.primaryEmailAddressId);
    assert.equal(del.deleted, true);
    const after1 = await bapi.users.getUser(user.id);
    assert.deepEqual(after1.emailAddresses.map(e => e.id), [created.id]);
    await rejectsWithStatus(bapi.emailAddresses.getEmailAddress(user.primaryEmailAddressId), 404);
  });

  it('a user created through BAPI signs in through FAPI; sessions: list, get, getToken, revoke', T, async () => {
    const made = await newUser();
    const fapi = await newFapi();
    const si = await fapi.signInPassword(made.email, made.password);
    assert.equal(si.status, 'complete');
    await fapi.setActive(si.created_session_id);
    const u = { ...made, fapi, sessionId: si.created_session_id };
    const list = await bapi.sessions.getSessionList({ userId: u.user.id });
    assert.equal(list.totalCount, 1);
    assert.equal(list.data[0].id, u.sessionId);

    const sess = await bapi.sessions.getSession(u.sessionId);
    assert.equal(sess.status, 'active');
    assert.equal(sess.userId, u.user.id);
    assert.match(sess.clientId, /^client_/);

    const tok = await bapi.sessions.getToken(u.sessionId);
    const claims = await verify(tok.jwt);
    assert.equal(claims.sub, u.user.id);
    assert.equal(claims.sid, u.sessionId);

    const revoked = await bapi.sessions.revokeSession(u.sessionId);
    assert.equal(revoked.status, 'revoked');
    assert.equal((await bapi.sessions.getSessionList({ userId: u.user.id, status: 'active' })).totalCount, 0);
    // The browser can no longer mint tokens for it.
    await assert.rejects(u.fapi.token(u.sessionId), e => e.status >= 400);
    const client = (await u.fapi.req('GET', '/client')).response;
    assert.ok(!(client?.sessions ?? []).some(x => x.id === u.sessionId && x.status === 'active'), 'revoked session left the client');
  });

  it('clients: list, get, verifyClient with the __client cookie token', T, async () => {
    const u = await signedInUser();
    const clientId = (await bapi.sessions.getSession(u.sessionId)).clientId;
    const list = await bapi.clients.getClientList({ limit: 100 });
    assert.ok(list.totalCount >= 1);
    assert.ok(list.data.some(c => c.id === clientId), 'client listed');

    const c = await bapi.clients.getClient(clientId);
    assert.equal(c.id, clientId);
    assert.ok(c.sessionIds.includes(u.sessionId));
    assert.equal(c.lastActiveSessionId, u.sessionId);

    const token = u.fapi.cookie('__client');
    assert.ok(token, 'FAPI set __client');
    assert.match(u.fapi.rawSetCookie('__client'), /HttpOnly/i);
    const verified = await bapi.clients.verifyClient(token);
    assert.equal(verified.id, clientId);
  });

  it('a user signed up through FAPI is listed and updated through BAPI, and FAPI sees the change', T, async () => {
    const fapi = await newFapi();
    const email = testEmail('fapisignup');
    const su = await fapi.signUp({ email, password: strongPassword() }, async () => '424242');
    assert.equal(su.status, 'complete');
    const list = await bapi.users.getUserList({ emailAddress: [email] });
    assert.equal(list.totalCount, 1);
    const user = list.data[0];
    assert.equal(user.id, su.created_user_id);
    assert.equal(user.primaryEmailAddress?.verification?.status, 'verified');

    await bapi.users.updateUser(user.id, { firstName: 'Zed' });
    await bapi.users.updateUserMetadata(user.id, { publicMetadata: { role: 'admin' } });
    const client = (await fapi.req('GET', '/client')).response;
    const sess = client.sessions.find(x => x.id === su.created_session_id);
    assert.equal(sess.user.first_name, 'Zed');
    assert.deepEqual(sess.user.public_metadata, { role: 'admin' });
    const claims = await verify(await fapi.token(su.created_session_id));
    assert.equal(claims.sub, user.id);
  });

  it('JWT templates: create, get, list, update, getToken with template (BAPI and FAPI), delete', T, async () => {
    const name = uniq('tpl');
    const tpl = await bapi.jwtTemplates.create({ name, claims: { role: 'tester', email: '{{user.primary_email_address}}' }, lifetime: 120 });
    assert.equal(tpl.name, name);
    assert.deepEqual(tpl.claims, { role: 'tester', email: '{{user.primary_email_address}}' });
    assert.equal(tpl.lifetime, 120);
    assert.equal((await bapi.jwtTemplates.get(tpl.id)).name, name);
    const list = await bapi.jwtTemplates.list();
    assert.ok((list.data ?? list).some(t => t.id === tpl.id), 'template listed');

    const name2 = `${name}b`;
    const upd = await bapi.jwtTemplates.update({ templateId: tpl.id, name: name2, claims: { role: 'editor', email: '{{user.primary_email_address}}' }, lifetime: 90 });
    assert.equal(upd.name, name2);
    assert.equal(upd.lifetime, 90);

    const u = await signedInUser();
    const viaBapi = await bapi.sessions.getToken(u.sessionId, name2);
    const c1 = await verify(viaBapi.jwt);
    assert.equal(c1.role, 'editor');
    assert.equal(c1.email, u.email);
    assert.equal(c1.sub, u.user.id);
    assert.equal(c1.exp - c1.iat, 90);

    const viaFapi = await u.fapi.token(u.sessionId, name2);
    const c2 = await verify(viaFapi);
    assert.equal(c2.role, 'editor');
    assert.equal(c2.sub, u.user.id);

    const del = await bapi.jwtTemplates.delete(tpl.id);
    assert.equal(del.deleted, true);
    await rejectsWithStatus(bapi.jwtTemplates.get(tpl.id), 404);
    await rejectsWithStatus(bapi.sessions.getToken(u.sessionId, name2), 404);
  });

  it('verifyToken: accepts a fresh FAPI token; rejects tampered, foreign-signed and expired tokens', T, async () => {
    const u = await signedInUser();
    const token = await u.fapi.token(u.sessionId);
    const claims = await verify(token, { authorizedParties: [ORIGIN] });
    assert.equal(claims.sub, u.user.id);
    assert.equal(claims.sid, u.sessionId);
    assert.equal(claims.azp, ORIGIN);
    assert.ok(claims.exp > claims.iat);

    // Tampered payload, original signature.
    const [h, p, sig] = token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    payload.sub = 'user_someoneelse';
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
    await assert.rejects(verify(tampered), e => /signature/i.test(`${e.reason} ${e.message}`));

    // Signed by a foreign key that claims the same kid.
    const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
    const { header } = decodeJwt(token);
    const forged = await new SignJWT({ ...decodeJwt(token).payload }).setProtectedHeader({ alg: 'RS256', kid: header.kid, typ: 'JWT' }).sign(privateKey);
    await assert.rejects(verify(forged), e => /signature/i.test(`${e.reason} ${e.message}`));

    // A foreign kid is unknown after a JWKS refetch.
    const foreignKid = await new SignJWT({ ...decodeJwt(token).payload }).setProtectedHeader({ alg: 'RS256', kid: 'ins_foreign', typ: 'JWT' }).sign(privateKey);
    await assert.rejects(verify(foreignKid));

    // Wrong azp.
    await assert.rejects(verify(token, { authorizedParties: ['https://evil.example'] }));

    // Expired: template `short` (lifetime 1 s, from the config file), then wait past the 5 s default skew.
    const short = await u.fapi.token(u.sessionId, 'short');
    const sc = decodeJwt(short).payload;
    assert.equal(sc.exp - sc.iat, 1);
    assert.equal(sc.kind, 'short');
    await verify(short, { clockSkewInMs: 60000 }); // valid signature
    await sleep(Math.max(0, (sc.exp + 6) * 1000 - Date.now()) + 500);
    await assert.rejects(verify(short), e => /expired/i.test(`${e.reason} ${e.message}`));
  });

  it('authenticateRequest: signed in with __session + __client_uat, Bearer header; signed out without cookies', T, async () => {
    const u = await signedInUser();
    const token = await u.fapi.token(u.sessionId);
    const uat = u.fapi.cookie('__client_uat');
    assert.ok(Number(uat) > 0, `FAPI sets __client_uat in production (got ${uat})`);
    assert.ok(Number(uat) <= decodeJwt(token).payload.iat, '__client_uat not later than a fresh token iat');

    const cookieReq = new Request(`${ORIGIN}/dashboard`, { headers: { cookie: `__session=${token}; __client_uat=${uat}` } });
    let st = await bapi.authenticateRequest(cookieReq, { authorizedParties: [ORIGIN] });
    assert.equal(st.isSignedIn, true, `reason ${st.reason}: ${st.message}`);
    assert.equal(st.toAuth().userId, u.user.id);
    assert.equal(st.toAuth().sessionId, u.sessionId);

    const bearerReq = new Request(`${ORIGIN}/api/data`, { headers: { authorization: `Bearer ${token}` } });
    st = await bapi.authenticateRequest(bearerReq);
    assert.equal(st.isSignedIn, true, `reason ${st.reason}: ${st.message}`);
    assert.equal(st.toAuth().userId, u.user.id);

    st = await bapi.authenticateRequest(new Request(`${ORIGIN}/dashboard`));
    assert.equal(st.isSignedIn, false);
    assert.equal(st.status, 'signed-out');

    // After sign-out the FAPI resets __client_uat to 0 and the old pair no longer authenticates a new token mint.
    await u.fapi.signOutAll();
    assert.ok(!u.fapi.cookie('__client_uat') || u.fapi.cookie('__client_uat') === '0', `__client_uat after sign-out: ${u.fapi.cookie('__client_uat')}`);
  });

  it('handshake: document request with __client_uat but no __session → FAPI /v1/client/handshake → signed in', T, async () => {
    const u = await signedInUser();
    const uat = u.fapi.cookie('__client_uat');
    const docHeaders = { accept: 'text/html', 'sec-fetch-dest': 'document', cookie: `__client_uat=${uat}` };
    const st = await bapi.authenticateRequest(new Request(`${ORIGIN}/page?x=1`, { headers: docHeaders }));
    assert.equal(st.status, 'handshake', `status ${st.status} reason ${st.reason}`);
    const loc = new URL(st.headers.get('location'));
    assert.equal(loc.host, server.frontendApiHost);
    assert.equal(loc.pathname, '/v1/client/handshake');
    assert.equal(loc.searchParams.get('redirect_url'), `${ORIGIN}/page?x=1`);

    // The browser follows the redirect to the FAPI (here: the same path on the FAPI's local address).
    const r = await u.fapi.raw('GET', '/client/handshake', { query: Object.fromEntries(loc.searchParams) });
    assert.ok([302, 303, 307].includes(r.status), `handshake status ${r.status}: ${r.text}`);
    const back = new URL(r.headers.get('location'));
    assert.equal(`${back.origin}${back.pathname}`, `${ORIGIN}/page`);
    assert.ok(back.searchParams.get('__clerk_handshake') || back.searchParams.get('__clerk_handshake_nonce'), back.href);

    // Back at the app: the handshake resolves to signed in and sets the session cookies.
    const st2 = await bapi.authenticateRequest(new Request(back.href, { headers: docHeaders }));
    assert.equal(st2.isSignedIn, true, `status ${st2.status} reason ${st2.reason}: ${st2.message}`);
    assert.equal(st2.toAuth().userId, u.user.id);
    const setCookies = st2.headers.getSetCookie();
    assert.ok(setCookies.some(c => c.startsWith('__session=')), `directives: ${setCookies}`);
    assert.ok(setCookies.some(c => c.startsWith('__client_uat=')), `directives: ${setCookies}`);
  });
});
