// Second factors over HTTP against the real server (issue 14): TOTP enrolment (/v1/me/totp), backup codes
// (/v1/me/backup_codes/), phone numbers reserved for SMS, and the sign-in's needs_second_factor step with
// totp, backup_code and phone_code, including single use, wrong codes and the lockout they count towards.
#include "server/api/domain/mfa.hpp"
#include "crypto/totp.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::test;

namespace {

constexpr char const* password = "correct horse battery staple";

void totp_instance(conf::config& c) { c.second_factors = {"totp", "backup_code"}; }

/// The current TOTP code for a base32 secret at the server's clock, `steps` steps from now.
std::string code_for(test_server& s, std::string const& b32, int steps = 0) {
    auto key = crypto::base32_decode(b32);
    BOOST_TEST_REQUIRE(key.has_value());
    return crypto::totp(*key, s.app().now_ms() / 1000 + steps * 30);
}

/// Enrols TOTP for the browser's user through the FAPI; returns the base32 secret and the backup codes.
std::pair<std::string, std::vector<std::string>> enrol(test_server& s, http_client& c) {
    auto r = c.fapi("POST", "/v1/me/totp");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto secret = str(response(r).at("secret"));
    auto v = c.fapi("POST", "/v1/me/totp/attempt_verification", {{"code", code_for(s, secret)}});
    BOOST_TEST_REQUIRE(v.status == 200u, v.body);
    std::vector<std::string> codes;
    if (response(v).at("backup_codes").is_array())
        for (auto const& x : response(v).at("backup_codes").as_array()) codes.push_back(str(x));
    return {secret, codes};
}

http_result password_sign_in(http_client& c, std::string const& email) {
    return c.fapi("POST", "/v1/client/sign_ins",
                  {{"identifier", email}, {"strategy", "password"}, {"password", password}});
}

std::string sign_in_path(std::string const& id, std::string const& tail) { return "/v1/client/sign_ins/" + id + tail; }

std::vector<std::string> strategies(json::object const& si) {
    std::vector<std::string> out;
    for (auto const& f : si.at("supported_second_factors").as_array()) out.push_back(str(f.at("strategy")));
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(frontend_mfa)

BOOST_AUTO_TEST_CASE(totp_enrolment) {
    test_server s(totp_instance);
    auto [c, who] = browser(s, "ada@example.com");

    auto r = c.fapi("POST", "/v1/me/totp");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& t = response(r);
    BOOST_TEST(str(t.at("object")) == "totp");
    BOOST_TEST(str(t.at("id")).starts_with("totp_"));
    BOOST_TEST(!t.at("verified").as_bool());
    auto const secret = str(t.at("secret"));
    BOOST_TEST(secret.size() == 32u);
    auto const uri = str(t.at("uri"));
    BOOST_TEST(uri.starts_with("otpauth://totp/latchkey:ada@example.com?secret=" + secret));
    BOOST_TEST(uri.find("algorithm=SHA1&digits=6&period=30") != std::string::npos);
    // Not enabled until verified; the secret is sealed at rest.
    auto u = load_user(s, who.user_id);
    BOOST_TEST(!u->totp_enabled);
    BOOST_TEST(u->totp_secret_sealed.find(*crypto::base32_decode(secret)) == std::string::npos);

    // Bad input changes nothing.
    expect_error(c.fapi("POST", "/v1/me/totp/attempt_verification"), 422, "form_param_missing", "code");
    auto wrong = code_for(s, secret) == "000000" ? "111111" : "000000";
    expect_error(c.fapi("POST", "/v1/me/totp/attempt_verification", {{"code", wrong}}), 422, "form_code_incorrect",
                 "code");
    expect_error(c.fapi("POST", "/v1/me/totp/attempt_verification", {{"code", "12ab56"}}), 422, "form_code_incorrect",
                 "code");
    BOOST_TEST(!load_user(s, who.user_id)->totp_enabled);

    auto v = c.fapi("POST", "/v1/me/totp/attempt_verification", {{"code", code_for(s, secret)}});
    BOOST_TEST_REQUIRE(v.status == 200u, v.body);
    BOOST_TEST(response(v).at("verified").as_bool());
    BOOST_TEST(response(v).at("secret").is_null());  // never shown again
    BOOST_TEST(response(v).at("backup_codes").as_array().size() == 10u);
    auto const& user = v.json.at("client").at("sessions").as_array()[0].at("user");
    BOOST_TEST(user.at("totp_enabled").as_bool());
    BOOST_TEST(user.at("two_factor_enabled").as_bool());
    BOOST_TEST(user.at("backup_code_enabled").as_bool());

    // One TOTP per user; a second verification finds it verified.
    expect_error(c.fapi("POST", "/v1/me/totp"), 400, "totp_already_enabled");
    expect_error(c.fapi("POST", "/v1/me/totp/attempt_verification", {{"code", code_for(s, secret, 1)}}), 400,
                 "verification_already_verified");

    // A new set of backup codes (the trailing-slash path clerk-js uses) replaces the old one.
    auto b = c.fapi("POST", "/v1/me/backup_codes/");
    BOOST_TEST_REQUIRE(b.status == 200u, b.body);
    BOOST_TEST(str(response(b).at("object")) == "backup_code");
    BOOST_TEST(response(b).at("codes").as_array().size() == 10u);

    // Disabling removes the TOTP and, with no other second factor, the backup codes.
    auto d = c.fapi("DELETE", "/v1/me/totp");
    BOOST_TEST_REQUIRE(d.status == 200u, d.body);
    BOOST_TEST(response(d).at("deleted").as_bool());
    u = load_user(s, who.user_id);
    BOOST_TEST(!u->totp_enabled);
    BOOST_TEST(!u->two_factor_enabled);
    BOOST_TEST(!u->backup_code_enabled);
    BOOST_TEST(u->totp_secret_sealed.empty());
    expect_error(c.fapi("DELETE", "/v1/me/totp"), 404, "resource_not_found");
    expect_error(c.fapi("POST", "/v1/me/totp/attempt_verification", {{"code", "123456"}}), 404, "resource_not_found");
    expect_error(c.fapi("POST", "/v1/me/backup_codes/"), 422, "strategy_for_user_invalid");
}

BOOST_AUTO_TEST_CASE(totp_needs_the_instance_and_a_session) {
    test_server s;  // no second factors configured
    http_client c(s.fapi_port());
    expect_error(c.fapi("POST", "/v1/me/totp"), 401, "authentication_invalid");
    sign_in_browser(s, c, "bo@example.com");
    expect_error(c.fapi("POST", "/v1/me/totp"), 422, "strategy_for_user_invalid");
    expect_error(c.fapi("POST", "/v1/me/backup_codes"), 422, "strategy_for_user_invalid");
}

BOOST_AUTO_TEST_CASE(sign_in_with_totp_single_use) {
    test_server s(totp_instance);
    auto [c, who] = browser(s, "cy@example.com");
    auto [secret, codes] = enrol(s, c);

    http_client b(s.fapi_port());
    auto r = password_sign_in(b, "cy@example.com");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const si = response(r);
    BOOST_TEST(str(si.at("status")) == "needs_second_factor");
    BOOST_TEST((strategies(si) == std::vector<std::string>{"totp", "backup_code"}));
    BOOST_TEST(r.json.at("client").at("sessions").as_array().empty());
    auto const id = str(si.at("id"));

    // totp needs no prepare, but one is accepted.
    auto p = b.fapi("POST", sign_in_path(id, "/prepare_second_factor"), {{"strategy", "totp"}});
    BOOST_TEST_REQUIRE(p.status == 200u, p.body);
    BOOST_TEST(str(response(p).at("second_factor_verification").at("strategy")) == "totp");
    expect_error(b.fapi("POST", sign_in_path(id, "/attempt_second_factor"), {{"strategy", "totp"}}), 422,
                 "form_param_missing", "code");
    expect_error(
        b.fapi("POST", sign_in_path(id, "/attempt_second_factor"), {{"strategy", "phone_code"}, {"code", "1"}}), 422,
        "strategy_for_user_invalid", "strategy");
    expect_error(b.fapi("POST", sign_in_path(id, "/attempt_second_factor"), {{"strategy", "sms"}, {"code", "1"}}), 422,
                 "form_param_value_invalid", "strategy");
    // The code that enrolled the TOTP was spent: it does not sign in.
    expect_error(b.fapi("POST", sign_in_path(id, "/attempt_second_factor"),
                        {{"strategy", "totp"}, {"code", code_for(s, secret)}}),
                 422, "form_code_incorrect", "code");
    // The next step's code does (±1 step), once.
    auto a = b.fapi("POST", sign_in_path(id, "/attempt_second_factor"),
                    {{"strategy", "totp"}, {"code", code_for(s, secret, 1)}});
    BOOST_TEST_REQUIRE(a.status == 200u, a.body);
    BOOST_TEST(str(response(a).at("status")) == "complete");
    auto const sid = str(response(a).at("created_session_id"));
    BOOST_TEST(client_session(a, sid).is_object());
    BOOST_TEST(load_session(s, sid)->second_factor_at > 0);
    auto tok = b.fapi("POST", "/v1/client/sessions/" + sid + "/tokens");
    BOOST_TEST_REQUIRE(tok.status == 200u);
    BOOST_TEST(json::serialize(jwt_payload(str(tok.json.at("jwt"))).at("fva")) == "[0,0]");

    http_client e(s.fapi_port());
    auto again = password_sign_in(e, "cy@example.com");
    auto const id2 = str(response(again).at("id"));
    expect_error(e.fapi("POST", sign_in_path(id2, "/attempt_second_factor"),
                        {{"strategy", "totp"}, {"code", code_for(s, secret, 1)}}),
                 422, "form_code_incorrect", "code");
    (void)who;
}

BOOST_AUTO_TEST_CASE(sign_in_with_a_backup_code_once) {
    test_server s(totp_instance);
    http_client c(s.fapi_port());
    sign_in_browser(s, c, "di@example.com");
    auto [secret, codes] = enrol(s, c);
    BOOST_TEST_REQUIRE(codes.size() == 10u);

    http_client b(s.fapi_port());
    auto id = str(response(password_sign_in(b, "di@example.com")).at("id"));
    expect_error(
        b.fapi("POST", sign_in_path(id, "/attempt_second_factor"), {{"strategy", "backup_code"}, {"code", "nope1234"}}),
        422, "form_code_incorrect", "code");
    auto a =
        b.fapi("POST", sign_in_path(id, "/attempt_second_factor"), {{"strategy", "backup_code"}, {"code", codes[2]}});
    BOOST_TEST_REQUIRE(a.status == 200u, a.body);
    BOOST_TEST(str(response(a).at("status")) == "complete");

    http_client e(s.fapi_port());
    auto id2 = str(response(password_sign_in(e, "di@example.com")).at("id"));
    expect_error(
        e.fapi("POST", sign_in_path(id2, "/attempt_second_factor"), {{"strategy", "backup_code"}, {"code", codes[2]}}),
        422, "form_code_incorrect", "code");
    auto ok =
        e.fapi("POST", sign_in_path(id2, "/attempt_second_factor"), {{"strategy", "backup_code"}, {"code", codes[3]}});
    BOOST_TEST(ok.status == 200u, ok.body);
}

BOOST_AUTO_TEST_CASE(wrong_second_factors_lock_the_account) {
    test_server s([](conf::config& c) {
        totp_instance(c);
        c.protection.max_attempts = 3;
    });
    auto [c, who] = browser(s, "ed@example.com");
    auto [secret, codes] = enrol(s, c);
    http_client b(s.fapi_port());
    auto id = str(response(password_sign_in(b, "ed@example.com")).at("id"));
    auto wrong = code_for(s, secret, 1) == "000000" ? "111111" : "000000";
    for (int i = 0; i < 3; ++i)
        expect_error(
            b.fapi("POST", sign_in_path(id, "/attempt_second_factor"), {{"strategy", "totp"}, {"code", wrong}}), 422,
            "form_code_incorrect", "code");
    // Locked now: even the right code is refused.
    auto r = b.fapi("POST", sign_in_path(id, "/attempt_second_factor"),
                    {{"strategy", "totp"}, {"code", code_for(s, secret, 1)}});
    expect_error(r, 403, "user_locked");
    BOOST_TEST(load_user(s, who.user_id)->lockout_expires_at > 0);
}

BOOST_AUTO_TEST_CASE(sign_in_with_an_sms_second_factor) {
    test_server s([](conf::config& c) {
        c.phone_number = {true, false, false, false};
        c.second_factors = {"phone_code"};
    });
    auto [c, who] = browser(s, "flo@example.com");
    auto r = c.fapi("POST", "/v1/me/phone_numbers", {{"phone_number", "+14155552671"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const phone_id = str(response(r).at("id"));
    // Unverified numbers cannot be reserved.
    expect_error(c.fapi("PATCH", "/v1/me/phone_numbers/" + phone_id, {{"reserved_for_second_factor", "true"}}), 422,
                 "form_param_value_invalid", "reserved_for_second_factor");
    r = c.fapi("POST", "/v1/me/phone_numbers/" + phone_id + "/prepare_verification", {{"strategy", "phone_code"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    r = c.fapi("POST", "/v1/me/phone_numbers/" + phone_id + "/attempt_verification",
               {{"code", s.last_code("+14155552671")}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    r = c.fapi("PATCH", "/v1/me/phone_numbers/" + phone_id, {{"reserved_for_second_factor", "true"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(response(r).at("reserved_for_second_factor").as_bool());
    BOOST_TEST(response(r).at("backup_codes").is_null());  // backup codes are not offered on this instance
    BOOST_TEST(load_user(s, who.user_id)->two_factor_enabled);

    http_client b(s.fapi_port());
    auto si = password_sign_in(b, "flo@example.com");
    BOOST_TEST_REQUIRE(si.status == 200u, si.body);
    auto const& factors = response(si).at("supported_second_factors").as_array();
    BOOST_TEST_REQUIRE(factors.size() == 1u);
    BOOST_TEST(str(factors[0].at("strategy")) == "phone_code");
    BOOST_TEST(str(factors[0].at("phone_number_id")) == phone_id);
    BOOST_TEST(str(factors[0].at("safe_identifier")) == "+1********71");
    BOOST_TEST(factors[0].at("default").as_bool());
    auto const id = str(response(si).at("id"));
    expect_error(
        b.fapi("POST", sign_in_path(id, "/attempt_second_factor"), {{"strategy", "phone_code"}, {"code", "123456"}}),
        400, "verification_not_sent");
    expect_error(b.fapi("POST", sign_in_path(id, "/prepare_second_factor"),
                        {{"strategy", "phone_code"}, {"phone_number_id", "idn_other"}}),
                 422, "form_param_value_invalid", "phone_number_id");
    auto p = b.fapi("POST", sign_in_path(id, "/prepare_second_factor"),
                    {{"strategy", "phone_code"}, {"phone_number_id", phone_id}});
    BOOST_TEST_REQUIRE(p.status == 200u, p.body);
    BOOST_TEST(str(response(p).at("second_factor_verification").at("status")) == "unverified");
    auto const code = s.last_code("+14155552671");
    auto wrong = code == "000000" ? "111111" : "000000";
    expect_error(
        b.fapi("POST", sign_in_path(id, "/attempt_second_factor"), {{"strategy", "phone_code"}, {"code", wrong}}), 422,
        "form_code_incorrect", "code");
    auto a = b.fapi("POST", sign_in_path(id, "/attempt_second_factor"), {{"strategy", "phone_code"}, {"code", code}});
    BOOST_TEST_REQUIRE(a.status == 200u, a.body);
    BOOST_TEST(str(response(a).at("status")) == "complete");

    // Un-reserving the number turns two-factor off again.
    r = c.fapi("PATCH", "/v1/me/phone_numbers/" + phone_id, {{"reserved_for_second_factor", "false"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(!load_user(s, who.user_id)->two_factor_enabled);
}

BOOST_AUTO_TEST_SUITE_END()
