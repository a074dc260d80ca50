// A small FAPI client for node, speaking the wire the way clerk-js does (see clerk-wire.md section 2):
// form-urlencoded bodies, POST + `_method=` for PATCH/PUT/DELETE, `__clerk_api_version` / `_clerk_js_version` on
// every request, `Origin` of the app, a cookie jar for `__client` / `__client_uat` (production) and the dev-browser
// token in `__clerk_db_jwt` (development).
export const CLERK_API_VERSION = '2026-08-20';
export const CLERK_JS_VERSION = '6.40.0';

export class FapiError extends Error {
  constructor(method, path, status, body) {
    const first = body?.errors?.[0];
    super(`FAPI ${method} ${path} -> ${status} ${first?.code ?? ''}: ${first?.long_message ?? first?.message ?? JSON.stringify(body)}`);
    this.status = status;
    this.errors = body?.errors ?? [];
    this.code = first?.code;
    this.body = body;
  }
}

export class FapiClient {
  /**
   * baseUrl: FAPI base, e.g. http://127.0.0.1:PORT (requests go to <baseUrl>/v1/...)
   * origin: the app origin sent as `Origin` (tokens get it as `azp`)
   * devBrowser: use the dev-browser flow (development instances)
   */
  constructor({ baseUrl, origin, devBrowser = false }) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.origin = origin;
    this.devBrowser = devBrowser;
    this.devBrowserToken = null;
    this.jar = new Map(); // name -> { value, attrs: raw Set-Cookie string }
    this.log = []; // { method, path, status }
  }

  cookieHeader() {
    return [...this.jar.entries()].map(([k, v]) => `${k}=${v.value}`).join('; ');
  }

  cookie(name) { return this.jar.get(name)?.value; }
  rawSetCookie(name) { return this.jar.get(name)?.raw; }

  storeCookies(headers) {
    for (const sc of headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some(a => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a)) ||
        attrs.some(a => /^\s*expires\s*=/i.test(a) && Date.parse(a.split('=').slice(1).join('=')) < Date.now());
      if (expired || value === '') this.jar.delete(name);
      else this.jar.set(name, { value, raw: sc });
    }
  }

  /** Raw request. Returns { status, body, headers }; never throws on HTTP status. */
  async raw(method, path, { form, query } = {}) {
    const url = new URL(`${this.baseUrl}/v1${path}`);
    url.searchParams.set('__clerk_api_version', CLERK_API_VERSION);
    url.searchParams.set('_clerk_js_version', CLERK_JS_VERSION);
    let wire = method;
    if (method !== 'GET' && method !== 'POST') {
      url.searchParams.set('_method', method);
      wire = 'POST';
    }
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    if (this.devBrowser && this.devBrowserToken) url.searchParams.set('__clerk_db_jwt', this.devBrowserToken);
    const headers = {};
    if (this.origin) headers.Origin = this.origin;
    const cookie = this.cookieHeader();
    if (cookie) headers.Cookie = cookie;
    let body;
    if (wire !== 'GET') {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(form ?? {})) {
        if (v === undefined) continue;
        if (Array.isArray(v)) v.forEach(x => p.append(k, String(x)));
        else if (v !== null && typeof v === 'object') p.append(k, JSON.stringify(v));
        else p.append(k, v === null ? '' : String(v));
      }
      body = p.toString();
    }
    const res = await fetch(url, { method: wire, headers, body, redirect: 'manual', signal: AbortSignal.timeout(15000) });
    this.storeCookies(res.headers);
    const dbJwt = res.headers.get('clerk-db-jwt');
    if (dbJwt) this.devBrowserToken = dbJwt;
    const text = await res.text();
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    this.log.push({ method, path, status: res.status });
    return { status: res.status, body: json, text, headers: res.headers };
  }

  /** Request that throws FapiError on status >= 400 and returns the parsed body. */
  async req(method, path, opts) {
    const r = await this.raw(method, path, opts);
    if (r.status >= 400) throw new FapiError(method, path, r.status, r.body);
    if (r.body && typeof r.body === 'object' && 'client' in r.body) this.client = r.body.client;
    return r.body;
  }

  /** Dev: POST /v1/dev_browser (no cookies, like clerk-js), keeps `id` as the dev-browser token. */
  async init() {
    if (this.devBrowser && !this.devBrowserToken) {
      const r = await this.req('POST', '/dev_browser');
      if (!r?.id) throw new Error(`dev_browser reply has no id: ${JSON.stringify(r)}`);
      this.devBrowserToken = r.id;
    }
    await this.req('GET', '/environment');
    await this.req('GET', '/client');
    return this;
  }

  /** Sign-up with email + password, verified by an email code from `getCode(email)`. Returns the final sign_up. */
  async signUp({ email, password, firstName, lastName }, getCode) {
    let r = await this.req('POST', '/client/sign_ups', { form: { email_address: email, password, first_name: firstName, last_name: lastName } });
    const su = r.response;
    r = await this.req('POST', `/client/sign_ups/${su.id}/prepare_verification`, { form: { strategy: 'email_code' } });
    const code = await getCode(email);
    r = await this.req('POST', `/client/sign_ups/${su.id}/attempt_verification`, { form: { strategy: 'email_code', code } });
    return r.response;
  }

  /** One-step password sign-in; returns the sign_in (status complete, created_session_id). */
  async signInPassword(identifier, password) {
    const r = await this.req('POST', '/client/sign_ins', { form: { identifier, password, strategy: 'password' } });
    return r.response;
  }

  /** POST /client/sessions/{sid}/touch (what setActive does). */
  async setActive(sessionId) {
    return (await this.req('POST', `/client/sessions/${sessionId}/touch`, { form: { active_organization_id: '', intent: 'select_session' } })).response;
  }

  /** Fresh session token (bare {object:'token', jwt} reply). */
  async token(sessionId, template) {
    const path = template ? `/client/sessions/${sessionId}/tokens/${template}` : `/client/sessions/${sessionId}/tokens`;
    const r = await this.req('POST', path, { form: template ? {} : { organization_id: '' } });
    if (!r?.jwt) throw new Error(`token reply has no top-level jwt: ${JSON.stringify(r)}`);
    return r.jwt;
  }

  async signOutAll() {
    return this.req('DELETE', '/client/sessions');
  }
}

/**
 * Creates a user purely through the FAPI (sign-up with email code, from the outbox or 424242 for +clerk_test),
 * on a throwaway node client. Returns { id, email, password, sessionId }.
 */
export async function createUserViaFapi(server, { email, password, origin }) {
  const fapi = await new FapiClient({ baseUrl: server.fapiUrl, origin, devBrowser: server.instance !== 'production' }).init();
  const after = server.outboxCount(email);
  const su = await fapi.signUp({ email, password }, e =>
    e.includes('+clerk_test') ? '424242' : server.waitForCode(e, { after }));
  if (su.status !== 'complete') throw new Error(`sign-up for ${email} ended ${su.status}: ${JSON.stringify(su)}`);
  return { id: su.created_user_id, email, password, sessionId: su.created_session_id, fapi };
}
