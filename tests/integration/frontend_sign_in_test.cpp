// FAPI sign-ins over HTTP against the real server: identifier resolution, one- and two-step password,
// email code, password reset, the second-factor gate, lockout, rate limits, and the session that the
// piggy-backed client must carry whenever created_session_id is set.
#include "crypto/password.hpp"
#include "server/api/domain/mfa.hpp"
#include "tests/common/expect.hpp"
#include "tests/common/sample_records.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <functional>

using namespace latchkey;
using namespace latchkey::test;
using namespace std::chrono_literals;

namespace {

constexpr char const* password = "correct horse battery staple";
constexpr char const* new_password = "a brand new passphrase";

std::string sign_in_path(std::string const& id, std::string const& tail = {}) {
    return "/v1/client/sign_ins/" + id + tail;
}

json::object const& meta(http_result const& r) { return r.json.at("errors").at(0).at("meta").as_object(); }

/// One-step password sign-in.
http_result sign_in_password(http_client& c, std::string const& identifier, std::string const& pw = password) {
    return c.fapi("POST", "/v1/client/sign_ins",
                  {{"identifier", identifier}, {"strategy", "password"}, {"password", pw}});
}

/// Asserts a completed sign-in whose reply's client carries the new session for `user_id`; returns its id.
std::string expect_complete(http_result const& r, std::string const& user_id) {
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& si = response(r);
    BOOST_TEST(str(si.at("status")) == "complete");
    auto sid = str(si.at("created_session_id"));
    expect_new_session(r, sid, user_id);
    BOOST_TEST(r.json.at("client").at("sign_in").is_null());
    return sid;
}

/// The email_address_id of `strategy` in supported_first_factors, or "".
std::string factor_email_id(json::object const& si, std::string const& strategy) {
    for (auto const& f : si.at("supported_first_factors").as_array())
        if (str(f.at("strategy")) == strategy) return str(f.at("email_address_id"));
    return {};
}

/// A user seeded with the password, signed in by password on another browser.
struct elsewhere_session {
    std::string user_id;
    http_client browser;
    std::string session_id;
};
elsewhere_session signed_in_elsewhere(test_server& s, std::string const& email) {
    elsewhere_session e{seed_user(s.app(), email, password), http_client(s.fapi_port()), {}};
    e.session_id = expect_complete(sign_in_password(e.browser, email), e.user_id);
    return e;
}

/// POST /v1/client/sign_ins with only the identifier: the reply and the sign-in's id.
std::pair<http_result, std::string> start_sign_in(http_client& c, std::string const& identifier) {
    auto created = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", identifier}});
    auto id = str(response(created).at("id"));
    return {std::move(created), std::move(id)};
}

std::string wrong_code(std::string const& code) { return code == "000000" ? "111111" : "000000"; }

}  // namespace

BOOST_AUTO_TEST_SUITE(frontend_sign_in)

