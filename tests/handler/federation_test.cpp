// Federation's paths on the memory store (issue 15 / issue 17): the replies of an OAuth or enterprise SSO (SAML)
// sign-in, of the sign-up that a transferable one turns into, and of linking an account to the signed-in user are
// read inside their write, so nothing is read after it.
#include "tests/handler/budget.hpp"

#include "conf/load.hpp"
#include "crypto/encoding.hpp"
#include "tests/common/saml_idp.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>

using namespace latchkey;
using namespace latchkey::handler_test;

namespace {

/// One SAML connection for corp.test and one OAuth provider with its endpoints configured (no discovery), read
/// the way the config file is.
void federated(conf::config& c) {
    auto bad = conf::apply_json(c, R"({
        "saml_connections": [{"id": "samlc_handler", "name": "Corp", "domains": ["corp.test"],
            "idp_entity_id": "https://idp.corp.test/entity", "idp_sso_url": "https://idp.corp.test/sso",
            "idp_certificate": "-"}],
        "oauth_providers": [{"strategy": "oauth_custom_acme", "name": "Acme", "client_id": "acme-client",
            "client_secret": "acme-secret", "issuer": "https://idp.acme.test",
            "authorization_endpoint": "https://idp.acme.test/authorize", "token_endpoint": "https://idp.acme.test/token",
            "jwks_uri": "https://idp.acme.test/jwks"}]})");
    BOOST_TEST_REQUIRE(!bad.has_value());
    c.saml_connections.at(0).idp_certificate = test::saml_idp::idp_keys().cert_pem;  // the test IdP's
}

