// The waitlist with Clerk's own SDKs: a production instance in waitlist mode, clerk-js in Chromium joins with
// `clerk.joinWaitlist()` and is refused a plain sign-up (sign_up_restricted_waitlist), `@clerk/backend`'s
// `waitlistEntries` lists, creates (one and bulk), invites, rejects and deletes, and the invitation's ticket (from
// the outbox) signs the invited person up in the browser with `signUp.create({ strategy: 'ticket' })`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evalClerk, openAndLoad, setActive, startBrowserSuite } from './lib/flows.mjs';
import { skipWithoutBinary, strongPassword, uniq } from './lib/server.mjs';

const T = { timeout: 90000 };

describe('waitlist: clerk-js joinWaitlist and @clerk/backend waitlistEntries', { skip: skipWithoutBinary, timeout: 600000 }, () => {
  let s;
  let bapi;

  before(async () => {
    s = await startBrowserSuite({ instance: 'production', config: { sign_up_mode: 'waitlist', single_session_mode: false } });
    bapi = s.server.backendClient();
  });
  after(async () => { await s?.stop(); });

  const ticketFor = email => s.server.ticketFor(email, 'waitlist_invitation');

  it('joinWaitlist() in the browser, a plain sign-up refused, the entry listed by @clerk/backend', T, () => s.withPage(async p => {
    await openAndLoad(p.page, s.app.sameOriginUrl());
    const mode = await evalClerk(p.page, clerk => clerk.environment?.userSettings?.signUp?.mode);
    assert.equal(mode, 'waitlist');
    const email = `${uniq('wl')}@example.com`;
    const joined = await evalClerk(p.page, async (clerk, e) => {
      const entry = await clerk.joinWaitlist({ emailAddress: e });
      return { id: entry.id, createdAt: String(entry.createdAt) };
    }, email);
    assert.match(joined.id, /^wle_/);
    // Joining again is the same entry.
    const again = await evalClerk(p.page, async (clerk, e) => (await clerk.joinWaitlist({ emailAddress: e })).id, email);
    assert.equal(again, joined.id);

    await assert.rejects(
      evalClerk(p.page, (clerk, e, pw) => clerk.client.signUp.create({ emailAddress: e, password: pw }), email, strongPassword()),
      e => e.code === 'sign_up_restricted_waitlist');

    const list = await bapi.waitlistEntries.list({ query: email });
    assert.equal(list.totalCount, 1);
    assert.equal(list.data[0].id, joined.id);
    assert.equal(list.data[0].emailAddress, email);
    assert.equal(list.data[0].status, 'pending');
    assert.equal(list.data[0].invitation, null);
  }));

  it('invite → the ticket from the invitation signs up in the browser; the entry completes', T, () => s.withPage(async p => {
    const email = `${uniq('inv')}@example.com`;
    const entry = await bapi.waitlistEntries.create({ emailAddress: email, notify: false });
    assert.equal(entry.status, 'pending');
    const invited = await bapi.waitlistEntries.invite(entry.id);
    assert.equal(invited.status, 'invited');
    assert.equal(invited.invitation?.status, 'pending');
    const ticket = ticketFor(email);

    await openAndLoad(p.page, s.app.sameOriginUrl());
    const password = strongPassword();
    const su = await evalClerk(p.page, async (clerk, t, pw) => {
      const r = await clerk.client.signUp.create({ strategy: 'ticket', ticket: t, password: pw });
      return { status: r.status, email: r.emailAddress, sessionId: r.createdSessionId, userId: r.createdUserId };
    }, ticket, password);
    assert.equal(su.status, 'complete');
    assert.equal(su.email, email);
    const active = await setActive(p.page, su.sessionId);
    assert.equal(active.email, email);

    const after = await bapi.waitlistEntries.list({ status: 'completed', query: email });
    assert.equal(after.totalCount, 1);
    assert.equal(after.data[0].invitation?.status, 'accepted');
    const user = await bapi.users.getUser(su.userId);
    assert.equal(user.primaryEmailAddress?.emailAddress, email);
  }));

  it('createBulk, reject (its ticket dies), delete, paging', T, () => s.withPage(async p => {
    const emails = [uniq('b1'), uniq('b2'), uniq('b3')].map(x => `${x}@example.com`);
    const bulk = await bapi.waitlistEntries.createBulk(emails.map(emailAddress => ({ emailAddress, notify: false })));
    assert.equal(bulk.length, 3);
    const page = await bapi.waitlistEntries.list({ limit: 2, offset: 0, orderBy: '-created_at' });
    assert.equal(page.data.length, 2);
    assert.ok(page.totalCount >= 3);

    await bapi.waitlistEntries.invite(bulk[0].id);
    const ticket = ticketFor(emails[0]);
    const rejected = await bapi.waitlistEntries.reject(bulk[0].id);
    assert.equal(rejected.status, 'rejected');
    await openAndLoad(p.page, s.app.sameOriginUrl());
    await assert.rejects(
      evalClerk(p.page, (clerk, t, pw) => clerk.client.signUp.create({ strategy: 'ticket', ticket: t, password: pw }), ticket, strongPassword()),
      e => e.code === 'form_param_value_invalid');

    const deleted = await bapi.waitlistEntries.delete(bulk[1].id);
    assert.equal(deleted.deleted, true);
    const left = await bapi.waitlistEntries.list({ query: emails[1] });
    assert.equal(left.totalCount, 0);
  }));
});