BOOST_AUTO_TEST_CASE(two_step_password) {
    test_server s;
    auto uid = seed_user(s.app(), "alice@example.com", password);
    edit_user(s, uid, [](store::user_record& u) { u.first_name = "Alice"; });
    http_client c(s.fapi_port());
    auto created = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "Alice@Example.com"}, {"locale", "en"}});
    std::string id = expect_attempt(created, "sia_", "sign_in_attempt", "needs_first_factor");
    auto const& si = response(created);
    BOOST_TEST(str(si.at("identifier")) == "alice@example.com");
    BOOST_TEST(si.at("supported_identifiers").as_array().at(0).as_string() == "email_address");
    auto const& factors = si.at("supported_first_factors").as_array();
    BOOST_TEST_REQUIRE(factors.size() == 3u);
    BOOST_TEST(str(factors[0].at("strategy")) == "password");
    BOOST_TEST(str(factors[1].at("strategy")) == "email_code");
    BOOST_TEST(str(factors[1].at("safe_identifier")) == "a***@example.com");
    BOOST_TEST(str(factors[1].at("email_address_id")).starts_with("idn_"));
    BOOST_TEST(factors[1].at("primary").as_bool());
    BOOST_TEST(str(factors[2].at("strategy")) == "reset_password_email_code");
    BOOST_TEST(si.at("first_factor_verification").is_null());
    BOOST_TEST(si.at("second_factor_verification").is_null());
    BOOST_TEST(si.at("created_session_id").is_null());
    BOOST_TEST(str(si.at("user_data").at("first_name")) == "Alice");
    BOOST_TEST(si.at("user_data").at("last_name").is_null());
    BOOST_TEST(si.at("user_data").at("has_image").as_bool() == false);
    BOOST_TEST(str(created.json.at("client").at("sign_in").at("id")) == id);

    auto wrong = c.fapi("POST", sign_in_path(id, "/attempt_first_factor"),
                        {{"strategy", "password"}, {"password", "nope nope nope"}});
    expect_error(wrong, 422, "form_password_incorrect", "password");
    BOOST_TEST(load_user(s, uid)->failed_attempts == 1);

    auto ok =
        c.fapi("POST", sign_in_path(id, "/attempt_first_factor"), {{"strategy", "password"}, {"password", password}});
    auto sid = expect_complete(ok, uid);
    BOOST_TEST(str(response(ok).at("first_factor_verification").at("status")) == "verified");
    BOOST_TEST(str(response(ok).at("first_factor_verification").at("strategy")) == "password");
    // Success resets the failure counter.
    BOOST_TEST(load_user(s, uid)->failed_attempts == 0);
    BOOST_TEST(load_session(s, sid)->client_id == str(ok.json.at("client").at("id")));
    // A completed sign-in takes no more steps.
    auto again =
        c.fapi("POST", sign_in_path(id, "/attempt_first_factor"), {{"strategy", "password"}, {"password", password}});
    expect_error(again, 400, "sign_in_not_ready");
}

BOOST_AUTO_TEST_CASE(one_step_password) {
    test_server s;
    auto uid = seed_user(s.app(), "bob@example.com", password);
    http_client c(s.fapi_port());
    auto r = sign_in_password(c, "bob@example.com");
    expect_complete(r, uid);
    BOOST_TEST(c.cookies.count("__client") == 1u);
    // The same browser's client, read back, still has it.
    auto cl = c.fapi("GET", "/v1/client");
    BOOST_TEST(cl.json.at("response").at("sessions").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(dev_browser_sign_in) {
    test_server s;
    auto uid = seed_user(s.app(), "dev@example.com", password);
    http_client c(s.fapi_port());
    auto db = c.fapi("POST", "/v1/dev_browser");
    BOOST_TEST_REQUIRE(db.status == 200u);
    c.dev_browser = str(db.json.at("id"));
    auto created = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "dev@example.com"}});
    BOOST_TEST_REQUIRE(created.status == 200u);
    auto ok = c.fapi("POST", sign_in_path(str(response(created).at("id")), "/attempt_first_factor"),
                     {{"strategy", "password"}, {"password", password}});
    expect_complete(ok, uid);
}

BOOST_AUTO_TEST_CASE(unknown_identifier_is_form_identifier_not_found) {
    test_server s;
    seed_user(s.app(), "known@example.com", password);
    http_client c(s.fapi_port());
    auto only = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "nobody@example.com"}});
    expect_error(only, 422, "form_identifier_not_found", "identifier");

    // One-step with a password: the same answer, after a real (dummy) password check.
    auto t0 = std::chrono::steady_clock::now();
    auto with_pw = sign_in_password(c, "nobody@example.com");
    auto unknown_time = std::chrono::steady_clock::now() - t0;
    expect_error(with_pw, 422, "form_identifier_not_found", "identifier");
    t0 = std::chrono::steady_clock::now();
    auto wrong_pw = sign_in_password(c, "known@example.com", "not the password");
    auto known_time = std::chrono::steady_clock::now() - t0;
    BOOST_TEST(wrong_pw.error_code() == "form_password_incorrect");
    // Both spent an argon2id verification (tens of ms); no account oracle in the timing. Loose bound only.
    BOOST_TEST(unknown_time * 4 > known_time);

    // Usernames and phone numbers that nobody has.
    BOOST_TEST(c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "someone"}}).error_code() ==
               "form_identifier_not_found");
    BOOST_TEST(c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "+14155550000"}}).error_code() ==
               "form_identifier_not_found");
}

