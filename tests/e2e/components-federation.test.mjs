// Clerk's prebuilt components with social sign-in and passkeys, unmodified (@clerk/ui from the bundles latchkey
// ships), driven like a person in Chromium in latchkey's Account Portal (/sign-in, /sign-up, /user on the FAPI
// origin). Instance: production (pk_live_), its public FAPI URL http://clerk.localhost:<port> (the listener on
// 127.0.0.1: a *.localhost name is a secure context and can be a WebAuthn RP ID, an IP address cannot), with two
// social providers served by one `oidc-provider` (npm) on http://127.0.0.1:<port> with its own login and consent
// pages (as in federation.test.mjs): `oauth_custom_idp` without a logo and `oauth_custom_partner` whose logo is on
// the provider's origin; and passkeys (RP ID clerk.localhost) through Chromium's DevTools virtual authenticator (as
// in passkeys.test.mjs). One server, one provider and one browser for the file; each test gets a fresh browser
// context; CSP violations, page errors and any request leaving the machine (a logo on Clerk's CDN) fail a test.
// First screens in <build>/e2e-artifacts/components-federation-*.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { verifyToken } from '@clerk/backend';
import { launchBrowser } from './lib/browser.mjs';
import { freePort, kit, primary, row, rowMenu, WAIT } from './lib/components.mjs';
import { oidcProvider, throughProvider } from './lib/oidc.mjs';
import { skipWithoutBinary, startLatchkey, uniq } from './lib/server.mjs';

const T = { timeout: 60000 };
const CLIENT_ID = 'latchkey-components';
const CLIENT_SECRET = 'components-provider-secret-0123456789';
const PROVIDER = 'Acme ID';
// A second provider, with its logo on its own host (the provider's origin): the button shows it.
const PARTNER = 'Partner ID';
const PARTNER_ID = 'latchkey-partner';
const LOGO_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" fill="#c026d3"/></svg>';
// The FAPI's public name: Chromium resolves every *.localhost name to the loopback itself and treats it as a secure
// context, so it can be the WebAuthn RP ID; latchkey's publishable keys need a host with a dot.
const HOST = 'clerk.localhost';