/// The txns since the last call hold exactly one write, and it came last.
void expect_one_write_last(handler_env& env) {
    auto const log = env.txn_log();
    BOOST_TEST(std::count(log.begin(), log.end(), 'w') == 1, log);
    BOOST_TEST(!log.empty());
    if (!log.empty()) BOOST_TEST(log.back() == 'w', "a txn after the write: " << log);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(handler_federation)

BOOST_AUTO_TEST_CASE(enterprise_sso_and_oauth_sign_in_replies_read_nothing_after_their_write) {
    handler_env env(federated);
    auto const back = env.app().inst.frontend_api + "/sso-callback";
    (void)env.fapi("GET", "/v1/client");
    (void)env.txn_log();

    // Enterprise SSO by the identifier's domain: create, then clerk-js's prepare_first_factor (a fresh request).
    auto created = env.fapi("POST", "/v1/client/sign_ins",
                            {{"strategy", "enterprise_sso"}, {"identifier", "ada@corp.test"}, {"redirect_url", back}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    expect_one_write_last(env);
    auto const id = str(created.response().at("id"));
    auto const first = str(created.response().at("first_factor_verification").at("external_verification_redirect_url"));
    BOOST_TEST(str(created.json.at("client").at("sign_in").at("id")) == id);

    auto prepared = env.fapi("POST", "/v1/client/sign_ins/" + id + "/prepare_first_factor",
                             {{"strategy", "enterprise_sso"}, {"redirect_url", back}});
    BOOST_TEST_REQUIRE(prepared.status == 200u, prepared.body);
    expect_one_write_last(env);
    auto const again =
        str(prepared.response().at("first_factor_verification").at("external_verification_redirect_url"));
    BOOST_TEST(again != first);
    // The piggy-backed client shows the sign-in as that write left it.
    BOOST_TEST(str(prepared.json.at("client")
                       .at("sign_in")
                       .at("first_factor_verification")
                       .at("external_verification_redirect_url")) == again);

    // An OAuth sign-in: one write, the reply from it.
    auto oauth = env.fapi("POST", "/v1/client/sign_ins", {{"strategy", "oauth_custom_acme"}, {"redirect_url", back}});
    BOOST_TEST_REQUIRE(oauth.status == 200u, oauth.body);
    expect_one_write_last(env);
    BOOST_TEST(str(oauth.response().at("first_factor_verification").at("status")) == "unverified");
    BOOST_TEST(str(oauth.json.at("client").at("sign_in").at("id")) == str(oauth.response().at("id")));
}

BOOST_AUTO_TEST_CASE(the_saml_acs_and_the_transfer_after_it_answer_from_their_write) {
    handler_env env(federated);
    auto const fapi = env.app().inst.frontend_api;
    auto created = env.fapi(
        "POST", "/v1/client/sign_ins",
        {{"strategy", "enterprise_sso"}, {"identifier", "ada@corp.test"}, {"redirect_url", fapi + "/sso-callback"}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    auto const id = str(created.response().at("id"));
    auto si = env.read([&](store::read_txn& t) { return t.sign_ins().get(id); });
    BOOST_TEST_REQUIRE((si && *si));
    test::saml_idp::response_spec spec;
    spec.in_response_to = (*si)->oauth.state;  // the AuthnRequest's ID
    spec.audience = fapi + "/v1/saml/metadata/samlc_handler.xml";
    spec.recipient = fapi + "/v1/saml/acs/samlc_handler";
    spec.now_s = env.app().now_ms() / 1000;
    auto const xml = test::saml_idp::build_response(spec);
    (void)env.txn_log();
    auto acs = env.fapi("POST", "/v1/saml/acs/samlc_handler",
                        {{"SAMLResponse", crypto::base64_encode(xml)}, {"RelayState", id}});
    BOOST_TEST_REQUIRE(acs.status == 303u, acs.body);
    expect_one_write_last(env);  // the connection and the attempt read, the outcome written, the redirect from them
    auto client = env.fapi("GET", "/v1/client");
    BOOST_TEST(
        str(client.json.at("response").at("sign_in").at("first_factor_verification").at("status")) == "transferable",
        client.body);

    // No user has that identity: clerk-js transfers the sign-in to a sign-up, which creates the user and its session
    // in one write and replies (the sign-up and the client with the new session) from it.
    auto transfer = within_budget(env, 1, 2, [&] {
        return env.fapi("POST", "/v1/client/sign_ups", {{"transfer", "true"}});
    });
    BOOST_TEST(str(transfer.response().at("status")) == "complete", transfer.body);
    auto const sid = str(transfer.response().at("created_session_id"));
    auto const& sessions = transfer.json.at("client").at("sessions").as_array();
    BOOST_TEST_REQUIRE(sessions.size() == 1u);
    BOOST_TEST(str(sessions[0].at("id")) == sid);
    BOOST_TEST(str(sessions[0].at("user").at("email_addresses").at(0).at("email_address")) == "ada@corp.test");
}

BOOST_AUTO_TEST_CASE(linking_an_account_replies_from_its_write) {
    handler_env env(federated);
    (void)signed_in(env, "link@example.com");
    auto const back = env.app().inst.frontend_api + "/user-profile";
    // user.createExternalAccount: the account shows on the user as unverified, in the reply and in its client.
    auto linked = within_budget(env, 1, 2, [&] {
        return env.fapi("POST", "/v1/me/external_accounts",
                        {{"strategy", "oauth_custom_acme"}, {"redirect_url", back}});
    });
    auto const id = str(linked.response().at("id"));
    BOOST_TEST(str(linked.response().at("verification").at("status")) == "unverified");
    auto const& accounts = linked.json.at("client").at("sessions").at(0).at("user").at("external_accounts").as_array();
    BOOST_TEST_REQUIRE(accounts.size() == 1u);
    BOOST_TEST(str(accounts[0].at("id")) == id);
    // Reauthorizing it starts a new round trip from the same write-then-reply.
    auto again = within_budget(env, 1, 2, [&] {
        return env.fapi("PATCH", "/v1/me/external_accounts/" + id + "/reauthorize", {{"redirect_url", back}});
    });
    BOOST_TEST(str(again.response().at("id")) == id);
}

BOOST_AUTO_TEST_SUITE_END()
