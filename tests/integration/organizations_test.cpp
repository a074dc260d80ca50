// Organizations over HTTP against the real server (issue 13): the FAPI endpoints with their permission rules,
// the session token's v2 org claims after a touch with active_organization_id, invitations with their emailed
// ticket joining through a sign-up, the user's side (/v1/me/organization_*), and the BAPI as @clerk/backend
// calls it. Every endpoint and every permission rule has a positive and a negative case here.
#include "tests/common/flows.hpp"
#include "tests/common/org_roles.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

using namespace latchkey;
using namespace latchkey::test;

namespace {

using verb = http::verb;

void orgs_on(conf::config& c) {
    orgs_with_billing(c, 3, {"org:invoices:read", "org:invoices:manage", "org:reports:read"});
}

json::object create_org(person& p, std::string const& name, std::string const& slug = {}) {
    std::vector<std::pair<std::string, std::string>> form{{"name", name}};
    if (!slug.empty()) form.emplace_back("slug", slug);
    auto r = p.c.fapi("POST", "/v1/organizations", form);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return response(r);
}

/// The user JSON of the piggy-backed client's session.
json::object client_user(http_result const& r, std::string const& sid) {
    auto s = client_session(r, sid);
    BOOST_TEST_REQUIRE(s.is_object(), r.body);
    return s.at("user").as_object();
}

json::object fresh_token(person& p) {
    auto r = p.c.fapi("POST", "/v1/client/sessions/" + p.who.session_id + "/tokens");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return jwt_payload(str(r.json.at("jwt")));
}

void add_member(http_client& b, std::string const& org, std::string const& user, std::string const& role) {
    json::object body{{"user_id", user}, {"role", role}};
    auto r = b.bapi(verb::post, "/v1/organizations/" + org + "/memberships", body);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(organizations)

BOOST_AUTO_TEST_CASE(environment_follows_the_config_and_disabled_refuses) {
    {
        test_server s;
        http_client c(s.fapi_port());
        auto env = c.fapi("GET", "/v1/environment");
        BOOST_TEST(env.json.at("organization_settings").at("enabled") == false);
        auto p = browser(s, "off@example.com");
        expect_error(p.c.fapi("POST", "/v1/organizations", {{"name", "Acme"}}), 403,
                     "organization_not_enabled_in_instance");
    }
    test_server s([](conf::config& c) {
        orgs_on(c);
        c.organizations.creator_role = "org:billing";
        c.organizations.force_organization_selection = true;
    });
    http_client c(s.fapi_port());
    auto env = c.fapi("GET", "/v1/environment");
    auto const& o = env.json.at("organization_settings");
    BOOST_TEST(o.at("enabled") == true);
    BOOST_TEST(o.at("max_allowed_memberships") == 3);
    BOOST_TEST(o.at("creator_role") == "org:billing");
    BOOST_TEST(o.at("actions").at("admin_delete") == true);
    BOOST_TEST(env.json.at("user_settings").at("actions").at("create_organization") == true);
}

BOOST_AUTO_TEST_CASE(create_get_update_delete_with_permissions) {
    test_server s(orgs_on);
    auto alice = browser(s, "alice@example.com");
    auto r = alice.c.fapi("POST", "/v1/organizations", {{"name", "Acme Inc"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto org = response(r);
    std::string const id = str(org.at("id"));
    BOOST_TEST(id.starts_with("org_"));
    BOOST_TEST(org.at("slug") == "acme-inc");  // generated from the name
    BOOST_TEST(org.at("members_count") == 1);
    // The piggy-backed user carries the membership (admin, with the system permissions, nested organization).
    auto ms = client_user(r, alice.who.session_id).at("organization_memberships").as_array();
    BOOST_TEST_REQUIRE(ms.size() == 1u);
    BOOST_TEST(ms[0].at("role") == "org:admin");
    BOOST_TEST(str(ms[0].at("organization").at("id")) == id);
    BOOST_TEST(str(ms[0].at("public_user_data").at("user_id")) == alice.who.user_id);
    auto const& perms = ms[0].at("permissions").as_array();
    BOOST_TEST((std::find(perms.begin(), perms.end(), json::value("org:sys_memberships:manage")) != perms.end()));

    // Bad input.
    expect_error(alice.c.fapi("POST", "/v1/organizations", {}), 422, "form_param_missing", "name");
    expect_error(alice.c.fapi("POST", "/v1/organizations", {{"name", "X"}, {"slug", "Bad Slug"}}), 422,
                 "form_param_format_invalid", "slug");
    expect_error(alice.c.fapi("POST", "/v1/organizations", {{"name", "Other"}, {"slug", "acme-inc"}}), 422,
                 "form_identifier_exists", "slug");
    expect_error(alice.c.fapi("GET", "/v1/organizations/org_missing"), 404, "organization_not_found_or_unauthorized");

    auto got = alice.c.fapi("GET", "/v1/organizations/" + id);
    BOOST_TEST_REQUIRE(got.status == 200u, got.body);
    BOOST_TEST(response(got).at("name") == "Acme Inc");
    auto up = alice.c.fapi("PATCH", "/v1/organizations/" + id, {{"name", "Acme"}, {"slug", "acme"}});
    BOOST_TEST_REQUIRE(up.status == 200u, up.body);
    BOOST_TEST(response(up).at("slug") == "acme");
    BOOST_TEST(
        client_user(up, alice.who.session_id).at("organization_memberships").at(0).at("organization").at("name") ==
        "Acme");

    // A member may read but not manage; a stranger sees nothing.
    auto bob = browser(s, "bob@example.com");
    auto carol = browser(s, "carol@example.com");
    auto b = bapi_client(s);
    add_member(b, id, bob.who.user_id, "org:member");
    BOOST_TEST(bob.c.fapi("GET", "/v1/organizations/" + id).status == 200u);
    expect_error(carol.c.fapi("GET", "/v1/organizations/" + id), 404, "organization_not_found_or_unauthorized");
    expect_error(bob.c.fapi("PATCH", "/v1/organizations/" + id, {{"name", "Bob's"}}), 403, "not_allowed_access");
    expect_error(bob.c.fapi("DELETE", "/v1/organizations/" + id), 403, "not_allowed_access");

    // Delete: the memberships go with it (bob's user no longer lists it).
    auto del = alice.c.fapi("DELETE", "/v1/organizations/" + id);
    BOOST_TEST_REQUIRE(del.status == 200u, del.body);
    BOOST_TEST(response(del).at("deleted") == true);
    BOOST_TEST(client_user(del, alice.who.session_id).at("organization_memberships").as_array().empty());
    auto bob_user = load_user(s, bob.who.user_id);
    BOOST_TEST(bob_user->organization_memberships == "[]");
    expect_error(b.bapi(verb::get, "/v1/organizations/" + id), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(admin_delete_can_be_disabled) {
    test_server s([](conf::config& c) {
        orgs_on(c);
        c.organizations.admin_delete = false;
    });
    auto alice = browser(s, "alice@example.com");
    auto id = str(create_org(alice, "Keep").at("id"));
    expect_error(alice.c.fapi("DELETE", "/v1/organizations/" + id), 403, "organization_admin_delete_not_enabled");
}

BOOST_AUTO_TEST_CASE(memberships_roles_and_the_last_admin) {
    test_server s(orgs_on);
    auto alice = browser(s, "alice@example.com");
    auto bob = browser(s, "bob@example.com");
    auto carol = browser(s, "carol@example.com");
    auto dave = browser(s, "dave@example.com");
    auto id = str(create_org(alice, "Acme").at("id"));
    std::string const base = "/v1/organizations/" + id + "/memberships";

    auto add = alice.c.fapi("POST", base, {{"user_id", bob.who.user_id}, {"role", "org:member"}});
    BOOST_TEST_REQUIRE(add.status == 200u, add.body);
    BOOST_TEST(response(add).at("role") == "org:member");
    expect_error(alice.c.fapi("POST", base, {{"user_id", bob.who.user_id}, {"role", "org:member"}}), 400,
                 "already_a_member_in_organization");
    expect_error(alice.c.fapi("POST", base, {{"user_id", carol.who.user_id}, {"role", "org:nope"}}), 422,
                 "form_param_value_invalid", "role");
    expect_error(alice.c.fapi("POST", base, {{"user_id", "user_missing"}, {"role", "org:member"}}), 404,
                 "resource_not_found", "user_id");
    // A member cannot add, change or remove members.
    expect_error(bob.c.fapi("POST", base, {{"user_id", carol.who.user_id}, {"role", "org:member"}}), 403,
                 "not_allowed_access");
    expect_error(bob.c.fapi("DELETE", base + "/" + alice.who.user_id), 403, "not_allowed_access");
    expect_error(bob.c.fapi("PATCH", base + "/" + bob.who.user_id, {{"role", "org:admin"}}), 403, "not_allowed_access");

    // Listing (paginated, role filter) needs org:sys_memberships:read, which members hold.
    auto list = bob.c.fapi("GET", base + "?paginated=true&limit=10&offset=0");
    BOOST_TEST_REQUIRE(list.status == 200u, list.body);
    BOOST_TEST(response(list).at("total_count") == 2);
    auto admins = bob.c.fapi("GET", base + "?role=org:admin");
    BOOST_TEST(response(admins).at("total_count") == 1);
    BOOST_TEST(str(response(admins).at("data").at(0).at("public_user_data").at("user_id")) == alice.who.user_id);
    auto page2 = bob.c.fapi("GET", base + "?limit=1&offset=1");
    BOOST_TEST(response(page2).at("data").as_array().size() == 1u);
    expect_error(carol.c.fapi("GET", base), 404, "organization_not_found_or_unauthorized");

    // The quota (3, creator included).
    BOOST_TEST(alice.c.fapi("POST", base, {{"user_id", carol.who.user_id}, {"role", "org:member"}}).status == 200u);
    expect_error(alice.c.fapi("POST", base, {{"user_id", dave.who.user_id}, {"role", "org:member"}}), 403,
                 "organization_membership_quota_exceeded");

    // The last admin can be neither demoted nor removed, nor leave.
    expect_error(alice.c.fapi("PATCH", base + "/" + alice.who.user_id, {{"role", "org:member"}}), 403,
                 "organization_minimum_permissions_needed");
    expect_error(alice.c.fapi("DELETE", base + "/" + alice.who.user_id), 403,
                 "organization_minimum_permissions_needed");
    expect_error(alice.c.fapi("DELETE", "/v1/me/organization_memberships/" + id), 403,
                 "organization_minimum_permissions_needed");
    // With a second admin, the first may step down.
    auto promote = alice.c.fapi("PATCH", base + "/" + bob.who.user_id, {{"role", "org:admin"}});
    BOOST_TEST_REQUIRE(promote.status == 200u, promote.body);
    BOOST_TEST(response(promote).at("role") == "org:admin");
    BOOST_TEST(alice.c.fapi("PATCH", base + "/" + alice.who.user_id, {{"role", "org:member"}}).status == 200u);
    // Removing a member: their user JSON follows.
    auto rm = bob.c.fapi("DELETE", base + "/" + carol.who.user_id);
    BOOST_TEST_REQUIRE(rm.status == 200u, rm.body);
    BOOST_TEST(load_user(s, carol.who.user_id)->organization_memberships == "[]");
    expect_error(bob.c.fapi("DELETE", base + "/" + carol.who.user_id), 404, "resource_not_found");

    // Roles: the system roles and the custom one, each with its permissions.
    auto roles = bob.c.fapi("GET", "/v1/organizations/" + id + "/roles?limit=10&offset=0");
    BOOST_TEST_REQUIRE(roles.status == 200u, roles.body);
    BOOST_TEST(response(roles).at("total_count") == 3);
    BOOST_TEST(response(roles).at("data").at(2).at("key") == "org:billing");
    BOOST_TEST(response(roles).at("data").at(2).at("permissions").as_array().size() == 3u);
    expect_error(carol.c.fapi("GET", "/v1/organizations/" + id + "/roles"), 404,
                 "organization_not_found_or_unauthorized");

    // The user's side: list, then leave.
    auto mine = alice.c.fapi("GET", "/v1/me/organization_memberships?paginated=true&limit=10&offset=0");
    BOOST_TEST_REQUIRE(mine.status == 200u, mine.body);
    BOOST_TEST(response(mine).at("total_count") == 1);
    auto left = alice.c.fapi("DELETE", "/v1/me/organization_memberships/" + id);
    BOOST_TEST_REQUIRE(left.status == 200u, left.body);
    BOOST_TEST(client_user(left, alice.who.session_id).at("organization_memberships").as_array().empty());
    expect_error(alice.c.fapi("DELETE", "/v1/me/organization_memberships/" + id), 404,
                 "organization_not_found_or_unauthorized");
}

BOOST_AUTO_TEST_CASE(active_organization_claims_in_the_session_token) {
    test_server s(orgs_on);
    auto alice = browser(s, "alice@example.com");
    auto bob = browser(s, "bob@example.com");
    auto org = create_org(alice, "Acme", "acme");
    auto id = str(org.at("id"));
    auto b = bapi_client(s);
    add_member(b, id, bob.who.user_id, "org:member");

    // No active organization: no `o`.
    BOOST_TEST(!fresh_token(bob).contains("o"));
    // A stranger's organization cannot be selected.
    auto other = str(create_org(alice, "Other").at("id"));
    expect_error(bob.c.fapi("POST", "/v1/client/sessions/" + bob.who.session_id + "/touch",
                            {{"active_organization_id", other}, {"intent", "select_org"}}),
                 404, "organization_not_found_or_unauthorized");

    auto touched = bob.c.fapi("POST", "/v1/client/sessions/" + bob.who.session_id + "/touch",
                              {{"active_organization_id", id}, {"intent", "select_org"}});
    BOOST_TEST_REQUIRE(touched.status == 200u, touched.body);
    BOOST_TEST(str(response(touched).at("last_active_organization_id")) == id);
    // The session's last_active_token already carries the organization (clerk-wire-2 §1).
    auto shown = jwt_payload(str(response(touched).at("last_active_token").at("jwt")));
    BOOST_TEST_REQUIRE(shown.contains("o"), json::serialize(shown));
    auto tok = fresh_token(bob);
    BOOST_TEST(tok.at("v") == 2);
    BOOST_TEST(str(tok.at("o").at("id")) == id);
    BOOST_TEST(tok.at("o").at("slg") == "acme");
    BOOST_TEST(tok.at("o").at("rol") == "member");  // without the org: prefix
    BOOST_TEST(!tok.at("o").as_object().contains("per"));
    BOOST_TEST(!tok.contains("fea"));

    // The admin changes bob's role to the custom one: bob's next token shows it, with its permissions.
    auto re =
        alice.c.fapi("PATCH", "/v1/organizations/" + id + "/memberships/" + bob.who.user_id, {{"role", "org:billing"}});
    BOOST_TEST_REQUIRE(re.status == 200u, re.body);
    tok = fresh_token(bob);
    BOOST_TEST(tok.at("o").at("rol") == "billing");
    BOOST_TEST(tok.at("fea") == "o:invoices,o:reports");
    BOOST_TEST(tok.at("o").at("per") == "read,manage");
    BOOST_TEST(tok.at("o").at("fpm") == "3,1");  // invoices: read+manage; reports: read

    // A slug change follows too.
    BOOST_TEST(alice.c.fapi("PATCH", "/v1/organizations/" + id, {{"slug", "acme-2"}}).status == 200u);
    BOOST_TEST(fresh_token(bob).at("o").at("slg") == "acme-2");

    // A mint for another organization (clerk-js's getToken with organization_id) and for the personal account.
    auto own = str(create_org(bob, "Bobs").at("id"));
    auto other_tok =
        bob.c.fapi("POST", "/v1/client/sessions/" + bob.who.session_id + "/tokens", {{"organization_id", own}});
    BOOST_TEST_REQUIRE(other_tok.status == 200u, other_tok.body);
    BOOST_TEST(jwt_payload(str(other_tok.json.at("jwt"))).at("o").at("rol") == "admin");
    expect_error(
        bob.c.fapi("POST", "/v1/client/sessions/" + bob.who.session_id + "/tokens", {{"organization_id", other}}), 404,
        "organization_not_found_or_unauthorized");

    // Removed from the organization: back to the personal account, no claims.
    auto b2 = bapi_client(s);
    BOOST_TEST(b2.bapi(verb::delete_, "/v1/organizations/" + id + "/memberships/" + bob.who.user_id).status == 200u);
    BOOST_TEST(!fresh_token(bob).contains("o"));
    BOOST_TEST(load_session(s, bob.who.session_id)->last_active_organization_id.empty());
    // Clearing with an empty id.
    auto cleared =
        bob.c.fapi("POST", "/v1/client/sessions/" + bob.who.session_id + "/touch", {{"active_organization_id", ""}});
    BOOST_TEST(cleared.status == 200u);
}

BOOST_AUTO_TEST_CASE(invitations_email_a_ticket_that_signs_up_into_the_organization) {
    test_server s(orgs_on);
    auto alice = browser(s, "alice@example.com");
    auto carol = browser(s, "carol@example.com");
    auto id = str(create_org(alice, "Acme").at("id"));
    std::string const base = "/v1/organizations/" + id + "/invitations";

    auto inv = alice.c.fapi("POST", base, {{"email_address", "Bob@Example.com"}, {"role", "org:member"}});
    BOOST_TEST_REQUIRE(inv.status == 200u, inv.body);
    BOOST_TEST(response(inv).at("status") == "pending");
    BOOST_TEST(response(inv).at("email_address") == "bob@example.com");
    expect_error(alice.c.fapi("POST", base, {{"email_address", "bob@example.com"}}), 400, "duplicate_record");
    expect_error(alice.c.fapi("POST", base, {{"email_address", "alice@example.com"}}), 400,
                 "already_a_member_in_organization");
    expect_error(alice.c.fapi("POST", base, {{"email_address", "nope"}}), 422, "form_param_format_invalid",
                 "email_address");
    expect_error(alice.c.fapi("POST", base, {}), 422, "form_param_missing", "email_address");
    expect_error(carol.c.fapi("POST", base, {{"email_address", "x@example.com"}}), 404,
                 "organization_not_found_or_unauthorized");
    auto bulk = alice.c.fapi(
        "POST", base + "/bulk",
        {{"email_address", "d1@example.com"}, {"email_address", "d2@example.com"}, {"role", "org:member"}});
    BOOST_TEST_REQUIRE(bulk.status == 200u, bulk.body);
    BOOST_TEST(json::parse(bulk.body).at("response").as_array().size() == 2u);

    auto list = alice.c.fapi("GET", base + "?status=pending&limit=10&offset=0");
    BOOST_TEST_REQUIRE(list.status == 200u, list.body);
    BOOST_TEST(response(list).at("total_count") == 3);
    // Revoke one.
    auto d1 = str(json::parse(bulk.body).at("response").at(0).at("id"));
    auto rv = alice.c.fapi("POST", base + "/" + d1 + "/revoke");
    BOOST_TEST_REQUIRE(rv.status == 200u, rv.body);
    BOOST_TEST(response(rv).at("status") == "revoked");
    expect_error(alice.c.fapi("POST", base + "/orginv_missing/revoke"), 404, "resource_not_found");

    // The email's ticket signs bob up, verified, straight into the organization.
    auto ticket = ticket_sent_to(s, "bob@example.com", "organization_invitation");
    http_client bob(s.fapi_port());
    auto su = bob.fapi("POST", "/v1/client/sign_ups",
                       {{"strategy", "ticket"}, {"ticket", ticket}, {"password", "correct horse battery staple"}});
    BOOST_TEST_REQUIRE(su.status == 200u, su.body);
    BOOST_TEST(response(su).at("status") == "complete");
    auto sid = str(response(su).at("created_session_id"));
    auto ms = client_user(su, sid).at("organization_memberships").as_array();
    BOOST_TEST_REQUIRE(ms.size() == 1u, su.body);
    BOOST_TEST(str(ms[0].at("organization").at("id")) == id);
    BOOST_TEST(ms[0].at("role") == "org:member");
    // The ticket is single-use; the invitation is accepted.
    http_client again(s.fapi_port());
    expect_error(again.fapi("POST", "/v1/client/sign_ups", {{"strategy", "ticket"}, {"ticket", ticket}}), 422,
                 "form_param_value_invalid", "ticket");
    auto b = bapi_client(s);
    auto got = b.bapi(verb::get, "/v1/organizations/" + id + "/invitations/" + str(response(inv).at("id")));
    BOOST_TEST(got.json.at("status") == "accepted");
    // A revoked invitation's ticket is refused.
    auto revoked_ticket = ticket_sent_to(s, "d1@example.com", "organization_invitation");
    expect_error(again.fapi("POST", "/v1/client/sign_ups", {{"strategy", "ticket"}, {"ticket", revoked_ticket}}), 422,
                 "form_param_value_invalid", "ticket");
}

BOOST_AUTO_TEST_CASE(the_invited_user_accepts_in_the_app) {
    test_server s(orgs_on);
    auto alice = browser(s, "alice@example.com");
    auto bob = browser(s, "bob@example.com");
    auto carol = browser(s, "carol@example.com");
    auto id = str(create_org(alice, "Acme").at("id"));
    auto inv = alice.c.fapi("POST", "/v1/organizations/" + id + "/invitations", {{"email_address", "bob@example.com"}});
    BOOST_TEST_REQUIRE(inv.status == 200u, inv.body);
    auto inv_id = str(response(inv).at("id"));

    auto mine = bob.c.fapi("GET", "/v1/me/organization_invitations?status=pending&limit=10&offset=0");
    BOOST_TEST_REQUIRE(mine.status == 200u, mine.body);
    BOOST_TEST(response(mine).at("total_count") == 1);
    BOOST_TEST(str(response(mine).at("data").at(0).at("public_organization_data").at("id")) == id);
    BOOST_TEST(response(carol.c.fapi("GET", "/v1/me/organization_invitations")).at("total_count") == 0);
    // Someone else's invitation cannot be accepted.
    expect_error(carol.c.fapi("POST", "/v1/me/organization_invitations/" + inv_id + "/accept"), 404,
                 "resource_not_found");
    auto acc = bob.c.fapi("POST", "/v1/me/organization_invitations/" + inv_id + "/accept");
    BOOST_TEST_REQUIRE(acc.status == 200u, acc.body);
    BOOST_TEST(response(acc).at("status") == "accepted");
    BOOST_TEST(client_user(acc, bob.who.session_id).at("organization_memberships").as_array().size() == 1u);
    expect_error(bob.c.fapi("POST", "/v1/me/organization_invitations/" + inv_id + "/accept"), 422,
                 "form_param_value_invalid");
}

BOOST_AUTO_TEST_CASE(suggestions_are_listed_for_a_signed_in_user_and_empty_without_domains) {
    test_server s(orgs_on);
    auto alice = browser(s, "alice@example.com");
    create_org(alice, "Acme");
    // As <OrganizationList/> asks: both statuses, paginated.
    auto mine = alice.c.fapi("GET", "/v1/me/organization_suggestions?status=pending&status=accepted&limit=10&offset=0");
    BOOST_TEST_REQUIRE(mine.status == 200u, mine.body);
    BOOST_TEST(response(mine).at("total_count") == 0);
    BOOST_TEST(response(mine).at("data").as_array().empty());
    BOOST_TEST(mine.json.as_object().contains("client"));
    // Signed out: no list.
    http_client nobody(s.fapi_port());
    expect_error(nobody.fapi("GET", "/v1/me/organization_suggestions"), 401, "authentication_invalid");
}

BOOST_AUTO_TEST_CASE(backend_api_as_clerk_backend_calls_it) {
    test_server s(orgs_on);
    auto b = bapi_client(s);
    auto alice = create_user(b, {{"email_address", json::array{"alice@example.com"}}});
    auto bob = create_user(b, {{"email_address", json::array{"bob@example.com"}}});
    std::string const alice_id = str(alice.at("id"));
    std::string const bob_id = str(bob.at("id"));

    auto made = b.bapi(verb::post, "/v1/organizations",
                       json::object{{"name", "Acme"},
                                    {"slug", "acme"},
                                    {"created_by", alice_id},
                                    {"max_allowed_memberships", 10},
                                    {"public_metadata", {{"plan", "pro"}}},
                                    {"private_metadata", {{"tier", 1}}}});
    BOOST_TEST_REQUIRE(made.status == 200u, made.body);
    std::string const id = str(made.json.at("id"));
    BOOST_TEST(made.json.at("members_count") == 1);
    BOOST_TEST(made.json.at("private_metadata").at("tier") == 1);
    expect_error(b.bapi(verb::post, "/v1/organizations", json::object{{"name", "Dup"}, {"slug", "acme"}}), 422,
                 "form_identifier_exists", "slug");
    expect_error(b.bapi(verb::post, "/v1/organizations", json::object{{"slug", "x"}}), 422, "form_param_missing",
                 "name");
    expect_error(b.bapi(verb::post, "/v1/organizations", json::object{{"name", "X"}, {"created_by", "user_nope"}}), 404,
                 "resource_not_found", "created_by");
    for (auto n : {"Beta", "Gamma"}) {
        // created_at has millisecond resolution: let the clock move so "newest first" has one answer.
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        BOOST_TEST(b.bapi(verb::post, "/v1/organizations", json::object{{"name", n}}).status == 200u);
    }

    // List, search, paging, order.
    auto all = b.bapi(verb::get, "/v1/organizations?limit=2&offset=0");
    BOOST_TEST(all.json.at("total_count") == 3);
    BOOST_TEST(all.json.at("data").as_array().size() == 2u);
    BOOST_TEST(all.json.at("data").at(0).at("name") == "Gamma");  // newest first
    auto q = b.bapi(verb::get, "/v1/organizations?query=bet");
    BOOST_TEST(q.json.at("total_count") == 1);
    auto by_name = b.bapi(verb::get, "/v1/organizations?order_by=%2Bname");
    BOOST_TEST(by_name.json.at("data").at(0).at("name") == "Acme");
    expect_error(b.bapi(verb::get, "/v1/organizations?order_by=nope"), 422, "form_param_value_invalid", "order_by");
    // Get by id and by slug.
    BOOST_TEST(b.bapi(verb::get, "/v1/organizations/" + id).json.at("slug") == "acme");
    BOOST_TEST(str(b.bapi(verb::get, "/v1/organizations/acme?include_members_count=true").json.at("id")) == id);
    expect_error(b.bapi(verb::get, "/v1/organizations/org_nope"), 404, "resource_not_found");

    // Update and metadata (merge, then replace).
    auto up = b.bapi(verb::patch, "/v1/organizations/" + id,
                     json::object{{"name", "Acme Corp"}, {"admin_delete_enabled", false}});
    BOOST_TEST_REQUIRE(up.status == 200u, up.body);
    BOOST_TEST(up.json.at("name") == "Acme Corp");
    BOOST_TEST(up.json.at("admin_delete_enabled") == false);
    auto merged =
        b.bapi(verb::patch, "/v1/organizations/" + id + "/metadata", json::object{{"public_metadata", {{"seats", 5}}}});
    BOOST_TEST(merged.json.at("public_metadata").at("plan") == "pro");
    BOOST_TEST(merged.json.at("public_metadata").at("seats") == 5);
    auto replaced =
        b.bapi(verb::put, "/v1/organizations/" + id + "/metadata", json::object{{"public_metadata", {{"only", true}}}});
    BOOST_TEST(replaced.json.at("public_metadata").as_object().size() == 1u);
    expect_error(b.bapi(verb::patch, "/v1/organizations/" + id, json::object{{"slug", "Bad Slug"}}), 422,
                 "form_param_format_invalid", "slug");

    // Memberships.
    auto m = b.bapi(verb::post, "/v1/organizations/" + id + "/memberships",
                    json::object{{"user_id", bob_id}, {"role", "org:member"}});
    BOOST_TEST_REQUIRE(m.status == 200u, m.body);
    BOOST_TEST(str(m.json.at("organization").at("id")) == id);
    BOOST_TEST(str(m.json.at("public_user_data").at("user_id")) == bob_id);
    auto ml = b.bapi(verb::get, "/v1/organizations/" + id + "/memberships?limit=10&offset=0");
    BOOST_TEST(ml.json.at("total_count") == 2);
    auto mu =
        b.bapi(verb::patch, "/v1/organizations/" + id + "/memberships/" + bob_id, json::object{{"role", "org:admin"}});
    BOOST_TEST(mu.json.at("role") == "org:admin");
    expect_error(
        b.bapi(verb::patch, "/v1/organizations/" + id + "/memberships/user_nope", json::object{{"role", "org:admin"}}),
        404, "resource_not_found");
    // The user JSON lists it.
    auto bu = b.bapi(verb::get, "/v1/users/" + bob_id);
    BOOST_TEST(bu.json.at("organization_memberships").as_array().size() == 1u);

    // Invitations: create, bulk (a JSON array), list, get, revoke.
    auto inv = b.bapi(verb::post, "/v1/organizations/" + id + "/invitations",
                      json::object{{"email_address", "carol@example.com"},
                                   {"role", "org:member"},
                                   {"inviter_user_id", alice_id},
                                   {"public_metadata", {{"k", "v"}}}});
    BOOST_TEST_REQUIRE(inv.status == 200u, inv.body);
    BOOST_TEST(inv.json.at("public_metadata").at("k") == "v");
    BOOST_TEST(str(inv.json.at("public_organization_data").at("id")) == id);
    auto bulk = b.bapi(verb::post, "/v1/organizations/" + id + "/invitations/bulk",
                       json::array{json::object{{"email_address", "e1@example.com"}, {"role", "org:member"}},
                                   json::object{{"email_address", "e2@example.com"}, {"role", "org:member"}}});
    BOOST_TEST_REQUIRE(bulk.status == 200u, bulk.body);
    BOOST_TEST(bulk.json.as_array().size() == 2u);
    auto il = b.bapi(verb::get, "/v1/organizations/" + id + "/invitations?status=pending");
    BOOST_TEST(il.json.at("total_count") == 3);
    auto inv_id = str(inv.json.at("id"));
    BOOST_TEST(b.bapi(verb::get, "/v1/organizations/" + id + "/invitations/" + inv_id).json.at("email_address") ==
               "carol@example.com");
    auto rv = b.bapi(verb::post, "/v1/organizations/" + id + "/invitations/" + inv_id + "/revoke");
    BOOST_TEST(rv.json.at("status") == "revoked");
    expect_error(b.bapi(verb::post, "/v1/organizations/" + id + "/invitations/" + inv_id + "/revoke"), 422,
                 "form_param_value_invalid");
    expect_error(b.bapi(verb::get, "/v1/organizations/" + id + "/invitations/orginv_nope"), 404, "resource_not_found");
    // Nothing half-written: a bulk with one bad address creates none.
    expect_error(b.bapi(verb::post, "/v1/organizations/" + id + "/invitations/bulk",
                        json::array{json::object{{"email_address", "f1@example.com"}},
                                    json::object{{"email_address", "bob@example.com"}}}),
                 400, "already_a_member_in_organization");
    BOOST_TEST(b.bapi(verb::get, "/v1/organizations/" + id + "/invitations?status=pending").json.at("total_count") ==
               2);

    // Deleting a user removes their memberships in the same txn.
    BOOST_TEST(b.bapi(verb::delete_, "/v1/users/" + bob_id).status == 200u);
    BOOST_TEST(b.bapi(verb::get, "/v1/organizations/" + id + "/memberships").json.at("total_count") == 1);
    // Remove the last member, then delete the organization: its invitations go with it.
    auto md = b.bapi(verb::delete_, "/v1/organizations/" + id + "/memberships/" + alice_id);
    BOOST_TEST_REQUIRE(md.status == 200u, md.body);
    auto del = b.bapi(verb::delete_, "/v1/organizations/" + id);
    BOOST_TEST_REQUIRE(del.status == 200u, del.body);
    BOOST_TEST(del.json.at("deleted") == true);
    expect_error(b.bapi(verb::delete_, "/v1/organizations/" + id), 404, "resource_not_found");
    s.app().db.with_read([&](store::read_txn& t) -> store::result<void> {
        BOOST_TEST(t.organizations().invitations_to("e1@example.com")->empty());
        return {};
    });
}

BOOST_AUTO_TEST_SUITE_END()
