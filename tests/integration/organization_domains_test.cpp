// Organization domains, suggestions, membership requests, and the BAPI's memberships across organizations, roles
// and permissions (issue 13), over HTTP against the real server. Every endpoint has a positive and a negative
// case: unknown ids 404, a role without the permission 403, bad input 422 with its param_name.
#include "tests/common/flows.hpp"
#include "tests/common/org_roles.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>

using namespace latchkey;
using namespace latchkey::test;

namespace {

using verb = http::verb;

void domains_on(conf::config& c) {
    orgs_with_billing(c, 10, {"org:invoices:read", "org:invoices:manage"});
    c.organizations.domains_enabled = true;
}

std::string create_org(person& p, std::string const& name) {
    auto r = p.c.fapi("POST", "/v1/organizations", {{"name", name}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return str(response(r).at("id"));
}

void add_member(test_server& s, std::string const& org, std::string const& user, std::string const& role) {
    auto b = bapi_client(s);
    auto r = b.bapi(verb::post, "/v1/organizations/" + org + "/memberships",
                    json::object{{"user_id", user}, {"role", role}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
}

/// Creates a domain as `p`, verifies it with the emailed code and sets its enrollment mode.
std::string verified_domain(test_server& s, person& p, std::string const& org, std::string const& name,
                            std::string const& mode) {
    auto base = "/v1/organizations/" + org + "/domains";
    auto made = p.c.fapi("POST", base, {{"name", name}});
    BOOST_TEST_REQUIRE(made.status == 200u, made.body);
    auto id = str(response(made).at("id"));
    auto prep = p.c.fapi("POST", base + "/" + id + "/prepare_affiliation_verification",
                         {{"affiliation_email_address", "admin@" + name}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    auto att = p.c.fapi("POST", base + "/" + id + "/attempt_affiliation_verification",
                        {{"code", s.last_code("admin@" + name)}});
    BOOST_TEST_REQUIRE(att.status == 200u, att.body);
    auto up = p.c.fapi("POST", base + "/" + id + "/update_enrollment_mode", {{"enrollment_mode", mode}});
    BOOST_TEST_REQUIRE(up.status == 200u, up.body);
    return id;
}

/// An instance with organization domains on, and Alice (alice@example.com) the admin of her organization Acme.
struct acme {
    test_server s{domains_on};
    person alice = browser(s, "alice@example.com");
    std::string org = create_org(alice, "Acme");
};

std::size_t memberships_in(http_result const& r, std::string const& sid) {
    auto s = client_session(r, sid);
    BOOST_TEST_REQUIRE(s.is_object(), r.body);
    return s.at("user").at("organization_memberships").as_array().size();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(organization_domains)

BOOST_AUTO_TEST_CASE(environment_shows_domains_and_forced_selection_from_the_config) {
    {
        test_server s([](conf::config& c) { c.organizations.enabled = true; });
        http_client c(s.fapi_port());
        auto env = c.fapi("GET", "/v1/environment");
        auto const& o = env.json.at("organization_settings").as_object();
        BOOST_TEST(o.at("domains").at("enabled") == false);
        BOOST_TEST(o.at("domains").at("enrollment_modes").as_array().empty());
        BOOST_TEST(!o.contains("force_organization_selection"));  // as the spec's schema, unless set
        // Domains off: creating one is refused.
        auto alice = browser(s, "alice@example.com");
        auto org = create_org(alice, "Acme");
        expect_error(alice.c.fapi("POST", "/v1/organizations/" + org + "/domains", {{"name", "acme.test"}}), 403,
                     "not_allowed_access");
    }
    test_server s([](conf::config& c) {
        domains_on(c);
        c.organizations.domain_enrollment_modes = {"automatic_suggestion"};
        c.organizations.force_organization_selection = true;
    });
    http_client c(s.fapi_port());
    auto env = c.fapi("GET", "/v1/environment");
    auto const& o = env.json.at("organization_settings").as_object();
    BOOST_TEST(o.at("domains").at("enabled") == true);
    BOOST_TEST(json::serialize(o.at("domains").at("enrollment_modes")) ==
               R"(["manual_invitation","automatic_suggestion"])");
    BOOST_TEST(o.at("force_organization_selection") == true);
    // A mode the instance does not offer is refused.
    auto alice = browser(s, "alice@example.com");
    auto org = create_org(alice, "Acme");
    expect_error(alice.c.fapi("POST", "/v1/organizations/" + org + "/domains",
                              {{"name", "acme.test"}, {"enrollment_mode", "automatic_invitation"}}),
                 422, "form_param_value_invalid", "enrollment_mode");
}

BOOST_FIXTURE_TEST_CASE(domains_are_created_verified_by_code_and_managed_with_permissions, acme) {
    auto bob = browser(s, "bob@acme.test");
    auto eve = browser(s, "eve@other.test");
    add_member(s, org, bob.who.user_id, "org:member");
    auto const base = "/v1/organizations/" + org + "/domains";

    // Create: bad input, then a domain (manual_invitation, unverified).
    expect_error(alice.c.fapi("POST", base, {}), 422, "form_param_missing", "name");
    expect_error(alice.c.fapi("POST", base, {{"name", "not a domain"}}), 422, "form_param_format_invalid", "name");
    expect_error(alice.c.fapi("POST", base, {{"name", "acme.test"}, {"enrollment_mode", "sometimes"}}), 422,
                 "form_param_value_invalid", "enrollment_mode");
    auto made = alice.c.fapi("POST", base, {{"name", "ACME.test"}});
    BOOST_TEST_REQUIRE(made.status == 200u, made.body);
    auto d = response(made);
    auto const id = str(d.at("id"));
    BOOST_TEST(id.starts_with("orgdmn_"));
    BOOST_TEST(d.at("object") == "organization_domain");
    BOOST_TEST(d.at("name") == "acme.test");
    BOOST_TEST(d.at("enrollment_mode") == "manual_invitation");
    BOOST_TEST(d.at("affiliation_verification").is_null());
    BOOST_TEST(d.at("total_pending_invitations") == 0);
    expect_error(alice.c.fapi("POST", base, {{"name", "acme.test"}}), 422, "form_identifier_exists", "name");

    // A member reads nothing (no org:sys_domains:read), writes nothing; a stranger is told nothing.
    expect_error(bob.c.fapi("GET", base), 403, "not_allowed_access");
    expect_error(bob.c.fapi("GET", base + "/" + id), 403, "not_allowed_access");
    expect_error(bob.c.fapi("POST", base, {{"name", "bob.test"}}), 403, "not_allowed_access");
    expect_error(bob.c.fapi("DELETE", base + "/" + id), 403, "not_allowed_access");
    expect_error(
        bob.c.fapi("POST", base + "/" + id + "/update_enrollment_mode", {{"enrollment_mode", "automatic_suggestion"}}),
        403, "not_allowed_access");
    expect_error(bob.c.fapi("POST", base + "/" + id + "/prepare_affiliation_verification",
                            {{"affiliation_email_address", "bob@acme.test"}}),
                 403, "not_allowed_access");
    expect_error(bob.c.fapi("POST", base + "/" + id + "/attempt_affiliation_verification", {{"code", "123456"}}), 403,
                 "not_allowed_access");
    expect_error(eve.c.fapi("GET", base), 404, "organization_not_found_or_unauthorized");

    // List and get; unknown ids.
    auto list = alice.c.fapi("GET", base + "?limit=10&offset=0");
    BOOST_TEST_REQUIRE(list.status == 200u, list.body);
    BOOST_TEST(response(list).at("total_count") == 1);
    BOOST_TEST(response(alice.c.fapi("GET", base + "?enrollment_mode=automatic_suggestion")).at("total_count") == 0);
    BOOST_TEST(response(alice.c.fapi("GET", base + "?verified=true")).at("total_count") == 0);
    auto got = alice.c.fapi("GET", base + "/" + id);
    BOOST_TEST_REQUIRE(got.status == 200u, got.body);
    BOOST_TEST(str(response(got).at("public_organization_data").at("id")) == org);
    expect_error(alice.c.fapi("GET", base + "/orgdmn_missing"), 404, "resource_not_found");
    expect_error(alice.c.fapi("DELETE", base + "/orgdmn_missing"), 404, "resource_not_found");
    expect_error(alice.c.fapi("POST", base + "/orgdmn_missing/update_enrollment_mode",
                              {{"enrollment_mode", "automatic_suggestion"}}),
                 404, "resource_not_found");
    expect_error(alice.c.fapi("POST", base + "/orgdmn_missing/prepare_affiliation_verification",
                              {{"affiliation_email_address", "a@acme.test"}}),
                 404, "resource_not_found");
    expect_error(alice.c.fapi("POST", base + "/orgdmn_missing/attempt_affiliation_verification", {{"code", "1"}}), 404,
                 "resource_not_found");

    // Enrollment mode: required, one of the offered ones.
    expect_error(alice.c.fapi("POST", base + "/" + id + "/update_enrollment_mode", {}), 422, "form_param_missing",
                 "enrollment_mode");
    expect_error(alice.c.fapi("POST", base + "/" + id + "/update_enrollment_mode", {{"enrollment_mode", "enterprise"}}),
                 422, "form_param_value_invalid", "enrollment_mode");
    auto up = alice.c.fapi("POST", base + "/" + id + "/update_enrollment_mode",
                           {{"enrollment_mode", "automatic_suggestion"}, {"delete_pending", "true"}});
    BOOST_TEST_REQUIRE(up.status == 200u, up.body);
    BOOST_TEST(response(up).at("enrollment_mode") == "automatic_suggestion");

    // Affiliation: the address must be on the domain; the code is emailed, hashed, counted.
    expect_error(alice.c.fapi("POST", base + "/" + id + "/prepare_affiliation_verification", {}), 422,
                 "form_param_missing", "affiliation_email_address");
    expect_error(alice.c.fapi("POST", base + "/" + id + "/prepare_affiliation_verification",
                              {{"affiliation_email_address", "alice@other.test"}}),
                 422, "form_param_value_invalid", "affiliation_email_address");
    expect_error(alice.c.fapi("POST", base + "/" + id + "/attempt_affiliation_verification", {{"code", "123456"}}), 400,
                 "verification_not_sent");
    auto prep = alice.c.fapi("POST", base + "/" + id + "/prepare_affiliation_verification",
                             {{"affiliation_email_address", "it@acme.test"}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    auto const& av = response(prep).at("affiliation_verification");
    BOOST_TEST(av.at("status") == "unverified");
    BOOST_TEST(av.at("strategy") == "email_code");
    BOOST_TEST(av.at("expire_at").is_int64());
    BOOST_TEST(response(prep).at("affiliation_email_address") == "it@acme.test");
    auto const code = s.last_code("it@acme.test");
    BOOST_TEST_REQUIRE(code.size() == 6u);
    BOOST_TEST(prep.body.find("\"" + code + "\"") == std::string::npos);  // the code is only emailed
    expect_error(alice.c.fapi("POST", base + "/" + id + "/attempt_affiliation_verification", {}), 422,
                 "form_param_missing", "code");
    std::string wrong = code == "000000" ? "111111" : "000000";
    expect_error(alice.c.fapi("POST", base + "/" + id + "/attempt_affiliation_verification", {{"code", wrong}}), 422,
                 "form_code_incorrect", "code");
    // The failed attempt was counted (it landed with its error).
    BOOST_TEST(response(alice.c.fapi("GET", base + "/" + id)).at("affiliation_verification").at("attempts") == 1);
    auto ok = alice.c.fapi("POST", base + "/" + id + "/attempt_affiliation_verification", {{"code", code}});
    BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
    BOOST_TEST(response(ok).at("affiliation_verification").at("status") == "verified");
    BOOST_TEST(response(ok).at("verification").at("status") == "verified");
    BOOST_TEST(response(alice.c.fapi("GET", base + "?verified=true")).at("total_count") == 1);
    expect_error(alice.c.fapi("POST", base + "/" + id + "/attempt_affiliation_verification", {{"code", code}}), 400,
                 "verification_already_verified");

    // A domain of the admin's own verified address is verified at once (as Clerk).
    auto own = eve.c.fapi("POST", "/v1/organizations", {{"name", "Other"}});
    BOOST_TEST_REQUIRE(own.status == 200u, own.body);
    auto mine =
        eve.c.fapi("POST", "/v1/organizations/" + str(response(own).at("id")) + "/domains", {{"name", "other.test"}});
    BOOST_TEST_REQUIRE(mine.status == 200u, mine.body);
    BOOST_TEST(response(mine).at("verification").at("status") == "verified");
    BOOST_TEST(response(mine).at("affiliation_email_address") == "eve@other.test");

    // Delete.
    auto del = alice.c.fapi("DELETE", base + "/" + id);
    BOOST_TEST_REQUIRE(del.status == 200u, del.body);
    BOOST_TEST(response(del).at("deleted") == true);
    expect_error(alice.c.fapi("GET", base + "/" + id), 404, "resource_not_found");
}

BOOST_FIXTURE_TEST_CASE(too_many_wrong_codes_fail_the_affiliation, acme) {
    auto const base = "/v1/organizations/" + org + "/domains";
    auto id = str(response(alice.c.fapi("POST", base, {{"name", "acme.test"}})).at("id"));
    BOOST_TEST_REQUIRE(alice.c
                           .fapi("POST", base + "/" + id + "/prepare_affiliation_verification",
                                 {{"affiliation_email_address", "it@acme.test"}})
                           .status == 200u);
    auto const code = s.last_code("it@acme.test");
    std::string wrong = code == "000000" ? "111111" : "000000";
    http_result last;
    for (int i = 0; i < 10; ++i) {
        last = alice.c.fapi("POST", base + "/" + id + "/attempt_affiliation_verification", {{"code", wrong}});
        if (last.status != 422u) break;
    }
    expect_error(last, 400, "verification_failed");
    expect_error(alice.c.fapi("POST", base + "/" + id + "/attempt_affiliation_verification", {{"code", code}}), 400,
                 "verification_failed");
    BOOST_TEST(response(alice.c.fapi("GET", base + "/" + id)).at("affiliation_verification").at("status") == "failed");
}

BOOST_FIXTURE_TEST_CASE(a_suggestion_becomes_a_membership_request_the_admin_accepts, acme) {
    verified_domain(s, alice, org, "acme.test", "automatic_suggestion");
    auto bob = browser(s, "bob@acme.test");
    auto carol = browser(s, "carol@acme.test");
    auto eve = browser(s, "eve@other.test");

    // Bob sees the suggestion (as <OrganizationList/> asks); Eve, on another domain, and Alice, a member, do not.
    auto const q = "/v1/me/organization_suggestions?status=pending&status=accepted&limit=10&offset=0";
    auto sug = bob.c.fapi("GET", q);
    BOOST_TEST_REQUIRE(sug.status == 200u, sug.body);
    BOOST_TEST_REQUIRE(response(sug).at("total_count") == 1);
    auto const& one = response(sug).at("data").at(0);
    BOOST_TEST(one.at("object") == "organization_suggestion");
    BOOST_TEST(one.at("status") == "pending");
    BOOST_TEST(str(one.at("public_organization_data").at("id")) == org);
    auto const sid = str(one.at("id"));
    BOOST_TEST(str(response(bob.c.fapi("GET", q)).at("data").at(0).at("id")) == sid);  // stable
    BOOST_TEST(response(eve.c.fapi("GET", q)).at("total_count") == 0);
    BOOST_TEST(response(alice.c.fapi("GET", q)).at("total_count") == 0);

    // Only Bob can accept Bob's suggestion.
    expect_error(eve.c.fapi("POST", "/v1/me/organization_suggestions/" + sid + "/accept"), 404, "resource_not_found");
    expect_error(bob.c.fapi("POST", "/v1/me/organization_suggestions/orgsug_missing/accept"), 404,
                 "resource_not_found");
    auto acc = bob.c.fapi("POST", "/v1/me/organization_suggestions/" + sid + "/accept");
    BOOST_TEST_REQUIRE(acc.status == 200u, acc.body);
    BOOST_TEST(response(acc).at("status") == "accepted");
    BOOST_TEST(response(bob.c.fapi("GET", "/v1/me/organization_suggestions?status=accepted")).at("total_count") == 1);
    BOOST_TEST(response(bob.c.fapi("GET", "/v1/me/organization_suggestions?status=pending")).at("total_count") == 0);
    auto carol_sid = str(response(carol.c.fapi("GET", q)).at("data").at(0).at("id"));
    BOOST_TEST_REQUIRE(carol.c.fapi("POST", "/v1/me/organization_suggestions/" + carol_sid + "/accept").status == 200u);

    // The admin lists the requests; a member may not; a stranger is told nothing.
    auto const reqs = "/v1/organizations/" + org + "/membership_requests";
    auto listed = alice.c.fapi("GET", reqs + "?status=pending&limit=10&offset=0");
    BOOST_TEST_REQUIRE(listed.status == 200u, listed.body);
    BOOST_TEST_REQUIRE(response(listed).at("total_count") == 2);
    std::string bob_req;
    std::string carol_req;
    for (auto const& r : response(listed).at("data").as_array()) {
        BOOST_TEST(r.at("object") == "organization_membership_request");
        auto const who = str(r.at("public_user_data").at("user_id"));
        (who == bob.who.user_id ? bob_req : carol_req) = str(r.at("id"));
    }
    BOOST_TEST_REQUIRE(!bob_req.empty());
    expect_error(eve.c.fapi("GET", reqs), 404, "organization_not_found_or_unauthorized");
    expect_error(alice.c.fapi("POST", reqs + "/orgmemreq_missing/accept"), 404, "resource_not_found");
    expect_error(alice.c.fapi("POST", reqs + "/orgmemreq_missing/reject"), 404, "resource_not_found");

    auto ok = alice.c.fapi("POST", reqs + "/" + bob_req + "/accept");
    BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
    BOOST_TEST(response(ok).at("status") == "accepted");
    expect_error(alice.c.fapi("POST", reqs + "/" + bob_req + "/accept"), 422, "form_param_value_invalid", "request_id");
    auto mine = bob.c.fapi("GET", "/v1/me/organization_memberships?limit=10&offset=0&paginated=true");
    BOOST_TEST_REQUIRE(mine.status == 200u, mine.body);
    BOOST_TEST(response(mine).at("total_count") == 1);
    BOOST_TEST(response(mine).at("data").at(0).at("role") == "org:member");
    BOOST_TEST(response(bob.c.fapi("GET", q)).at("total_count") == 0);  // a member gets no suggestion

    // Bob, now a member, may not decide Carol's request; Alice rejects it and Carol's suggestion is gone.
    expect_error(bob.c.fapi("POST", reqs + "/" + carol_req + "/reject"), 403, "not_allowed_access");
    expect_error(bob.c.fapi("GET", reqs), 403, "not_allowed_access");
    auto no = alice.c.fapi("POST", reqs + "/" + carol_req + "/reject");
    BOOST_TEST_REQUIRE(no.status == 200u, no.body);
    BOOST_TEST(response(no).at("status") == "rejected");
    BOOST_TEST(response(carol.c.fapi("GET", q)).at("total_count") == 0);
    BOOST_TEST(response(alice.c.fapi("GET", reqs + "?status=rejected")).at("total_count") == 1);
}

BOOST_FIXTURE_TEST_CASE(an_automatic_invitation_domain_invites_matching_users, acme) {
    auto dom = verified_domain(s, alice, org, "acme.test", "automatic_invitation");
    auto bob = browser(s, "bob@acme.test");
    auto eve = browser(s, "eve@other.test");
    auto inv = bob.c.fapi("GET", "/v1/me/organization_invitations?status=pending&limit=10&offset=0");
    BOOST_TEST_REQUIRE(inv.status == 200u, inv.body);
    BOOST_TEST_REQUIRE(response(inv).at("total_count") == 1);
    auto const& one = response(inv).at("data").at(0);
    BOOST_TEST(str(one.at("public_organization_data").at("id")) == org);
    BOOST_TEST(one.at("email_address") == "bob@acme.test");
    BOOST_TEST(one.at("role") == "org:member");
    auto const id = str(one.at("id"));
    BOOST_TEST(response(eve.c.fapi("GET", "/v1/me/organization_invitations")).at("total_count") == 0);
    expect_error(eve.c.fapi("POST", "/v1/me/organization_invitations/" + id + "/accept"), 404, "resource_not_found");
    // The domain counts nothing stored for it; the invitation is accepted in the app.
    auto acc = bob.c.fapi("POST", "/v1/me/organization_invitations/" + id + "/accept");
    BOOST_TEST_REQUIRE(acc.status == 200u, acc.body);
    BOOST_TEST(response(acc).at("status") == "accepted");
    BOOST_TEST(memberships_in(acc, bob.who.session_id) == 1u);
    BOOST_TEST(response(bob.c.fapi("GET", "/v1/me/organization_invitations")).at("total_count") == 0);
    expect_error(bob.c.fapi("POST", "/v1/me/organization_invitations/" + id + "/accept"), 404, "resource_not_found");
    // Back to manual: no more automatic invitations.
    BOOST_TEST_REQUIRE(alice.c
                           .fapi("POST", "/v1/organizations/" + org + "/domains/" + dom + "/update_enrollment_mode",
                                 {{"enrollment_mode", "manual_invitation"}})
                           .status == 200u);
    auto carol = browser(s, "carol@acme.test");
    BOOST_TEST(response(carol.c.fapi("GET", "/v1/me/organization_invitations")).at("total_count") == 0);
}

BOOST_FIXTURE_TEST_CASE(deleting_an_organization_takes_its_domains_and_requests, acme) {
    auto dom = verified_domain(s, alice, org, "acme.test", "automatic_suggestion");
    auto bob = browser(s, "bob@acme.test");
    auto sid = str(response(bob.c.fapi("GET", "/v1/me/organization_suggestions")).at("data").at(0).at("id"));
    BOOST_TEST_REQUIRE(bob.c.fapi("POST", "/v1/me/organization_suggestions/" + sid + "/accept").status == 200u);
    auto b = bapi_client(s);
    BOOST_TEST_REQUIRE(b.bapi(verb::delete_, "/v1/organizations/" + org).status == 200u);
    BOOST_TEST(response(bob.c.fapi("GET", "/v1/me/organization_suggestions")).at("total_count") == 0);
    expect_error(b.bapi(verb::get, "/v1/organizations/" + org + "/domains"), 404, "resource_not_found");
    // The store holds nothing of them.
    auto d = s.app().db.with_read([&](store::read_txn& t) { return t.organizations().domain(dom); });
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(!d->has_value());
    auto r = s.app().db.with_read(
        [&](store::read_txn& t) { return t.organizations().membership_requests_of_user(bob.who.user_id); });
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->empty());
}

BOOST_AUTO_TEST_CASE(the_deprecated_pending_invitations_list) {
    test_server s(domains_on);
    auto alice = browser(s, "alice@example.com");
    auto bob = browser(s, "bob@acme.test");
    auto org = create_org(alice, "Acme");
    add_member(s, org, bob.who.user_id, "org:member");
    auto const base = "/v1/organizations/" + org + "/invitations";
    for (auto const* e : {"c@x.test", "d@x.test"})
        BOOST_TEST_REQUIRE(alice.c.fapi("POST", base, {{"email_address", e}}).status == 200u);
    auto first = str(response(alice.c.fapi("GET", base + "?status=pending")).at("data").at(0).at("id"));
    BOOST_TEST_REQUIRE(alice.c.fapi("POST", base + "/" + first + "/revoke").status == 200u);
    auto p = alice.c.fapi("GET", base + "/pending");
    BOOST_TEST_REQUIRE(p.status == 200u, p.body);
    BOOST_TEST(response(p).at("total_count") == 1);
    BOOST_TEST(response(p).at("data").at(0).at("status") == "pending");
    expect_error(bob.c.fapi("GET", base + "/pending"), 403, "not_allowed_access");
    expect_error(alice.c.fapi("GET", "/v1/organizations/org_missing/invitations/pending"), 404,
                 "organization_not_found_or_unauthorized");
}

BOOST_AUTO_TEST_CASE(backend_domains_as_clerk_backend_calls_them) {
    test_server s(domains_on);
    auto b = bapi_client(s);
    auto org = b.bapi(verb::post, "/v1/organizations", json::object{{"name", "Acme"}, {"slug", "acme"}});
    BOOST_TEST_REQUIRE(org.status == 200u, org.body);
    auto const id = str(org.json.at("id"));
    auto const base = "/v1/organizations/" + id + "/domains";
    // Create: verified by default (as @clerk/backend's createOrganizationDomain), the slug works in the path.
    auto made = b.bapi(verb::post, "/v1/organizations/acme/domains",
                       json::object{{"name", "acme.test"}, {"enrollment_mode", "automatic_suggestion"}});
    BOOST_TEST_REQUIRE(made.status == 200u, made.body);
    auto const dom = str(made.json.at("id"));
    BOOST_TEST(made.json.at("affiliation_verification").at("status") == "verified");
    BOOST_TEST(made.json.at("enrollment_mode") == "automatic_suggestion");
    auto unv = b.bapi(verb::post, base, json::object{{"name", "beta.test"}, {"verified", false}});
    BOOST_TEST_REQUIRE(unv.status == 200u, unv.body);
    BOOST_TEST(unv.json.at("affiliation_verification").is_null());
    expect_error(b.bapi(verb::post, base, json::object{{"name", "acme.test"}}), 422, "form_identifier_exists", "name");
    expect_error(b.bapi(verb::post, base, json::object{}), 422, "form_param_missing", "name");
    expect_error(b.bapi(verb::post, base, json::object{{"name", "x.test"}, {"enrollment_mode", "no"}}), 422,
                 "form_param_value_invalid", "enrollment_mode");
    expect_error(b.bapi(verb::post, "/v1/organizations/org_missing/domains", json::object{{"name", "z.test"}}), 404,
                 "resource_not_found");

    auto list = b.bapi(verb::get, base + "?limit=10&offset=0");
    BOOST_TEST_REQUIRE(list.status == 200u, list.body);
    BOOST_TEST(list.json.at("total_count") == 2);
    BOOST_TEST(b.bapi(verb::get, base + "?verified=true").json.at("total_count") == 1);
    BOOST_TEST(b.bapi(verb::get, base + "?enrollment_mode=-automatic_suggestion").json.at("total_count") == 1);
    expect_error(b.bapi(verb::get, "/v1/organizations/org_missing/domains"), 404, "resource_not_found");

    // A user on the domain gets the suggestion right away.
    auto [c, bob] = browser(s, "bob@acme.test");
    (void)bob;
    BOOST_TEST(response(c.fapi("GET", "/v1/me/organization_suggestions")).at("total_count") == 1);

    auto up = b.bapi(verb::patch, base + "/" + dom, json::object{{"enrollment_mode", "manual_invitation"}});
    BOOST_TEST_REQUIRE(up.status == 200u, up.body);
    BOOST_TEST(up.json.at("enrollment_mode") == "manual_invitation");
    BOOST_TEST(response(c.fapi("GET", "/v1/me/organization_suggestions")).at("total_count") == 0);
    auto ver = b.bapi(verb::patch, base + "/" + str(unv.json.at("id")), json::object{{"verified", true}});
    BOOST_TEST_REQUIRE(ver.status == 200u, ver.body);
    BOOST_TEST(ver.json.at("affiliation_verification").at("status") == "verified");
    expect_error(b.bapi(verb::patch, base + "/" + dom, json::object{{"enrollment_mode", "bad"}}), 422,
                 "form_param_value_invalid", "enrollment_mode");
    expect_error(b.bapi(verb::patch, base + "/orgdmn_missing", json::object{{"verified", true}}), 404,
                 "resource_not_found");
    auto del = b.bapi(verb::delete_, base + "/" + dom);
    BOOST_TEST_REQUIRE(del.status == 200u, del.body);
    BOOST_TEST(del.json.at("deleted") == true);
    expect_error(b.bapi(verb::delete_, base + "/" + dom), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(backend_memberships_across_organizations_and_their_metadata) {
    test_server s(domains_on);
    auto b = bapi_client(s);
    auto alice = str(create_user(b, {{"email_address", json::array{"alice@example.com"}}}).at("id"));
    auto bob = str(create_user(b, {{"email_address", json::array{"bob@example.com"}}}).at("id"));
    auto o1 = b.bapi(verb::post, "/v1/organizations", json::object{{"name", "One"}, {"created_by", alice}});
    BOOST_TEST_REQUIRE(o1.status == 200u, o1.body);
    auto o2 = b.bapi(verb::post, "/v1/organizations", json::object{{"name", "Two"}, {"created_by", alice}});
    BOOST_TEST_REQUIRE(o2.status == 200u, o2.body);
    auto const id1 = str(o1.json.at("id"));
    add_member(s, id1, bob, "org:member");

    auto all = b.bapi(verb::get, "/v1/organization_memberships?limit=10&offset=0&order_by=-created_at");
    BOOST_TEST_REQUIRE(all.status == 200u, all.body);
    BOOST_TEST(all.json.at("total_count") == 3);
    BOOST_TEST(all.json.at("data").at(0).at("organization").is_object());
    BOOST_TEST(all.json.at("data").at(0).at("public_user_data").is_object());
    BOOST_TEST(b.bapi(verb::get, "/v1/organization_memberships?limit=1").json.at("data").as_array().size() == 1u);
    expect_error(b.bapi(verb::get, "/v1/organization_memberships?order_by=name"), 422, "form_param_value_invalid",
                 "order_by");

    auto of_alice = b.bapi(verb::get, "/v1/users/" + alice + "/organization_memberships?limit=10&offset=0");
    BOOST_TEST_REQUIRE(of_alice.status == 200u, of_alice.body);
    BOOST_TEST(of_alice.json.at("total_count") == 2);
    BOOST_TEST(b.bapi(verb::get, "/v1/users/" + bob + "/organization_memberships").json.at("total_count") == 1);
    expect_error(b.bapi(verb::get, "/v1/users/user_missing/organization_memberships"), 404, "resource_not_found");

    auto const meta = "/v1/organizations/" + id1 + "/memberships/" + bob + "/metadata";
    auto m1 =
        b.bapi(verb::patch, meta,
               json::object{{"public_metadata", {{"team", "red"}, {"n", 1}}}, {"private_metadata", {{"note", "x"}}}});
    BOOST_TEST_REQUIRE(m1.status == 200u, m1.body);
    auto m2 = b.bapi(verb::patch, meta, json::object{{"public_metadata", {{"n", nullptr}, {"lead", true}}}});
    BOOST_TEST_REQUIRE(m2.status == 200u, m2.body);
    BOOST_TEST(json::serialize(m2.json.at("public_metadata")) == R"({"team":"red","lead":true})");
    BOOST_TEST(m2.json.at("private_metadata").at("note") == "x");
    expect_error(b.bapi(verb::patch, meta, json::object{{"public_metadata", "nope"}}), 422, "form_param_format_invalid",
                 "public_metadata");
    expect_error(b.bapi(verb::patch, "/v1/organizations/" + id1 + "/memberships/user_missing/metadata",
                        json::object{{"public_metadata", json::object{}}}),
                 404, "resource_not_found");
    expect_error(b.bapi(verb::patch, "/v1/organizations/org_missing/memberships/" + bob + "/metadata",
                        json::object{{"public_metadata", json::object{}}}),
                 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(backend_roles_and_permissions_are_read_from_the_config) {
    test_server s(domains_on);
    auto b = bapi_client(s);
    auto roles = b.bapi(verb::get, "/v1/organization_roles?limit=10&offset=0");
    BOOST_TEST_REQUIRE(roles.status == 200u, roles.body);
    BOOST_TEST(roles.json.at("total_count") == 3);
    BOOST_TEST(roles.json.at("data").at(2).at("key") == "org:billing");
    BOOST_TEST(b.bapi(verb::get, "/v1/organization_roles?query=bill").json.at("total_count") == 1);
    auto role = b.bapi(verb::get, "/v1/organization_roles/role_billing");
    BOOST_TEST_REQUIRE(role.status == 200u, role.body);
    BOOST_TEST(role.json.at("permissions").as_array().size() == 2u);
    expect_error(b.bapi(verb::get, "/v1/organization_roles/role_missing"), 404, "resource_not_found");
    // Read-only: every write is refused, nothing changes.
    expect_error(b.bapi(verb::post, "/v1/organization_roles", json::object{{"name", "X"}, {"key", "org:x"}}), 403,
                 "not_allowed_access");
    expect_error(b.bapi(verb::patch, "/v1/organization_roles/role_billing", json::object{{"name", "Y"}}), 403,
                 "not_allowed_access");
    expect_error(b.bapi(verb::delete_, "/v1/organization_roles/role_billing"), 403, "not_allowed_access");
    expect_error(b.bapi(verb::delete_, "/v1/organization_roles/role_missing"), 404, "resource_not_found");
    expect_error(b.bapi(verb::post, "/v1/organization_roles/role_billing/permissions/perm_x"), 403,
                 "not_allowed_access");
    expect_error(b.bapi(verb::delete_, "/v1/organization_roles/role_billing/permissions/perm_x"), 403,
                 "not_allowed_access");
    BOOST_TEST(b.bapi(verb::get, "/v1/organization_roles").json.at("total_count") == 3);

    auto perms = b.bapi(verb::get, "/v1/organization_permissions?limit=50");
    BOOST_TEST_REQUIRE(perms.status == 200u, perms.body);
    BOOST_TEST(perms.json.at("total_count") == 8);  // six system permissions, two of the billing role
    BOOST_TEST(b.bapi(verb::get, "/v1/organization_permissions?query=invoices").json.at("total_count") == 2);
    auto p = b.bapi(verb::get, "/v1/organization_permissions/org:invoices:read");
    BOOST_TEST_REQUIRE(p.status == 200u, p.body);
    BOOST_TEST(p.json.at("type") == "user");
    auto by_id = b.bapi(verb::get, "/v1/organization_permissions/" + str(p.json.at("id")));
    BOOST_TEST(by_id.status == 200u);
    expect_error(b.bapi(verb::get, "/v1/organization_permissions/perm_missing"), 404, "resource_not_found");
}

BOOST_AUTO_TEST_SUITE_END()
