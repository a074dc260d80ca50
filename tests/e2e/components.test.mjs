// Clerk's prebuilt components, unmodified (@clerk/ui from the bundles latchkey ships), driven like a person in
// Chromium: type, click, read the screen. They run in latchkey's Account Portal (/sign-in, /sign-up, /user on
// the FAPI origin), so the page is same-origin with the FAPI and needs nothing but the keys latchkey prints.
// Instance: production (pk_live_), its public FAPI URL the listener itself (http://127.0.0.1:<port>), multi-session,
// usernames required, legal consent required, branded. One server and one browser for the whole file; each test gets a
// fresh browser context (its own cookies). Codes come from the server's outbox, as a person reads their mail.
// Every page is checked for Content-Security-Policy violations and page errors; the first screen of each
// component is kept in <build>/e2e-artifacts/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { checkBox, kit, primary, row, startOnOwnPort, typeCode, WAIT } from './lib/components.mjs';
import { skipWithoutBinary, strongPassword, uniq } from './lib/server.mjs';

const T = { timeout: 150000 };
const BRAND = { application_name: 'Acme Portal', primary_color: '#0a7d3b' };

describe('Prebuilt components in the Account Portal (production instance)', { skip: skipWithoutBinary, timeout: 900000 }, () => {
  const ctx = {};
  const { shot, withPage, makeUser, waitForProfile, signIn, activeSessions, passwordStep, addSwitchSignOut, twoUsersCardOpen, profile,
    signInElsewhere, resetPassword, codeInstead, toPasswordStep } = kit(ctx);
  let server;
  let fapi;
  let bapi;

  before(async () => {
    ({ server, fapi } = await startOnOwnPort({
      application_name: BRAND.application_name,
      single_session_mode: false,
      username: { enabled: true, required: true, used_for_first_factor: true },
      legal_consent: { enabled: true, terms_url: 'https://example.com/terms', privacy_policy_url: 'https://example.com/privacy' },
      branding: { primary_color: BRAND.primary_color },
    }));
    assert.match(server.publishableKey, /^pk_live_/);
    bapi = server.backendClient();
    Object.assign(ctx, { server, fapi, bapi, browser: await launchBrowser() });
  });
  after(async () => {
    await ctx.browser?.close().catch(() => {});
    await server?.stop();
  });

  it('<Waitlist/> on the portal\'s /waitlist: the person joins, @clerk/backend lists the entry', T, () => withPage('waitlist', async page => {
    const email = `${uniq('join')}@example.com`;
    await page.goto(`${fapi}/waitlist`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="emailAddress"]').fill(email, WAIT);
    await primary(page).click(WAIT);
    await page.getByText(/Thanks for joining the waitlist/i).waitFor(WAIT);
    await shot(page, 'waitlist');
    const list = await bapi.waitlistEntries.list({ query: email });
    assert.equal(list.totalCount, 1);
    assert.equal(list.data[0].status, 'pending');
  }));

  it('impersonation: an actor token\'s link signs in on the portal and @clerk/ui shows its impersonation badge', T, () => withPage('impersonation', async page => {
    // Clerk's prebuilt UI shows a floating "Signed in as" badge while the session has an actor (issue 23): the
    // console's Impersonate makes the same BAPI actor token.
    const u = await makeUser('imp');
    await bapi.users.updateUser(u.id, { firstName: 'Imogen' });
    const token = await bapi.actorTokens.create({ userId: u.id, actor: { sub: 'operator:support' }, expiresInSeconds: 300 });
    await page.goto(token.url, { waitUntil: 'load', timeout: 20000 });
    await waitForProfile(page);
    const fab = page.locator('.cl-impersonationFab');
    await fab.waitFor(WAIT);
    await fab.hover();
    await page.getByText('Signed in as Imogen').waitFor(WAIT);
    await shot(page, 'impersonation');
    const sessions = await activeSessions(u.id);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].actor?.sub, 'operator:support');
  }));

  it('first screens: <SignIn/>, <SignUp/>, <UserProfile/> behind sign-in, branded, no CSP violation', T, () => withPage('first-screens', async page => {
    await page.goto(`${fapi}/sign-in`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').waitFor(WAIT);
    assert.equal(await page.locator('.cl-headerTitle').textContent(), `Sign in to ${BRAND.application_name}`);
    assert.equal(await page.title(), `Sign in · ${BRAND.application_name}`);
    // The brand colour reaches the primary button through appearance.variables.
    const bg = await primary(page).evaluate(el => getComputedStyle(el).backgroundColor);
    assert.equal(bg, 'rgb(10, 125, 59)');
    await shot(page, 'sign-in');

    await page.goto(`${fapi}/sign-up`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="emailAddress"]').waitFor(WAIT);
    assert.match(await page.locator('.cl-headerTitle').textContent(), /Create your account/);
    await page.locator('input[name="legalAccepted"]').waitFor(WAIT);
    await shot(page, 'sign-up');

    // Signed out, /user sends the person to sign in and back.
    await page.goto(`${fapi}/user`, { waitUntil: 'load', timeout: 20000 });
    await page.waitForURL(u => new URL(u).pathname === '/sign-in', WAIT);
    assert.equal(new URL(page.url()).searchParams.get('sign_in_force_redirect_url'), `${fapi}/user`, page.url());
    await page.locator('input[name="identifier"]').waitFor(WAIT);
  }));

  it('<SignIn/>: unknown email and wrong password shown inline, then the password signs in', T, () => withPage('sign-in-password', async page => {
    const u = await makeUser('pw');
    await page.goto(`${fapi}/sign-in`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').fill(`${uniq('nobody')}@example.com`, WAIT);
    await primary(page).click();
    const idError = page.locator('#error-identifier');
    await idError.waitFor(WAIT);
    assert.match(await idError.textContent(), /couldn.t find your account/i);

    await page.locator('input[name="identifier"]').fill(u.email);
    await primary(page).click();
    await page.locator('input[name="password"]').fill('not-the-password-1', WAIT);
    await primary(page).click();
    const pwError = page.locator('#error-password');
    await pwError.waitFor(WAIT);
    assert.match(await pwError.textContent(), /password is incorrect/i);

    await passwordStep(page, u.password);
    assert.ok(await page.getByText(u.email).first().isVisible());
    await shot(page, 'user-profile');
  }));

  it('<SignIn/>: a redirect to another host (in the hash, as clerk-js writes it) is refused; signing in ends home', T, () => withPage('redirect', async (page, p) => {
    const u = await makeUser('redir');
    const evil = 'https://evil.example/steal';
    await page.goto(`${fapi}/sign-in#/?redirect_url=${encodeURIComponent(evil)}&sign_in_force_redirect_url=${encodeURIComponent(evil)}`,
      { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').waitFor(WAIT);
    // The page moved the targets to the query for the server, which refused them: none is left in the address.
    assert.ok(!decodeURIComponent(page.url()).includes('evil.example'), page.url());
    await page.locator('input[name="identifier"]').fill(u.email);
    await primary(page).click();
    await passwordStep(page, u.password);
    assert.ok(!p.diag.blocked.some(b => b.includes('evil.example')), 'the browser never went to the other host');
  }));

  it('<SignIn/>: "Use another method" → email code from the outbox', T, () => withPage('sign-in-code', async page => {
    const u = await makeUser('code');
    await toPasswordStep(page, u.email);
    await codeInstead(page, u.email, /Email code to/);
  }));

  it('<SignIn/>: forgot password → code → new password → signed in; the new password works', T, () => withPage('reset', async page => {
    const u = await makeUser('reset');
    await toPasswordStep(page, u.email);
    const fresh = await resetPassword(page, u.email);
    const verified = await bapi.users.verifyPassword({ userId: u.id, password: fresh });
    assert.equal(verified.verified, true);
  }));

  it('<SignUp/>: email, username, password, legal consent, emailed code → signed in', T, () => withPage('sign-up', async page => {
    const email = `${uniq('new')}@example.com`;
    const username = uniq('user').slice(0, 20);
    const password = strongPassword();
    await page.goto(`${fapi}/sign-up`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="emailAddress"]').fill(email, WAIT);
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    await checkBox(page.locator('input[name="legalAccepted"]'));
    const before = server.outboxCount(email);
    await primary(page).click();
    const code = await server.waitForCode(email, { after: before, timeoutMs: 10000 });
    await typeCode(page, code);
    await waitForProfile(page);
    const list = await bapi.users.getUserList({ emailAddress: [email] });
    assert.equal(list.data.length, 1);
    assert.equal(list.data[0].username, username);
    assert.ok(list.data[0].legalAcceptedAt, 'legal consent recorded');
  }));

  it('<UserButton/>: open; add account; switch account; sign out of one; sign out of all', T, () => withPage('user-button', async page => {
    const { a, b, card } = await twoUsersCardOpen(page, ['ua', 'ub']);
    assert.match(await card.textContent(), new RegExp(a.email));
    await shot(page, 'user-button');

    // Add account: the portal's sign-in, then back on the profile as the second user; switch; sign out.
    await addSwitchSignOut(page, a, b);
  }));

  it('<UserProfile/>: names, username, add / verify / make primary / remove email, password', T, () => withPage('user-profile', async page => {
    const u = await makeUser('prof');
    await signIn(page, u);

    // Names.
    await profile.setNames(page, 'Ada', 'Lovelace');

    // Username.
    const username = uniq('ada').slice(0, 20);
    await page.locator('.cl-profileSectionPrimaryButton__username').click();
    await page.locator('input[name="username"]').fill(username, WAIT);
    await primary(page).click();
    await row(page, 'username', username).waitFor(WAIT);

    // Add an email, verify it with the emailed code; make it primary, then remove the old one.
    const second = await profile.replacePrimaryEmail(page, u.email, 'second');

    const user = await bapi.users.getUser(u.id);
    assert.equal(user.firstName, 'Ada');
    assert.equal(user.lastName, 'Lovelace');
    assert.equal(user.username, username);
    assert.equal(user.primaryEmailAddress?.emailAddress, second);
    assert.deepEqual(user.emailAddresses.map(e => e.emailAddress), [second]);

    // Password.
    const fresh = await profile.changePassword(page, u.password);
    assert.equal((await bapi.users.verifyPassword({ userId: u.id, password: fresh })).verified, true);
  }));

  it('<UserProfile/>: active devices with sign-out-of-device; delete account', T, () => withPage('devices', async (page, p) => {
    const u = await makeUser('dev');
    // A second device: another browser context signed in as the same user.
    await signInElsewhere(u);
    await signIn(page, u);
    assert.equal((await activeSessions(u.id)).length, 2);
    await page.locator('.cl-navbarButton__security').click();
    const devices = page.locator('.cl-activeDeviceListItem');
    await devices.nth(1).waitFor(WAIT);
    assert.equal(await devices.count(), 2);
    await shot(page, 'active-devices');
    const reply = await profile.signOutOtherDevice(page);
    assert.equal(reply.status(), 200);
    assert.equal((await reply.json()).response.status, 'revoked');
    assert.equal((await activeSessions(u.id)).length, 1);
    // @clerk/ui 1.34 drops the row on the list's next render, not on this one: the row's own loading state
    // re-renders only the row (the list filters by status), and the piggy-backed client's update renders
    // before the session resource takes the revoke reply. Going back to the page shows one device.
    await page.locator('.cl-navbarButton__account').click();
    await page.locator('.cl-navbarButton__security').click();
    await page.locator('.cl-activeDeviceListItem:not(.cl-activeDeviceListItem__current)').waitFor({ state: 'detached', timeout: 20000 });
    assert.equal(await devices.count(), 1);

    // Delete the account: confirm by typing, as the component asks.
    await page.locator('.cl-profileSectionPrimaryButton__danger').click();
    const confirm = page.locator('input[name="deleteConfirmation"]');
    await confirm.waitFor(WAIT);
    await confirm.fill('Delete account');
    await primary(page).click();
    await page.waitForURL(x => new URL(x).pathname === '/sign-in', WAIT);
    await assert.rejects(bapi.users.getUser(u.id), e => e.status === 404);
  }));
});