BOOST_AUTO_TEST_CASE(identifier_can_be_a_username_or_phone) {
    test_server s([](conf::config& c) {
        c.username = {true, false, true, false};
        c.phone_number = {true, false, true, false};
        c.first_factors = {"password", "email_code", "phone_code", "reset_password_email_code"};
    });
    auto uid = seed_user(s.app(), "multi@example.com", password);
    edit_user(s, uid, [](store::user_record& u) {
        u.username = "MultiUser";
        u.identifications.push_back(identification("phone_number", "idn_phone_multi", "+14155552671", "verified"));
        u.primary_phone_number_id = "idn_phone_multi";
    });
    http_client c(s.fapi_port());
    auto by_name = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "multiuser"}});
    BOOST_TEST_REQUIRE(by_name.status == 200u, by_name.body);
    auto const& ids = response(by_name).at("supported_identifiers").as_array();
    BOOST_TEST(ids.size() == 3u);
    // The phone shows up as a phone_code factor, masked.
    bool phone_factor = false;
    for (auto const& f : response(by_name).at("supported_first_factors").as_array())
        if (str(f.at("strategy")) == "phone_code") {
            phone_factor = true;
            BOOST_TEST(str(f.at("phone_number_id")) == "idn_phone_multi");
            BOOST_TEST(str(f.at("safe_identifier")) == "+1********71");
        }
    BOOST_TEST(phone_factor);
    auto by_phone = sign_in_password(c, "+1 (415) 555-2671");
    expect_complete(by_phone, uid);

    // Phone code sign-in on another browser.
    http_client d(s.fapi_port());
    auto [created, id] = start_sign_in(d, "+14155552671");
    auto prep = d.fapi("POST", sign_in_path(id, "/prepare_first_factor"), {{"strategy", "phone_code"}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    auto code = s.last_code("+14155552671");
    BOOST_TEST_REQUIRE(code.size() == 6u);
    expect_complete(
        d.fapi("POST", sign_in_path(id, "/attempt_first_factor"), {{"strategy", "phone_code"}, {"code", code}}), uid);
}

BOOST_AUTO_TEST_CASE(email_code_sign_in) {
    test_server s;
    auto uid = seed_user(s.app(), "carol@example.com", password);
    http_client c(s.fapi_port());
    auto [created, id] = start_sign_in(c, "carol@example.com");
    auto email_id = factor_email_id(response(created), "email_code");
    BOOST_TEST_REQUIRE(!email_id.empty());

    // Attempting before a code was sent.
    auto early =
        c.fapi("POST", sign_in_path(id, "/attempt_first_factor"), {{"strategy", "email_code"}, {"code", "123456"}});
    expect_error(early, 400, "verification_not_sent");

    auto prep = c.fapi("POST", sign_in_path(id, "/prepare_first_factor"),
                       {{"strategy", "email_code"}, {"email_address_id", email_id}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    auto const& v = response(prep).at("first_factor_verification");
    BOOST_TEST(str(v.at("status")) == "unverified");
    BOOST_TEST(str(v.at("strategy")) == "email_code");
    BOOST_TEST(v.at("attempts").as_int64() == 0);
    BOOST_TEST(v.at("expire_at").as_int64() > s.app().now_ms());
    BOOST_TEST(str(prep.json.at("client").at("sign_in").at("first_factor_verification").at("strategy")) ==
               "email_code");
    auto outbox = s.outbox();
    BOOST_TEST_REQUIRE(outbox.size() == 1u);
    BOOST_TEST(str(outbox[0].at("to")) == "carol@example.com");
    BOOST_TEST(str(outbox[0].at("kind")) == "email_code");
    auto code = str(outbox[0].at("code"));

    auto bad = c.fapi("POST", sign_in_path(id, "/attempt_first_factor"),
                      {{"strategy", "email_code"}, {"code", wrong_code(code)}});
    expect_error(bad, 422, "form_code_incorrect", "code");
    BOOST_TEST(load_user(s, uid)->failed_attempts == 1);
    auto got = c.fapi("GET", sign_in_path(id));
    BOOST_TEST(response(got).at("first_factor_verification").at("attempts").as_int64() == 1);

    auto ok = c.fapi("POST", sign_in_path(id, "/attempt_first_factor"), {{"strategy", "email_code"}, {"code", code}});
    expect_complete(ok, uid);
    BOOST_TEST(str(response(ok).at("first_factor_verification").at("status")) == "verified");
    BOOST_TEST(load_user(s, uid)->failed_attempts == 0);
}

BOOST_AUTO_TEST_CASE(prepare_without_an_id_uses_the_identifier_and_refuses_foreign_ids) {
    test_server s;
    seed_user(s.app(), "dave@example.com", password);
    auto other = seed_user(s.app(), "eve@example.com", password);
    auto eve_email = load_user(s, other)->primary_email_address_id;
    http_client c(s.fapi_port());
    auto [created, id] = start_sign_in(c, "dave@example.com");
    auto foreign = c.fapi("POST", sign_in_path(id, "/prepare_first_factor"),
                          {{"strategy", "email_code"}, {"email_address_id", eve_email}});
    BOOST_TEST(foreign.status == 422u);
    BOOST_TEST(foreign.param_name() == "email_address_id");
    BOOST_TEST(s.outbox().empty());
    auto made_up = c.fapi("POST", sign_in_path(id, "/prepare_first_factor"),
                          {{"strategy", "email_code"}, {"email_address_id", "idn_nope"}});
    BOOST_TEST(made_up.status == 422u);
    BOOST_TEST(made_up.param_name() == "email_address_id");
    auto implicit = c.fapi("POST", sign_in_path(id, "/prepare_first_factor"), {{"strategy", "email_code"}});
    BOOST_TEST(implicit.status == 200u);
    BOOST_TEST(s.last_code("dave@example.com").size() == 6u);
    BOOST_TEST(s.last_code("eve@example.com").empty());
}

BOOST_AUTO_TEST_CASE(test_mode_email_code_is_424242) {
    test_server s;
    auto uid = seed_user(s.app(), "tester+clerk_test@example.com", password);
    http_client c(s.fapi_port());
    auto [created, id] = start_sign_in(c, "tester+clerk_test@example.com");
    BOOST_TEST(c.fapi("POST", sign_in_path(id, "/prepare_first_factor"), {{"strategy", "email_code"}}).status == 200u);
    BOOST_TEST(s.outbox().empty());
    expect_complete(
        c.fapi("POST", sign_in_path(id, "/attempt_first_factor"), {{"strategy", "email_code"}, {"code", "424242"}}),
        uid);
}

BOOST_AUTO_TEST_CASE(expired_and_burned_codes) {
    test_server s;
    auto uid = seed_user(s.app(), "frank@example.com", password);
    http_client c(s.fapi_port());
    auto [created, id] = start_sign_in(c, "frank@example.com");
    auto attempt = [&](std::string const& code) {
        return c.fapi("POST", sign_in_path(id, "/attempt_first_factor"), {{"strategy", "email_code"}, {"code", code}});
    };
    BOOST_TEST(c.fapi("POST", sign_in_path(id, "/prepare_first_factor"), {{"strategy", "email_code"}}).status == 200u);
    auto code = s.last_code("frank@example.com");
    s.advance(11min);
    auto late = attempt(code);
    expect_error(late, 400, "verification_expired");
    BOOST_TEST(str(response(c.fapi("GET", sign_in_path(id))).at("first_factor_verification").at("status")) ==
               "expired");

    BOOST_TEST(c.fapi("POST", sign_in_path(id, "/prepare_first_factor"), {{"strategy", "email_code"}}).status == 200u);
    code = s.last_code("frank@example.com");
    BOOST_TEST(attempt(wrong_code(code)).error_code() == "form_code_incorrect");
    BOOST_TEST(attempt(wrong_code(code)).error_code() == "form_code_incorrect");
    auto third = attempt(wrong_code(code));
    expect_error(third, 400, "verification_failed");
    BOOST_TEST(attempt(code).error_code() == "verification_failed");
    // Every wrong code counted towards the lockout.
    BOOST_TEST(load_user(s, uid)->failed_attempts >= 3);
    // A fresh code still works.
    BOOST_TEST(c.fapi("POST", sign_in_path(id, "/prepare_first_factor"), {{"strategy", "email_code"}}).status == 200u);
    expect_complete(attempt(s.last_code("frank@example.com")), uid);
}

BOOST_AUTO_TEST_CASE(password_reset_flow) {
    test_server s;
    // Grace, signed in elsewhere too.
    auto [uid, elsewhere, other_session] = signed_in_elsewhere(s, "grace@example.com");

    http_client c(s.fapi_port());
    auto [created, id] = start_sign_in(c, "grace@example.com");
    auto reset_id = factor_email_id(response(created), "reset_password_email_code");
    BOOST_TEST_REQUIRE(!reset_id.empty());
    bool has_safe_identifier = false;
    for (auto const& f : response(created).at("supported_first_factors").as_array())
        if (str(f.at("strategy")) == "reset_password_email_code")
            has_safe_identifier = str(f.at("safe_identifier")) == "g***@example.com";
    BOOST_TEST(has_safe_identifier);

    // Not before the code.
    auto early = c.fapi("POST", sign_in_path(id, "/reset_password"), {{"password", new_password}});
    expect_error(early, 400, "sign_in_not_ready");

    auto prep = c.fapi("POST", sign_in_path(id, "/prepare_first_factor"),
                       {{"strategy", "reset_password_email_code"}, {"email_address_id", reset_id}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    auto code = s.last_code("grace@example.com");
    BOOST_TEST(str(s.outbox().back().at("kind")) == "reset_password_email_code");
    auto verified = c.fapi("POST", sign_in_path(id, "/attempt_first_factor"),
                           {{"strategy", "reset_password_email_code"}, {"code", code}});
    BOOST_TEST_REQUIRE(verified.status == 200u, verified.body);
    BOOST_TEST(str(response(verified).at("status")) == "needs_new_password");
    BOOST_TEST(response(verified).at("created_session_id").is_null());

    auto weak = c.fapi("POST", sign_in_path(id, "/reset_password"), {{"password", "short"}});
    expect_error(weak, 422, "form_password_length_too_short", "password");
    auto missing = c.fapi("POST", sign_in_path(id, "/reset_password"));
    BOOST_TEST(missing.error_code() == "form_param_missing");
    BOOST_TEST(missing.param_name() == "password");

    auto done = c.fapi("POST", sign_in_path(id, "/reset_password"),
                       {{"password", new_password}, {"sign_out_of_other_sessions", "true"}});
    auto sid = expect_complete(done, uid);
    BOOST_TEST(load_session(s, other_session)->status == "revoked");
    BOOST_TEST(load_session(s, sid)->status == "active");
    BOOST_TEST(elsewhere.fapi("GET", "/v1/client").json.at("response").at("sessions").as_array().empty());

    // The new password signs in, the old one does not.
    http_client d(s.fapi_port());
    BOOST_TEST(sign_in_password(d, "grace@example.com", password).error_code() == "form_password_incorrect");
    expect_complete(sign_in_password(d, "grace@example.com", new_password), uid);
}

BOOST_AUTO_TEST_CASE(reset_keeps_other_sessions_unless_asked) {
    test_server s;
    auto [uid, elsewhere, other_session] = signed_in_elsewhere(s, "heidi@example.com");
    http_client c(s.fapi_port());
    // create with the reset strategy sends the code right away; the code and the new password may come in
    // one attempt.
    auto created = c.fapi("POST", "/v1/client/sign_ins",
                          {{"identifier", "heidi@example.com"}, {"strategy", "reset_password_email_code"}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    BOOST_TEST(str(response(created).at("first_factor_verification").at("strategy")) == "reset_password_email_code");
    auto code = s.last_code("heidi@example.com");
    BOOST_TEST_REQUIRE(code.size() == 6u);
    auto done = c.fapi("POST", sign_in_path(str(response(created).at("id")), "/attempt_first_factor"),
                       {{"strategy", "reset_password_email_code"}, {"code", code}, {"password", new_password}});
    expect_complete(done, uid);
    BOOST_TEST(load_session(s, other_session)->status == "active");
    BOOST_TEST(crypto::verify_password(new_password, load_user(s, uid)->password_digest).value());
}

BOOST_AUTO_TEST_CASE(single_session_mode_answers_session_exists) {
    test_server s([](conf::config& c) { c.single_session_mode = true; });
    auto a = seed_user(s.app(), "ivan@example.com", password);
    seed_user(s.app(), "judy@example.com", password);
    http_client c(s.fapi_port());
    expect_complete(sign_in_password(c, "ivan@example.com"), a);
    for (auto const& who : {"judy@example.com", "ivan@example.com"}) {
        auto r = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", who}});
        expect_error(r, 400, "session_exists");
    }
    // After signing out, signing in works again.
    BOOST_TEST(c.fapi("DELETE", "/v1/client/sessions").status == 200u);
    BOOST_TEST(c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "judy@example.com"}}).status == 200u);
}

BOOST_AUTO_TEST_CASE(multi_session_mode_answers_identifier_already_signed_in) {
    test_server s;
    auto a = seed_user(s.app(), "ken@example.com", password);
    auto b = seed_user(s.app(), "lee@example.com", password);
    http_client c(s.fapi_port());
    auto first = expect_complete(sign_in_password(c, "ken@example.com"), a);
    auto again = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "KEN@example.com"}});
    expect_error(again, 400, "identifier_already_signed_in");
    BOOST_TEST(str(meta(again).at("session_id")) == first);
    // Another account joins the same client.
    auto second = sign_in_password(c, "lee@example.com");
    auto sid = expect_complete(second, b);
    BOOST_TEST(second.json.at("client").at("sessions").as_array().size() == 2u);
    BOOST_TEST(client_session(second, first).is_object());
    BOOST_TEST(sid != first);
}

BOOST_AUTO_TEST_CASE(lockout_after_max_attempts) {
    test_server s([](conf::config& c) {
        c.protection.max_attempts = 3;
        c.protection.lockout = std::chrono::seconds(600);
    });
    auto uid = seed_user(s.app(), "mallory@example.com", password);
    http_client c(s.fapi_port());
    for (int i = 0; i < 3; ++i) {
        auto r = sign_in_password(c, "mallory@example.com", "wrong password " + std::to_string(i));
        expect_error(r, 422, "form_password_incorrect");
    }
    auto u = load_user(s, uid);
    BOOST_TEST(u->lockout_expires_at > s.app().now_ms());
    // Locked: even the right password is refused, with the time left.
    auto locked = sign_in_password(c, "mallory@example.com");
    expect_error(locked, 403, "user_locked");
    auto left = meta(locked).at("lockout_expires_in_seconds").as_int64();
    BOOST_TEST(left > 0);
    BOOST_TEST(left <= 600);
    // Also at the first-factor step of an existing sign-in.
    auto two_step = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "mallory@example.com"}});
    BOOST_TEST(two_step.error_code() == "user_locked");

    s.advance(601s);
    expect_complete(sign_in_password(c, "mallory@example.com"), uid);
    u = load_user(s, uid);
    BOOST_TEST(u->failed_attempts == 0);
    BOOST_TEST(u->lockout_expires_at == 0);
}

