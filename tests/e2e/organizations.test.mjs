// Organizations with Clerk's own SDKs (issue 13): clerk-js 6.40.0 in Chromium and @clerk/backend 3.25.0, against a
// production instance with organizations enabled. Alice creates an organization and invites bob by email; bob opens
// the invitation's ticket in a second browser context and signs up into the organization; alice makes bob an
// admin; bob's fresh token carries the new role and `authenticateRequest(...).toAuth().has({ role })` agrees on
// the server; bob leaves; @clerk/backend lists, updates and deletes the organization.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evalClerk, openAndLoad, setActive, signInPassword, startBrowserSuite } from './lib/flows.mjs';
import { newPage } from './lib/browser.mjs';
import { decodeJwt, skipWithoutBinary, strongPassword, uniq } from './lib/server.mjs';

const T = { timeout: 180000 };

describe('organizations: clerk-js and @clerk/backend', { skip: skipWithoutBinary, timeout: 600000 }, () => {
  let s;
  let bapi;

  before(async () => {
    s = await startBrowserSuite({
      instance: 'production',
      config: { single_session_mode: false, organizations: { enabled: true, max_allowed_memberships: 10 } },
    });
    bapi = s.server.backendClient();
  });
  after(async () => { await s?.stop(); });

  const ticketFor = email => s.server.ticketFor(email, 'organization_invitation');

  const tokenClaims = page => evalClerk(page, async clerk => clerk.session.getToken({ skipCache: true }));

  it('create, invite, ticket sign-up into the org, role change seen by token and has(), leave; BAPI list/update/delete', T,
    () => s.withPage(async alice => {
      const aliceEmail = `${uniq('alice')}@example.com`;
      const bobEmail = `${uniq('bob')}@example.com`;
      const password = strongPassword();
      const aliceUser = await bapi.users.createUser({ emailAddress: [aliceEmail], password });

      await openAndLoad(alice.page, s.app.sameOriginUrl());
      const si = await signInPassword(alice.page, aliceEmail, password);
      assert.equal(si.status, 'complete');
      await setActive(alice.page, si.createdSessionId);

      // Alice creates the organization and makes it active.
      const org = await evalClerk(alice.page, async clerk => {
        const o = await clerk.createOrganization({ name: 'Acme Widgets' });
        await clerk.setActive({ organization: o.id });
        return {
          id: o.id, slug: o.slug, active: clerk.organization?.id ?? null,
          role: clerk.user.organizationMemberships.find(m => m.organization.id === o.id)?.role ?? null,
        };
      });
      assert.match(org.id, /^org_/);
      assert.equal(org.active, org.id);
      assert.equal(org.role, 'org:admin');
      const aliceClaims = decodeJwt(await tokenClaims(alice.page)).payload;
      assert.deepEqual({ id: aliceClaims.o?.id, rol: aliceClaims.o?.rol, slg: aliceClaims.o?.slg },
        { id: org.id, rol: 'admin', slg: org.slug });

      // ... and invites bob by email.
      const invited = await evalClerk(alice.page, async (clerk, e) => {
        const inv = await clerk.organization.inviteMember({ emailAddress: e, role: 'org:member' });
        return { id: inv.id, status: inv.status };
      }, bobEmail);
      assert.equal(invited.status, 'pending');
      const ticket = ticketFor(bobEmail);

      // Bob, in a second browser context, opens the ticket and signs up into the organization.
      const bob = await newPage(s.browser);
      let bobId;
      try {
        await openAndLoad(bob.page, s.app.sameOriginUrl());
        const su = await evalClerk(bob.page, async (clerk, t, pw) => {
          const r = await clerk.client.signUp.create({ strategy: 'ticket', ticket: t, password: pw });
          return { status: r.status, sessionId: r.createdSessionId, userId: r.createdUserId, email: r.emailAddress };
        }, ticket, strongPassword());
        assert.equal(su.status, 'complete');
        assert.equal(su.email, bobEmail);
        bobId = su.userId;
        await setActive(bob.page, su.sessionId);
        const bobOrg = await evalClerk(bob.page, async (clerk, id) => {
          await clerk.setActive({ organization: id });
          return {
            active: clerk.organization?.id ?? null,
            role: clerk.user.organizationMemberships.find(m => m.organization.id === id)?.role ?? null,
          };
        }, org.id);
        assert.deepEqual(bobOrg, { active: org.id, role: 'org:member' });
        let claims = decodeJwt(await tokenClaims(bob.page)).payload;
        assert.equal(claims.o?.rol, 'member');

        // Alice makes bob an admin; bob's fresh token and the server's has() agree.
        const updated = await evalClerk(alice.page, async (clerk, uid) => {
          const m = await clerk.organization.updateMember({ userId: uid, role: 'org:admin' });
          return m.role;
        }, bobId);
        assert.equal(updated, 'org:admin');
        const token = await tokenClaims(bob.page);
        claims = decodeJwt(token).payload;
        assert.equal(claims.v, 2);
        assert.equal(claims.o?.rol, 'admin');
        const st = await bapi.authenticateRequest(new Request(`${s.app.origin}/api`, { headers: { authorization: `Bearer ${token}` } }));
        assert.equal(st.isSignedIn, true, `reason ${st.reason}: ${st.message}`);
        const auth = st.toAuth();
        assert.equal(auth.orgId, org.id);
        assert.equal(auth.orgRole, 'org:admin');
        assert.equal(auth.has({ role: 'org:admin' }), true);
        assert.equal(auth.has({ role: 'org:member' }), false);

        // Bob leaves (two admins now, so he may).
        const left = await evalClerk(bob.page, async (clerk, id) => {
          await clerk.user.leaveOrganization(id);
          await clerk.user.reload();
          return clerk.user.organizationMemberships.length;
        }, org.id);
        assert.equal(left, 0);
      } finally {
        await bob.close();
      }
      const members = await bapi.organizations.getOrganizationMembershipList({ organizationId: org.id });
      assert.deepEqual(members.data.map(m => m.publicUserData?.userId), [aliceUser.id]);

      // @clerk/backend lists, updates and deletes the organization.
      const list = await bapi.organizations.getOrganizationList({ query: 'acme', limit: 10 });
      assert.equal(list.totalCount, 1);
      assert.equal(list.data[0].id, org.id);
      const renamed = await bapi.organizations.updateOrganization(org.id, { name: 'Acme Gadgets' });
      assert.equal(renamed.name, 'Acme Gadgets');
      const bySlug = await bapi.organizations.getOrganization({ slug: org.slug });
      assert.equal(bySlug.id, org.id);
      const del = await bapi.organizations.deleteOrganization(org.id);
      assert.equal(del.deleted, true);
      await assert.rejects(bapi.organizations.getOrganization({ organizationId: org.id }), e => e.status === 404);
    }));

  // Issue 14: uploads as clerk-js sends them (multipart `file`), read back through the URLs the SDK objects carry.
  // The public FAPI host of this suite is not reachable from the browser, so image URLs are read through the
  // app's same-origin proxy (/__clerk), as an app whose FAPI is that proxy would serve them.
  it('user.setProfileImage and organization.setLogo: imageUrl serves the same bytes; @clerk/backend logo and image', T,
    () => s.withPage(async p => {
      const email = `${uniq('pic')}@example.com`;
      const password = strongPassword();
      const user = await bapi.users.createUser({ emailAddress: [email], password });
      await openAndLoad(p.page, s.app.sameOriginUrl());
      const si = await signInPassword(p.page, email, password);
      await setActive(p.page, si.createdSessionId);
      const got = await evalClerk(p.page, async (clerk, fapi) => {
        const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
        const bytes = Uint8Array.from(atob(png), c => c.charCodeAt(0));
        const read = async url => {
          const u = new URL(url);
          const res = await fetch(`${location.origin}/__clerk${u.pathname}${u.search}`);
          const b = new Uint8Array(await res.arrayBuffer());
          return { status: res.status, type: res.headers.get('content-type'), same: b.length === bytes.length && b.every((v, i) => v === bytes[i]) };
        };
        const image = await clerk.user.setProfileImage({ file: new Blob([bytes], { type: 'image/png' }) });
        const profile = { publicUrl: image.publicUrl, imageUrl: clerk.user.imageUrl, hasImage: clerk.user.hasImage, read: await read(clerk.user.imageUrl) };
        const org = await clerk.createOrganization({ name: 'Logo Works' });
        const withLogo = await org.setLogo({ file: new Blob([bytes], { type: 'image/png' }) });
        await clerk.user.reload();
        const m = clerk.user.organizationMemberships.find(x => x.organization.id === org.id);
        const logo = { id: org.id, imageUrl: withLogo.imageUrl, hasImage: withLogo.hasImage, inMembership: m?.organization.imageUrl, read: await read(withLogo.imageUrl) };
        await clerk.user.setProfileImage({ file: null });
        return { profile, logo, afterDelete: clerk.user.hasImage, fapi };
      }, s.server.frontendApi);
      assert.equal(got.profile.hasImage, true);
      assert.equal(got.profile.imageUrl, got.profile.publicUrl);
      assert.ok(got.profile.imageUrl.startsWith(`${s.server.frontendApi}/v1/images/img_`), got.profile.imageUrl);
      assert.deepEqual(got.profile.read, { status: 200, type: 'image/png', same: true });
      assert.equal(got.logo.hasImage, true);
      assert.equal(got.logo.inMembership, got.logo.imageUrl);
      assert.deepEqual(got.logo.read, { status: 200, type: 'image/png', same: true });
      assert.equal(got.afterDelete, false);

      // @clerk/backend: the user's profile image and the organization's logo (multipart from node).
      const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0, 0, 0, 0x2c]);
      const updated = await bapi.users.updateUserProfileImage(user.id, { file: new Blob([gif], { type: 'image/gif' }) });
      assert.equal(updated.hasImage, true);
      const served = await fetch(`${s.server.fapiUrl}${new URL(updated.imageUrl).pathname}`);
      assert.equal(served.headers.get('content-type'), 'image/gif');
      assert.deepEqual(new Uint8Array(await served.arrayBuffer()), gif);
      const org = await bapi.organizations.updateOrganizationLogo(got.logo.id, { file: new Blob([gif], { type: 'image/gif' }), uploaderUserId: user.id });
      assert.equal(org.hasImage, true);
      assert.notEqual(org.imageUrl, got.logo.imageUrl);
      const noLogo = await bapi.organizations.deleteOrganizationLogo(got.logo.id);
      assert.equal(noLogo.hasImage, false);
      const noImage = await bapi.users.deleteUserProfileImage(user.id);
      assert.equal(noImage.hasImage, false);
    }));
});
