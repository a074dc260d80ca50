// Starts and stops the latchkey binary for one suite, following the fixed contract:
//   $LATCHKEY_BIN serve --listen 127.0.0.1:0 --backend-listen 127.0.0.1:0 --data-dir <tmp> [--config <file>]
// with LATCHKEY_SECRET_KEY / LATCHKEY_FRONTEND_API / LATCHKEY_INSTANCE / LATCHKEY_TEST_MODE in the environment,
// and reads the first `"event":"listening"` JSON log line for the bound ports and the publishable key.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClerkClient } from '@clerk/backend';

export const LATCHKEY_BIN = process.env.LATCHKEY_BIN || '';

/** For `describe(name, { skip })`: a reason when the binary is not configured, else false. */
export const skipWithoutBinary = LATCHKEY_BIN ? false : 'LATCHKEY_BIN is not set (make test sets it)';

/** Unique, SDK-valid names: letters and digits only, so they fit hosts (no `_`) and emails. */
export const uniq = (prefix = 'u') => `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** An email that the test mode accepts code 424242 for. */
export const testEmail = (prefix = 'e2e') => `${uniq(prefix)}+clerk_test@example.com`;

/** A password that passes length and common-password checks. */
/** Every password the suites generate, so stop() can prove none of them reached the server's logs. */
const issuedPasswords = new Set();
export const strongPassword = () => {
  const p = `Lk-${randomBytes(9).toString('base64url')}-9z`;
  issuedPasswords.add(p);
  return p;
};

/**
 * Secrets must never appear in logs: the secret key, passwords, one-time codes, session JWTs, client
 * credentials and dev-browser tokens. Returns what leaked (empty when clean).
 */
export function findLeakedSecrets(text, { secretKey, codes }) {
  const leaks = [];
  if (secretKey && text.includes(secretKey)) leaks.push('the secret key');
  for (const p of issuedPasswords) if (text.includes(p)) { leaks.push('a password'); break; }
  for (const c of codes) if (new RegExp(`["=]${c}["&;]`).test(text)) { leaks.push(`a one-time code (${c})`); break; }
  if (/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/.test(text)) leaks.push('a JWT');
  if (/client_[A-Za-z0-9]{20,}\.[A-Za-z0-9_-]{20,}/.test(text)) leaks.push('a client credential');
  if (/dvb_[A-Za-z0-9_-]{20,}/.test(text)) leaks.push('a dev-browser token');
  return leaks;
}

/**
 * Starts latchkey. Options:
 *   instance: 'development' | 'production'
 *   frontendApi: public FAPI URL (encoded into the publishable key); default https://e2e-<rand>.accounts.dev in dev,
 *                https://clerk.e2e-<rand>.example.com in prod; null = none (latchkey's default: http://<listener>)
 *   testMode: boolean (default true)
 *   config: object written as the --config JSON file (snake_case keys)
 *   listen: FAPI address (default 127.0.0.1:0), for a public FAPI URL that is the listener itself
 *   env: extra environment
 *   dataDir: an earlier server's dataDir (restart on the same store and keys; pass the same secretKey)
 */
export async function startLatchkey(opts = {}) {
  if (!LATCHKEY_BIN) throw new Error('LATCHKEY_BIN is not set');
  if (!existsSync(LATCHKEY_BIN)) throw new Error(`LATCHKEY_BIN does not exist: ${LATCHKEY_BIN}`);
  const instance = opts.instance ?? 'development';
  const tag = randomBytes(4).toString('hex');
  let frontendApi = opts.frontendApi === null ? null : opts.frontendApi ??
    (instance === 'production' ? `https://clerk.e2e-${tag}.example.com` : `https://e2e-cat-${tag}.accounts.dev`);
  const secretKey = opts.secretKey ??
    `${instance === 'production' ? 'sk_live_' : 'sk_test_'}${randomBytes(20).toString('hex')}`;
  const testMode = opts.testMode ?? true;
  // opts.dataDir: reuse a stopped (or killed) server's dir, to restart the same instance.
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'latchkey-e2e-'));
  const args = ['serve', '--listen', opts.listen ?? '127.0.0.1:0', '--backend-listen', '127.0.0.1:0', '--data-dir', join(dataDir, 'data')];
  if (opts.config) {
    const cfgFile = join(dataDir, 'config.json');
    writeFileSync(cfgFile, JSON.stringify(opts.config, null, 2));
    args.push('--config', cfgFile);
  }
  const env = {
    ...process.env,
    LATCHKEY_SECRET_KEY: secretKey,
    ...(frontendApi === null ? {} : { LATCHKEY_FRONTEND_API: frontendApi }),
    LATCHKEY_INSTANCE: instance,
    LATCHKEY_TEST_MODE: String(testMode),
    ...(opts.env ?? {}),
  };
  if (frontendApi === null) delete env.LATCHKEY_FRONTEND_API;

  const proc = spawn(LATCHKEY_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = []; // parsed JSON log lines
  const stderr = [];
  let exited = null;
  const exitPromise = new Promise(resolve => proc.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); }));
  let buf = '';
  let onListening;
  const listening = new Promise((resolve, reject) => {
    onListening = resolve;
    exitPromise.then(e => reject(new Error(`latchkey exited before listening (${JSON.stringify(e)}):\n${stderr.join('')}\n${logs.map(l => JSON.stringify(l)).join('\n')}`)));
  });
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', chunk => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.trim()) continue;
      let rec;
      try { rec = JSON.parse(line); } catch { rec = { event: 'unparsed', line }; }
      logs.push(rec);
      if (rec.event === 'listening') onListening(rec);
    }
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', c => { stderr.push(c); if (process.env.E2E_VERBOSE) process.stderr.write(`[latchkey] ${c}`); });

  let rec;
  try {
    rec = await withTimeout(listening, opts.startTimeoutMs ?? 20000, 'latchkey did not print "listening"');
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  const fapiHostPort = rec.fapi;
  frontendApi = rec.frontend_api;
  const bapiHostPort = rec.bapi;
  const server = {
    instance,
    frontendApi,
    frontendApiHost: new URL(frontendApi).host,
    secretKey,
    publishableKey: rec.publishable_key,
    /** What the apps pass as proxyUrl ("" when the SDKs reach https://<key host> themselves). */
    proxyUrl: rec.proxy_url ?? '',
    fapiUrl: `${rec.tls ? 'https' : 'http'}://${fapiHostPort}`,
    bapiUrl: `${rec.tls ? 'https' : 'http'}://${bapiHostPort}`,
    fapiPort: Number(fapiHostPort.split(':').pop()),
    bapiPort: Number(bapiHostPort.split(':').pop()),
    dataDir,
    outboxPath: join(dataDir, 'data', 'outbox.jsonl'),
    proc,
    logs,
    stderr,
    listening: rec,

    /** Every message the server "sent", oldest first. */
    outbox() {
      if (!existsSync(server.outboxPath)) return [];
      return readFileSync(server.outboxPath, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l));
    },

    /** Waits for a new outbox message to `to` (count > `after`), returns its code. */
    async waitForCode(to, { kind, after = 0, timeoutMs = 5000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const msgs = server.outbox().filter(m => m.to === to && (!kind || m.kind === kind));
        if (msgs.length > after) return msgs[msgs.length - 1].code;
        if (Date.now() > deadline) {
          throw new Error(`no ${kind ?? ''} code for ${to} in ${server.outboxPath}: ${JSON.stringify(server.outbox())}`);
        }
        await sleep(50);
      }
    },

    /** Count of messages to `to` so far (pass as `after` to waitForCode). */
    outboxCount(to, kind) {
      return server.outbox().filter(m => m.to === to && (!kind || m.kind === kind)).length;
    },

    /** The `__clerk_ticket` of the last invitation of `kind` (organization_invitation, waitlist_invitation, ...)
     *  mailed to `email`; fails when there is none. */
    ticketFor(email, kind) {
      const sent = server.outbox().filter(m => m.to === email && m.kind === kind);
      assert.ok(sent.length > 0, `no invitation for ${email}: ${JSON.stringify(server.outbox())}`);
      return new URL(sent.at(-1).code).searchParams.get('__clerk_ticket');
    },

    /** Raw BAPI call: JSON in, { status, headers, body } out. */
    async bapi(path, { method = 'GET', body, query, key = secretKey, headers = {} } = {}) {
      const url = new URL(`/v1${path}`, server.bapiUrl);
      for (const [k, v] of Object.entries(query ?? {})) url.searchParams.append(k, String(v));
      const res = await fetch(url, {
        method,
        headers: {
          ...(key ? { Authorization: `Bearer ${key}` } : {}),
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(10000),
      });
      const text = await res.text();
      let json;
      try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
      return { status: res.status, headers: res.headers, body: json, text };
    },

    /** @clerk/backend's client pointed at this BAPI (telemetry off). */
    backendClient(extra = {}) {
      return annotateErrors(createClerkClient({
        secretKey, apiUrl: server.bapiUrl, publishableKey: server.publishableKey, telemetry: { disabled: true }, ...extra,
      }));
    },

    /** Log lines (for failure messages). */
    logTail(n = 40) {
      return [...logs.slice(-n).map(l => JSON.stringify(l)), ...stderr.slice(-10)].join('\n');
    },

    /**
     * SIGTERM, then waits (bounded) for the exit. Throws unless the exit was clean (code 0), so a crash, a
     * sanitizer report or a hang at shutdown fails the suite, with stderr in the message.
     */
    async stop() {
      const wasRunning = !exited;
      if (wasRunning) proc.kill('SIGTERM');
      const res = await exitWithin(exitPromise, 15000);
      if (!res) {
        proc.kill('SIGKILL');
        await exitWithin(exitPromise, 3000);
        throw new Error(`latchkey did not exit within 15 s of SIGTERM\n${server.logTail(10)}`);
      }
      // The logs of the whole suite, stdout and stderr, must not carry a single secret.
      const logText = logs.map(l => JSON.stringify(l)).join('\n') + '\n' + stderr.join('');
      const codes = server.outbox().map(m => m.code).filter(Boolean);
      const leaks = findLeakedSecrets(logText, { secretKey, codes });
      if (!process.env.E2E_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
      if (leaks.length) throw new Error(`secrets in latchkey's logs: ${leaks.join(', ')}`);
      if (!wasRunning || res.code !== 0) {
        throw new Error(`latchkey ${wasRunning ? 'exited' : 'had already exited'} with ${JSON.stringify(res)}\n` +
          `stderr:\n${stderr.join('').slice(-4000)}`);
      }
      return res;
    },
    get exited() { return exited; },
  };
  return server;
}

/**
 * The exit (the value of `exitPromise`) or null after `ms`. The timer is cleared once the process exits: a pending
 * timer keeps node's event loop, and so the test file's process, alive until it fires (15 s per suite file).
 */
export async function exitWithin(exitPromise, ms) {
  let t;
  const timer = new Promise(resolve => { t = setTimeout(() => resolve(null), ms); });
  try {
    return await Promise.race([exitPromise, timer]);
  } finally {
    clearTimeout(t);
  }
}

export function withTimeout(promise, ms, what) {
  let t;
  const timer = new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms); });
  return Promise.race([promise, timer]).finally(() => clearTimeout(t));
}