BOOST_AUTO_TEST_CASE(lockout_counts_two_step_failures) {
    test_server s([](conf::config& c) { c.protection.max_attempts = 2; });
    auto uid = seed_user(s.app(), "niaj@example.com", password);
    http_client c(s.fapi_port());
    auto [created, id] = start_sign_in(c, "niaj@example.com");
    auto attempt = [&](std::string const& pw) {
        return c.fapi("POST", sign_in_path(id, "/attempt_first_factor"), {{"strategy", "password"}, {"password", pw}});
    };
    BOOST_TEST(attempt("wrong one").error_code() == "form_password_incorrect");
    BOOST_TEST(attempt("wrong two").error_code() == "form_password_incorrect");
    auto locked = attempt(password);
    expect_error(locked, 403, "user_locked");
    BOOST_TEST(load_user(s, uid)->lockout_expires_at > 0);
}

BOOST_AUTO_TEST_CASE(banned_user_is_refused) {
    test_server s;
    auto uid = seed_user(s.app(), "olivia@example.com", password);
    edit_user(s, uid, [](store::user_record& u) { u.banned = true; });
    http_client c(s.fapi_port());
    auto r = sign_in_password(c, "olivia@example.com");
    expect_error(r, 403, "user_banned");
    auto two_step = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "olivia@example.com"}});
    expect_error(two_step, 403, "user_banned");
}

