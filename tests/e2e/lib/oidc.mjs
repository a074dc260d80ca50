// oidc-provider (npm) as the upstream OpenID provider of the federation suites (federation.test.mjs,
// components-federation.test.mjs): confidential clients (client_secret_basic, code flow, PKCE required) that
// redirect to latchkey's /v1/oauth_callback, with the provider's own development login and consent pages; every
// account `<login>` is `<login>@example.com` (verified), given name Ida, family name the login.

/**
 * @param {string} issuer the provider's URL
 * @param {{ clients: [string, string][], callback: string, cookieKey: string }} opts [client_id, client_secret]
 *   pairs, latchkey's callback URL, the key of the provider's cookies; anything else is passed to oidc-provider
 */
export async function oidcProvider(issuer, { clients, callback, cookieKey, ...more }) {
  const { default: Provider } = await import('oidc-provider');
  const provider = new Provider(issuer, {
    clients: clients.map(([client_id, client_secret]) => ({
      client_id, client_secret, redirect_uris: [callback], grant_types: ['authorization_code'],
      response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
    })),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name', 'name'] },
    conformIdTokenClaims: false, // the claims of the scopes in the ID token (latchkey reads them there)
    findAccount: async (_, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: `${id}@example.com`, email_verified: true, given_name: 'Ida', family_name: id }),
    }),
    cookies: { keys: [cookieKey] },
    pkce: { required: () => true },
    ...more,
  });
  provider.on('server_error', (_, err) => process.stderr.write(`[oidc-provider] ${err?.stack ?? err}\n`));
  return provider;
}

/**
 * Completes the provider's pages in `page` as often as it asks (its login form as `login`, then its consent; a
 * remembered session and grant skip them), until the browser has left `issuer` for a URL `back(url)` accepts.
 */
export async function throughProvider(page, issuer, login, back, wait) {
  for (let i = 0; i < 4; i++) {
    await page.waitForURL(u => String(u).startsWith(issuer) || back(new URL(u)), wait);
    if (!page.url().startsWith(issuer)) break;
    await page.waitForLoadState('load');
    const loginBox = page.locator('input[name="login"]');
    if (await loginBox.count()) {
      await loginBox.fill(login);
      await page.locator('input[name="password"]').fill('any');
    }
    const url = page.url();
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(u => String(u) !== url, wait);
  }
}
