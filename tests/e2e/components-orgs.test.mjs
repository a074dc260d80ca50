// Clerk's prebuilt organization components and the MFA set-up of <UserProfile/>, unmodified (@clerk/ui from the
// bundles latchkey ships), driven like a person in Chromium: type, click, read the screen. Instance: production
// (pk_live_), its public FAPI URL the listener itself, organizations enabled, second factors TOTP + backup codes.
// The person signs in on the Account Portal (same origin as the FAPI); the organization components are then
// mounted on that page through clerk-js's own mount API (Clerk.mountCreateOrganization, ...), as an app's code would
// mount them, in place of the portal's <UserProfile/>. What the screen shows is checked against @clerk/backend
// (the BAPI) and the session token (verifyToken). Invitation emails and codes come from the outbox. Verified domains
// (issue 13): the domains page of <OrganizationProfile/>, a suggestion in <OrganizationList/> that becomes a
// membership request the admin accepts, and the portal's /organization page. One server and
// one browser for the file; each test gets a fresh browser context; CSP violations and page errors fail a test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { verifyToken } from '@clerk/backend';
import otplib from 'otplib';
import { launchBrowser, newPage } from './lib/browser.mjs';
import { kit, primary, startOnOwnPort, typeCode, WAIT } from './lib/components.mjs';
import { skipWithoutBinary, strongPassword, uniq } from './lib/server.mjs';

const T = { timeout: 90000 };
const { authenticator } = otplib;

/** The authenticator app's code for `secret`, `steps` 30-second steps from now. */
const appCode = (secret, steps = 0) => authenticator.clone({ epoch: Date.now() + steps * 30000 }).generate(secret);

