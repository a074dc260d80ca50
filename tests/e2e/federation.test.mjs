// Social sign-in in the browser (issue 15): an upstream OpenID provider (`oidc-provider` from npm, its own login and
// consent pages, RS256 ID tokens from its own JWKS) on https://idp.localhost:<port> with a certificate from a test CA
// this file makes (lib/tls.mjs), configured in latchkey as `oauth_custom_idp` by its issuer (discovery) with that
// CA as its `ca_file` (no allow_http: libcurl verifies the chain and the host name). The app page (another port) loads the unmodified
// clerk-js from latchkey's /npm/ and calls signUp/signIn.authenticateWithRedirect(); Chromium goes to the provider,
// the test completes its login and consent by posting its forms, the provider redirects to latchkey's
// /v1/oauth_callback, which exchanges the code (PKCE, client_secret_basic) and redirects to the app's
// /sso-callback, where clerk-js's handleRedirectCallback() finishes (sign-up, sign-in, or the sign-in → sign-up
// transfer for an identity latchkey does not know yet). @clerk/backend then sees the user and its external account.
//
// The provider's host name: `idp.localhost`. Chromium maps it to 127.0.0.1 with --host-resolver-rules and trusts
// just the provider's certificate (--ignore-certificate-errors-spki-list); libcurl resolves every *.localhost name
// to the loopback itself (RFC 6761), so latchkey needs no test-only resolver override. The app and latchkey stay
// on plain loopback http (they are not what this file is about).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { generateKeyPairSync, sign as signWith } from 'node:crypto';
import { launchBrowser, newPage } from './lib/browser.mjs';
import { skipWithoutBinary, startLatchkey, uniq } from './lib/server.mjs';
import { oidcProvider, throughProvider } from './lib/oidc.mjs';
import { makeTestCa } from './lib/tls.mjs';