BOOST_AUTO_TEST_CASE(rate_limits_answer_429_with_retry_after) {
    test_server s([](conf::config& c) { c.protection.rate_per_identifier_per_minute = 3; });
    seed_user(s.app(), "peggy@example.com", password);
    seed_user(s.app(), "quinn@example.com", password);
    http_client c(s.fapi_port());
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "peggy@example.com"}}).status == 200u);
    auto limited = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "PEGGY@example.com"}});
    expect_error(limited, 429, "too_many_requests");
    auto ra = meta(limited).at("retry_after").as_int64();
    BOOST_TEST(ra >= 1);
    BOOST_TEST(ra <= 60);
    BOOST_TEST(limited.headers["retry-after"] == std::to_string(ra));
    // Another account is not affected.
    BOOST_TEST(c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "quinn@example.com"}}).status == 200u);
    s.advance(61s);
    BOOST_TEST(c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "peggy@example.com"}}).status == 200u);
}

BOOST_AUTO_TEST_CASE(per_ip_rate_limit) {
    test_server s([](conf::config& c) { c.protection.rate_per_ip_per_minute = 2; });
    http_client c(s.fapi_port());
    seed_user(s.app(), "rupert@example.com", password);
    auto [created, id] = start_sign_in(c, "rupert@example.com");
    for (int i = 0; i < 2; ++i)
        BOOST_TEST(c.fapi("POST", sign_in_path(id, "/attempt_first_factor"),
                          {{"strategy", "password"}, {"password", "wrong " + std::to_string(i)}})
                       .status == 422u);
    auto limited =
        c.fapi("POST", sign_in_path(id, "/attempt_first_factor"), {{"strategy", "password"}, {"password", password}});
    BOOST_TEST(limited.status == 429u);
    BOOST_TEST(!limited.headers["retry-after"].empty());
}

