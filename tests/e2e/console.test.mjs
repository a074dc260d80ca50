// The admin console (issue 23) driven like a person in Chromium, over 10,000 users imported with `latchkey import`
// before the browser starts: sign in through the link `latchkey console-link` prints, search one user among them
// by an email prefix and open them, end a session (the browser that held it is signed out on its next refresh),
// ban them (their next FAPI sign-in in clerk-js answers Clerk's banned error), edit public metadata in the JSON
// editor (invalid JSON refused; the value then in @clerk/backend's getUser and in a JWT template's claim),
// keyboard-only navigation, impersonate (a second browser context redeems the actor token in clerk-js and gets a session token with `act`),
// read the charts and the audit log; the organizations pages (an organization named with an XSS payload, a member's
// role, an invitation, a domain), the instance page (origins, signing keys rotated and retired with its buttons, a
// template's claims previewed for a user, a webhook delivery retried, the waitlist, the users export), operator
// management, and the phone layout.
// XSS payloads in a first name, an organization name and a User-Agent show as text. Every page is checked for CSP
// violations and page errors; a screenshot of each is saved.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
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
const ORG_XSS = '<img src=x onerror="window.__xss=3">Acme';
const UA_XSS = 'Mozilla/5.0 <img src=x onerror="window.__xss=2"> Chrome/120.0.0.0';
const SEEDED = 9994; // imported, plus the users the test creates: 10,000 in all
const PHONE = { width: 390, height: 844 };

