// Passkeys with the unmodified clerk-js 6.40.0 in Chromium (issue 14), the authenticator being Chromium's own
// DevTools virtual authenticator (WebAuthn.enable + WebAuthn.addVirtualAuthenticator through playwright-core's CDP
// session: CTAP2, internal transport, resident keys, user verification). A user signed in with a password
// registers a passkey (user.createPasskey()), signs out, signs in with it naming no one
// (signIn.authenticateWithPasskey({ flow: 'discoverable' })), renames it and deletes it. The app page is on
// http://localhost (a secure context) and the RP ID is "localhost". One browser, one page, one server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { verifyToken } from '@clerk/backend';
import { evalClerk, getToken, openAndLoad, setActive, signInPassword, signOut, startBrowserSuite } from './lib/flows.mjs';
import { skipWithoutBinary, strongPassword, uniq } from './lib/server.mjs';

const T = { timeout: 120000 };

describe('passkeys: registration and discoverable sign-in with clerk-js in Chromium', { skip: skipWithoutBinary, timeout: 300000 }, () => {
  let s;
  const fay = { email: `${uniq('fay')}@example.com`, password: strongPassword() };

  before(async () => {
    s = await startBrowserSuite({
      instance: 'production',
      config: { first_factors: ['password', 'email_code', 'passkey'], passkeys: { rp_id: 'localhost', show_sign_in_button: true } },
    });
    const u = await s.server.backendClient().users.createUser({ emailAddress: [fay.email], password: fay.password });
    fay.id = u.id;
  });
  after(async () => { await s?.stop(); });

  it('createPasskey → sign out → authenticateWithPasskey (discoverable) → rename → delete', T, () => s.withPage(async p => {
    const cdp = await p.context.newCDPSession(p.page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
        isUserVerified: true, automaticPresenceSimulation: true,
      },
    });

    // clerk-js reports no WebAuthn support in a browser driven by automation (navigator.webdriver, which playwright
    // sets); the page sees an ordinary navigator instead.
    await p.page.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false, configurable: true });
    });
    await openAndLoad(p.page, s.app.sameOriginUrl());
    const env = await evalClerk(p.page, clerk => ({
      passkey: clerk.environment.userSettings.attributes.passkey?.enabled ?? null,
      button: clerk.environment.userSettings.passkeySettings?.show_sign_in_button ?? null,
    }));
    assert.equal(env.passkey, true);
    assert.equal(env.button, true);

    const si = await signInPassword(p.page, fay.email, fay.password);
    assert.equal(si.status, 'complete');
    await setActive(p.page, si.createdSessionId);

    const created = await evalClerk(p.page, async clerk => {
      const pk = await clerk.user.createPasskey();
      await clerk.user.reload();
      return { id: pk.id, status: pk.verification?.status, listed: clerk.user.passkeys.map(x => x.id) };
    });
    assert.match(created.id, /^idn_/);
    assert.equal(created.status, 'verified');
    assert.deepEqual(created.listed, [created.id]);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].rpId, 'localhost');
    assert.equal(credentials[0].isResidentCredential, true);

    await signOut(p.page);
    const signedIn = await evalClerk(p.page, async clerk => {
      const r = await clerk.client.signIn.authenticateWithPasskey({ flow: 'discoverable' });
      return { status: r.status, createdSessionId: r.createdSessionId };
    });
    assert.equal(signedIn.status, 'complete');
    const active = await setActive(p.page, signedIn.createdSessionId);
    assert.equal(active.user, fay.id);
    const claims = await verifyToken(await getToken(p.page, { skipCache: true }), {
      secretKey: s.server.secretKey, apiUrl: s.server.bapiUrl, authorizedParties: [s.app.origin],
    });
    assert.equal(claims.sub, fay.id);
    const after1 = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.ok(after1.credentials[0].signCount >= 1);

    const renamed = await evalClerk(p.page, async clerk => {
      const pk = clerk.user.passkeys[0];
      await pk.update({ name: 'Work laptop' });
      await clerk.user.reload();
      return { name: clerk.user.passkeys[0].name, lastUsed: clerk.user.passkeys[0].lastUsedAt !== null };
    });
    assert.equal(renamed.name, 'Work laptop');
    assert.equal(renamed.lastUsed, true);

    const deleted = await evalClerk(p.page, async clerk => {
      const d = await clerk.user.passkeys[0].delete();
      await clerk.user.reload();
      return { deleted: d.deleted, left: clerk.user.passkeys.length };
    });
    assert.equal(deleted.deleted, true);
    assert.equal(deleted.left, 0);

    // The credential still sits in the authenticator, but it no longer signs anyone in.
    await signOut(p.page);
    const refused = await evalClerk(p.page, async clerk => {
      try {
        await clerk.client.signIn.authenticateWithPasskey({ flow: 'discoverable' });
        return 'accepted';
      } catch (e) {
        return e.errors?.[0]?.code ?? e.code ?? String(e);
      }
    });
    assert.equal(refused, 'passkey_not_found');
  }));
});