BOOST_AUTO_TEST_CASE(outdated_hash_is_rehashed_on_sign_in) {
    test_server s;
    auto uid = seed_user(s.app(), "sybil@example.com");
    auto old = crypto::hash_password(password, crypto::argon2_params{1, 8192, 1}).value();
    BOOST_TEST_REQUIRE(crypto::needs_rehash(old));
    edit_user(s, uid, [&](store::user_record& u) { u.password_digest = old; });
    http_client c(s.fapi_port());
    expect_complete(sign_in_password(c, "sybil@example.com"), uid);
    auto digest = load_user(s, uid)->password_digest;
    BOOST_TEST(digest != old);
    BOOST_TEST(!crypto::needs_rehash(digest));
    BOOST_TEST(crypto::verify_password(password, digest).value());
}

BOOST_AUTO_TEST_CASE(two_factor_users_stop_at_needs_second_factor) {
    test_server s([](conf::config& c) { c.second_factors = {"totp"}; });
    auto uid = seed_user(s.app(), "trent@example.com", password);
    edit_user(s, uid, [&](store::user_record& u) {
        server::api::domain::set_totp_secret(u, *s.inst().seal_key, "12345678901234567890", true, 1);
    });
    http_client c(s.fapi_port());
    auto r = sign_in_password(c, "trent@example.com");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& si = response(r);
    BOOST_TEST(str(si.at("status")) == "needs_second_factor");
    BOOST_TEST(si.at("created_session_id").is_null());
    BOOST_TEST(si.at("supported_second_factors").is_array());
    BOOST_TEST(r.json.at("client").at("sessions").as_array().empty());
    auto id = str(si.at("id"));
    auto prep = c.fapi("POST", sign_in_path(id, "/prepare_second_factor"), {{"strategy", "phone_code"}});
    expect_error(prep, 422, "strategy_for_user_invalid");
    auto att =
        c.fapi("POST", sign_in_path(id, "/attempt_second_factor"), {{"strategy", "backup_code"}, {"code", "123456"}});
    expect_error(att, 422, "strategy_for_user_invalid");
    BOOST_TEST(c.fapi("POST", sign_in_path(id, "/attempt_second_factor")).error_code() == "form_param_missing");
    BOOST_TEST(c.fapi("POST", sign_in_path("sia_unknown", "/prepare_second_factor"), {{"strategy", "totp"}}).status ==
               404u);
    // A sign-in that is not at the second factor.
    seed_user(s.app(), "uma@example.com", password);
    http_client d(s.fapi_port());
    auto plain = d.fapi("POST", "/v1/client/sign_ins", {{"identifier", "uma@example.com"}});
    BOOST_TEST(
        d.fapi("POST", sign_in_path(str(response(plain).at("id")), "/prepare_second_factor"), {{"strategy", "totp"}})
            .error_code() == "sign_in_not_ready");
}

