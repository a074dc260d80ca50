// The admin console (issue 23) driven like a person in Chromium: sign in through the link `latchkey console-link`
// prints, search a user by an email prefix, ban them (their next FAPI sign-in in clerk-js answers Clerk's banned
// error), edit public metadata in the JSON editor (invalid JSON refused; the value then in @clerk/backend's
// getUser and in a JWT template's claim), impersonate (a second browser context redeems the actor token in
// clerk-js and gets a session token with `act`), read the charts and the audit log; an XSS payload in a first
// name shows as text. Every page is checked for CSP violations and page errors; a screenshot of each is saved.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { verifyToken } from '@clerk/backend';

import { newPage } from './lib/browser.mjs';
import { ARTIFACTS, WAIT } from './lib/components.mjs';
import { evalClerk, getToken, openAndLoad, setActive, startBrowserSuite } from './lib/flows.mjs';
import { LATCHKEY_BIN, strongPassword, uniq } from './lib/server.mjs';

const T = { timeout: 90000 };
const run = promisify(execFile);
const XSS = '<img src=x onerror="window.__xss=1">Eve';

describe('admin console', { skip: !LATCHKEY_BIN && 'LATCHKEY_BIN is not set' }, () => {
  let s;
  let bapi;
  let con; // the operator's browser context
  const eve = { email: `${uniq('eve')}@example.com`, password: strongPassword() };
  before(async () => {
    s = await startBrowserSuite({ instance: 'production' });
    bapi = s.server.backendClient();
    await bapi.jwtTemplates.create({ name: 'plan', claims: { plan: '{{user.public_metadata.plan}}' }, lifetime: 120 });
    const u = await bapi.users.createUser({ emailAddress: [eve.email], password: eve.password, firstName: XSS, lastName: 'Tester', skipPasswordChecks: true });
    eve.id = u.id;
    for (let i = 0; i < 5; i++)
      await bapi.users.createUser({ emailAddress: [`${uniq('other')}@example.com`], firstName: `Other${i}`, skipPasswordRequirement: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    con = await newPage(s.browser);
  });
  after(async () => { await con?.close(); await s?.stop(); });

  const shot = name => con.page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
  const noViolations = () => {
    assert.deepEqual(con.diag.pageErrors, []);
    assert.equal(con.diag.console.filter(c => /Content.Security.Policy|Refused to/i.test(c)).length, 0, con.diag.console.join('\n'));
  };
  /** Signs eve in through clerk-js in a fresh context; returns { page, result } or the refusal's code. */
  async function signInEve(p) {
    await openAndLoad(p.page, s.app.sameOriginUrl());
    return evalClerk(p.page, async (clerk, email, password) => {
      const r = await clerk.client.signIn.create({ identifier: email, password, strategy: 'password' });
      return { status: r.status, createdSessionId: r.createdSessionId };
    }, eve.email, eve.password);
  }

  it('signs in through the printed link, finds a user by email prefix, shows an XSS name as text', T, async () => {
    const { stdout } = await run(LATCHKEY_BIN, ['console-link', '--data-dir', join(s.server.dataDir, 'data'), '--base-url', s.server.bapiUrl], { timeout: 15000 });
    const link = stdout.trim();
    assert.match(link, /\/console\/link\?token=[A-Za-z0-9_-]{40,}$/);
    await con.page.goto(link, { waitUntil: 'load' });
    assert.equal(new URL(con.page.url()).pathname, '/console/');
    const search = con.page.getByRole('searchbox', { name: 'Search users' });
    await search.waitFor(WAIT);
    await con.page.getByText('owner (admin)').waitFor(WAIT);
    // The HttpOnly cookie is invisible to scripts; the link is spent.
    assert.equal(await con.page.evaluate(() => document.cookie.includes('__latchkey_console')), false);
    const again = await fetch(link, { redirect: 'manual' });
    assert.equal(again.status, 401);

    await search.fill(eve.email.slice(0, 8));
    const row = con.page.getByRole('link', { name: `${XSS} Tester` });
    await row.waitFor(WAIT);
    await con.page.getByText('1 shown').waitFor(WAIT); // the prefix's answer, not the first (unfiltered) page
    assert.equal(await con.page.getByRole('table', { name: 'Users' }).getByRole('row').count(), 2); // header + eve
    assert.equal(await con.page.locator('main img').count(), 0);
    assert.equal(await con.page.evaluate(() => window.__xss), undefined);
    await shot('users');
    await row.click();
    await con.page.getByRole('heading', { name: `${XSS} Tester` }).waitFor(WAIT);
    assert.equal(await con.page.locator('main img').count(), 0);
    assert.equal(await con.page.evaluate(() => window.__xss), undefined);
    await shot('user');
    noViolations();
  });

  it('bans a user: their next sign-in answers the banned error; unban lets them in', T, async () => {
    await con.page.getByRole('button', { name: 'Ban', exact: true }).click();
    await con.page.getByText('banned', { exact: true }).waitFor(WAIT);
    assert.equal((await bapi.users.getUser(eve.id)).banned, true);
    const p = await newPage(s.browser);
    try {
      await assert.rejects(signInEve(p), e => e.code === 'user_banned', 'a banned user cannot sign in');
    } finally { await p.close(); }
    await con.page.getByRole('button', { name: 'Unban' }).click();
    await con.page.getByRole('button', { name: 'Ban', exact: true }).waitFor(WAIT);
    assert.equal((await bapi.users.getUser(eve.id)).banned, false);
    noViolations();
  });

  it('edits public metadata: invalid JSON refused, the saved value in getUser and in a template token', T, async () => {
    const editor = con.page.getByRole('textbox', { name: 'Public metadata' });
    await editor.fill('{"plan": ');
    await con.page.getByRole('button', { name: 'Save Public metadata' }).click();
    await con.page.getByText(/Invalid JSON/).waitFor(WAIT);
    assert.equal(await editor.getAttribute('aria-invalid'), 'true');
    assert.deepEqual((await bapi.users.getUser(eve.id)).publicMetadata, {});
    await editor.fill('{"plan": "gold"}');
    await con.page.getByRole('button', { name: 'Save Public metadata' }).click();
    await con.page.getByText('Save Public metadata: done').waitFor(WAIT);
    assert.deepEqual((await bapi.users.getUser(eve.id)).publicMetadata, { plan: 'gold' });
    const p = await newPage(s.browser);
    try {
      const si = await signInEve(p);
      assert.equal(si.status, 'complete');
      await setActive(p.page, si.createdSessionId);
      const token = await getToken(p.page, { template: 'plan' });
      const claims = await verifyToken(token, { secretKey: s.server.secretKey, apiUrl: s.server.bapiUrl });
      assert.equal(claims.plan, 'gold');
    } finally { await p.close(); }
    noViolations();
  });

  it('impersonates: a second browser redeems the actor token and its session token carries act', T, async () => {
    await con.page.getByRole('button', { name: 'Impersonate' }).click();
    const a = con.page.locator('#impersonation-link');
    await a.waitFor(WAIT);
    const url = new URL(await a.getAttribute('href'));
    const ticket = url.searchParams.get('__clerk_ticket') ?? url.searchParams.get('ticket');
    assert.ok(ticket, url.href);
    const p = await newPage(s.browser);
    try {
      await openAndLoad(p.page, s.app.sameOriginUrl());
      const si = await evalClerk(p.page, async (clerk, t) => {
        const r = await clerk.client.signIn.create({ strategy: 'ticket', ticket: t });
        return { status: r.status, createdSessionId: r.createdSessionId };
      }, ticket);
      assert.equal(si.status, 'complete');
      await setActive(p.page, si.createdSessionId);
      const claims = await verifyToken(await getToken(p.page, { skipCache: true }), { secretKey: s.server.secretKey, apiUrl: s.server.bapiUrl });
      assert.equal(claims.sub, eve.id);
      assert.equal(claims.act?.sub, 'operator:owner');
    } finally { await p.close(); }
    noViolations();
  });

  it('reads the charts and the audit log', T, async () => {
    await con.page.getByRole('link', { name: 'Charts' }).click();
    const signIns = con.page.getByRole('img', { name: /^Sign-ins: \d+ succeeded, \d+ failed$/ });
    await signIns.waitFor(WAIT);
    const [, ok, failed] = (await signIns.getAttribute('aria-label')).match(/(\d+) succeeded, (\d+) failed/);
    assert.ok(Number(ok) >= 2, `sign-ins: ${ok}`); // eve's password sign-in and the impersonation
    assert.ok(Number(failed) >= 1, `failed: ${failed}`); // the banned attempt
    await con.page.getByRole('img', { name: /^Active sessions: [1-9]/ }).waitFor(WAIT);
    await shot('charts');
    await con.page.getByRole('link', { name: 'Audit log' }).click();
    const log = con.page.getByRole('table', { name: 'Audit log' });
    await log.getByRole('cell', { name: 'POST /v1/users/{user_id}/ban', exact: true }).waitFor(WAIT);
    await log.getByRole('cell', { name: 'POST /v1/actor_tokens', exact: true }).waitFor(WAIT);
    await shot('audit');
    noViolations();
  });
});
