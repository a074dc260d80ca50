#pragma once
// What the federation tests (social sign-in, posted ID tokens and codes, enterprise SSO) check the same way after a
// provider round trip: clerk-js's sign-in → sign-up transfer, whose session a browser holds, and the one account the
// user got.
#include "tests/common/server_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace latchkey::test {

/// A provider the way the federation fixtures configure theirs: `strategy`, its display name, client id and secret,
/// plain http allowed (the test upstreams listen on 127.0.0.1) and a 5 s timeout.
inline conf::oauth_provider test_provider(std::string strategy, std::string name, std::string client_id,
                                          std::string client_secret) {
    conf::oauth_provider p;
    p.strategy = std::move(strategy);
    p.name = std::move(name);
    p.client_id = std::move(client_id);
    p.client_secret = std::move(client_secret);
    p.allow_http = true;
    p.timeout = std::chrono::seconds(5);
    return p;
}

/// The browser's sign-in proved an identity nobody has: its first factor is transferable.
inline void expect_transferable(http_client& c) {
    auto const client = c.fapi("GET", "/v1/client");
    auto const& si = client.json.at("response").at("sign_in");
    BOOST_TEST_REQUIRE(si.is_object(), client.body);
    BOOST_TEST(si.at("first_factor_verification").at("status") == "transferable", client.body);
}

/// The browser's sign-in proved an identity nobody has (transferable, external_account_not_found, needs_identifier):
/// clerk-js's POST /v1/client/sign_ups transfer=true completes; returns the created user's id.
inline std::string transfer_to_sign_up(http_client& c) {
    auto client = c.fapi("GET", "/v1/client");
    auto const& si = client.json.at("response").at("sign_in");
    BOOST_TEST_REQUIRE(si.is_object(), client.body);
    BOOST_TEST(si.at("first_factor_verification").at("status") == "transferable", client.body);
    BOOST_TEST(si.at("first_factor_verification").at("error").at("code") == "external_account_not_found");
    // No identifier: handleRedirectCallback transfers a needs_identifier sign-in (not factor one).
    BOOST_TEST(si.at("status") == "needs_identifier", client.body);
    auto su = c.fapi("POST", "/v1/client/sign_ups", {{"transfer", "true"}});
    BOOST_TEST_REQUIRE(su.status == 200u, su.body);
    BOOST_TEST(response(su).at("status") == "complete", su.body);
    return str(response(su).at("created_user_id"));
}

/// The user of the one session the browser's client holds (it must hold exactly one).
inline json::object session_user(http_client& c) {
    auto client = c.fapi("GET", "/v1/client");
    auto const& sessions = client.json.at("response").at("sessions").as_array();
    BOOST_TEST_REQUIRE(sessions.size() == 1u, client.body);
    return sessions[0].at("user").as_object();
}

/// The browser's client holds exactly one session, of `user_id`.
inline void expect_session_of(http_client& c, std::string const& user_id) {
    BOOST_TEST(str(session_user(c).at("id")) == user_id);
}

/// The BAPI's user `user_id` (GET /v1/users/{id}, which must answer 200).
inline json::object bapi_user(test_server& s, std::string const& user_id) {
    auto u = bapi_client(s).bapi(http::verb::get, "/v1/users/" + user_id);
    BOOST_TEST_REQUIRE(u.status == 200u, u.body);
    return u.json.as_object();
}

/// The one account in the list `list` ("external_accounts", "enterprise_accounts") of the user object `u` (BAPI or
/// FAPI): the list must hold exactly one.
inline json::object const& sole_account(json::object const& u, std::string_view list) {
    auto const& accounts = u.at(list).as_array();
    BOOST_TEST_REQUIRE(accounts.size() == 1u, json::serialize(u));
    return accounts[0].as_object();
}

}  // namespace latchkey::test
