// Clerk's prebuilt components, unmodified, in a DEVELOPMENT instance on a plain host, configured with only what
// latchkey prints: the FAPI at http://127.0.0.1:<port>, a pk_test_ key for latchkey-<hex>.lcl.dev and that FAPI as
// proxy_url, so clerk-js runs its dev-browser flow (POST /v1/dev_browser, __clerk_db_jwt on every call). The
// components run in latchkey's Account Portal on the FAPI origin and are driven like a person (type, click, read the
// screen); one-time codes, SMS included, come from the development outbox. Phone numbers are enabled as an
// identifier (email or phone, both optional), so <SignUp/> offers "Use phone" and <UserProfile/> has a phone section.
// One server and one browser for the file; each test gets a fresh browser context. Every page is checked for CSP
// violations, page errors and "Missing dev browser"; first screens are kept in <build>/e2e-artifacts/components-dev-*.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { kit, primary, randomUsPhone, retypeCode, row, rowMenu, typeCode, WAIT } from './lib/components.mjs';
import { hostFromPublishableKey, skipWithoutBinary, startLatchkey, strongPassword } from './lib/server.mjs';

const T = { timeout: 150000 };

/** Every FAPI call of a development browser carries its dev browser (except the call that makes one). */
function assertDevBrowser(p) {
  assert.ok(!p.diag.console.some(c => /Missing dev browser/i.test(c)), 'no "Missing dev browser"');
  // No console error either: a FAPI answer the SDK refuses (a 4xx/5xx it did not expect) shows there.
  assert.deepEqual(p.diag.console.filter(c => c.startsWith('[error]') && !/status of 422/.test(c)), [], 'no console error');
  // (/v1/avatar/ is an <img>, not a clerk-js call.)
  const calls = p.diag.fapi.filter(f => f.path !== '/v1/dev_browser' && !f.path.startsWith('/v1/avatar/'));
  for (const f of calls) assert.match(new URL(f.url).searchParams.get('__clerk_db_jwt') ?? '', /^dvb_/, `${f.method} ${f.url}`);
}

