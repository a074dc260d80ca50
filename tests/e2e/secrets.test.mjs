// The log-secrets check that every suite's server.stop() runs: prove the detector catches each kind of secret
// (so a clean pass elsewhere means the logs really were clean), then run a full sign-up/sign-in flow over FAPI
// and BAPI and check the server's logs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findLeakedSecrets, startLatchkey, strongPassword } from './lib/server.mjs';

describe('secrets never reach the logs', () => {
  it('the detector finds each kind of secret', () => {
    const pw = strongPassword();
    const opts = { secretKey: 'sk_test_abcdefghijklmnopqrstuv', codes: ['123456'] };
    assert.deepEqual(findLeakedSecrets('{"event":"request","path":"/v1/client","us":123456}', opts), []);
    assert.ok(findLeakedSecrets(`{"x":"${opts.secretKey}"}`, opts).includes('the secret key'));
    assert.ok(findLeakedSecrets(`{"body":"password=${pw}"}`, opts).includes('a password'));
    assert.ok(findLeakedSecrets('{"q":"code=123456&x"}', opts).some(l => l.startsWith('a one-time code')));
    assert.ok(findLeakedSecrets('{"t":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.sig"}', opts).includes('a JWT'));
    assert.ok(findLeakedSecrets('{"c":"client_2abcdefghijklmnopqrstuvwxyz.AbCdEfGhIjKlMnOpQrStUvWx"}', opts)
      .includes('a client credential'));
  });

  it('a full flow leaves no secret in the logs (checked by stop())', async () => {
    const server = await startLatchkey({ instance: 'production' });
    try {
      const email = `leak-${Date.now()}@example.com`;
      const password = strongPassword();
      const bapi = server.backendClient();
      const user = await bapi.users.createUser({ emailAddress: [email], password });
      const form = new URLSearchParams({ identifier: email, password, strategy: 'password' });
      const res = await fetch(`${server.fapiUrl}/v1/client/sign_ins?_clerk_js_version=6.40.0`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form,
      });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.response.status, 'complete');
      assert.ok(body.client.sessions[0].last_active_token.jwt.startsWith('eyJ'));
      const wrong = await fetch(`${server.fapiUrl}/v1/client/sign_ins`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ identifier: email, password: strongPassword(), strategy: 'password' }),
      });
      assert.equal(wrong.status, 422);
      await bapi.users.verifyPassword({ userId: user.id, password });
      assert.ok(server.logs.some(l => l.event === 'request'), 'the access log is on');
    } finally {
      await server.stop();
    }
  });
});
