// Session reverification (step-up) over HTTP (issue 14): /v1/client/sessions/{id}/verify with its first and
// second factors, the fva claim it refreshes, and session_reverification_required on deleting the account and
// changing the password when reverification_minutes is configured.
#include "crypto/totp.hpp"
#include "server/api/domain/mfa.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::test;

namespace {

constexpr char const* password = "correct horse battery staple";
constexpr char const* seed = "12345678901234567890";

std::string verify_path(std::string const& sid, std::string const& tail = {}) {
    return "/v1/client/sessions/" + sid + "/verify" + tail;
}

std::string fva(http_client& c, std::string const& sid) {
    auto t = c.fapi("POST", "/v1/client/sessions/" + sid + "/tokens");
    BOOST_TEST_REQUIRE(t.status == 200u, t.body);
    return json::serialize(jwt_payload(str(t.json.at("jwt"))).at("fva"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(frontend_reverification)

BOOST_AUTO_TEST_CASE(first_factor_with_a_password_refreshes_fva) {
    test_server s;
    auto [c, who] = browser(s, "rita@example.com");
    s.advance(std::chrono::minutes(30));
    BOOST_TEST(fva(c, who.session_id) == "[30,-1]");

    // Bad input.
    expect_error(c.fapi("POST", verify_path(who.session_id)), 422, "form_param_missing", "level");
    expect_error(c.fapi("POST", verify_path(who.session_id), {{"level", "ultra"}}), 422, "form_param_value_invalid",
                 "level");
    expect_error(c.fapi("POST", verify_path("sess_unknown"), {{"level", "first_factor"}}), 404, "resource_not_found");
    expect_error(c.fapi("POST", verify_path(who.session_id, "/attempt_first_factor"),
                        {{"strategy", "password"}, {"password", password}}),
                 400, "verification_not_sent");

    // second_factor without a second factor falls back to the first factor.
    auto r = c.fapi("POST", verify_path(who.session_id), {{"level", "second_factor"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& v = response(r);
    BOOST_TEST(str(v.at("object")) == "session_reverification");
    BOOST_TEST(str(v.at("level")) == "first_factor");
    BOOST_TEST(str(v.at("status")) == "needs_first_factor");
    BOOST_TEST(str(v.at("supported_first_factors").as_array()[0].at("strategy")) == "password");
    BOOST_TEST(str(v.at("session").at("id")) == who.session_id);

    expect_error(c.fapi("POST", verify_path(who.session_id, "/attempt_first_factor"), {{"strategy", "password"}}), 422,
                 "form_param_missing", "password");
    expect_error(c.fapi("POST", verify_path(who.session_id, "/attempt_first_factor"),
                        {{"strategy", "password"}, {"password", "wrong password"}}),
                 422, "form_password_incorrect", "password");
    BOOST_TEST(fva(c, who.session_id) == "[30,-1]");  // nothing changed

    r = c.fapi("POST", verify_path(who.session_id, "/attempt_first_factor"),
               {{"strategy", "password"}, {"password", password}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(str(response(r).at("status")) == "complete");
    BOOST_TEST(str(response(r).at("first_factor_verification").at("status")) == "verified");
    // The session's next token is fresh (its cached one was dropped).
    auto touch = c.fapi("POST", "/v1/client/sessions/" + who.session_id + "/touch");
    BOOST_TEST_REQUIRE(touch.status == 200u, touch.body);
    auto const tok = str(client_session(touch, who.session_id).at("last_active_token").at("jwt"));
    BOOST_TEST(json::serialize(jwt_payload(tok).at("fva")) == "[0,-1]");
    BOOST_TEST(fva(c, who.session_id) == "[0,-1]");
}

BOOST_AUTO_TEST_CASE(second_factor_with_totp_and_backup_code) {
    test_server s([](conf::config& c) { c.second_factors = {"totp", "backup_code"}; });
    auto [c, who] = browser(s, "sam@example.com");
    std::vector<std::string> codes;
    edit_user(s, who.user_id, [&](store::user_record& u) {
        server::api::domain::set_totp_secret(u, *s.inst().seal_key, seed, true, 1);
        codes = server::api::domain::create_backup_codes(u, s.inst().code_key, 1);
    });
    s.advance(std::chrono::minutes(20));
    auto r = c.fapi("POST", verify_path(who.session_id), {{"level", "second_factor"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(str(response(r).at("status")) == "needs_second_factor");
    BOOST_TEST(response(r).at("supported_second_factors").as_array().size() == 2u);
    auto wrong = crypto::totp(seed, s.app().now_ms() / 1000) == "000000" ? "111111" : "000000";
    expect_error(
        c.fapi("POST", verify_path(who.session_id, "/attempt_second_factor"), {{"strategy", "totp"}, {"code", wrong}}),
        422, "form_code_incorrect", "code");
    expect_error(c.fapi("POST", verify_path(who.session_id, "/attempt_second_factor"),
                        {{"strategy", "phone_code"}, {"code", "1"}}),
                 422, "strategy_for_user_invalid", "strategy");
    r = c.fapi("POST", verify_path(who.session_id, "/attempt_second_factor"),
               {{"strategy", "totp"}, {"code", crypto::totp(seed, s.app().now_ms() / 1000)}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(str(response(r).at("status")) == "complete");
    BOOST_TEST(fva(c, who.session_id) == "[20,0]");

    // multi_factor: the first factor, then the second (here a backup code).
    s.advance(std::chrono::minutes(5));
    r = c.fapi("POST", verify_path(who.session_id), {{"level", "multi_factor"}});
    BOOST_TEST(str(response(r).at("status")) == "needs_first_factor");
    r = c.fapi("POST", verify_path(who.session_id, "/attempt_first_factor"),
               {{"strategy", "password"}, {"password", password}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(str(response(r).at("status")) == "needs_second_factor");
    r = c.fapi("POST", verify_path(who.session_id, "/attempt_second_factor"),
               {{"strategy", "backup_code"}, {"code", codes[0]}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(str(response(r).at("status")) == "complete");
    BOOST_TEST(fva(c, who.session_id) == "[0,0]");
}

BOOST_AUTO_TEST_CASE(first_factor_with_an_email_code) {
    test_server s;
    auto [c, who] = browser(s, "una@example.com");
    s.advance(std::chrono::minutes(3));
    BOOST_TEST_REQUIRE(c.fapi("POST", verify_path(who.session_id), {{"level", "first_factor"}}).status == 200u);
    expect_error(c.fapi("POST", verify_path(who.session_id, "/attempt_first_factor"),
                        {{"strategy", "email_code"}, {"code", "123456"}}),
                 400, "verification_not_sent");
    auto r = c.fapi("POST", verify_path(who.session_id, "/prepare_first_factor"), {{"strategy", "email_code"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(str(response(r).at("first_factor_verification").at("strategy")) == "email_code");
    auto code = s.last_code("una@example.com");
    BOOST_TEST_REQUIRE(code.size() == 6u);
    r = c.fapi("POST", verify_path(who.session_id, "/attempt_first_factor"),
               {{"strategy", "email_code"}, {"code", code}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(str(response(r).at("status")) == "complete");
    BOOST_TEST(fva(c, who.session_id) == "[0,-1]");
}

BOOST_AUTO_TEST_CASE(sensitive_actions_need_recent_verification_when_configured) {
    test_server s([](conf::config& c) { c.reverification_minutes = 10; });
    auto [c, who] = browser(s, "vera@example.com");
    s.advance(std::chrono::minutes(11));
    auto r = c.fapi("POST", "/v1/me/change_password",
                    {{"current_password", password}, {"new_password", "another fine passphrase"}});
    expect_error(r, 403, "session_reverification_required");
    r = c.fapi("DELETE", "/v1/me");
    expect_error(r, 403, "session_reverification_required");
    BOOST_TEST(load_user(s, who.user_id).has_value());

    BOOST_TEST_REQUIRE(c.fapi("POST", verify_path(who.session_id), {{"level", "first_factor"}}).status == 200u);
    BOOST_TEST_REQUIRE(c.fapi("POST", verify_path(who.session_id, "/attempt_first_factor"),
                              {{"strategy", "password"}, {"password", password}})
                           .status == 200u);
    r = c.fapi("POST", "/v1/me/change_password",
               {{"current_password", password}, {"new_password", "another fine passphrase"}});
    BOOST_TEST(r.status == 200u, r.body);
    r = c.fapi("DELETE", "/v1/me");
    BOOST_TEST(r.status == 200u, r.body);
    BOOST_TEST(!load_user(s, who.user_id).has_value());
}

BOOST_AUTO_TEST_CASE(not_configured_means_no_step_up) {
    test_server s;
    auto [c, who] = browser(s, "will@example.com");
    s.advance(std::chrono::hours(48));
    BOOST_TEST(c.fapi("DELETE", "/v1/me").status == 200u);
    (void)who;
}

BOOST_AUTO_TEST_SUITE_END()
