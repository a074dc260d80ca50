#pragma once
// What the federation tests (social sign-in, posted ID tokens and codes, enterprise SSO) check the same way after a
// provider round trip: clerk-js's sign-in → sign-up transfer, and whose session a browser holds.
#include "tests/common/server_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace latchkey::test {

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

/// The browser's client holds exactly one session, of `user_id`.
inline void expect_session_of(http_client& c, std::string const& user_id) {
    auto client = c.fapi("GET", "/v1/client");
    auto const& sessions = client.json.at("response").at("sessions").as_array();
    BOOST_TEST_REQUIRE(sessions.size() == 1u, client.body);
    BOOST_TEST(str(sessions[0].at("user").at("id")) == user_id);
}

}  // namespace latchkey::test
