// Real email, SMS and webhook delivery from the durable queue:
//   - a real SMTP server (smtp-server) with STARTTLS from a test CA made here and AUTH, reached through a small
//     TCP front on 127.0.0.1 that the test can take down or make hang; messages parsed with mailparser, and the
//     code in the received email signs the user up and in (raw FAPI from node);
//   - an SMS provider stand-in speaking Twilio's form API (basic auth, To/From/Body);
//   - a webhook receiver that verifies every delivery with svix's Webhook.verify AND @clerk/backend's verifyWebhook;
//   - unreachable / hanging SMTP and a 500 from the webhook endpoint: the API keeps answering, jobs retry;
//   - kill -9 while the queue holds messages (receivers down), restart, receivers up: everything arrives.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { Webhook } from 'svix';
import { verifyWebhook } from '@clerk/backend/webhooks';
import { FapiClient } from './lib/fapi.mjs';
import { skipWithoutBinary, startLatchkey, strongPassword, uniq, withTimeout } from './lib/server.mjs';

const ORIGIN = 'http://localhost:3000';

/** A CA and a server certificate for 127.0.0.1 signed by it (openssl CLI, in a temp dir). */
function makeTestCa(dir) {
  const run = args => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=latchkey e2e test CA',
    '-keyout', 'ca.key', '-out', 'ca.crt', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'srv.key', '-out', 'srv.csr']);
  writeFileSync(join(dir, 'srv.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
    '-extfile', 'srv.ext', '-out', 'srv.crt']);
  return { caFile: join(dir, 'ca.crt'), key: readFileSync(join(dir, 'srv.key')), cert: readFileSync(join(dir, 'srv.crt')) };
}

function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(server.address().port); });
  });
}

/** A TCP front on a fixed port: 'up' pipes to the target, 'hang' accepts and never answers, 'down' is closed. */
class TcpFront {
  constructor(targetPort) { this.targetPort = targetPort; this.mode = 'up'; this.sockets = new Set(); this.server = null; }
  async start(port = 0) {
    this.server = createTcpServer(sock => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      sock.on('error', () => {});
      if (this.mode === 'hang') return;
      const up = connect(this.targetPort, '127.0.0.1');
      this.sockets.add(up);
      up.on('close', () => { this.sockets.delete(up); sock.destroy(); });
      up.on('error', () => sock.destroy());
      sock.on('close', () => up.destroy());
      sock.pipe(up).pipe(sock);
    });
    this.port = await listen(this.server, port);
    return this.port;
  }
  async down() {
    this.mode = 'down';
    await new Promise(r => this.server.close(r));
    for (const s of this.sockets) s.destroy();
  }
  async up() { this.mode = 'up'; await this.start(this.port); }
  async close() { if (this.server?.listening) await new Promise(r => this.server.close(r)); for (const s of this.sockets) s.destroy(); }
}

/** An HTTP receiver on a fixed port that can answer 500 or be taken down. */
class HttpReceiver {
  constructor(handler) { this.handler = handler; this.mode = 'ok'; this.server = null; this.sockets = new Set(); }
  async start(port = 0) {
    this.server = createHttpServer((req, res) => {
      const chunks = [];
      req.on('data', c => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (this.mode === '500') { this.refused = (this.refused ?? 0) + 1; res.writeHead(500).end('down for maintenance'); return; }
        try {
          await this.handler(req, body);
          res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
        } catch (e) {
          this.errors = [...(this.errors ?? []), String(e?.stack ?? e)];
          res.writeHead(400).end('bad');
        }
      });
    });
    this.server.on('connection', s => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    this.port = await listen(this.server, port);
    return this.port;
  }
  async down() { await new Promise(r => { this.server.close(r); for (const s of this.sockets) s.destroy(); }); }
  async up() { await this.start(this.port); }
  async close() { if (this.server?.listening) await this.down(); }
}