describe('Prebuilt components in the Account Portal (development instance, printed keys)', { skip: skipWithoutBinary, timeout: 900000 }, () => {
  const ctx = {};
  const { shot, withPage, makeUser, waitForProfile, signIn, activeSessions, openUserButton, addSwitchSignOut, twoUsersCardOpen, profile,
    signInElsewhere, resetPassword, codeInstead } = kit(ctx, { prefix: 'components-dev', check: assertDevBrowser });
  let server;
  let fapi;
  let bapi;

  before(async () => {
    server = await startLatchkey({
      instance: 'development', frontendApi: null,
      config: {
        application_name: 'Acme Dev',
        single_session_mode: false,
        email_address: { enabled: true, required: false, used_for_first_factor: true, verify_at_sign_up: true },
        phone_number: { enabled: true, required: false, used_for_first_factor: true, verify_at_sign_up: true },
        first_factors: ['password', 'email_code', 'phone_code', 'reset_password_email_code', 'reset_password_phone_code'],
      },
    });
    assert.match(server.publishableKey, /^pk_test_/);
    assert.match(hostFromPublishableKey(server.publishableKey), /^latchkey-[0-9a-f]{12}\.lcl\.dev$/);
    fapi = server.frontendApi;
    assert.equal(server.proxyUrl, fapi);
    bapi = server.backendClient();
    Object.assign(ctx, { server, fapi, bapi, browser: await launchBrowser() });
  });
  after(async () => {
    await ctx.browser?.close().catch(() => {});
    await server?.stop();
  });

  it('first screens: <SignIn/>, <SignUp/> (email or phone) on the dev-browser path', T, () => withPage('first-screens', async (page, p) => {
    await page.goto(`${fapi}/sign-in`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="identifier"]').waitFor(WAIT);
    assert.equal(await page.locator('.cl-headerTitle').textContent(), 'Sign in to Acme Dev');
    // The cross-origin-capable footer link to sign up renders: it needs the dev browser.
    await page.locator('.cl-footerActionLink').first().waitFor(WAIT);
    const db = (await p.context.cookies()).find(c => c.name === '__clerk_db_jwt');
    assert.ok(db?.value.startsWith('dvb_'), 'clerk-js keeps its dev browser in __clerk_db_jwt');
    assert.equal(p.diag.fapi.filter(f => f.path === '/v1/dev_browser').length, 1);
    await shot(page, 'sign-in');

    await page.goto(`${fapi}/sign-up`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="emailAddress"]').waitFor(WAIT);
    await shot(page, 'sign-up');
    // The same dev browser is reused on the next page (no second POST /v1/dev_browser).
    assert.equal(p.diag.fapi.filter(f => f.path === '/v1/dev_browser').length, 1);
  }));

  it('<SignUp/>: "Use phone", phone number + password, SMS code from the outbox → signed in', T, () => withPage('sign-up-phone', async page => {
    const phone = randomUsPhone();
    const password = strongPassword();
    await page.goto(`${fapi}/sign-up`, { waitUntil: 'load', timeout: 20000 });
    await page.locator('input[name="emailAddress"]').waitFor(WAIT);
    await page.getByText('Use phone instead').click(WAIT);
    const phoneInput = page.locator('input[name="phoneNumber"]');
    await phoneInput.waitFor(WAIT);
    // A number too short to be one: the server's error is shown under the field.
    await phoneInput.click();
    await page.keyboard.type('4155', { delay: 20 });
    await page.locator('input[name="password"]').fill(password);
    await primary(page).click();
    const phoneError = page.locator('#error-phoneNumber');
    await phoneError.waitFor(WAIT);
    assert.match(await phoneError.textContent(), /phone number/i);

    await phoneInput.fill('');
    await phoneInput.click();
    await page.keyboard.type(phone.national, { delay: 20 });
    await shot(page, 'sign-up-phone');
    const before = server.outboxCount(phone.e164);
    await primary(page).click();
    const code = await server.waitForCode(phone.e164, { after: before, timeoutMs: 10000 });
    const sms = server.outbox().filter(m => m.to === phone.e164).at(-1);
    assert.equal(sms.channel, 'sms');
    assert.equal(sms.kind, 'phone_code');
    // A wrong code first: the component says so and lets the person type again.
    await typeCode(page, code === '000000' ? '111111' : '000000');
    const codeError = page.locator('.cl-otpCodeFieldErrorText');
    await codeError.waitFor(WAIT);
    assert.match(await codeError.textContent(), /incorrect/i);
    await retypeCode(page, code);
    await waitForProfile(page);
    await row(page, 'phoneNumbers', phone.national.slice(-4)).waitFor(WAIT);

    const list = await bapi.users.getUserList({ phoneNumber: [phone.e164] });
    assert.equal(list.data.length, 1);
    const user = list.data[0];
    assert.equal(user.primaryPhoneNumber?.phoneNumber, phone.e164);
    assert.equal(user.primaryPhoneNumber?.verification?.status, 'verified');
    assert.equal((await bapi.users.verifyPassword({ userId: user.id, password })).verified, true);
  }));

  it('<SignIn/>: "Use phone", then "Use another method" → SMS code from the outbox → signed in', T, () => withPage('sign-in-phone', async page => {
    const phone = randomUsPhone();
    const user = await bapi.users.createUser({ phoneNumber: [phone.e164], password: strongPassword(), skipPasswordChecks: true });
    await page.goto(`${fapi}/sign-in`, { waitUntil: 'load', timeout: 20000 });
    await page.getByText('Use phone').click(WAIT);
    const phoneInput = page.locator('input[name="identifier"]');
    await phoneInput.waitFor(WAIT);
    await phoneInput.click();
    await page.keyboard.type(phone.national, { delay: 20 });
    await primary(page).click();
    await page.locator('input[name="password"]').waitFor(WAIT);
    await codeInstead(page, phone.e164, /SMS code to/);
    await row(page, 'phoneNumbers', phone.national.slice(-4)).waitFor(WAIT);
    assert.equal((await activeSessions(user.id)).length, 1);
  }));

  it('<SignIn/>: forgot password by phone → SMS code → new password → signed in; the new password works', T, () => withPage('reset-phone', async page => {
    const phone = randomUsPhone();
    const user = await bapi.users.createUser({ phoneNumber: [phone.e164], password: strongPassword(), skipPasswordChecks: true });
    await page.goto(`${fapi}/sign-in`, { waitUntil: 'load', timeout: 20000 });
    await page.getByText('Use phone').click(WAIT);
    await page.locator('input[name="identifier"]').click(WAIT);
    await page.keyboard.type(phone.national, { delay: 20 });
    await primary(page).click();
    await page.locator('input[name="password"]').waitFor(WAIT);
    const fresh = await resetPassword(page, phone.e164);
    assert.equal((await bapi.users.verifyPassword({ userId: user.id, password: fresh })).verified, true);
  }));

  it('<UserProfile/> phones: add a phone, verify it with the SMS code, add a second, make it primary, remove the first', T, () => withPage('user-profile-phone', async page => {
    const u = await makeUser('phoneprof');
    await signIn(page, u);

    /** "Add phone number", type it, read the SMS from the outbox, type the code: the row shows the number. */
    async function addPhone(phone) {
      await page.locator('.cl-profileSectionPrimaryButton__phoneNumbers').click(WAIT);
      const phoneInput = page.locator('input[name="phoneNumber"]');
      await phoneInput.waitFor(WAIT);
      await phoneInput.click();
      await page.keyboard.type(phone.national, { delay: 20 });
      const before = server.outboxCount(phone.e164);
      await primary(page).click();
      const code = await server.waitForCode(phone.e164, { after: before, timeoutMs: 10000 });
      await typeCode(page, code);
      // The verification form closes once the code is accepted.
      await page.locator('input[autocomplete="one-time-code"]').waitFor({ state: 'detached', timeout: 20000 });
      await row(page, 'phoneNumbers', phone.national.slice(-4)).waitFor(WAIT);
    }

    const first = randomUsPhone();
    const second = randomUsPhone();
    await addPhone(first);
    await shot(page, 'user-profile-phone');
    // The first verified phone number becomes the primary one by itself.
    await row(page, 'phoneNumbers', first.national.slice(-4)).filter({ hasText: 'Primary' }).waitFor(WAIT);
    let user = await bapi.users.getUser(u.id);
    assert.deepEqual(user.phoneNumbers.map(p => [p.phoneNumber, p.verification?.status]), [[first.e164, 'verified']]);
    assert.equal(user.primaryPhoneNumber?.phoneNumber, first.e164);

    await addPhone(second);
    await rowMenu(page, 'phoneNumbers', second.national.slice(-4), 'Set as primary');
    await row(page, 'phoneNumbers', second.national.slice(-4)).filter({ hasText: 'Primary' }).waitFor(WAIT);
    user = await bapi.users.getUser(u.id);
    assert.equal(user.primaryPhoneNumber?.phoneNumber, second.e164);

    await rowMenu(page, 'phoneNumbers', first.national.slice(-4), /Remove/);
    await primary(page).click(WAIT);
    await row(page, 'phoneNumbers', first.national.slice(-4)).waitFor({ state: 'detached', timeout: 20000 });
    user = await bapi.users.getUser(u.id);
    assert.deepEqual(user.phoneNumbers.map(p => p.phoneNumber), [second.e164]);
    assert.equal(user.primaryPhoneNumber?.phoneNumber, second.e164);
    assert.equal(user.primaryEmailAddress?.emailAddress, u.email);
  }));

  it('<UserButton/>: open; manage account (modal); add account; switch account; sign out of one; sign out of all', T, () => withPage('user-button', async page => {
    const { a, b, card } = await twoUsersCardOpen(page, ['dua', 'dub']);
    assert.match(await card.textContent(), new RegExp(a.email));
    await shot(page, 'user-button');

    // "Manage account" opens <UserProfile/> in a modal over the page; Escape closes it.
    await page.locator('.cl-userButtonPopoverActionButton__manageAccount').click(WAIT);
    const modal = page.locator('.cl-modalContent');
    await modal.locator('.cl-profileSectionItem__emailAddresses').filter({ hasText: a.email }).waitFor(WAIT);
    await page.keyboard.press('Escape');
    await modal.waitFor({ state: 'detached', timeout: 20000 });

    await openUserButton(page);
    await addSwitchSignOut(page, a, b);
  }));

  it('<UserProfile/>: names, add / verify / make primary / remove email, password, sign out of another device', T, () => withPage('user-profile', async page => {
    const u = await makeUser('dprof');
    await signInElsewhere(u);
    await signIn(page, u);
    await shot(page, 'user-profile');

    await profile.setNames(page, 'Grace', 'Hopper');

    const second = await profile.replacePrimaryEmail(page, u.email, 'dsecond');
    const user = await bapi.users.getUser(u.id);
    assert.equal(user.firstName, 'Grace');
    assert.equal(user.lastName, 'Hopper');
    assert.deepEqual(user.emailAddresses.map(e => e.emailAddress), [second]);
    assert.equal(user.primaryEmailAddress?.emailAddress, second);

    const fresh = await profile.changePassword(page, u.password);
    assert.equal((await bapi.users.verifyPassword({ userId: u.id, password: fresh })).verified, true);

    // Active devices: the other browser's session, signed out from here.
    const devices = page.locator('.cl-activeDeviceListItem');
    await devices.nth(1).waitFor(WAIT);
    assert.equal(await devices.count(), 2);
    assert.equal((await profile.signOutOtherDevice(page)).status(), 200);
    assert.equal((await activeSessions(u.id)).length, 1);
  }));
});
