// The organization permission rules on the memory store, without sockets: which role holds which of Clerk's
// system permissions, and that every FAPI organization endpoint checks the caller's role for its permission
// (403 not_allowed_access), hides others' organizations (404), and keeps an admin.
#include "tests/common/org_roles.hpp"
#include "tests/handler/harness.hpp"

#include "server/api/organizations/orgs.hpp"

#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::handler_test;

namespace {

void orgs_on(conf::config& c) {
    test::orgs_with_billing(c, 10, {"org:invoices:read"});
    c.organizations.domains_enabled = true;
}

/// The browser (the env's one cookie jar) signs in as `email`, leaving any earlier identity behind.
void become(handler_env& env, std::string const& email) {
    env.cookies().clear();
    auto r = password_sign_in(env, email);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(handler_organizations)

BOOST_AUTO_TEST_CASE(system_roles_hold_clerks_system_permissions) {
    handler_env env(orgs_on);
    auto const& a = env.app();
    namespace o = server::api::orgs;
    for (auto const* p : {"org:sys_profile:manage", "org:sys_profile:delete", "org:sys_memberships:read",
                          "org:sys_memberships:manage", "org:sys_domains:read", "org:sys_domains:manage"})
        BOOST_TEST(o::has_permission(a, "org:admin", p), p);
    BOOST_TEST(o::has_permission(a, "org:member", "org:sys_memberships:read"));
    for (auto const* p : {"org:sys_profile:manage", "org:sys_profile:delete", "org:sys_memberships:manage",
                          "org:sys_domains:read", "org:sys_domains:manage"})
        BOOST_TEST(!o::has_permission(a, "org:member", p), p);
    // A custom role holds its own permissions and no system one; an unknown role holds nothing.
    BOOST_TEST(o::has_permission(a, "org:billing", "org:invoices:read"));
    BOOST_TEST(!o::has_permission(a, "org:billing", "org:sys_memberships:read"));
    BOOST_TEST(!o::has_permission(a, "org:nobody", "org:sys_memberships:read"));
    BOOST_TEST(o::roles(a).size() == 3u);
}

BOOST_AUTO_TEST_CASE(every_write_checks_the_callers_role) {
    handler_env env(orgs_on);
    auto const admin_id = create_password_user(env, "admin@acme.test");
    auto const member = create_password_user(env, "member@acme.test");
    auto const biller = create_password_user(env, "biller@acme.test");
    create_password_user(env, "stranger@other.test");

    become(env, "admin@acme.test");
    auto made = env.fapi("POST", "/v1/organizations", {{"name", "Acme"}});
    BOOST_TEST_REQUIRE(made.status == 200u, made.body);
    auto const org = str(made.response().at("id"));
    auto const base = "/v1/organizations/" + org;
    for (auto const& [user, role] : {std::pair{member, "org:member"}, std::pair{biller, "org:billing"}}) {
        auto r = env.fapi("POST", base + "/memberships", {{"user_id", user}, {"role", role}});
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    }
    auto dom = env.fapi("POST", base + "/domains", {{"name", "acme.test"}});
    BOOST_TEST_REQUIRE(dom.status == 200u, dom.body);
    auto const dom_id = str(dom.response().at("id"));
    // The last admin can neither leave nor be demoted.
    BOOST_TEST(env.fapi("PATCH", base + "/memberships/" + admin_id, {{"role", "org:member"}}).error_code() ==
               "organization_minimum_permissions_needed");
    BOOST_TEST(env.fapi("DELETE", "/v1/me/organization_memberships/" + org).error_code() ==
               "organization_minimum_permissions_needed");

    struct call {
        std::string method, path;
        std::vector<std::pair<std::string, std::string>> form;
    };
    std::vector<call> const manage_only = {
        {"PATCH", base, {{"name", "X"}}},
        {"DELETE", base, {}},
        {"POST", base + "/memberships", {{"user_id", biller}, {"role", "org:member"}}},
        {"PATCH", base + "/memberships/" + biller, {{"role", "org:member"}}},
        {"DELETE", base + "/memberships/" + biller, {}},
        {"GET", base + "/invitations", {}},
        {"POST", base + "/invitations", {{"email_address", "new@acme.test"}}},
        {"POST", base + "/invitations/bulk", {{"email_address", "new@acme.test"}}},
        {"GET", base + "/membership_requests", {}},
        {"GET", base + "/domains", {}},
        {"POST", base + "/domains", {{"name", "beta.test"}}},
        {"GET", base + "/domains/" + dom_id, {}},
        {"DELETE", base + "/domains/" + dom_id, {}},
        {"POST", base + "/domains/" + dom_id + "/update_enrollment_mode", {{"enrollment_mode", "manual_invitation"}}},
        {"POST",
         base + "/domains/" + dom_id + "/prepare_affiliation_verification",
         {{"affiliation_email_address", "x@acme.test"}}},
        {"POST", base + "/domains/" + dom_id + "/attempt_affiliation_verification", {{"code", "123456"}}},
    };
    // A member (org:sys_memberships:read only) and a custom role (no system permission) are refused each one.
    for (auto const* who : {"member@acme.test", "biller@acme.test"}) {
        become(env, who);
        for (auto const& c : manage_only)
            BOOST_TEST(env.fapi(c.method, c.path, c.form).error_code() == "not_allowed_access",
                       who << " " << c.method << " " << c.path);
    }
    // Reading members and roles needs org:sys_memberships:read: the member has it, the custom role does not.
    become(env, "member@acme.test");
    BOOST_TEST(env.fapi("GET", base + "/memberships").status == 200u);
    BOOST_TEST(env.fapi("GET", base + "/roles").status == 200u);
    become(env, "biller@acme.test");
    BOOST_TEST(env.fapi("GET", base + "/memberships").error_code() == "not_allowed_access");
    BOOST_TEST(env.fapi("GET", base + "/roles").error_code() == "not_allowed_access");
    // Anyone may read the organization itself and leave it.
    BOOST_TEST(env.fapi("GET", base).status == 200u);
    BOOST_TEST(env.fapi("DELETE", "/v1/me/organization_memberships/" + org).status == 200u);
    // A stranger learns nothing: 404 for every one of them.
    become(env, "stranger@other.test");
    for (auto const& c : manage_only)
        BOOST_TEST(env.fapi(c.method, c.path, c.form).error_code() == "organization_not_found_or_unauthorized",
                   c.method << " " << c.path);
    // Nothing the refused calls tried landed.
    auto still = env.read([&](store::read_txn& t) { return t.organizations().get(org); });
    BOOST_TEST_REQUIRE(still.has_value());
    BOOST_TEST_REQUIRE(still->has_value());
    BOOST_TEST((*still)->name == "Acme");
    auto doms = env.read([&](store::read_txn& t) { return t.organizations().domains_of_org(org); });
    BOOST_TEST(doms->size() == 1u);
    auto ms = env.read([&](store::read_txn& t) { return t.organizations().memberships_of_org(org); });
    BOOST_TEST(ms->size() == 2u);  // admin and member (the biller left)
}

BOOST_AUTO_TEST_SUITE_END()
