#!/usr/bin/env node
// Delivery benchmarks, same run, all on 127.0.0.1 and bounded in time (bench/load/run.sh calls this; it prints a
// markdown section on stdout):
//   1. sign-up throughput (FAPI POST /v1/client/sign_ups, email only, so each sends a code) with
//      delivery.email.mode "outbox" vs "smtp" (the durable queue + libcurl to a local smtp-server that accepts
//      everything), each on a fresh latchkey: the queue must not slow the API; also how many of the smtp run's
//      emails had arrived when the load stopped, and how long the rest took;
//   2. webhook delivery throughput: N users created over BAPI (each a user.created job), a local receiver
//      answering 200; deliveries per second from the first request to the last delivery.
// Usage: node bench/load/delivery.mjs --bin build/release/server/latchkey [--duration S] [--conns N] [--hooks N]
// Needs tests/e2e's node_modules (smtp-server): `cd tests/e2e && npm ci`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = dirname(fileURLToPath(import.meta.url));
const requireE2e = createRequire(join(here, '..', '..', 'tests', 'e2e', 'package.json'));
const { SMTPServer } = requireE2e('smtp-server');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const BIN = args.bin ?? join(here, '..', '..', 'build', 'release', 'server', 'latchkey');
const DURATION = Number(args.duration ?? 10) * 1000;
const CONNS = Number(args.conns ?? 16);
const HOOKS = Number(args.hooks ?? 2000);

function startLatchkey(config) {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-delivery-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const secretKey = `sk_test_${randomBytes(20).toString('hex')}`;
  const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--backend-listen', '127.0.0.1:0', '--data-dir',
    join(dir, 'data'), '--config', join(dir, 'config.json')], {
    env: { ...process.env, LATCHKEY_SECRET_KEY: secretKey, LATCHKEY_INSTANCE: 'production', LATCHKEY_TEST_MODE: 'false',
      LATCHKEY_ACCESS_LOG: 'false', LATCHKEY_FRONTEND_API: 'https://clerk.bench.example.com' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('latchkey did not start')), 20000);
    proc.stdout.on('data', c => {
      buf += c;
      const m = /"event":"listening".*?"fapi":"([^"]+)","bapi":"([^"]+)"/.exec(buf);
      if (m) {
        clearTimeout(t);
        proc.stdout.resume();
        resolve({ proc, dir, secretKey, fapi: `http://${m[1]}`, bapi: `http://${m[2]}`,
          async stop() { proc.kill('SIGTERM'); await new Promise(r => proc.once('exit', r)); rmSync(dir, { recursive: true, force: true }); } });
      }
    });
    proc.once('exit', code => reject(new Error(`latchkey exited ${code}`)));
  });
}

const baseConfig = {
  email_address: { enabled: true, required: true, used_for_first_factor: true, verify_at_sign_up: true },
  password: { enabled: false, required: false },
  first_factors: ['email_code'],
  attack_protection: { rate_per_ip_per_minute: 1000000, rate_per_identifier_per_minute: 1000000 },
};

/** CONNS loops POSTing sign-ups for DURATION ms; returns { rps, p50, p99, errors, count, emails }. */
async function signUpLoad(server) {
  const lat = [];
  let errors = 0;
  const emails = [];
  const end = Date.now() + DURATION;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: CONNS }, async (_, c) => {
    let n = 0;
    while (Date.now() < end) {
      const email = `b${c}x${n++}${randomBytes(3).toString('hex')}@bench.example.com`;
      const s = performance.now();
      try {
        const r = await fetch(`${server.fapi}/v1/client/sign_ups?_clerk_js_version=6.40.0`, {
          method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'https://bench.example.com' },
          body: new URLSearchParams({ email_address: email }), signal: AbortSignal.timeout(10000),
        });
        await r.arrayBuffer();
        if (r.status !== 200) errors++; else emails.push(email);
      } catch { errors++; }
      lat.push(performance.now() - s);
    }
  }));
  const secs = (Date.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = p => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
  return { rps: emails.length / secs, p50: q(0.5), p99: q(0.99), errors, count: emails.length, emails };
}