async function waitFor(what, fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('delivery: SMTP, SMS and webhooks from the durable queue', { skip: skipWithoutBinary, timeout: 240000 }, () => {
  let tmp, ca, smtp, smtpFront, sms, hooks, server;
  const mails = [];          // { to, from, subject, text, secure, user }
  const texts = [];          // { To, From, Body }
  const events = [];         // verified webhook envelopes, with their svix-id
  const smtpUser = 'mailer';
  const smtpPassword = randomBytes(12).toString('hex');
  const smsSid = 'AC' + randomBytes(16).toString('hex');
  const smsToken = randomBytes(16).toString('hex');
  const whsecRaw = randomBytes(24);
  const whsec = `whsec_${whsecRaw.toString('base64')}`;
  const secretKey = `sk_test_${randomBytes(20).toString('hex')}`;
  const frontendApi = `https://e2e-mail-${randomBytes(4).toString('hex')}.accounts.dev`;
  let config;

  const codeOf = text => (/\b(\d{6})\b/.exec(text) ?? [])[1];
  const mailsTo = to => mails.filter(m => m.to === to);
  const textsTo = to => texts.filter(m => m.To === to);
  const eventsOf = type => events.filter(e => e.type === type);

  async function start(extra = {}) {
    return startLatchkey({ instance: 'development', testMode: false, secretKey, frontendApi, config,
      env: { E2E_SMTP_PASSWORD: smtpPassword }, ...extra });
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'latchkey-mail-'));
    ca = makeTestCa(tmp);
    smtp = new SMTPServer({
      key: ca.key, cert: ca.cert, secure: false, authMethods: ['PLAIN', 'LOGIN'], disabledCommands: [],
      disableReverseLookup: true, // no DNS: every network target stays 127.0.0.1
      onAuth(auth, session, cb) {
        if (!session.secure) return cb(new Error('AUTH before STARTTLS'));
        if (auth.username === smtpUser && auth.password === smtpPassword) return cb(null, { user: auth.username });
        return cb(new Error('Invalid username or password'));
      },
      onData(stream, session, cb) {
        simpleParser(stream).then(parsed => {
          mails.push({ to: session.envelope.rcptTo[0]?.address, mailFrom: session.envelope.mailFrom?.address,
            from: parsed.from?.text, subject: parsed.subject, text: parsed.text, secure: session.secure,
            user: session.user, headers: parsed.headers, messageId: parsed.messageId });
          cb();
        }, cb);
      },
      logger: false,
    });
    const smtpPort = await listen(smtp.server);
    smtpFront = new TcpFront(smtpPort);
    await smtpFront.start();

    sms = new HttpReceiver(async (req, body) => {
      assert.equal(req.method, 'POST');
      assert.equal(req.url, `/2010-04-01/Accounts/${smsSid}/Messages.json`);
      assert.equal(req.headers.authorization, `Basic ${Buffer.from(`${smsSid}:${smsToken}`).toString('base64')}`);
      assert.match(req.headers['content-type'], /^application\/x-www-form-urlencoded/);
      texts.push(Object.fromEntries(new URLSearchParams(body)));
    });
    await sms.start();

    const wh = new Webhook(whsec);
    hooks = new HttpReceiver(async (req, body) => {
      const headers = { 'svix-id': req.headers['svix-id'], 'svix-timestamp': req.headers['svix-timestamp'],
        'svix-signature': req.headers['svix-signature'] };
      const bySvix = wh.verify(body, headers); // throws on a bad signature or a stale timestamp
      const request = new Request('http://127.0.0.1/webhooks', { method: 'POST', headers, body });
      const byClerk = await verifyWebhook(request, { signingSecret: whsec });
      assert.deepEqual(byClerk, bySvix);
      events.push({ ...byClerk, svixId: headers['svix-id'] });
    });
    await hooks.start();

    config = {
      phone_number: { enabled: true, required: false, used_for_first_factor: true, verify_at_sign_up: true },
      first_factors: ['password', 'email_code', 'phone_code', 'reset_password_email_code'],
      delivery: {
        email: { mode: 'smtp', host: '127.0.0.1', port: smtpFront.port, tls: 'starttls', user: smtpUser,
          password_env: 'E2E_SMTP_PASSWORD', from: 'Acme Auth <no-reply@acme.test>', ca_file: ca.caFile,
          connect_timeout_ms: 1000, timeout_ms: 2000 },
        sms: { mode: 'twilio', base_url: `http://127.0.0.1:${sms.port}`, account_sid: smsSid, auth_token: smsToken,
          from: '+15005550006', timeout_ms: 2000 },
        templates: { verification_code: { subject: '{{app_name}} code: {{code}}', text: 'Hello!\nYour code is {{code}}.\n' } },
        backoff_base_ms: 100, backoff_max_ms: 1000, max_attempts: 50,
      },
      application_name: 'Acme',
      webhooks: [{ url: `http://127.0.0.1:${hooks.port}/webhooks`, secret: whsec }],
    };
    server = await start();
  });

  after(async () => {
    try { if (server && !server.exited) await server.stop(); } finally {
      await Promise.allSettled([smtpFront?.close(), sms?.close(), hooks?.close(), new Promise(r => smtp ? smtp.close(r) : r())]);
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
  });

  const fapi = () => new FapiClient({ baseUrl: server.fapiUrl, origin: ORIGIN, devBrowser: true }).init();

  test('the emailed code (SMTP, STARTTLS from the test CA, AUTH) signs a user up and then in', async () => {
    const email = `${uniq('mail')}@example.com`;
    const password = strongPassword();
    const c = await fapi();
    let r = await c.req('POST', '/client/sign_ups', { form: { email_address: email, password } });
    const su = r.response;
    const mail = await waitFor(`an email to ${email}`, () => mailsTo(email)[0]);
    assert.equal(mail.secure, true, 'STARTTLS was used');
    assert.equal(mail.user, smtpUser, 'AUTH was used');
    assert.equal(mail.mailFrom, 'no-reply@acme.test');
    assert.equal(mail.from, '"Acme Auth" <no-reply@acme.test>');
    const code = codeOf(mail.text);
    assert.ok(code, mail.text);
    assert.equal(mail.subject, `Acme code: ${code}`);
    assert.match(mail.text, /^Hello!\s+Your code is \d{6}\./);
    r = await c.req('POST', `/client/sign_ups/${su.id}/attempt_verification`, { form: { strategy: 'email_code', code } });
    assert.equal(r.response.status, 'complete');
    const userId = r.response.created_user_id;

    // Sign in on another client with an emailed code.
    const c2 = await fapi();
    r = await c2.req('POST', '/client/sign_ins', { form: { identifier: email } });
    const si = r.response;
    const emailFactor = si.supported_first_factors.find(f => f.strategy === 'email_code');
    await c2.req('POST', `/client/sign_ins/${si.id}/prepare_first_factor`,
      { form: { strategy: 'email_code', email_address_id: emailFactor.email_address_id } });
    const second = await waitFor('a second email', () => mailsTo(email)[1]);
    r = await c2.req('POST', `/client/sign_ins/${si.id}/attempt_first_factor`, { form: { strategy: 'email_code', code: codeOf(second.text) } });
    assert.equal(r.response.status, 'complete');
    assert.equal(r.client.sessions[0].user.id, userId);

    // Webhooks: user.created, session.created (twice), email.created (twice); every one verified by the receiver.
    await waitFor('user.created', () => eventsOf('user.created').find(e => e.data.id === userId));
    await waitFor('two session.created', () => eventsOf('session.created').filter(e => e.data.user_id === userId).length >= 2);
    await waitFor('two email.created', () => eventsOf('email.created').filter(e => e.data.to_email_address === email).length >= 2);
    const created = eventsOf('user.created').find(e => e.data.id === userId);
    assert.equal(created.object, 'event');
    assert.equal(created.data.object, 'user');
    assert.equal(created.data.email_addresses[0].email_address, email);
    assert.match(created.instance_id, /^ins_/);
    assert.equal(typeof created.timestamp, 'number');
    assert.ok(created.event_attributes.http_request);
    assert.equal(hooks.errors, undefined, 'every delivery verified');
  });

  test('an SMS code goes through the Twilio-compatible API and verifies the phone number', async () => {
    const email = `${uniq('sms')}@example.com`;
    const phone = `+1415555${String(1000 + Math.floor(Math.random() * 8999))}`;
    const c = await fapi();
    let r = await c.req('POST', '/client/sign_ups', { form: { email_address: email, phone_number: phone, password: strongPassword() } });
    const su = r.response;
    const text = await waitFor(`an SMS to ${phone}`, () => textsTo(phone)[0]);
    assert.equal(text.From, '+15005550006');
    assert.match(text.Body, /^\d{6} is your Acme verification code\.$/);
    const mail = await waitFor(`an email to ${email}`, () => mailsTo(email)[0]);
    await c.req('POST', `/client/sign_ups/${su.id}/attempt_verification`, { form: { strategy: 'email_code', code: codeOf(mail.text) } });
    r = await c.req('POST', `/client/sign_ups/${su.id}/attempt_verification`, { form: { strategy: 'phone_code', code: codeOf(text.Body) } });
    assert.equal(r.response.status, 'complete');
    await waitFor('sms.created', () => eventsOf('sms.created').find(e => e.data.to_phone_number === phone));
  });

  test('unreachable and hanging SMTP, a 500 from the webhook endpoint: the API keeps answering, jobs retry', async () => {
    hooks.mode = '500';
    await smtpFront.down();
    const email = `${uniq('down')}@example.com`;
    const c = await fapi();
    let t0 = Date.now();
    const r = await c.req('POST', '/client/sign_ups', { form: { email_address: email, password: strongPassword() } });
    assert.ok(Date.now() - t0 < 3000, 'sign-up answered without waiting for delivery');
    await waitFor('a failed SMTP attempt', () => server.logs.some(l => l.event === 'delivery_retry' && l.kind === 'email'));
    await waitFor('a refused webhook', () => (hooks.refused ?? 0) > 0);
    // The SMTP front now accepts and never answers: the transfer times out (timeout_ms 2000) and is retried.
    smtpFront.mode = 'hang';
    await smtpFront.start(smtpFront.port);
    t0 = Date.now();
    await c.req('GET', '/environment');
    await c.req('POST', `/client/sign_ups/${r.response.id}/prepare_verification`, { form: { strategy: 'email_code' } });
    assert.ok(Date.now() - t0 < 3000, 'the API keeps answering while SMTP hangs');
    await sleep(2500);
    assert.equal(mailsTo(email).length, 0);
    await smtpFront.down();
    await smtpFront.up();
    hooks.mode = 'ok';
    const mail = await waitFor('the retried email', () => mailsTo(email).at(-1), 20000);
    assert.ok(codeOf(mail.text));
    await waitFor('the retried email.created', () => eventsOf('email.created').find(e => e.data.to_email_address === email), 20000);
    assert.equal(hooks.errors, undefined);
  });

  test('kill -9 while the queue holds messages and webhooks: after a restart every one is delivered', async () => {
    await smtpFront.down();
    await sms.down();
    await hooks.down();
    const people = [];
    const mark = server.logs.length;
    for (let i = 0; i < 3; i++) {
      const email = `${uniq('kill')}@example.com`;
      const phone = `+1415556${String(1000 + i * 1111 + Math.floor(Math.random() * 100))}`;
      const c = await fapi();
      await c.req('POST', '/client/sign_ups', { form: { email_address: email, phone_number: phone, password: strongPassword() } });
      people.push({ email, phone });
    }
    // Every message and event of these sign-ups is committed (the replies came back) and has failed once at least.
    await waitFor('failed attempts', () => server.logs.slice(mark).filter(l => l.event === 'delivery_retry').length >= 6);
    assert.equal(people.filter(p => mailsTo(p.email).length || textsTo(p.phone).length).length, 0);
    const dataDir = server.dataDir;
    server.proc.kill('SIGKILL');
    await withTimeout(new Promise(r => server.proc.once('exit', r)), 5000, 'latchkey killed');
    server = await start({ dataDir });
    await smtpFront.up();
    await sms.up();
    await hooks.up();
    for (const p of people) {
      await waitFor(`email to ${p.email}`, () => mailsTo(p.email).length >= 1, 30000);
      await waitFor(`sms to ${p.phone}`, () => textsTo(p.phone).length >= 1, 30000);
      await waitFor(`email.created for ${p.email}`, () => eventsOf('email.created').some(e => e.data.to_email_address === p.email), 30000);
      await waitFor(`sms.created for ${p.phone}`, () => eventsOf('sms.created').some(e => e.data.to_phone_number === p.phone), 30000);
    }
    assert.equal(hooks.errors, undefined);
    assert.equal(sms.errors, undefined);
  });

  test('a CR/LF header-injection attempt in an email address is a Clerk-shaped 422 and sends nothing', async () => {
    const c = await fapi();
    const before = mails.length;
    const r = await c.raw('POST', '/client/sign_ups', { form: { email_address: 'victim@example.com\r\nBcc: all@example.com', password: strongPassword() } });
    assert.equal(r.status, 422);
    assert.equal(r.body.errors[0].code, 'form_param_format_invalid');
    assert.equal(r.body.errors[0].meta.param_name, 'email_address');
    await sleep(500);
    // Late duplicates of the kill -9 test may still arrive (at-least-once): judge by who they are for.
    const injected = mails.slice(before).filter(m => /victim|all@example/.test(`${m.to} ${JSON.stringify(m.headers ? [...m.headers] : [])}`));
    assert.deepEqual(injected, []);
  });
});