describe('Prebuilt organization components and MFA set-up (production instance)', { skip: skipWithoutBinary, timeout: 600000 }, () => {
  const ctx = {};
  const { shot, withPage, makeUser, signIn } = kit(ctx, { prefix: 'components-orgs' });
  let server;
  let fapi;
  let bapi;

  before(async () => {
    ({ server, fapi } = await startOnOwnPort({
      application_name: 'Acme Orgs',
      organizations: { enabled: true, domains_enabled: true },
      second_factors: ['totp', 'backup_code'],
    }));
    bapi = server.backendClient();
    Object.assign(ctx, { server, fapi, bapi, browser: await launchBrowser() });
  });
  after(async () => {
    await ctx.browser?.close().catch(() => {});
    await server?.stop();
  });

  /** Replaces the portal's <UserProfile/> with `component` mounted through clerk-js (`Clerk.mount<component>`). */
  async function mount(page, component, props = {}) {
    await page.evaluate(([component, props]) => {
      const root = document.getElementById('latchkey-portal-root');
      window.Clerk.unmountUserProfile(root);
      const el = document.createElement('div');
      el.id = 'e2e-mounted';
      document.body.append(el);
      window.Clerk[`mount${component}`](el, props);
    }, [component, props]);
  }

  /** The session token's claims, verified by @clerk/backend against latchkey's JWKS. */
  async function claims(page) {
    const token = await page.evaluate(() => window.Clerk.session.getToken({ skipCache: true }));
    return verifyToken(token, { secretKey: server.secretKey, apiUrl: server.bapiUrl, authorizedParties: [fapi] });
  }

  /** Polls `fn` until it returns a truthy value (the UI calls the FAPI; the BAPI then sees it). */
  async function eventually(fn, what, timeoutMs = 10000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
      await new Promise(r => setTimeout(r, 200));
    }
  }

  const membershipsOf = async orgId =>
    (await bapi.organizations.getOrganizationMembershipList({ organizationId: orgId, limit: 50 })).data;

  it('<CreateOrganization/>: name and slug → the organization exists, the creator is its admin, the token names it', T,
    () => withPage('create-organization', async page => {
      const u = await makeUser('creator');
      await signIn(page, u);
      await mount(page, 'CreateOrganization', { routing: 'virtual', skipInvitationScreen: true, afterCreateOrganizationUrl: `${fapi}/user` });
      const name = 'Acme Rockets';
      const slug = uniq('rockets').toLowerCase().replace(/[^a-z0-9-]/g, '-');
      await page.locator('input[name="name"]').fill(name, WAIT);
      await page.locator('input[name="slug"]').fill(slug, WAIT);
      await shot(page, 'create-organization');
      await primary(page).click();
      // The component makes the new organization active and goes to afterCreateOrganizationUrl.
      await page.waitForURL(x => new URL(x).pathname === '/user', WAIT);
      await page.locator('.cl-userProfile-root').waitFor(WAIT);
      const org = await bapi.organizations.getOrganization({ slug });
      assert.equal(org.name, name);
      const members = await membershipsOf(org.id);
      assert.deepEqual(members.map(m => [m.publicUserData?.userId, m.role]), [[u.id, 'org:admin']]);
      const c = await claims(page);
      assert.equal(c.o?.id, org.id);
      assert.equal(c.o?.slg, slug);
      assert.equal(c.o?.rol, 'admin');
    }));

  it('<OrganizationSwitcher/>: personal account → organization → personal account; the token\'s `o` claim follows', T,
    () => withPage('organization-switcher', async page => {
      const u = await makeUser('switch');
      const org = await bapi.organizations.createOrganization({ name: 'Switch Co', createdBy: u.id });
      await signIn(page, u);
      await mount(page, 'OrganizationSwitcher', { hidePersonal: false });
      const trigger = page.locator('.cl-organizationSwitcherTrigger');
      await trigger.waitFor(WAIT);
      assert.match(await trigger.textContent(), /Personal account/);
      assert.equal((await claims(page)).o, undefined);

      await trigger.click();
      await page.locator('.cl-organizationSwitcherPopoverCard').waitFor(WAIT);
      await shot(page, 'organization-switcher');
      await page.locator('.cl-organizationSwitcherPreviewButton').filter({ hasText: 'Switch Co' }).click(WAIT);
      await eventually(async () => (await trigger.textContent()).includes('Switch Co'), 'the trigger to show the organization');
      const inOrg = await claims(page);
      assert.equal(inOrg.o?.id, org.id);
      assert.equal(inOrg.o?.rol, 'admin');

      await trigger.click();
      await page.locator('.cl-organizationSwitcherPreviewButton').filter({ hasText: 'Personal account' }).click(WAIT);
      await eventually(async () => (await trigger.textContent()).includes('Personal account'), 'the trigger to show the personal account');
      assert.equal((await claims(page)).o, undefined);
    }));

  it('<OrganizationProfile/>: rename, members list, invite by email (mail in the outbox), change a role, remove a member', T,
    () => withPage('organization-profile', async page => {
      const alice = await makeUser('alice');
      const bob = await makeUser('bob');
      const carol = await makeUser('carol');
      const org = await bapi.organizations.createOrganization({ name: 'Profile Inc', createdBy: alice.id });
      await bapi.organizations.createOrganizationMembership({ organizationId: org.id, userId: bob.id, role: 'org:member' });
      await bapi.organizations.createOrganizationMembership({ organizationId: org.id, userId: carol.id, role: 'org:member' });
      await signIn(page, alice);
      await page.evaluate(id => window.Clerk.setActive({ organization: id }), org.id);
      await mount(page, 'OrganizationProfile', { routing: 'virtual' });

      // General (the first page): rename.
      await page.locator('.cl-profileSectionPrimaryButton__organizationProfile').click(WAIT);
      await page.locator('input[name="name"]').fill('Profile Gadgets', WAIT);
      await primary(page).click();
      await page.locator('.cl-profileSectionItem__organizationProfile').filter({ hasText: 'Profile Gadgets' }).waitFor(WAIT);
      assert.equal((await bapi.organizations.getOrganization({ organizationId: org.id })).name, 'Profile Gadgets');

      // Members: all three are listed.
      await page.locator('.cl-navbarButton__members').click(WAIT);
      const memberRow = email => page.locator('.cl-tableBody tr').filter({ hasText: email });
      for (const x of [alice, bob, carol]) await memberRow(x.email).waitFor(WAIT);
      await shot(page, 'organization-profile');

      // Invite by email.
      const invitee = `${uniq('invitee')}@example.com`;
      await page.locator('.cl-membersPageInviteButton').click(WAIT);
      const emails = page.getByPlaceholder('example@email.com, example2@email.com');
      await emails.waitFor(WAIT);
      await emails.focus();
      await page.keyboard.type(`${invitee} `, { delay: 10 });
      const roleSelect = page.locator('.cl-selectButton').last();
      if (/Select role/.test(await roleSelect.textContent())) {
        await roleSelect.click();
        await page.getByRole('option', { name: 'Member' }).click(WAIT);
      }
      const before = server.outbox().filter(m => m.to === invitee).length;
      await page.getByRole('button', { name: 'Send invitations' }).click(WAIT);
      await page.getByText('Invitations successfully sent').waitFor(WAIT);
      const mail = await eventually(() => server.outbox().filter(m => m.to === invitee && m.kind === 'organization_invitation').at(before),
        'the invitation email');
      assert.ok(new URL(mail.code).searchParams.get('__clerk_ticket'), 'the email carries a ticket link');
      const invitations = await bapi.organizations.getOrganizationInvitationList({ organizationId: org.id, status: ['pending'] });
      assert.deepEqual(invitations.data.map(i => i.emailAddress), [invitee]);
      // Back to the members list (the invite screen ends on it, or a "Finish" button leads there).
      const finish = page.getByRole('button', { name: /Finish|Done|Continue/ });
      if (await finish.isVisible().catch(() => false)) await finish.click();
      await memberRow(bob.email).waitFor(WAIT);

      // Change bob's role to admin.
      await memberRow(bob.email).locator('.cl-selectButton').click(WAIT);
      await page.getByRole('option', { name: 'Admin' }).click(WAIT);
      await eventually(async () => (await membershipsOf(org.id)).find(m => m.publicUserData?.userId === bob.id)?.role === 'org:admin',
        'bob to be an admin');

      // Remove carol.
      await memberRow(carol.email).locator('.cl-menuButton').click(WAIT);
      await page.getByRole('menuitem', { name: 'Remove member' }).click(WAIT);
      await memberRow(carol.email).waitFor({ state: 'detached', timeout: 20000 });
      const left = await membershipsOf(org.id);
      assert.deepEqual(left.map(m => m.publicUserData?.userId).sort(), [alice.id, bob.id].sort());
    }));

  it('<OrganizationList/>: lists memberships and a pending invitation; "Join" accepts it', T,
    () => withPage('organization-list', async page => {
      const u = await makeUser('lister');
      const owner = await makeUser('owner');
      await bapi.organizations.createOrganization({ name: 'Mine Ltd', createdBy: u.id });
      const theirs = await bapi.organizations.createOrganization({ name: 'Theirs Ltd', createdBy: owner.id });
      await bapi.organizations.createOrganizationInvitation({
        organizationId: theirs.id, inviterUserId: owner.id, emailAddress: u.email, role: 'org:member',
      });
      await signIn(page, u);
      await mount(page, 'OrganizationList', { hidePersonal: false, afterSelectOrganizationUrl: `${fapi}/user`, afterSelectPersonalUrl: `${fapi}/user` });
      await page.locator('.cl-organizationListPreviewButton').filter({ hasText: 'Mine Ltd' }).waitFor(WAIT);
      await page.locator('.cl-organizationListPreviewButton').filter({ hasText: 'Personal account' }).waitFor(WAIT);
      const invitation = page.locator('.cl-organizationListPreviewItem').filter({ hasText: 'Theirs Ltd' });
      await invitation.waitFor(WAIT);
      await shot(page, 'organization-list');
      await invitation.getByRole('button', { name: 'Join' }).click(WAIT);
      await eventually(async () => (await membershipsOf(theirs.id)).some(m => m.publicUserData?.userId === u.id),
        'the invitation to be accepted');
      const accepted = await bapi.organizations.getOrganizationInvitationList({ organizationId: theirs.id, status: ['accepted'] });
      assert.equal(accepted.data.length, 1);
    }));

  it('<UserProfile/> MFA: add an authenticator app (key from "Can\'t scan QR code?", otplib code), backup codes; <SignIn/> then asks for the code', T,
    () => withPage('mfa-setup', async page => {
      const u = await makeUser('mfa');
      await signIn(page, u);
      await page.locator('.cl-navbarButton__security').click(WAIT);
      await page.getByRole('button', { name: 'Add two-step verification' }).click(WAIT);
      await page.getByText('Authenticator application', { exact: true }).click(WAIT);
      await page.getByRole('button', { name: /Can.t scan QR code\?/ }).click(WAIT);
      // The key is shown in a read-only field with a copy button.
      const key = page.locator('.cl-userProfile-root input[readonly]').first();
      await key.waitFor(WAIT);
      const secret = (await key.inputValue()).replace(/\s+/g, '');
      assert.match(secret, /^[A-Z2-7]{16,}$/);
      await shot(page, 'mfa-totp-key');
      await primary(page).click();
      await typeCode(page, appCode(secret));
      // Success: two-step verification is on and the backup codes are shown (below their explanation).
      await page.getByText('Two-step verification is now enabled').waitFor(WAIT);
      const text = await page.locator('.cl-userProfile-root').innerText();
      const list = text.slice(text.indexOf('if you lose access to your authentication device.'));
      const codes = [...new Set(list.match(/\b[a-z0-9]{8}\b/g) ?? [])];
      assert.equal(codes.length, 10, `backup codes shown: ${list}`);
      await shot(page, 'mfa-backup-codes');
      const user = await bapi.users.getUser(u.id);
      assert.equal(user.totpEnabled, true);
      assert.equal(user.backupCodeEnabled, true);
      assert.equal(user.twoFactorEnabled, true);
      await page.getByRole('button', { name: 'Finish' }).click(WAIT);

      // Sign out, sign in again: password, then the authenticator's code.
      await page.locator('.cl-userButtonTrigger').click(WAIT);
      await page.locator('.cl-userButtonPopoverActionButton__signOut').click(WAIT);
      await page.waitForURL(x => new URL(x).pathname === '/sign-in', WAIT);
      await page.locator('input[name="identifier"]').fill(u.email, WAIT);
      await primary(page).click();
      await page.locator('input[name="password"]').fill(u.password, WAIT);
      await primary(page).click();
      await page.getByText(/authenticator app/i).first().waitFor(WAIT);
      await shot(page, 'sign-in-totp');
      // The enrolment spent the current step's code: the next step's (inside the ±1 window) signs in.
      await typeCode(page, appCode(secret, 1));
      await page.waitForURL(x => new URL(x).pathname === '/user', WAIT);
      await page.locator('.cl-userProfile-root').waitFor(WAIT);
      const c = await claims(page);
      assert.equal(c.sub, u.id);
      assert.deepEqual(c.fva, [0, 0]);
    }));
  /** A password user on `domain` made through BAPI. */
  async function domainUser(name, domain) {
    const u = { email: `${uniq(name)}@${domain}`, password: strongPassword() };
    u.id = (await bapi.users.createUser({ emailAddress: [u.email], password: u.password, skipPasswordChecks: true })).id;
    return u;
  }
  const newDomain = () => `${uniq('dom').toLowerCase()}.test`;

  it('<OrganizationProfile/> verified domains: add a domain, verify it by the emailed code, set the enrollment mode', T,
    () => withPage('organization-domains', async page => {
      const domain = newDomain();
      const alice = await makeUser('domadmin');
      const org = await bapi.organizations.createOrganization({ name: 'Domain Works', createdBy: alice.id });
      await signIn(page, alice);
      await page.evaluate(id => window.Clerk.setActive({ organization: id }), org.id);
      await mount(page, 'OrganizationProfile', { routing: 'virtual' });
      await page.getByRole('button', { name: 'Add domain' }).click(WAIT);
      await page.locator('input[name="name"]').fill(domain, WAIT);
      await primary(page).click();
      // The affiliation address: the local part, the component adds "@<domain>".
      await page.locator('input[name="affiliationEmailAddress"]').fill('it', WAIT);
      await primary(page).click();
      const mail = await eventually(() => server.outbox().filter(m => m.to === `it@${domain}`).at(-1), 'the affiliation code');
      await typeCode(page, mail.code);
      await eventually(async () => (await bapi.organizations.getOrganizationDomainList({ organizationId: org.id }))
        .data[0]?.verification?.status === 'verified', 'the domain to be verified');
      // @clerk/ui 1.34's next step re-reads the domain it fetched before the code (still unverified) and closes;
      // the person then reloads and opens the verified domain's "Manage" (its enrollment settings).
      await page.reload({ waitUntil: 'load', timeout: 20000 });
      await page.locator('.cl-userProfile-root').waitFor(WAIT);
      await mount(page, 'OrganizationProfile', { routing: 'virtual' });
      await page.locator('[class*="cl-profileSectionItem"]').filter({ hasText: domain }).locator('.cl-menuButton').click(WAIT);
      await page.getByRole('menuitem', { name: 'Manage' }).click(WAIT);
      const suggestion = page.getByRole('radio', { name: /Automatic suggestions/ });
      await suggestion.waitFor(WAIT);
      await suggestion.check();
      await shot(page, 'organization-domain-enrollment');
      await primary(page).click();
      // @clerk/backend passes the organization_domain JSON through raw (snake_case).
      const saved = await eventually(async () => {
        const d = (await bapi.organizations.getOrganizationDomainList({ organizationId: org.id })).data[0];
        return d?.enrollment_mode === 'automatic_suggestion' && d;
      }, 'the enrollment mode to be saved');
      assert.equal(saved.name, domain);
      assert.equal(saved.verification?.status, 'verified');
      assert.equal(saved.affiliation_email_address, `it@${domain}`);
    }));

  it('<OrganizationList/>: a verified domain suggests its organization; the request to join is accepted by the admin; /organization renders', T,
    () => withPage('organization-suggestion', async page => {
      const domain = newDomain();
      const owner = await makeUser('sugowner');
      const org = await bapi.organizations.createOrganization({ name: 'Suggest Co', createdBy: owner.id });
      await bapi.organizations.createOrganizationDomain({ organizationId: org.id, name: domain, enrollmentMode: 'automatic_suggestion' });
      const joiner = await domainUser('joiner', domain);
      await signIn(page, joiner);
      await mount(page, 'OrganizationList', { hidePersonal: false, afterSelectOrganizationUrl: `${fapi}/user`, afterSelectPersonalUrl: `${fapi}/user` });
      const item = page.locator('.cl-organizationListPreviewItem').filter({ hasText: 'Suggest Co' });
      await item.waitFor(WAIT);
      await shot(page, 'organization-suggestion');
      await item.getByRole('button', { name: 'Request to join' }).click(WAIT);
      await item.getByText('Pending approval').waitFor(WAIT);

      // The admin, in another browser, accepts the request on the members page's Requests tab.
      const admin = await newPage(ctx.browser);
      try {
        await signIn(admin.page, owner);
        await admin.page.evaluate(id => window.Clerk.setActive({ organization: id }), org.id);
        // The portal's organization page renders the active organization's profile.
        await admin.page.goto(`${fapi}/organization`, { waitUntil: 'load', timeout: 20000 });
        await admin.page.locator('.cl-organizationProfile-root').waitFor(WAIT);
        await admin.page.locator('.cl-organizationSwitcherTrigger').filter({ hasText: 'Suggest Co' }).waitFor(WAIT);
        await admin.page.locator('.cl-navbarButton__members').click(WAIT);
        await admin.page.getByRole('tab', { name: /Requests/ }).click(WAIT);
        const row = admin.page.locator('.cl-tableBody tr').filter({ hasText: joiner.email });
        await row.waitFor(WAIT);
        await shot(admin.page, 'organization-requests');
        await row.getByRole('button', { name: 'Approve' }).click(WAIT);
        await eventually(async () => (await membershipsOf(org.id)).some(m => m.publicUserData?.userId === joiner.id && m.role === 'org:member'),
          'the request to be accepted');
      } finally {
        await admin.close();
      }
    }));
});