async function main() {
  // A local SMTP server that accepts everything (plain, no AUTH: the TLS handshake is not what is measured).
  const received = new Set();
  const smtp = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false, disableReverseLookup: true, // no DNS
    onData(stream, session, cb) { stream.on('data', () => {}); stream.on('end', () => { received.add(session.envelope.rcptTo[0]?.address); cb(); }); } });
  await new Promise(r => smtp.listen(0, '127.0.0.1', r));
  const smtpPort = smtp.server.address().port;

  const rows = [];
  const outbox = await startLatchkey(baseConfig);
  const o = await signUpLoad(outbox);
  await outbox.stop();
  const smtpServer = await startLatchkey({ ...baseConfig,
    delivery: { email: { mode: 'smtp', host: '127.0.0.1', port: smtpPort, tls: 'none', from: 'Bench <bench@bench.example.com>' } } });
  const s = await signUpLoad(smtpServer);
  const arrivedAtStop = s.emails.filter(e => received.has(e)).length;
  const drainStart = Date.now();
  while (s.emails.some(e => !received.has(e)) && Date.now() - drainStart < 120000) await sleep(50);
  const drainS = (Date.now() - drainStart) / 1000;
  const allArrived = s.emails.every(e => received.has(e));
  await smtpServer.stop();
  rows.push(['sign-up, email code to outbox.jsonl (default)', o]);
  rows.push(['sign-up, email code queued → SMTP (libcurl, local smtp-server)', s]);

  // Webhooks: HOOKS users created over BAPI, each one user.created to a local receiver.
  let delivered = 0;
  let firstAt = 0;
  let lastAt = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => { delivered++; lastAt = Date.now(); res.writeHead(200).end(); });
  });
  await new Promise(r => receiver.listen(0, '127.0.0.1', r));
  const hookServer = await startLatchkey({ ...baseConfig,
    webhooks: [{ url: `http://127.0.0.1:${receiver.address().port}/hooks`, secret: `whsec_${randomBytes(24).toString('base64')}` }] });
  firstAt = Date.now();
  let created = 0;
  await Promise.all(Array.from({ length: CONNS }, async (_, c) => {
    for (let i = c; i < HOOKS; i += CONNS) {
      const r = await fetch(`${hookServer.bapi}/v1/users`, { method: 'POST',
        headers: { Authorization: `Bearer ${hookServer.secretKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ email_address: [`h${i}${randomBytes(3).toString('hex')}@bench.example.com`] }) });
      await r.arrayBuffer();
      if (r.status === 200) created++;
    }
  }));
  const createdS = (Date.now() - firstAt) / 1000;
  const deadline = Date.now() + 120000;
  while (delivered < created && Date.now() < deadline) await sleep(20);
  const hookS = (lastAt - firstAt) / 1000;
  await hookServer.stop();
  receiver.close();
  smtp.close();

  const f = (x, d = 0) => x.toFixed(d);
  console.log('## Delivery (email queue vs outbox, webhooks)');
  console.log('');
  console.log(`\`bench/load/delivery.mjs\`: ${CONNS} concurrent node fetch loops for ${DURATION / 1000} s per row (the driver, not wrk: every request is a new sign-up), fresh latchkey per row, production instance, durable commits, access log off; binary \`${BIN.replace(/^.*\/build\//, 'build/')}\`.`);
  console.log('');
  console.log('| scenario | conns | sign-ups/s | p50 ms | p99 ms | errors | ratio to outbox |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [label, r] of rows)
    console.log(`| ${label} | ${CONNS} | ${f(r.rps)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${r.errors} | ${f(r.rps / o.rps, 2)} |`);
  console.log('');
  console.log(`SMTP run: ${s.count} emails queued, ${arrivedAtStop} had arrived when the load stopped, ` +
    `${allArrived ? 'all' : 'NOT all'} arrived ${f(drainS, 1)} s later.`);
  console.log('');
  console.log('| webhook scenario | users created | created in s | delivered | deliveries/s (first request → last delivery) |');
  console.log('|---|---|---|---|---|');
  console.log(`| user.created to a local receiver (200), 2 delivery threads | ${created} | ${f(createdS, 1)} | ${delivered} | ${f(delivered / hookS)} |`);
}

main().catch(e => { console.error(e); process.exit(1); });