const T = { timeout: 60000 };
const WAIT = { timeout: 15000 };
const CLIENT_ID = 'latchkey-e2e';
const CLIENT_SECRET = 'e2e-provider-secret-0123456789';
// The same provider's second client, used as a GitHub-style plain OAuth 2.0 provider: no `openid` scope, so no
// ID token; latchkey's `oauth_github` takes the identity from GitHub-shaped /user and /user/emails endpoints this
// file serves beside the provider for the access tokens it issued.
const GH_CLIENT_ID = 'latchkey-e2e-gh';
const GH_CLIENT_SECRET = 'e2e-github-secret-0123456789';
const IDP_HOST = 'idp.localhost';
// Google One Tap (issue 15): latchkey's `oauth_google` is configured with the same provider as issuer (its JWKS,
// discovered) and this client id; the test mints the ID tokens Google's One Tap would hand the page, signed with the
// provider's own key (given to oidc-provider as its JWKS).
const ONE_TAP_CLIENT_ID = 'one-tap-e2e.apps.example';
const idpKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const idpJwk = { ...idpKey.privateKey.export({ format: 'jwk' }), kid: 'e2e-rs256', alg: 'RS256', use: 'sig' };
const b64u = x => Buffer.from(x).toString('base64url');
function mintIdToken(iss, sub) {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64u(JSON.stringify({ alg: 'RS256', kid: idpJwk.kid, typ: 'JWT' }))}.${b64u(JSON.stringify({
    iss, aud: ONE_TAP_CLIENT_ID, sub, iat: now, exp: now + 300, email: `${sub}@example.com`, email_verified: true,
    given_name: 'Tap' }))}`;
  return `${input}.${signWith('sha256', Buffer.from(input), idpKey.privateKey).toString('base64url')}`;
}

async function listen(handler, tls) {
  const s = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createServer(handler);
  await new Promise((ok, fail) => { s.once('error', fail); s.listen(0, '127.0.0.1', ok); });
  return s;
}

async function close(s) {
  if (!s) return;
  s.closeAllConnections?.();
  await new Promise(ok => s.close(() => ok()));
}

/** A free loopback port, for a listener whose URL must be known before it starts (latchkey's FAPI). */
async function freePort() {
  const s = await listen(() => {});
  const port = s.address().port;
  await close(s);
  return port;
}

describe('Social sign-in through an OpenID provider (oidc-provider, clerk-js redirect flow)', { skip: skipWithoutBinary, timeout: 120000 }, () => {
  let server;
  let idp;
  let provider;
  let issuer;
  let app;
  let appOrigin;
  let browser;
  let bapi;
  let ca;
  const tokenRequests = [];
  const appRequests = [];

  before(async () => {
    const fapiPort = await freePort();
    const fapi = `http://127.0.0.1:${fapiPort}`;
    ca = makeTestCa([IDP_HOST]);

    // The upstream provider, with its development login and consent pages.
    let handler = (req, res) => res.writeHead(503).end();
    // GitHub's API shape for a bearer token the provider issued: /user (numeric id, login, name; no public
    // email) and /user/emails (the verified primary address).
    const github = async (req, res) => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const at = token ? await provider.AccessToken.find(token) : undefined;
      if (!at) return res.writeHead(401).end();
      const login = at.accountId;
      const body = req.url === '/user'
        ? { id: 1000 + login.length, login, name: `Octo ${login}`, email: null, avatar_url: null }
        : [{ email: `${login}@users.noreply.example`, verified: true, primary: false },
           { email: `${login}@gh.example.com`, verified: true, primary: true }];
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    idp = await listen((req, res) => {
      if (req.url.startsWith('/token')) tokenRequests.push({ method: req.method, auth: req.headers.authorization ?? '' });
      if (req.url === '/user' || req.url === '/user/emails') return void github(req, res).catch(() => res.writeHead(500).end());
      handler(req, res);
    }, ca);
    issuer = `https://${IDP_HOST}:${idp.address().port}`;
    provider = await oidcProvider(issuer, {
      clients: [[CLIENT_ID, CLIENT_SECRET], [GH_CLIENT_ID, GH_CLIENT_SECRET]],
      callback: `${fapi}/v1/oauth_callback`,
      cookieKey: 'e2e-provider-cookie-key',
      // GitHub's scopes, so the provider grants them (a scope it does not know is never granted).
      scopes: ['openid', 'offline_access', 'read:user', 'user:email'],
      jwks: { keys: [idpJwk] },
    });
    handler = provider.callback();

    // The app: a page that loads clerk-js from latchkey's /npm/ (as @clerk/react would), and /sso-callback.
    app = await listen((req, res) => {
      appRequests.push(req.url);
      const path = new URL(req.url, 'http://x').pathname;
      const script = {
        '/': 'window.__ready = true;',
        '/sso-callback': `var c = window.Clerk.client; // what handleRedirectCallback reads, kept for the failure message
          sessionStorage.setItem('cb', JSON.stringify({ signIn: [c.signIn.status, c.signIn.firstFactorVerification],
            signUp: [c.signUp.status, c.signUp.verifications.externalAccount] }));
          window.Clerk.handleRedirectCallback({ signInForceRedirectUrl: '/done', signUpForceRedirectUrl: '/done' })
          .catch(function (e) { window.__error = String(e && e.message || e); });`,
        '/done': 'window.__user = window.Clerk.user ? window.Clerk.user.id : null;',
        '/rp-cb': 'window.__rp = true;', // the redirect URI of latchkey's own OAuth client (the openid-client case)
      }[path];
      if (!script) return res.writeHead(404).end();
      const proxy = server.frontendApi;
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(`<!doctype html><html><head><meta charset="utf-8"><title>app</title>
<script src="${proxy}/npm/@clerk/clerk-js@6/dist/clerk.browser.js" data-clerk-publishable-key="${server.publishableKey}"
  data-clerk-proxy-url="${proxy}" crossorigin="anonymous"></script>
<script>
window.addEventListener('load', function () {
  window.Clerk.load({ telemetry: false }).then(function () { ${script} },
    function (e) { window.__error = String(e && e.message || e); });
});
</script></head><body>app</body></html>`);
    });
    appOrigin = `http://127.0.0.1:${app.address().port}`;

    server = await startLatchkey({
      instance: 'development',
      frontendApi: null,
      listen: `127.0.0.1:${fapiPort}`,
      config: {
        allowed_redirect_origins: [appOrigin],
        oauth_providers: [{
          strategy: 'oauth_custom_idp', name: 'E2E IdP', client_id: CLIENT_ID, client_secret: CLIENT_SECRET,
          issuer, ca_file: ca.caFile, timeout_ms: 5000,
        }, {
          // GitHub's endpoints pointed at the provider (a plain OAuth 2.0 provider: no issuer).
          strategy: 'oauth_github', client_id: GH_CLIENT_ID, client_secret: GH_CLIENT_SECRET,
          authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`,
          userinfo_endpoint: `${issuer}/user`, emails_endpoint: `${issuer}/user/emails`,
          scopes: ['read:user', 'user:email'], ca_file: ca.caFile, timeout_ms: 5000,
        }, {
          strategy: 'oauth_google', name: 'Google', client_id: ONE_TAP_CLIENT_ID, client_secret: 'unused-e2e-secret',
          issuer, ca_file: ca.caFile, timeout_ms: 5000,
        }],
      },
    });
    assert.equal(server.frontendApi, fapi);
    bapi = server.backendClient();
    browser = await launchBrowser({
      extraArgs: [`--host-resolver-rules=MAP ${IDP_HOST} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${ca.spki}`],
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await close(app);
    await close(idp);
    await server?.stop();
    ca?.remove();
  });

  async function withPage(fn) {
    const p = await newPage(browser, { allowHosts: [IDP_HOST] });
    const navs = [];
    p.page.on('framenavigated', f => { if (f === p.page.mainFrame()) navs.push(f.url()); });
    try {
      await fn(p.page, p);
      assert.deepEqual(p.diag.pageErrors, [], 'no page error');
    } catch (e) {
      const at = p.page.url();
      await p.page.goto(`${appOrigin}/`).catch(() => {});
      const cb = await p.page.evaluate(() => sessionStorage.getItem('cb')).catch(() => null);
      const diag = `\n--- navigations:\n${navs.join('\n')}\n--- client at /sso-callback: ${cb}\n--- app requests: ${appRequests.slice(-8).join(' ')}\n--- at ${at}\n${p.report()}\n--- latchkey warnings ---\n${server.logs.filter(l => l.level !== 'info').slice(-10).map(l => JSON.stringify(l)).join('\n')}`;
      try { e.stack = `${e.stack ?? e.message}${diag}`; } catch { process.stderr.write(diag); }
      throw e;
    } finally {
      await p.close();
    }
  }

  /**
   * From the app's page: `kind`.authenticateWithRedirect() with the provider, the provider's login (as `login`)
   * and consent when it asks, back through /v1/oauth_callback and /sso-callback to /done. Returns the user id
   * clerk-js has there.
   */
  async function continueWithProvider(page, kind, login, strategy = 'oauth_custom_idp') {
    await page.goto(`${appOrigin}/`, { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction(() => window.__ready || window.__error, null, WAIT);
    assert.equal(await page.evaluate(() => window.__error ?? null), null);
    // Not awaited in the page: the call ends by navigating away.
    await page.evaluate(([k, origin, strat]) => {
      window.Clerk.client[k].authenticateWithRedirect({
        strategy: strat, redirectUrl: `${origin}/sso-callback`, redirectUrlComplete: `${origin}/done`,
      }).catch(e => { window.__error = String(e && e.message || e); });
    }, [kind, appOrigin, strategy]);
    await throughProvider(page, issuer, login, u => u.href.startsWith(`${appOrigin}/done`), WAIT);
    await page.waitForURL(u => String(u).startsWith(`${appOrigin}/done`), WAIT);
    await page.waitForFunction(() => window.__user !== undefined || window.__error, null, WAIT);
    assert.equal(await page.evaluate(() => window.__error ?? null), null);
    return page.evaluate(() => window.__user);
  }

  async function signOut(page) {
    await page.evaluate(() => window.Clerk.signOut({ redirectUrl: '/done' }).catch(() => {}));
    await page.waitForFunction(() => !window.Clerk?.user, null, WAIT).catch(() => {});
    await page.goto(`${appOrigin}/done`, { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction(() => window.__user !== undefined || window.__error, null, WAIT);
    assert.equal(await page.evaluate(() => window.__user), null, 'signed out');
  }

  it('signs up through the provider, signs out, signs in again through it; the backend sees the external account; destroy() removes it', T, () => withPage(async page => {
    const login = uniq('ida');
    const userId = await continueWithProvider(page, 'signUp', login);
    assert.match(userId ?? '', /^user_/);
    // latchkey exchanged the code with HTTP Basic client authentication.
    assert.ok(tokenRequests.length >= 1 && tokenRequests.every(t => t.method === 'POST' && t.auth.startsWith('Basic ')));

    const user = await bapi.users.getUser(userId);
    assert.equal(user.externalAccounts.length, 1);
    assert.equal(user.externalAccounts[0].provider, 'oauth_custom_idp');
    assert.equal(user.externalAccounts[0].providerUserId, login);
    assert.equal(user.externalAccounts[0].emailAddress, `${login}@example.com`);
    assert.equal(user.primaryEmailAddress?.emailAddress, `${login}@example.com`);
    assert.equal(user.primaryEmailAddress?.verification?.status, 'verified');
    assert.equal(user.firstName, 'Ida');

    await signOut(page);
    // The provider remembers its session and grant: straight back, signed in as the same user.
    const again = await continueWithProvider(page, 'signIn', login);
    assert.equal(again, userId);
    const list = await bapi.users.getUserList({ emailAddress: [`${login}@example.com`] });
    assert.equal(list.data.length, 1, 'no second user');

    // clerk-js's externalAccount.destroy() (DELETE /v1/me/external_accounts/{id}): the user keeps the email.
    const left = await page.evaluate(async () => {
      await window.Clerk.user.externalAccounts[0].destroy();
      await window.Clerk.user.reload();
      return window.Clerk.user.externalAccounts.length;
    });
    assert.equal(left, 0);
    assert.equal((await bapi.users.getUser(userId)).externalAccounts.length, 0);
  }));

  it('a sign-in with an identity latchkey does not know transfers to a sign-up in handleRedirectCallback', T, () => withPage(async page => {
    const login = uniq('ada');
    const userId = await continueWithProvider(page, 'signIn', login);
    assert.match(userId ?? '', /^user_/);
    const user = await bapi.users.getUser(userId);
    assert.equal(user.externalAccounts[0]?.providerUserId, login);
    assert.equal(user.primaryEmailAddress?.emailAddress, `${login}@example.com`);
  }));

  it('Google One Tap: authenticateWithGoogleOneTap signs a new identity up (sign-in refused, then the sign-up with the same token), and signs it in the next time', T, () => withPage(async page => {
    const sub = uniq('tap');
    const oneTap = async () => {
      await page.goto(`${appOrigin}/`, { waitUntil: 'load', timeout: 20000 });
      await page.waitForFunction(() => window.__ready || window.__error, null, WAIT);
      return page.evaluate(async token => {
        const res = await window.Clerk.authenticateWithGoogleOneTap({ token });
        await window.Clerk.setActive({ session: res.createdSessionId });
        return { signUp: 'createdUserId' in res, status: res.status, user: window.Clerk.user?.id ?? null };
      }, mintIdToken(issuer, sub));
    };
    const first = await oneTap();
    assert.deepEqual([first.signUp, first.status], [true, 'complete']);
    assert.match(first.user ?? '', /^user_/);
    const user = await bapi.users.getUser(first.user);
    assert.equal(user.externalAccounts[0]?.provider, 'oauth_google');
    assert.equal(user.externalAccounts[0]?.providerUserId, sub);
    assert.equal(user.primaryEmailAddress?.emailAddress, `${sub}@example.com`);
    await signOut(page);
    const again = await oneTap();
    assert.deepEqual([again.signUp, again.status, again.user], [false, 'complete', first.user]);
  }));

  it('a GitHub-style OAuth 2.0 provider (no openid scope, no ID token): identity from /user and /user/emails; @clerk/backend reads the provider token; createExternalAccount links a second provider through the browser', T, () => withPage(async page => {
    const login = uniq('gh');
    const userId = await continueWithProvider(page, 'signUp', login, 'oauth_github');
    assert.match(userId ?? '', /^user_/);
    const user = await bapi.users.getUser(userId);
    assert.equal(user.externalAccounts.length, 1);
    const gh = user.externalAccounts[0];
    assert.equal(gh.provider, 'oauth_github');
    assert.equal(gh.providerUserId, String(1000 + login.length));  // GitHub's numeric id, as text
    assert.equal(gh.username, login);
    assert.equal(gh.emailAddress, `${login}@gh.example.com`);     // the primary verified address of /user/emails
    assert.equal(user.primaryEmailAddress?.emailAddress, `${login}@gh.example.com`);
    assert.equal(user.firstName, 'Octo');

    // @clerk/backend's users.getUserOauthAccessToken: the provider's access token, which the provider honours.
    const tokens = await bapi.users.getUserOauthAccessToken(userId, 'github');
    assert.equal(tokens.data.length, 1);
    assert.equal(tokens.data[0].provider, 'oauth_github');
    assert.equal(tokens.data[0].externalAccountId, gh.id);
    const at = await provider.AccessToken.find(tokens.data[0].token);
    assert.equal(at?.accountId, login);

    // clerk-js's user.createExternalAccount({ strategy, redirectUrl }): to the OpenID provider and back; the
    // callback links the identity to the signed-in user.
    const url = await page.evaluate(async origin => {
      const ea = await window.Clerk.user.createExternalAccount({ strategy: 'oauth_custom_idp', redirectUrl: `${origin}/done` });
      return ea.verification.externalVerificationRedirectURL.href;
    }, appOrigin);
    assert.ok(url.startsWith(`${issuer}/auth?`), url);
    await page.goto(url, { waitUntil: 'load', timeout: 20000 });
    await throughProvider(page, issuer, login, u => u.href.startsWith(`${appOrigin}/done`), WAIT);
    await page.waitForURL(u => String(u).startsWith(`${appOrigin}/done`), WAIT);
    await page.waitForFunction(() => window.__user !== undefined || window.__error, null, WAIT);
    assert.equal(await page.evaluate(() => window.__user), userId);
    const providers = await page.evaluate(() => window.Clerk.user.externalAccounts.map(e => e.provider).sort());
    assert.deepEqual(providers, ['custom_idp', 'github']);  // clerk-js drops the oauth_ prefix
    const linked = (await bapi.users.getUser(userId)).externalAccounts.find(e => e.provider === 'oauth_custom_idp');
    assert.equal(linked?.providerUserId, login);

    // A link the provider refuses (error=access_denied at the callback): back on the redirect URL, and clerk-js reads
    // the started account's verification.error.
    const refusedUrl = await page.evaluate(async origin => {
      const ea = await window.Clerk.user.createExternalAccount({ strategy: 'oauth_custom_idp', redirectUrl: `${origin}/done?link=refused` });
      return ea.verification.externalVerificationRedirectURL.href;
    }, appOrigin);
    const state = new URL(refusedUrl).searchParams.get('state');
    await page.goto(`${server.frontendApi}/v1/oauth_callback?error=access_denied&state=${encodeURIComponent(state)}`,
      { waitUntil: 'load', timeout: 20000 });
    await page.waitForURL(u => String(u).startsWith(`${appOrigin}/done?link=refused`), WAIT);
    await page.waitForFunction(() => window.__user !== undefined || window.__error, null, WAIT);
    const failed = await page.evaluate(async () => {
      await window.Clerk.user.reload();
      const ea = window.Clerk.user.externalAccounts.find(e => e.verification?.status === 'failed');
      return ea && { provider: ea.provider, code: ea.verification.error?.code, long: ea.verification.error?.longMessage };
    });
    assert.equal(failed?.provider, 'custom_idp');
    assert.equal(failed?.code, 'oauth_access_denied');
    assert.ok(failed?.long, 'the long message clerk-js shows');
  }));

  it('latchkey as the OpenID provider: openid-client discovers it, runs code + PKCE through the signed-in browser and consent, then refresh, userinfo, introspection, revocation', T, () => withPage(async page => {
    const oidc = await import('openid-client');
    const userId = await continueWithProvider(page, 'signIn', uniq('rp'));
    // An OAuth application made with @clerk/backend's oauthApplications (consent screen on by default).
    const created = await bapi.oauthApplications.create({
      name: 'E2E RP', redirectUris: [`${appOrigin}/rp-cb`], scopes: 'openid profile email offline_access', public: false,
    });
    assert.ok(created.clientSecret, 'secret shown on create');
    const fapi = new URL(server.frontendApi);
    const config = await oidc.discovery(fapi, created.clientId, created.clientSecret, undefined,
      { execute: [oidc.allowInsecureRequests] });
    assert.equal(config.serverMetadata().issuer, server.frontendApi);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${appOrigin}/rp-cb`, scope: 'openid profile email offline_access', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    // The signed-in browser follows /oauth/authorize, sees the consent page and allows.
    await page.goto(url.href, { waitUntil: 'load', timeout: 20000 });
    await page.locator('#allow').click();
    await page.waitForURL(u => String(u).startsWith(`${appOrigin}/rp-cb`), WAIT);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()),
      { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    assert.match(tokens.access_token, /^oat_/);
    const claims = tokens.claims();
    assert.equal(claims.sub, userId);
    assert.equal(claims.aud, created.clientId);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, userId);
    assert.equal(info.sub, userId);
    assert.match(info.email ?? '', /@example\.com$/);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    const live = await oidc.tokenIntrospection(config, refreshed.access_token);
    assert.equal(live.active, true);
    assert.equal(live.sub, userId);
    await oidc.tokenRevocation(config, refreshed.access_token);
    assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, false);
    // The rotated-away refresh token is reuse: the grant is gone.
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), e => e.error === 'invalid_grant');
    await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token), e => e.error === 'invalid_grant');
  }));
});
