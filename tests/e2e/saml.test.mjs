// Enterprise SSO with SAML 2.0 (issue 15): the unmodified clerk-js 6.40.0 in Chromium signs in through a real
// SAML identity provider, samlify in the IdP role on 127.0.0.1 (its own RSA key and certificate, made with the
// openssl CLI), configured into latchkey by the URL of its metadata, which this file serves over HTTPS with a
// certificate from a test CA (lib/tls.mjs) that latchkey trusts through `saml_metadata_ca_file`. clerk-js's
// `signIn.authenticateWithRedirect({ strategy: 'enterprise_sso', identifier })` goes to the IdP with latchkey's
// AuthnRequest; samlify parses it (against latchkey's SP metadata) and answers with a signed assertion, encrypted
// to the SP's encryption key from that metadata, posted to latchkey's ACS through the browser; latchkey decrypts it
// and sends the browser back signed in. The FAPI's public URL is the
// app's same-origin proxy, so the ACS is reachable from the browser. One browser and one latchkey for the file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as samlify from 'samlify';
import * as xmllint from '@authenio/samlify-node-xmllint';
import { launchBrowser, newPage } from './lib/browser.mjs';
import { evalClerk, openAndLoad } from './lib/flows.mjs';
import { PROXY_PATH, startApp } from './lib/page.mjs';
import { skipWithoutBinary, startLatchkey, uniq } from './lib/server.mjs';
import { makeTestCa } from './lib/tls.mjs';

const T = { timeout: 60000 };
const CONNECTION = 'samlc_e2ecorp';

samlify.setSchemaValidator(xmllint);