/** Decodes a JWT without verifying it. */
export function decodeJwt(jwt) {
  const [h, p] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
  };
}

/** Host encoded in a publishable key. */
export function hostFromPublishableKey(pk) {
  const b64 = pk.split('_')[2];
  return Buffer.from(b64, 'base64').toString('utf8').replace(/\$$/, '');
}

/**
 * Wraps @clerk/backend's client so a failing API call names itself: `users.getUser("user_x") → 404
 * resource_not_found: ...` instead of a bare "Not Found". `.status` / `.errors` stay as the SDK set them.
 */
function annotateErrors(client) {
  const wrapGroup = (group, obj) => new Proxy(obj, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (typeof v !== 'function') return v;
      return (...args) => {
        let r;
        try { r = v.apply(target, args); } catch (e) { throw annotate(e, `${group}.${String(prop)}`, args); }
        return r && typeof r.then === 'function' ? r.catch(e => { throw annotate(e, `${group}.${String(prop)}`, args); }) : r;
      };
    },
  });
  return new Proxy(client, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      return v && typeof v === 'object' && typeof prop === 'string' && prop !== 'telemetry' ? wrapGroup(prop, v) : v;
    },
  });
}

function annotate(e, call, args) {
  if (e && typeof e === 'object' && !e.__annotated) {
    const argText = args.map(a => JSON.stringify(a)).join(', ').slice(0, 200);
    const first = e.errors?.[0];
    const detail = first ? ` ${first.code}: ${first.longMessage ?? first.message}` : '';
    try {
      e.message = `${call}(${argText}) → ${e.status ?? '?'}${detail} [${e.message}]`;
      e.stack = `${e.name}: ${e.message}\n${String(e.stack).split('\n').slice(1).join('\n')}`;
      e.__annotated = true;
    } catch { /* frozen */ }
  }
  return e;
}