describe('admin console', { skip: !LATCHKEY_BIN && 'LATCHKEY_BIN is not set' }, () => {
  let s;
  let bapi;
  let con; // the operator's browser context
  const eve = { email: `${uniq('eve')}@example.com`, password: strongPassword() };
  before(async () => {
    s = await startBrowserSuite({
      instance: 'production',
      config: {
        delivery: { backoff_base_ms: 600000, backoff_max_ms: 600000 },
        // Nothing listens on port 1: the organization.created delivery waits in the queue for the retry button.
        webhooks: [{ url: 'http://127.0.0.1:1/hooks', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', events: ['organization.created'] }],
        organizations: { enabled: true },
      },
    });
    bapi = s.server.backendClient();
    // 9,994 users through the importer, beside the running server, before the browser starts.
    const csv = join(s.server.dataDir, 'seed.csv');
    const rows = ['id,first_name,last_name,primary_email_address'];
    for (let i = 0; i < SEEDED; i++) rows.push(`user_seed${String(i).padStart(5, '0')},Seed,Person${i},seed${i}@bulk.example.com`);
    writeFileSync(csv, rows.join('\n') + '\n');
    await run(LATCHKEY_BIN, ['import', csv, '--format', 'clerk-csv', '--data-dir', join(s.server.dataDir, 'data')], { timeout: 60000 });
    await bapi.jwtTemplates.create({ name: 'plan', claims: { plan: '{{user.public_metadata.plan}}' }, lifetime: 120 });
    const u = await bapi.users.createUser({ emailAddress: [eve.email], password: eve.password, firstName: XSS, lastName: 'Tester', skipPasswordChecks: true });
    eve.id = u.id;
    for (let i = 0; i < 5; i++)
      await bapi.users.createUser({ emailAddress: [`${uniq('other')}@example.com`], firstName: `Other${i}`, skipPasswordRequirement: true });
    eve.org = (await bapi.organizations.createOrganization({ name: ORG_XSS })).id;
    await bapi.organizations.createOrganizationMembership({ organizationId: eve.org, userId: eve.id, role: 'org:member' });
    await s.server.bapi('/waitlist_entries', { method: 'POST', body: { email_address: `${uniq('wait')}@example.com` } });
    assert.equal((await s.server.bapi('/users/count')).body.total_count, SEEDED + 6);
    mkdirSync(ARTIFACTS, { recursive: true });
    con = await newPage(s.browser);
    await con.page.setViewportSize({ width: 1280, height: 800 });
  });
  after(async () => { await con?.close(); await s?.stop(); });

  const shot = name => con.page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
  const noXss = async () => {
    assert.equal(await con.page.locator('main img').count(), 0);
    assert.equal(await con.page.evaluate(() => window.__xss), undefined);
  };
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
    await con.page.getByText('1 shown').waitFor(WAIT); // the prefix's answer among 10,000, not the first page
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

  it('ends a session: the browser that held it is signed out on its next refresh (its User-Agent shown as text)', T, async () => {
    const p = await newPage(s.browser);
    try {
      await p.context.setExtraHTTPHeaders({ 'User-Agent': UA_XSS });
      const si = await signInEve(p);
      assert.equal(si.status, 'complete');
      await setActive(p.page, si.createdSessionId);
      await con.page.reload({ waitUntil: 'load' });
      const end = con.page.getByRole('button', { name: `End session ${si.createdSessionId}` });
      await end.waitFor(WAIT);
      await noXss();
      await end.click();
      await con.page.getByRole('heading', { name: 'Sessions (0 active)' }).waitFor(WAIT);
      // The next refresh of the page that held it: clerk-js loads signed out.
      await openAndLoad(p.page, s.app.sameOriginUrl());
      assert.equal(await p.page.evaluate(() => window.Clerk.user?.id ?? null), null);
      assert.equal(await p.page.evaluate(() => window.Clerk.session?.id ?? null), null);
    } finally { await p.close(); }
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

  it('organizations: search, an XSS name as text, a member role, an invitation, a domain', T, async () => {
    await con.page.getByRole('link', { name: 'Organizations' }).click();
    await con.page.getByRole('searchbox', { name: 'Search organizations' }).fill('acme');
    const link = con.page.getByRole('link', { name: ORG_XSS });
    await link.waitFor(WAIT);
    await noXss();
    await shot('orgs');
    await link.click();
    await con.page.getByRole('heading', { name: ORG_XSS }).waitFor(WAIT);
    await noXss();
    const role = con.page.getByRole('combobox', { name: `Role of ${XSS} Tester` });
    await role.selectOption('org:admin');
    await con.page.getByText(`Change role of ${XSS} Tester: done`).waitFor(WAIT);
    const m = await bapi.organizations.getOrganizationMembershipList({ organizationId: eve.org });
    assert.equal(m.data[0].role, 'org:admin');
    await con.page.getByRole('textbox', { name: 'Email address' }).fill('invitee@example.com');
    await con.page.getByRole('button', { name: 'Send invitation' }).click();
    const revoke = con.page.getByRole('button', { name: 'Revoke invitation invitee@example.com' });
    await revoke.click();
    await con.page.getByRole('cell', { name: 'revoked' }).waitFor(WAIT);
    await con.page.getByRole('textbox', { name: 'Domain' }).fill('acme-e2e.test');
    await con.page.getByRole('button', { name: 'Add domain' }).click();
    await con.page.getByRole('button', { name: 'Delete domain acme-e2e.test' }).waitFor(WAIT);
    await shot('org');
    noViolations();
  });

  it('instance: origins, signing keys rotated and retired, a template previewed for a user, a delivery retried, the waitlist, the export', T, async () => {
    await con.page.getByRole('link', { name: 'Instance' }).click();
    await con.page.getByRole('heading', { name: 'Settings in force' }).waitFor(WAIT);
    await con.page.getByText(s.app.origin, { exact: true }).waitFor(WAIT);
    const keys = con.page.getByRole('table', { name: 'Signing keys' });
    assert.equal(await keys.getByRole('cell', { name: 'signing', exact: true }).count(), 1);
    assert.equal((await con.page.content()).includes(s.server.secretKey), false);
    // The template's claims rendered on the server for eve (the metadata saved earlier).
    await con.page.getByRole('combobox', { name: 'Template' }).selectOption({ label: 'plan' });
    await con.page.getByRole('textbox', { name: 'Preview for user id' }).fill(eve.id);
    await con.page.getByRole('button', { name: 'Preview claims' }).click();
    await con.page.getByLabel('Template claims').getByText('"plan": "gold"').waitFor(WAIT);
    // The organization.created delivery failed its first attempt (nothing listens); retry it now.
    const deliveries = con.page.getByRole('table', { name: 'Webhook deliveries' });
    await deliveries.getByRole('cell', { name: 'organization.created' }).waitFor(WAIT);
    const before = (await s.server.bapi('/webhook_deliveries')).body.data[0];
    await deliveries.getByRole('button', { name: `Retry ${before.id}` }).click();
    await con.page.getByText('Retry delivery: done').waitFor(WAIT);
    for (let i = 0; i < 100 && (await s.server.bapi('/webhook_deliveries')).body.data[0].attempts <= before.attempts; i++)
      await new Promise(r => setTimeout(r, 50));
    assert.ok((await s.server.bapi('/webhook_deliveries')).body.data[0].attempts > before.attempts, 'the retry made another attempt');
    // The waitlist: invite the waiting person.
    const invite = con.page.getByRole('button', { name: /^Invite wait/ });
    await invite.click();
    await con.page.getByRole('table', { name: 'Waitlist' }).getByRole('cell', { name: 'invited' }).waitFor(WAIT);
    // The export: every user, in the import format.
    const [download] = await Promise.all([con.page.waitForEvent('download'), con.page.getByRole('link', { name: 'Download users (CSV)' }).click()]);
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(await download.path(), 'utf8');
    assert.equal(text.trim().split('\n').length, 1 + SEEDED + 6);
    assert.ok(text.includes(eve.email));
    // Rotate the signing key (after a confirmation), then retire the old one: the JWKS follows each press.
    const oldKid = (await s.server.bapi('/jwks')).body.keys[0].kid;
    await con.page.getByRole('button', { name: 'Rotate signing key' }).click();
    await con.page.getByRole('button', { name: 'Confirm rotation' }).click();
    await con.page.getByText('Rotate key: done').waitFor(WAIT);
    const kids = (await s.server.bapi('/jwks')).body.keys.map(k => k.kid);
    assert.equal(kids.length, 2);
    assert.equal(kids[1], oldKid);
    await keys.getByRole('button', { name: `Retire ${oldKid}` }).click();
    await con.page.getByText('Retire key: done').waitFor(WAIT);
    assert.deepEqual((await s.server.bapi('/jwks')).body.keys.map(k => k.kid), [kids[0]]);
    await shot('instance');
    noViolations();
  });

  it('operators: an admin adds one with a role, changes the role, resets the authenticator, removes them', T, async () => {
    await con.page.getByRole('link', { name: 'Operators' }).click();
    await con.page.getByRole('textbox', { name: 'Operator name' }).fill('sue');
    await con.page.getByRole('combobox', { name: 'Operator role' }).selectOption('support');
    await con.page.getByRole('button', { name: 'Add operator' }).click();
    await con.page.locator('#totp-secret').waitFor(WAIT);
    const role = con.page.getByRole('combobox', { name: 'Role of sue' });
    await role.waitFor(WAIT);
    assert.equal(await role.inputValue(), 'support');
    await role.selectOption('viewer');
    await con.page.getByText('Change role of sue: done').waitFor(WAIT);
    await con.page.getByRole('button', { name: 'Reset authenticator of sue' }).click();
    await con.page.getByText('Authenticator secret for sue (shown once):').waitFor(WAIT);
    await shot('operators');
    await con.page.getByRole('button', { name: 'Remove sue' }).click();
    await con.page.getByText('Remove sue: done').waitFor(WAIT);
    await con.page.getByRole('combobox', { name: 'Role of sue' }).waitFor({ ...WAIT, state: 'detached' }); // gone from the list
    await con.page.getByRole('link', { name: 'Audit log' }).click();
    const log = con.page.getByRole('table', { name: 'Audit log' });
    for (const action of ['POST /console/api/operators', 'PATCH /console/api/operators/{operator_id}',
      'POST /console/api/operators/{operator_id}/reset_totp', 'DELETE /console/api/operators/{operator_id}'])
      await log.getByRole('cell', { name: action, exact: true }).first().waitFor(WAIT);
    noViolations();
  });

  /** Presses Tab until `locator` has the focus (keyboard only; no clicks). */
  async function tabTo(locator, max = 80) {
    for (let i = 0; i < max; ++i) {
      await con.page.keyboard.press('Tab');
      if (await locator.evaluate(e => e === document.activeElement).catch(() => false)) return;
    }
    throw new Error(`Tab never reached ${locator}`);
  }

  it('keyboard only: Tab reaches the search box, typing searches, Enter opens the user, Tab reaches the actions', T, async () => {
    await con.page.goto(`${s.server.bapiUrl}/console/#/users`);
    const search = con.page.getByRole('searchbox', { name: 'Search users' });
    await search.waitFor(WAIT);
    await tabTo(search);
    await con.page.keyboard.type(eve.email.slice(0, 8));
    const row = con.page.getByRole('link', { name: `${XSS} Tester` });
    await row.waitFor(WAIT);
    await tabTo(row);
    await con.page.keyboard.press('Enter');
    await con.page.getByRole('heading', { name: `${XSS} Tester` }).waitFor(WAIT);
    assert.ok(con.page.url().endsWith(`#/users/${eve.id}`), con.page.url());
    await tabTo(con.page.getByRole('button', { name: 'Impersonate' }));
    noViolations();
  });

  it('on a phone (390×844): no sideways scroll, the navigation reachable on every page', T, async () => {
    await con.page.setViewportSize(PHONE);
    try {
      for (const [name, heading] of [['Users', 'Users'], ['Organizations', 'Organizations'], ['Instance', 'Instance'], ['Charts', 'Charts'], ['Operators', 'Operators']]) {
        const nav = con.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
        await nav.click(); // visible and hit-testable at this width
        await con.page.getByRole('heading', { name: heading, exact: true, level: 1 }).waitFor(WAIT);
        const [sw, cw] = await con.page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
        assert.ok(sw <= cw, `${name}: the page is ${sw}px wide in a ${cw}px window`);
        await shot(`phone-${name.toLowerCase()}`);
      }
      await con.page.goto(`${s.server.bapiUrl}/console/#/users/${eve.id}`);
      await con.page.getByRole('heading', { name: `${XSS} Tester` }).waitFor(WAIT);
      const [sw, cw] = await con.page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(sw <= cw, `user page: ${sw}px in ${cw}px`);
      await shot('phone-user');
    } finally {
      await con.page.setViewportSize({ width: 1280, height: 800 });
    }
    noViolations();
  });
});