/** A key and self-signed certificate for the IdP (openssl CLI, as lib/tls.mjs does for TLS). */
function idpKeys() {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-saml-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
      '-subj', '/CN=e2e idp', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * samlify as the IdP on 127.0.0.1:0: GET /sso (HTTP-Redirect) answers with an auto-posting form to the ACS; its
 * metadata is served at `metadataUrl` over HTTPS (certificate from the test CA `ca`), counting the fetches.
 */
async function startIdp(ca) {
  const keys = idpKeys();
  let idp;
  let sp;
  const seen = [];
  const http = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    try {
      if (url.pathname !== '/sso') { res.writeHead(404).end(); return; }
      const query = Object.fromEntries(url.searchParams);
      const parsed = await idp.parseLoginRequest(sp, 'redirect', { query, octetString: url.search.slice(1) });
      seen.push(parsed.extract);
      const email = http.nextEmail;
      const out = await idp.createLoginResponse(sp, parsed, 'post', { email }, { relayState: query.RelayState });
      const esc = s => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><body><form method="post" action="${esc(out.entityEndpoint)}">` +
        `<input type="hidden" name="SAMLResponse" value="${esc(out.context)}">` +
        `<input type="hidden" name="RelayState" value="${esc(out.relayState ?? query.RelayState)}"></form>` +
        '<script>document.forms[0].submit()</script></body></html>');
    } catch (e) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(e?.stack ?? e));
    }
  });
  await new Promise((resolve, reject) => { http.once('error', reject); http.listen(0, '127.0.0.1', resolve); });
  const base = `http://127.0.0.1:${http.address().port}`;
  let metadataFetches = 0;
  const tls = createHttpsServer({ cert: ca.cert, key: ca.key }, (req, res) => {
    if (req.url !== '/metadata.xml') return void res.writeHead(404).end();
    metadataFetches++;
    res.writeHead(200, { 'Content-Type': 'application/samlmetadata+xml' }).end(idp.getMetadata());
  });
  await new Promise((resolve, reject) => { tls.once('error', reject); tls.listen(0, '127.0.0.1', resolve); });
  idp = samlify.IdentityProvider({
    entityID: `${base}/metadata`,
    signingCert: keys.cert,
    privateKey: keys.key,
    isAssertionEncrypted: true,  // to the encryption key latchkey's SP metadata publishes (AES-256-CBC, RSA-OAEP)
    wantAuthnRequestsSigned: false,
    singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${base}/sso` }],
  });
  return {
    metadata: idp.getMetadata(),
    metadataUrl: `https://127.0.0.1:${tls.address().port}/metadata.xml`,
    metadataFetches: () => metadataFetches,
    ssoUrl: `${base}/sso`,
    seen,
    setSp(xml) { sp = samlify.ServiceProvider({ metadata: xml }); },
    signInAs(email) { http.nextEmail = email; },
    close: () => Promise.all([http, tls].map(s => new Promise(resolve => { s.closeAllConnections?.(); s.close(() => resolve()); }))),
  };
}

describe('enterprise SSO: SAML sign-in with clerk-js and a samlify IdP', { skip: skipWithoutBinary, timeout: 300000 }, () => {
  let app, server, browser, idp, ca;

  before(async () => {
    ca = makeTestCa(['localhost']);
    const spKeys = idpKeys();  // the same openssl recipe, for latchkey's SP
    idp = await startIdp(ca);
    app = await startApp({ host: '127.0.0.1' });  // a FAPI host must have a dot: the proxy is the public FAPI
    server = await startLatchkey({
      instance: 'production',
      frontendApi: `${app.origin}${PROXY_PATH}`,
      config: {
        allowed_origins: [app.origin],
        saml_connections: [{ id: CONNECTION, name: 'Corp', domains: ['corp.test'], idp_metadata_url: idp.metadataUrl }],
        saml_metadata_ca_file: ca.caFile,
        // The SP's key pair: its certificate is published in the SP metadata for encryption, so samlify encrypts
        // every assertion to it and latchkey decrypts them.
        saml_sp_key: spKeys.key,
        saml_sp_certificate: spKeys.cert,
      },
    });
    assert.equal(idp.metadataFetches(), 1, 'the metadata is fetched before latchkey serves');
    app.attach(server);
    const meta = await fetch(`${server.fapiUrl}/v1/saml/metadata/${CONNECTION}.xml`);
    assert.equal(meta.status, 200);
    idp.setSp(await meta.text());
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await app?.close().catch(() => {});
    await idp?.close().catch(() => {});
    await server?.stop();
    ca?.remove();
  });

  /** authenticateWithRedirect from the app page, through the IdP, back to the app; returns what clerk-js shows. */
  async function ssoRoundTrip(email, { viaCallback = false } = {}) {
    const p = await newPage(browser);
    try {
      idp.signInAs(email);
      await openAndLoad(p.page, app.sameOriginUrl());
      const back = `${app.sameOriginUrl()}&back=1`;
      const landed = p.page.waitForURL(u => u.href.includes('back=1'), { timeout: 30000 });
      // clerk-js navigates the window itself: the call does not return.
      evalClerk(p.page, (clerk, identifier, back) => {
        clerk.client.signIn.authenticateWithRedirect({ strategy: 'enterprise_sso', identifier, redirectUrl: back, redirectUrlComplete: back });
      }, email, back).catch(() => {});
      await landed;
      await openAndLoad(p.page, p.page.url());
      if (viaCallback) {
        // clerk-js's own callback handler: transfer to sign-up when the IdP's person has no account, setActive,
        // then navigate to the completion URL.
        const done = `${app.sameOriginUrl()}&done=1`;
        evalClerk(p.page, (clerk, done) => {
          clerk.handleRedirectCallback({ signInFallbackRedirectUrl: done, signUpFallbackRedirectUrl: done });
        }, done).catch(() => {});
        // It navigates once the session is active (where to is clerk-js's choice): wait for the session.
        const until = Date.now() + 30000;
        let active = false;
        while (!active && Date.now() < until) {
          active = await p.page.evaluate(() => !!window.Clerk?.session).catch(() => false);
          if (!active) await new Promise(r => setTimeout(r, 250));
        }
        assert.ok(active, 'handleRedirectCallback did not activate a session');
        await openAndLoad(p.page, app.sameOriginUrl());
      }
      return await evalClerk(p.page, async clerk => {
        const u = clerk.user;
        return {
          signedIn: !!clerk.session,
          userId: u?.id,
          email: u?.primaryEmailAddress?.emailAddress,
          enterprise: (u?.enterpriseAccounts ?? []).map(e => ({ provider: e.provider, email: e.emailAddress, protocol: e.protocol })),
        };
      });
    } catch (e) {
      e.stack = `${e.stack}\n--- page ---\n${p.report()}\n--- latchkey ---\n${server.logTail(30)}`;
      throw e;
    } finally {
      await p.close();
    }
  }

  it('a known user signs in through the IdP chosen by the email domain', T, async () => {
    const email = `${uniq('ada')}@corp.test`;
    const bapi = server.backendClient();
    const created = await bapi.users.createUser({ emailAddress: [email], skipPasswordRequirement: true });
    const r = await ssoRoundTrip(email);
    assert.equal(r.signedIn, true, JSON.stringify(r));
    assert.equal(r.userId, created.id);
    assert.deepEqual(r.enterprise, [{ provider: 'saml_custom', email, protocol: 'saml' }]);
    // samlify saw latchkey's AuthnRequest: issuer = the SP entity, ACS = the FAPI's.
    const req = idp.seen.at(-1);
    assert.equal(req.issuer, `${server.frontendApi}/v1/saml/metadata/${CONNECTION}.xml`);
    assert.ok(Object.values(req.request).includes(`${server.frontendApi}/v1/saml/acs/${CONNECTION}`), JSON.stringify(req.request));
    const u = await bapi.users.getUser(created.id);
    assert.equal(u.enterpriseAccounts?.length ?? u.raw?.enterprise_accounts?.length, 1);
  });

  it('@clerk/backend samlConnections: list, create from metadata, get, update, delete', T, async () => {
    const bapi = server.backendClient();
    const list = await bapi.samlConnections.getSamlConnectionList();
    assert.equal(list.totalCount, 1);
    assert.equal(list.data[0].id, CONNECTION);
    assert.equal(list.data[0].acsUrl, `${server.frontendApi}/v1/saml/acs/${CONNECTION}`);
    const made = await bapi.samlConnections.createSamlConnection({
      name: 'Other', provider: 'saml_custom', domains: ['other.test'], idpMetadata: idp.metadata,
      attributeMapping: { emailAddress: 'mail' },
    });
    assert.match(made.id, /^samlc_/);
    assert.equal(made.idpSsoUrl, idp.ssoUrl);
    assert.equal(made.attributeMapping.emailAddress, 'mail');
    const updated = await bapi.samlConnections.updateSamlConnection(made.id, { name: 'Other Co', active: false });
    assert.equal(updated.name, 'Other Co');
    assert.equal(updated.active, false);
    assert.equal((await bapi.samlConnections.getSamlConnection(made.id)).name, 'Other Co');
    await bapi.samlConnections.deleteSamlConnection(made.id);
    await assert.rejects(bapi.samlConnections.getSamlConnection(made.id), e => e.status === 404);
    // By metadata URL: fetched on create (and again on update); answered as given.
    const fetches = idp.metadataFetches();
    const byUrl = await bapi.samlConnections.createSamlConnection({
      name: 'By URL', provider: 'saml_custom', domains: ['byurl.test'], idpMetadataUrl: idp.metadataUrl,
    });
    assert.equal(byUrl.idpMetadataUrl, idp.metadataUrl);
    assert.equal(byUrl.idpSsoUrl, idp.ssoUrl);
    assert.equal(idp.metadataFetches(), fetches + 1);
    await bapi.samlConnections.updateSamlConnection(byUrl.id, { name: 'By URL 2' });
    assert.equal(idp.metadataFetches(), fetches + 2);
    await assert.rejects(bapi.samlConnections.createSamlConnection({
      name: 'Broken', provider: 'saml_custom', domains: ['broken.test'], idpMetadataUrl: `${idp.metadataUrl}.missing`,
    }), e => e.status === 422 && e.errors?.[0]?.meta?.paramName === 'idp_metadata_url');
    await bapi.samlConnections.deleteSamlConnection(byUrl.id);
  });

  it('a new person is signed up by clerk-js handleRedirectCallback (the transfer to sign-up)', T, async () => {
    const email = `${uniq('grace')}@corp.test`;
    const r = await ssoRoundTrip(email, { viaCallback: true });
    assert.equal(r.signedIn, true, JSON.stringify(r));
    assert.equal(r.email, email);
    assert.deepEqual(r.enterprise, [{ provider: 'saml_custom', email, protocol: 'saml' }]);
  });
});