describe('Prebuilt components: social buttons and passkeys (production instance)', { skip: skipWithoutBinary, timeout: 300000 }, () => {
  const ctx = {};
  const { shot, withPage, makeUser, waitForProfile, signIn } = kit(ctx, {
    prefix: 'components-federation',
    // Nothing but loopback names: a provider logo on Clerk's CDN would show up here. (oidc-provider's own
    // development login page asks Google Fonts for Roboto; that page is the provider's, not latchkey's.)
    check: p => assert.deepEqual(p.diag.blocked.filter(b => !b.startsWith('GET https://fonts.googleapis.com/')), [],
      'no request left the machine'),
    allowHosts: [HOST],
  });
  let server;
  let fapi;
  let bapi;
  let idp;
  let issuer;

  before(async () => {
    const port = await freePort();
    fapi = `http://${HOST}:${port}`;
    let handler = (req, res) => res.writeHead(503).end();
    idp = createServer((req, res) => {
      if (req.url === '/logo.svg') {
        return res.writeHead(200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'no-store' }).end(LOGO_SVG);
      }
      return handler(req, res);
    });
    await new Promise((ok, fail) => { idp.once('error', fail); idp.listen(0, '127.0.0.1', ok); });
    issuer = `http://127.0.0.1:${idp.address().port}`;
    const provider = await oidcProvider(issuer, {
      clients: [[CLIENT_ID, CLIENT_SECRET], [PARTNER_ID, CLIENT_SECRET]],
      callback: `${fapi}/v1/oauth_callback`,
      cookieKey: 'components-provider-cookie-key',
    });
    handler = provider.callback();

    server = await startLatchkey({
      instance: 'production', frontendApi: fapi, listen: `127.0.0.1:${port}`,
      config: {
        application_name: 'Acme Social',
        first_factors: ['password', 'email_code', 'passkey'],
        passkeys: { rp_id: HOST, show_sign_in_button: true, allow_autofill: true },
        oauth_providers: [{
          strategy: 'oauth_custom_idp', name: PROVIDER, client_id: CLIENT_ID, client_secret: CLIENT_SECRET,
          issuer, allow_http: true, timeout_ms: 5000,
        }, {
          strategy: 'oauth_custom_partner', name: PARTNER, client_id: PARTNER_ID, client_secret: CLIENT_SECRET,
          issuer, allow_http: true, timeout_ms: 5000, logo_url: `${issuer}/logo.svg`,
        }],
      },
    });
    bapi = server.backendClient();
    Object.assign(ctx, { server, fapi, bapi, browser: await launchBrowser() });
  });
  after(async () => {
    await ctx.browser?.close().catch(() => {});
    await server?.stop();
    if (idp) { idp.closeAllConnections?.(); await new Promise(ok => idp.close(() => ok())); }
  });

  /** The provider's login and consent pages, as often as it asks (a remembered session and grant skip them),
   *  then back through latchkey's /v1/oauth_callback to the portal's profile page. */
  async function providerLogin(page, login) {
    await throughProvider(page, issuer, login, u => u.pathname === '/user', WAIT);
    await waitForProfile(page);
  }

  /** The provider's button of the component on `path`, named from user_settings.social. Without a logo URL
   *  the component shows the name's initial; the partner's logo, on the provider's own origin, loads (the
   *  portal's Content-Security-Policy lets the configured provider logos in). */
  async function socialButton(page, path, name) {
    const logoLoaded = page.waitForResponse(r => r.url() === `${issuer}/logo.svg` && r.ok(), WAIT);
    await page.goto(`${fapi}${path}`, { waitUntil: 'load', timeout: 20000 });
    const button = page.locator('.cl-socialButtonsBlockButton__custom_idp');
    await button.waitFor(WAIT);
    assert.match(await button.textContent(), new RegExp(PROVIDER));
    assert.equal(await page.locator('.cl-socialButtonsProviderInitialIcon__custom_idp').textContent(), PROVIDER[0],
      'no logo configured: the initial');
    const partnerIcon = page.locator('.cl-socialButtonsProviderIcon__custom_partner');
    await partnerIcon.waitFor(WAIT);
    const iconRefs = await partnerIcon.evaluate(el => [el.getAttribute('src'), getComputedStyle(el).maskImage,
      getComputedStyle(el).backgroundImage].join(' '));
    assert.ok(iconRefs.includes(`${issuer}/logo.svg`), iconRefs);
    await logoLoaded;
    await shot(page, name);
    return button;
  }

  /** The signed-in user's external accounts, from @clerk/backend. */
  const externalAccounts = async userId => (await bapi.users.getUser(userId)).externalAccounts;

  /** The user id clerk-js has on the page, with the session token verified by @clerk/backend. */
  async function signedInUser(page) {
    const token = await page.evaluate(() => window.Clerk.session.getToken({ skipCache: true }));
    const claims = await verifyToken(token, { secretKey: server.secretKey, apiUrl: server.bapiUrl, authorizedParties: [fapi] });
    return claims.sub;
  }

  /** The provider's button on the portal's `path` ('/sign-up' or '/sign-in', its first screen saved under that name),
   *  then the provider's login and consent as `login`: the id of the user clerk-js is then signed in as. */
  async function continueWithProvider(page, path, login) {
    await (await socialButton(page, path, path.slice(1))).click();
    await providerLogin(page, login);
    return signedInUser(page);
  }

  async function signOut(page) {
    await page.evaluate(() => window.Clerk.signOut());
    await page.waitForURL(u => new URL(u).pathname === '/sign-in', WAIT);
  }

  it('<SignUp/> "Continue with" the provider → its login and consent → signed up; then <SignIn/> with it → the same user', T,
    () => withPage('sign-up-social', async page => {
      const login = uniq('ida');
      const userId = await continueWithProvider(page, '/sign-up', login);
      const [account] = await externalAccounts(userId);
      assert.equal(account?.provider, 'oauth_custom_idp');
      assert.equal(account?.providerUserId, login);
      assert.equal(account?.emailAddress, `${login}@example.com`);

      await signOut(page);
      assert.equal(await continueWithProvider(page, '/sign-in', login), userId);
      const list = await bapi.users.getUserList({ emailAddress: [`${login}@example.com`] });
      assert.equal(list.data.length, 1, 'no second user');
    }));

  it('<SignIn/> "Continue with" the provider for an identity latchkey does not know → transferred to a sign-up', T,
    () => withPage('sign-in-transfer', async page => {
      const login = uniq('ada');
      const userId = await continueWithProvider(page, '/sign-in', login);
      assert.equal((await externalAccounts(userId))[0]?.providerUserId, login);
      assert.equal((await bapi.users.getUser(userId)).primaryEmailAddress?.emailAddress, `${login}@example.com`);
    }));

  it('<UserProfile/> "Connected accounts" lists the provider\'s account; "Remove" disconnects it', T,
    () => withPage('connected-accounts', async page => {
      const login = uniq('cal');
      const userId = await continueWithProvider(page, '/sign-up', login);
      const item = row(page, 'connectedAccounts', PROVIDER);
      await item.waitFor(WAIT);
      assert.match(await item.textContent(), new RegExp(`${login}@example.com`));
      await shot(page, 'connected-accounts');
      await rowMenu(page, 'connectedAccounts', PROVIDER, 'Remove');
      await page.locator('.cl-profileSection__connectedAccounts .cl-formButtonPrimary, .cl-formButtonPrimary').filter({ hasText: /Remove/ }).first().click(WAIT);
      await item.waitFor({ state: 'detached', ...WAIT });
      assert.deepEqual(await externalAccounts(userId), []);
    }));

  it('<UserProfile/> "Connect account" links a second provider through its login and consent', T,
    () => withPage('connect-account', async page => {
      const login = uniq('con');
      const userId = await continueWithProvider(page, '/sign-up', login);
      await row(page, 'connectedAccounts', PROVIDER).waitFor(WAIT);
      // user.createExternalAccount({ strategy, redirectUrl: the profile page }) → the provider → /v1/oauth_callback
      // → back on the profile page, where the new account is listed.
      await page.getByRole('button', { name: 'Connect account' }).click(WAIT);
      await page.getByRole('menuitem', { name: new RegExp(PARTNER) }).click(WAIT);
      await page.waitForURL(u => String(u).startsWith(issuer), WAIT);  // off the profile page, to the provider
      await providerLogin(page, login);
      const partner = row(page, 'connectedAccounts', PARTNER);
      await partner.waitFor(WAIT);
      await shot(page, 'connect-account');
      const accounts = await externalAccounts(userId);
      assert.deepEqual(accounts.map(a => a.provider).sort(), ['oauth_custom_idp', 'oauth_custom_partner']);
      assert.ok(accounts.every(a => a.verification?.status === 'verified'), JSON.stringify(accounts.map(a => a.verification)));
    }));

  /** Chromium's DevTools virtual authenticator on `page` (CTAP2, internal, resident keys, user verification), and
   *  an ordinary navigator: clerk-js reports no WebAuthn support when navigator.webdriver is set. With the tab's
   *  sessionStorage flag `e2e-no-conditional-ui`, the browser reports no conditional mediation (passkey autofill). */
  async function authenticator(page, context) {
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false, configurable: true });
      if (sessionStorage.getItem('e2e-no-conditional-ui'))
        PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
        isUserVerified: true, automaticPresenceSimulation: true,
      },
    });
    return { credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials };
  }

  /** The user's passkeys as the BAPI's user object lists them (@clerk/backend's User has no field for them). */
  const passkeysOf = async userId => (await server.bapi(`/users/${userId}`)).body.passkeys;

  it('<UserProfile/> Security: "Add a passkey", listed, renamed; <SignIn/> signs in by passkey autofill and by "Use passkey instead"; then removed', T,
    () => withPage('passkeys', async (page, p) => {
      const auth = await authenticator(page, p.context);
      const u = await makeUser('pia');
      await signIn(page, u);
      await page.locator('.cl-navbarButton__security').click(WAIT);
      await page.getByRole('button', { name: 'Add a passkey' }).click(WAIT);
      const item = page.locator('.cl-profileSectionItem__passkeys');
      await item.waitFor(WAIT);
      const [cred] = await auth.credentials();
      assert.equal(cred?.rpId, HOST);
      assert.equal(cred?.isResidentCredential, true);
      await shot(page, 'passkeys');

      await item.locator('.cl-menuButton').click(WAIT);
      await page.getByRole('menuitem', { name: 'Rename' }).click(WAIT);
      const nameBox = page.locator('input[name="passkeyName"]');
      await nameBox.fill('Work laptop', WAIT);
      await primary(page).click(WAIT);
      await item.filter({ hasText: 'Work laptop' }).waitFor(WAIT);
      assert.deepEqual((await passkeysOf(u.id)).map(k => k.name), ['Work laptop']);

      // Autofill (conditional UI, passkeys.allow_autofill): the sign-in form's identifier field offers the passkey
      // and the pending conditional request completes when the person picks it, which the virtual authenticator
      // does by itself. Opening <SignIn/> signs in.
      await page.evaluate(() => window.Clerk.signOut());
      await page.waitForURL(x => new URL(x).pathname === '/sign-in', WAIT);
      await waitForProfile(page);
      assert.equal(await signedInUser(page), u.id);
      const count1 = (await auth.credentials())[0].signCount;
      assert.ok(count1 >= 1, 'the authenticator signed');

      // A browser without conditional UI: the "Use passkey instead" button under the form.
      await page.evaluate(() => sessionStorage.setItem('e2e-no-conditional-ui', '1'));
      await page.evaluate(() => window.Clerk.signOut());
      await page.waitForURL(x => new URL(x).pathname === '/sign-in', WAIT);
      const usePasskey = page.getByText('Use passkey instead', { exact: true });
      await usePasskey.waitFor(WAIT);
      await shot(page, 'sign-in-passkey');
      await usePasskey.click();
      await waitForProfile(page);
      assert.equal(await signedInUser(page), u.id);
      assert.ok((await auth.credentials())[0].signCount > count1, 'the authenticator signed again');

      await page.locator('.cl-navbarButton__security').click(WAIT);
      await item.locator('.cl-menuButton').click(WAIT);
      await page.getByRole('menuitem', { name: 'Remove' }).click(WAIT);
      await page.locator('.cl-formButtonPrimary').filter({ hasText: /Remove/ }).click(WAIT);
      await item.waitFor({ state: 'detached', ...WAIT });
      assert.deepEqual(await passkeysOf(u.id), []);
    }));
});