BOOST_AUTO_TEST_CASE(get_is_scoped_to_the_browser) {
    test_server s;
    seed_user(s.app(), "victor@example.com", password);
    http_client c(s.fapi_port());
    auto [created, id] = start_sign_in(c, "victor@example.com");
    auto got = c.fapi("GET", sign_in_path(id));
    BOOST_TEST(got.status == 200u);
    BOOST_TEST(str(response(got).at("id")) == id);
    BOOST_TEST(str(response(got).at("status")) == "needs_first_factor");
    BOOST_TEST(c.fapi("GET", sign_in_path("sia_unknown")).error_code() == "resource_not_found");
    http_client other(s.fapi_port());
    BOOST_TEST(other.fapi("GET", sign_in_path(id)).status == 404u);
    other.fapi("POST", "/v1/client");
    BOOST_TEST(other.fapi("GET", sign_in_path(id)).status == 404u);
    BOOST_TEST(
        other
            .fapi("POST", sign_in_path(id, "/attempt_first_factor"), {{"strategy", "password"}, {"password", password}})
            .status == 404u);
}

BOOST_AUTO_TEST_CASE(bad_params_name_the_param) {
    test_server s;
    seed_user(s.app(), "wendy@example.com", password);
    auto nopw = seed_user(s.app(), "xavier@example.com");
    http_client c(s.fapi_port());
    auto bad_strategy =
        c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "wendy@example.com"}, {"strategy", "magic"}});
    expect_error(bad_strategy, 422, "form_param_value_invalid", "strategy");
    auto too_long = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", std::string(400, 'a')}});
    BOOST_TEST(too_long.param_name() == "identifier");
    // No identifier yet: needs_identifier.
    auto bare = c.fapi("POST", "/v1/client/sign_ins");
    BOOST_TEST_REQUIRE(bare.status == 200u);
    BOOST_TEST(str(response(bare).at("status")) == "needs_identifier");
    BOOST_TEST(response(bare).at("supported_first_factors").is_null());

    auto [created, id] = start_sign_in(c, "wendy@example.com");

    struct row {
        std::string path;
        std::vector<std::pair<std::string, std::string>> form;
        std::string code, param;
    };

    std::vector<row> rows{
        {"/attempt_first_factor", {}, "form_param_missing", "strategy"},
        {"/attempt_first_factor", {{"strategy", "password"}}, "form_param_missing", "password"},
        {"/attempt_first_factor", {{"strategy", "email_code"}}, "form_param_missing", "code"},
        {"/attempt_first_factor",
         {{"strategy", "carrier_pigeon"}, {"code", "1"}},
         "form_param_value_invalid",
         "strategy"},
        {"/attempt_first_factor", {{"strategy", "phone_code"}, {"code", "1"}}, "strategy_for_user_invalid", "strategy"},
        {"/prepare_first_factor", {}, "form_param_missing", "strategy"},
        {"/prepare_first_factor", {{"strategy", "carrier_pigeon"}}, "form_param_value_invalid", "strategy"},
    };
    for (auto const& r : rows) {
        auto res = c.fapi("POST", sign_in_path(id, r.path), r.form);
        BOOST_TEST(res.status == 422u, r.path << " " << r.code << " " << r.param << ": " << res.body);
        BOOST_TEST(res.error_code() == r.code, r.path << " " << r.param);
        BOOST_TEST(res.param_name() == r.param, r.path << " " << r.code);
    }
    // An account without a password cannot use the password strategy.
    auto created2 = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "xavier@example.com"}});
    BOOST_TEST(str(response(created2).at("supported_first_factors").at(0).at("strategy")) == "email_code");
    auto r = c.fapi("POST", sign_in_path(str(response(created2).at("id")), "/attempt_first_factor"),
                    {{"strategy", "password"}, {"password", password}});
    expect_error(r, 422, "strategy_for_user_invalid");
    BOOST_TEST(load_user(s, nopw)->failed_attempts == 0);
}

BOOST_AUTO_TEST_SUITE_END()
