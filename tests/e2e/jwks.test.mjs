// Session tokens minted by latchkey verify with an independent JOSE implementation (`jose`), against both the
// public FAPI JWKS (/.well-known/jwks.json) and the secret-key BAPI JWKS (/v1/jwks); and with @clerk/backend's
// networkless `jwtKey` (PEM) path, which only works for RSA-2048 / e=65537 keys.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { verifyToken } from '@clerk/backend';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { FapiClient, createUserViaFapi } from './lib/fapi.mjs';
import { decodeJwt, skipWithoutBinary, startLatchkey, strongPassword, testEmail } from './lib/server.mjs';

const ORIGIN = 'http://localhost:3000';
const T = { timeout: 60000 };

describe('JWKS and independent token verification', { skip: skipWithoutBinary, timeout: 300000 }, () => {
  let server;
  let token;
  let user;
  let sessionId;

  before(async () => {
    server = await startLatchkey({ instance: 'development', config: { allowed_origins: [ORIGIN] } });
  });
  // A user signed up and signed in through the FAPI (dev instance: the node client takes the dev-browser route,
  // like clerk-js on *.accounts.dev), made on first use.
  let ready;
  const session = () => (ready ??= (async () => {
    const email = testEmail('jwks');
    const password = strongPassword();
    const u = await createUserViaFapi(server, { email, password, origin: ORIGIN });
    const fapi = await new FapiClient({ baseUrl: server.fapiUrl, origin: ORIGIN, devBrowser: true }).init();
    const si = await fapi.signInPassword(email, password);
    assert.equal(si.status, 'complete');
    user = { id: u.id };
    sessionId = si.created_session_id;
    token = await fapi.token(sessionId);
  })());
  after(async () => { await server?.stop(); });

  const checkJwks = body => {
    assert.ok(Array.isArray(body?.keys) && body.keys.length > 0, `JWKS: ${JSON.stringify(body)}`);
    for (const k of body.keys) {
      assert.equal(k.kty, 'RSA');
      assert.equal(k.alg, 'RS256');
      assert.equal(k.use, 'sig');
      assert.ok(k.kid && k.n && k.e, JSON.stringify(k));
      assert.equal(k.d, undefined, 'no private parts');
    }
    return body.keys;
  };

  it('FAPI /.well-known/jwks.json (public) and BAPI /v1/jwks (secret key) publish the same RSA keys', T, async () => {
    const res = await fetch(`${server.fapiUrl}/.well-known/jwks.json`, { signal: AbortSignal.timeout(10000) });
    assert.equal(res.status, 200);
    const fapiKeys = checkJwks(await res.json());
    const b = await server.bapi('/jwks');
    assert.equal(b.status, 200);
    const bapiKeys = checkJwks(b.body);
    assert.deepEqual(fapiKeys.map(k => k.kid).sort(), bapiKeys.map(k => k.kid).sort());
    for (const k of fapiKeys) assert.deepEqual(k, bapiKeys.find(x => x.kid === k.kid));
    assert.equal((await server.bapi('/jwks', { key: null })).status, 401, 'BAPI JWKS needs the secret key');
  });

  it('a session token is signed by a published key (kid in both JWKS)', T, async () => {
    await session();
    const { header } = decodeJwt(token);
    const fapiKeys = (await (await fetch(`${server.fapiUrl}/.well-known/jwks.json`)).json()).keys;
    const bapiKeys = (await server.bapi('/jwks')).body.keys;
    assert.ok(fapiKeys.some(k => k.kid === header.kid), `FAPI JWKS lacks kid ${header.kid}`);
    assert.ok(bapiKeys.some(k => k.kid === header.kid), `BAPI JWKS lacks kid ${header.kid}`);
  });

  it('jose verifies the session token against the FAPI JWKS', T, async () => {
    await session();
    const jwks = createRemoteJWKSet(new URL(`${server.fapiUrl}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { algorithms: ['RS256'], issuer: `https://${server.frontendApiHost}` });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(protectedHeader.typ, 'JWT');
    assert.equal(payload.sub, user.id);
    assert.equal(payload.sid, sessionId);
    assert.equal(payload.azp, ORIGIN);
    assert.ok(payload.iat <= Math.ceil(Date.now() / 1000) + 5);
    assert.ok(payload.exp > payload.iat);
    if (payload.nbf !== undefined) assert.ok(payload.nbf <= payload.iat);
  });

  it('jose verifies the session token against the BAPI JWKS (Bearer secret key)', T, async () => {
    await session();
    const jwks = createRemoteJWKSet(new URL(`${server.bapiUrl}/v1/jwks`), { headers: { Authorization: `Bearer ${server.secretKey}` } });
    const { payload } = await jwtVerify(token, jwks, { algorithms: ['RS256'] });
    assert.equal(payload.sub, user.id);
  });

  it('the key is RSA-2048, e=65537, so @clerk/backend verifies offline with jwtKey (PEM)', T, async () => {
    await session();
    const { header } = decodeJwt(token);
    const jwk = (await server.bapi('/jwks')).body.keys.find(k => k.kid === header.kid);
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    assert.equal(key.asymmetricKeyDetails.modulusLength, 2048);
    assert.equal(key.asymmetricKeyDetails.publicExponent, 65537n);
    const pem = key.export({ type: 'spki', format: 'pem' });
    const claims = await verifyToken(token, { jwtKey: pem });
    assert.equal(claims.sub, user.id);
  });
});
