// FAPI sign-ups over HTTP against the real server: fields per config, email/phone code verification (codes
// read from the outbox, test-mode 424242), completion into a user and a session that the piggy-backed client
// carries, and every error code the flow answers with.
#include "crypto/password.hpp"
#include "tests/common/expect.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>

using namespace latchkey;
using namespace latchkey::test;
using namespace std::chrono_literals;

namespace {

constexpr char const* password = "correct horse battery staple";

std::vector<std::string> strings(json::value const& v) {
    std::vector<std::string> out;
    for (auto const& x : v.as_array()) out.push_back(str(x));
    return out;
}

std::string sign_up_path(std::string const& id, std::string const& tail = {}) {
    return "/v1/client/sign_ups/" + id + tail;
}

/// meta.retry_after of the first error, or -1.
std::int64_t retry_after(http_result const& r) {
    auto const& meta = r.json.at("errors").at(0).at("meta").as_object();
    auto const* v = meta.if_contains("retry_after");
    return v && v->is_int64() ? v->as_int64() : -1;
}

struct started {
    std::string id, code;
};

/// Creates an email+password sign-up and prepares its email code; returns the sign-up id and the code from the
/// outbox.
started start_email_code(test_server& s, http_client& c, std::string const& email) {
    auto created = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", email}, {"password", password}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    auto id = str(response(created).at("id"));
    BOOST_TEST_REQUIRE(c.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", "email_code"}}).status ==
                       200u);
    auto code = s.last_code(email);
    BOOST_TEST_REQUIRE(code.size() == 6u);
    return {id, code};
}

/// Creates an email+password sign-up, verifies the email with the code from the outbox, and returns the
/// completing reply.
http_result sign_up_with_email_code(test_server& s, http_client& c, std::string const& email) {
    auto [id, code] = start_email_code(s, c, email);
    return c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", "email_code"}, {"code", code}});
}

/// A sign-up with `form` whose identifier (a test-mode address or number) is verified by `strategy` with the
/// test code 424242: nothing goes to the outbox. Returns the attempt's reply.
http_result verified_by_test_code(test_server& s, http_client& c,
                                  std::vector<std::pair<std::string, std::string>> const& form,
                                  std::string const& strategy) {
    auto created = c.fapi("POST", "/v1/client/sign_ups", form);
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    auto id = str(response(created).at("id"));
    BOOST_TEST(c.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", strategy}}).status == 200u);
    BOOST_TEST(s.outbox().empty());
    return c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", strategy}, {"code", "424242"}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(frontend_sign_up)

BOOST_AUTO_TEST_CASE(email_password_and_code_complete_with_a_session_in_the_client) {
    test_server s;
    http_client c(s.fapi_port());
    auto created = c.fapi("POST", "/v1/client/sign_ups",
                          {{"email_address", "New.User@Example.com"},
                           {"password", password},
                           {"first_name", "Ada"},
                           {"last_name", "Lovelace"},
                           {"locale", "en-US"},
                           {"captcha_token", "ignored"},
                           {"captcha_widget_type", "invisible"}});
    std::string id = expect_attempt(created, "sua_", "sign_up_attempt", "missing_requirements");
    auto const& su = response(created);
    BOOST_TEST(str(su.at("email_address")) == "new.user@example.com");
    BOOST_TEST(su.at("password_enabled").as_bool());
    BOOST_TEST(str(su.at("first_name")) == "Ada");
    BOOST_TEST((strings(su.at("required_fields")) == std::vector<std::string>{"email_address", "password"}));
    BOOST_TEST((strings(su.at("optional_fields")) == std::vector<std::string>{"first_name", "last_name"}));
    BOOST_TEST(strings(su.at("missing_fields")).empty());
    BOOST_TEST((strings(su.at("unverified_fields")) == std::vector<std::string>{"email_address"}));
    BOOST_TEST(su.at("created_session_id").is_null());
    BOOST_TEST(su.at("created_user_id").is_null());
    // As on Clerk, the create that gives the sign-up an address to verify sends its code: the verification reads
    // unverified / email_code / needs_attempt at once (the prebuilt <SignUp/> skips its own prepare then).
    auto const& ev = su.at("verifications").at("email_address");
    BOOST_TEST(str(ev.at("status")) == "unverified");
    BOOST_TEST(str(ev.at("strategy")) == "email_code");
    BOOST_TEST(str(ev.at("next_action")) == "needs_attempt");
    BOOST_TEST((strings(ev.at("supported_strategies")) == std::vector<std::string>{"email_code"}));
    BOOST_TEST(ev.at("attempts").as_int64() == 0);
    BOOST_TEST(ev.at("expire_at").as_int64() > s.app().now_ms());
    BOOST_TEST(su.at("verifications").at("phone_number").is_null());
    // The piggy-backed client points at the attempt; the browser got its client cookie.
    BOOST_TEST(str(created.json.at("client").at("sign_up").at("id")) == id);
    BOOST_TEST(created.json.at("client").at("sessions").as_array().empty());
    BOOST_TEST(c.cookies.count("__client") == 1u);
    auto sent = s.outbox();
    BOOST_TEST_REQUIRE(sent.size() == 1u);
    BOOST_TEST(str(sent[0].at("to")) == "new.user@example.com");
    auto const first_code = str(sent[0].at("code"));

    // An explicit prepare (the "Resend" link) sends a new code; the first one is dead.
    auto prepared = c.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", "email_code"}});
    BOOST_TEST_REQUIRE(prepared.status == 200u, prepared.body);
    auto const& pv = response(prepared).at("verifications").at("email_address");
    BOOST_TEST(str(pv.at("next_action")) == "needs_attempt");
    BOOST_TEST(pv.at("attempts").as_int64() == 0);
    BOOST_TEST(pv.at("expire_at").as_int64() > s.app().now_ms());
    auto outbox = s.outbox();
    BOOST_TEST_REQUIRE(outbox.size() == 2u);
    BOOST_TEST(str(outbox[1].at("to")) == "new.user@example.com");
    BOOST_TEST(str(outbox[1].at("kind")) == "email_code");
    auto code = str(outbox[1].at("code"));
    BOOST_TEST_REQUIRE(code.size() == 6u);
    if (first_code != code)
        expect_error(c.fapi("POST", sign_up_path(id, "/attempt_verification"),
                            {{"strategy", "email_code"}, {"code", first_code}}),
                     422, "form_code_incorrect", "code");
    auto reset = c.fapi("GET", sign_up_path(id));
    auto const already = response(reset).at("verifications").at("email_address").at("attempts").as_int64();

    std::string wrong = code == "000000" ? "111111" : "000000";
    auto bad = c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", "email_code"}, {"code", wrong}});
    expect_error(bad, 422, "form_code_incorrect", "code");
    // The failed attempt was counted.
    auto after_bad = c.fapi("GET", sign_up_path(id));
    BOOST_TEST(response(after_bad).at("verifications").at("email_address").at("attempts").as_int64() == already + 1);

    auto done = c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", "email_code"}, {"code", code}});
    BOOST_TEST_REQUIRE(done.status == 200u, done.body);
    auto const& fin = response(done);
    BOOST_TEST(str(fin.at("status")) == "complete");
    BOOST_TEST(strings(fin.at("unverified_fields")).empty());
    BOOST_TEST(str(fin.at("verifications").at("email_address").at("status")) == "verified");
    BOOST_TEST(str(fin.at("verifications").at("email_address").at("next_action")) == "");
    std::string session_id = str(fin.at("created_session_id"));
    std::string user_id = str(fin.at("created_user_id"));
    BOOST_TEST(session_id.starts_with("sess_"));
    BOOST_TEST(user_id.starts_with("user_"));
    // The same reply's client carries the new session, active, with a token for it.
    expect_new_session(done, session_id, user_id);
    BOOST_TEST(done.json.at("client").at("sign_up").is_null());

    // The user: verified primary email, the password, the names.
    auto u = load_user(s, user_id);
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST(u->first_name == "Ada");
    BOOST_TEST(u->last_name == "Lovelace");
    BOOST_TEST_REQUIRE(u->identifications.size() == 1u);
    BOOST_TEST(u->identifications[0].value == "new.user@example.com");
    BOOST_TEST(u->identifications[0].verification.status == "verified");
    BOOST_TEST(u->primary_email_address_id == u->identifications[0].id);
    BOOST_TEST(crypto::verify_password(password, u->password_digest).value());

    // A finished sign-up takes no more steps.
    auto again =
        c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", "email_code"}, {"code", code}});
    expect_error(again, 400, "sign_up_not_ready");
}

BOOST_AUTO_TEST_CASE(test_mode_email_takes_424242_and_sends_nothing) {
    test_server s;
    http_client c(s.fapi_port());
    auto db = c.fapi("POST", "/v1/dev_browser");
    BOOST_TEST_REQUIRE(db.status == 200u);
    c.dev_browser = str(db.json.at("id"));
    auto done = verified_by_test_code(s, c, {{"email_address", "dev+clerk_test@example.com"}, {"password", password}},
                                      "email_code");
    BOOST_TEST_REQUIRE(done.status == 200u, done.body);
    BOOST_TEST(str(response(done).at("status")) == "complete");
    BOOST_TEST(client_session(done, str(response(done).at("created_session_id"))).is_object());
    // The dev browser keys the same client from another connection.
    http_client other(s.fapi_port());
    other.dev_browser = c.dev_browser;
    auto cl = other.fapi("GET", "/v1/client");
    BOOST_TEST(cl.json.at("response").at("sessions").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(without_test_mode_test_emails_get_real_codes) {
    test_server s([](conf::config& c) { c.test_mode = false; });
    http_client c(s.fapi_port());
    auto created = c.fapi("POST", "/v1/client/sign_ups",
                          {{"email_address", "dev+clerk_test@example.com"}, {"password", password}});
    BOOST_TEST_REQUIRE(created.status == 200u);
    auto id = str(response(created).at("id"));
    BOOST_TEST(c.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", "email_code"}}).status == 200u);
    // Without test mode the +clerk_test address gets a real code, and that code is what verifies it.
    auto code = s.last_code("dev+clerk_test@example.com");
    BOOST_TEST_REQUIRE(code.size() == 6u);
    auto done = c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", "email_code"}, {"code", code}});
    BOOST_TEST(str(response(done).at("status")) == "complete");
}

BOOST_AUTO_TEST_CASE(phone_code_sign_up) {
    test_server s([](conf::config& c) {
        c.email_address = {false, false, false, false};
        c.phone_number = {true, true, true, true};
        c.first_factors = {"password", "phone_code"};
    });
    http_client c(s.fapi_port());
    // The email is not an attribute of this instance.
    auto refused = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "a@example.com"}, {"password", password}});
    expect_error(refused, 422, "form_param_unknown", "email_address");

    auto created =
        c.fapi("POST", "/v1/client/sign_ups", {{"phone_number", "+1 (415) 555-2671"}, {"password", password}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    auto const& su = response(created);
    auto id = str(su.at("id"));
    BOOST_TEST(str(su.at("phone_number")) == "+14155552671");
    BOOST_TEST((strings(su.at("unverified_fields")) == std::vector<std::string>{"phone_number"}));
    BOOST_TEST(str(su.at("verifications").at("phone_number").at("strategy")) == "phone_code");
    BOOST_TEST(su.at("verifications").at("email_address").is_null());

    // email_code for a sign-up without an email names the missing field.
    auto no_email = c.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", "email_code"}});
    BOOST_TEST(no_email.status == 422u);
    BOOST_TEST(no_email.param_name() == "email_address");

    // The create sent the first code (as on Clerk); the prepare sends another.
    BOOST_TEST(c.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", "phone_code"}}).status == 200u);
    auto outbox = s.outbox();
    BOOST_TEST_REQUIRE(outbox.size() == 2u);
    BOOST_TEST(str(outbox[0].at("channel")) == "sms");
    BOOST_TEST(str(outbox[1].at("channel")) == "sms");
    auto code = s.last_code("+14155552671");
    auto done = c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", "phone_code"}, {"code", code}});
    BOOST_TEST_REQUIRE(done.status == 200u, done.body);
    BOOST_TEST(str(response(done).at("status")) == "complete");
    auto u = load_user(s, str(response(done).at("created_user_id")));
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST_REQUIRE(u->identifications.size() == 1u);
    BOOST_TEST(u->identifications[0].kind == "phone_number");
    BOOST_TEST(u->primary_phone_number_id == u->identifications[0].id);
    BOOST_TEST(u->identifications[0].verification.status == "verified");
}

BOOST_AUTO_TEST_CASE(test_mode_phone_takes_424242) {
    test_server s([](conf::config& c) {
        c.email_address = {false, false, false, false};
        c.phone_number = {true, true, true, true};
    });
    http_client c(s.fapi_port());
    auto done = verified_by_test_code(s, c, {{"phone_number", "+12015550123"}, {"password", password}}, "phone_code");
    BOOST_TEST(str(response(done).at("status")) == "complete");
}

BOOST_AUTO_TEST_CASE(completes_at_create_when_nothing_needs_verifying) {
    test_server s([](conf::config& c) { c.email_address.verify_at_sign_up = false; });
    http_client c(s.fapi_port());
    auto r = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "quick@example.com"}, {"password", password}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& su = response(r);
    BOOST_TEST(str(su.at("status")) == "complete");
    BOOST_TEST(strings(su.at("unverified_fields")).empty());
    auto sid = str(su.at("created_session_id"));
    BOOST_TEST(client_session(r, sid).is_object());
    BOOST_TEST(str(r.json.at("client").at("last_active_session_id")) == sid);
    // Not verified at sign-up, so not verified on the user either.
    auto u = load_user(s, str(su.at("created_user_id")));
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST(u->identifications.at(0).verification.status == "unverified");
}

BOOST_AUTO_TEST_CASE(missing_fields_are_added_with_patch) {
    test_server s([](conf::config& c) {
        c.email_address.verify_at_sign_up = false;
        c.first_name.required = true;
        c.username = {true, false, true, false};
    });
    http_client c(s.fapi_port());
    auto r = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "patchy@example.com"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto id = str(response(r).at("id"));
    BOOST_TEST(str(response(r).at("status")) == "missing_requirements");
    BOOST_TEST((strings(response(r).at("missing_fields")) == std::vector<std::string>{"first_name", "password"}));
    BOOST_TEST((strings(response(r).at("required_fields")) ==
                std::vector<std::string>{"email_address", "first_name", "password"}));
    BOOST_TEST((strings(response(r).at("optional_fields")) == std::vector<std::string>{"username", "last_name"}));

    // A PATCH with one bad field changes nothing.
    auto bad = c.fapi("PATCH", sign_up_path(id), {{"first_name", "Grace"}, {"username", "no spaces"}});
    expect_error(bad, 422, "form_username_invalid_character", "username");
    BOOST_TEST(response(c.fapi("GET", sign_up_path(id))).at("first_name").is_null());

    auto p1 = c.fapi("PATCH", sign_up_path(id), {{"first_name", "Grace"}, {"username", "grace_h"}});
    BOOST_TEST_REQUIRE(p1.status == 200u, p1.body);
    BOOST_TEST((strings(response(p1).at("missing_fields")) == std::vector<std::string>{"password"}));
    BOOST_TEST(str(response(p1).at("username")) == "grace_h");
    BOOST_TEST(p1.json.at("client").at("sessions").as_array().empty());

    auto p2 = c.fapi("PATCH", sign_up_path(id), {{"password", password}});
    BOOST_TEST_REQUIRE(p2.status == 200u, p2.body);
    BOOST_TEST(str(response(p2).at("status")) == "complete");
    BOOST_TEST(client_session(p2, str(response(p2).at("created_session_id"))).is_object());
    auto u = load_user(s, str(response(p2).at("created_user_id")));
    BOOST_TEST(u->username == "grace_h");
    BOOST_TEST(u->first_name == "Grace");
}

BOOST_AUTO_TEST_CASE(taken_identifiers_are_form_identifier_exists) {
    test_server s([](conf::config& c) { c.username = {true, false, true, false}; });
    auto uid = seed_user(s.app(), "taken@example.com", password);
    {
        auto& a = s.app();
        auto r = a.db.with_write([&](store::write_txn& w) -> store::result<void> {
            auto u = w.users().get(uid);
            if (!u) return u.error();
            auto prev = **u;
            auto rec = **u;
            rec.username = "takenname";
            return w.users().put(rec, &prev);
        });
        BOOST_TEST_REQUIRE(r.has_value());
    }
    http_client c(s.fapi_port());
    auto r = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "TAKEN@example.com"}, {"password", password}});
    expect_error(r, 422, "form_identifier_exists", "email_address");

    auto u = c.fapi("POST", "/v1/client/sign_ups",
                    {{"email_address", "fresh@example.com"}, {"username", "TakenName"}, {"password", password}});
    expect_error(u, 422, "form_identifier_exists", "username");

    // Taken by the time a PATCH names it.
    auto ok = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "fresh@example.com"}});
    BOOST_TEST_REQUIRE(ok.status == 200u);
    auto p = c.fapi("PATCH", sign_up_path(str(response(ok).at("id"))), {{"email_address", "taken@example.com"}});
    expect_error(p, 422, "form_identifier_exists");
}

BOOST_AUTO_TEST_CASE(password_policy_errors) {
    test_server s;
    http_client c(s.fapi_port());
    auto short_pw = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "p@example.com"}, {"password", "short"}});
    expect_error(short_pw, 422, "form_password_length_too_short", "password");
    auto pwned =
        c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "p@example.com"}, {"password", "Password123"}});
    expect_error(pwned, 422, "form_password_pwned", "password");
    auto long_pw = c.fapi("POST", "/v1/client/sign_ups",
                          {{"email_address", "p@example.com"}, {"password", std::string(100, 'x')}});
    expect_error(long_pw, 422, "form_password_length_too_long");
    // Nothing was created by the refused attempts.
    BOOST_TEST(c.fapi("GET", "/v1/client").json.at("response").is_null());
}

BOOST_AUTO_TEST_CASE(bad_params_name_the_param) {
    // Fields up to 16 KiB pass dispatch, so the 8 KiB metadata limit is the handler's own.
    test_server s([](conf::config& c) { c.max_field_bytes = 16 * 1024; });
    http_client c(s.fapi_port());

    struct row {
        std::vector<std::pair<std::string, std::string>> form;
        std::string code, param;
    };

    std::vector<row> rows{
        {{{"email_address", "not-an-email"}}, "form_param_format_invalid", "email_address"},
        {{{"email_address", "a@example.com"}, {"phone_number", "+15551234567"}}, "form_param_unknown", "phone_number"},
        {{{"email_address", "a@example.com"}, {"username", "someone"}}, "form_param_unknown", "username"},
        {{{"email_address", "a@example.com"}, {"first_name", std::string(257, 'a')}},
         "form_param_max_length_exceeded",
         "first_name"},
        {{{"email_address", "a@example.com"}, {"unsafe_metadata", "[1,2]"}},
         "form_param_format_invalid",
         "unsafe_metadata"},
        {{{"email_address", "a@example.com"}, {"unsafe_metadata", "{not json"}},
         "form_param_format_invalid",
         "unsafe_metadata"},
        {{{"email_address", "a@example.com"}, {"unsafe_metadata", "{\"k\":\"" + std::string(9000, 'v') + "\"}"}},
         "form_param_max_length_exceeded",
         "unsafe_metadata"},
        {{{"email_address", "a@example.com"}, {"legal_accepted", "maybe"}},
         "form_param_format_invalid",
         "legal_accepted"},
    };
    for (auto const& r : rows) {
        auto res = c.fapi("POST", "/v1/client/sign_ups", r.form);
        BOOST_TEST(res.status == 422u, r.code << " " << r.param << ": " << res.body);
        BOOST_TEST(res.error_code() == r.code, r.param);
        BOOST_TEST(res.param_name() == r.param, r.code);
    }
    auto ok = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "a@example.com"}});
    BOOST_TEST_REQUIRE(ok.status == 200u);
    auto id = str(response(ok).at("id"));
    auto no_strategy = c.fapi("POST", sign_up_path(id, "/prepare_verification"));
    expect_error(no_strategy, 422, "form_param_missing", "strategy");
    auto bad_strategy = c.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", "carrier_pigeon"}});
    BOOST_TEST(bad_strategy.error_code() == "form_param_value_invalid");
    BOOST_TEST(bad_strategy.param_name() == "strategy");
    auto no_code = c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", "email_code"}});
    expect_error(no_code, 422, "form_param_missing", "code");
    // An attempt before any code was sent (an instance that does not verify at sign-up sends none at create).
    test_server quiet([](conf::config& cfg) { cfg.email_address.verify_at_sign_up = false; });
    http_client q(quiet.fapi_port());
    auto pending = q.fapi("POST", "/v1/client/sign_ups", {{"email_address", "b@example.com"}});
    BOOST_TEST_REQUIRE(pending.status == 200u, pending.body);
    auto unsent = q.fapi("POST", sign_up_path(str(response(pending).at("id")), "/attempt_verification"),
                         {{"strategy", "email_code"}, {"code", "123456"}});
    expect_error(unsent, 400, "verification_not_sent");
}

BOOST_AUTO_TEST_CASE(expired_code_is_verification_expired) {
    test_server s;
    http_client c(s.fapi_port());
    auto [id, code] = start_email_code(s, c, "late@example.com");
    s.advance(11min);  // code_ttl is 10 minutes
    auto r = c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", "email_code"}, {"code", code}});
    expect_error(r, 400, "verification_expired");
    auto got = c.fapi("GET", sign_up_path(id));
    auto const& ev = response(got).at("verifications").at("email_address");
    BOOST_TEST(str(ev.at("status")) == "expired");
    BOOST_TEST(str(ev.at("next_action")) == "needs_prepare");
    // A new code works.
    BOOST_TEST(c.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", "email_code"}}).status == 200u);
    auto fresh = s.last_code("late@example.com");
    auto done =
        c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", "email_code"}, {"code", fresh}});
    BOOST_TEST(str(response(done).at("status")) == "complete");
}

BOOST_AUTO_TEST_CASE(too_many_wrong_codes_is_verification_failed) {
    test_server s;
    http_client c(s.fapi_port());
    auto [id, code] = start_email_code(s, c, "guess@example.com");
    std::string wrong = code == "000000" ? "111111" : "000000";
    auto attempt = [&](std::string const& v) {
        return c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", "email_code"}, {"code", v}});
    };
    BOOST_TEST(attempt(wrong).error_code() == "form_code_incorrect");
    BOOST_TEST(attempt(wrong).error_code() == "form_code_incorrect");
    auto third = attempt(wrong);  // code_max_attempts = 3
    expect_error(third, 400, "verification_failed");
    // The code is burned: even the right one is refused now.
    BOOST_TEST(attempt(code).error_code() == "verification_failed");
    BOOST_TEST(str(response(c.fapi("GET", sign_up_path(id))).at("verifications").at("email_address").at("status")) ==
               "failed");
}

BOOST_AUTO_TEST_CASE(single_session_mode_refuses_a_second_sign_up) {
    test_server s([](conf::config& c) { c.single_session_mode = true; });
    http_client c(s.fapi_port());
    auto done = sign_up_with_email_code(s, c, "first@example.com");
    BOOST_TEST_REQUIRE(str(response(done).at("status")) == "complete");
    auto r = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "second@example.com"}, {"password", password}});
    expect_error(r, 400, "session_exists");
}

BOOST_AUTO_TEST_CASE(multi_session_mode_adds_a_second_session) {
    test_server s;
    http_client c(s.fapi_port());
    auto first = sign_up_with_email_code(s, c, "one@example.com");
    auto second = sign_up_with_email_code(s, c, "two@example.com");
    BOOST_TEST_REQUIRE(second.status == 200u, second.body);
    BOOST_TEST(second.json.at("client").at("sessions").as_array().size() == 2u);
    BOOST_TEST(str(second.json.at("client").at("last_active_session_id")) ==
               str(response(second).at("created_session_id")));
    BOOST_TEST(client_session(second, str(response(first).at("created_session_id"))).is_object());
}

BOOST_AUTO_TEST_CASE(restricted_mode_refuses_sign_ups_with_clerks_code) {
    test_server s([](conf::config& c) { c.sign_up_mode = "restricted"; });
    http_client c(s.fapi_port());
    auto r = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "x@example.com"}, {"password", password}});
    expect_error(r, 403, "sign_up_mode_restricted");
}

BOOST_AUTO_TEST_CASE(rate_limited_with_retry_after) {
    test_server s([](conf::config& c) { c.protection.rate_per_ip_per_minute = 2; });
    http_client c(s.fapi_port());
    for (int i = 0; i < 2; ++i) {
        auto r = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "r" + std::to_string(i) + "@example.com"}});
        BOOST_TEST(r.status == 200u);
    }
    auto limited = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "r9@example.com"}});
    expect_error(limited, 429, "too_many_requests");
    auto ra = retry_after(limited);
    BOOST_TEST(ra >= 1);
    BOOST_TEST(ra <= 60);
    BOOST_TEST(limited.headers["retry-after"] == std::to_string(ra));
    // The window passes.
    s.advance(61s);
    BOOST_TEST(c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "r9@example.com"}}).status == 200u);
}

BOOST_AUTO_TEST_CASE(code_sends_are_limited_per_address) {
    test_server s([](conf::config& c) { c.protection.rate_per_identifier_per_minute = 3; });
    http_client c(s.fapi_port());
    auto created = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "flood@example.com"}});  // 1
    auto id = str(response(created).at("id"));
    BOOST_TEST(c.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", "email_code"}}).status == 200u);
    BOOST_TEST(c.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", "email_code"}}).status == 200u);
    auto limited = c.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", "email_code"}});
    BOOST_TEST(limited.status == 429u);
    BOOST_TEST(!limited.headers["retry-after"].empty());
    BOOST_TEST(s.outbox().size() == 3u);  // the create's code and two prepares
}

BOOST_AUTO_TEST_CASE(get_is_scoped_to_the_browser) {
    test_server s;
    http_client c(s.fapi_port());
    auto created = c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "mine@example.com"}});
    auto id = str(response(created).at("id"));
    auto got = c.fapi("GET", sign_up_path(id));
    BOOST_TEST(got.status == 200u);
    BOOST_TEST(str(response(got).at("id")) == id);
    BOOST_TEST(str(got.json.at("client").at("sign_up").at("id")) == id);
    BOOST_TEST(c.fapi("GET", sign_up_path("sua_unknown")).status == 404u);
    BOOST_TEST(c.fapi("GET", sign_up_path("sua_unknown")).error_code() == "resource_not_found");
    // Another browser cannot read or drive it.
    http_client other(s.fapi_port());
    BOOST_TEST(other.fapi("GET", sign_up_path(id)).status == 404u);
    other.fapi("POST", "/v1/client");
    BOOST_TEST(other.fapi("GET", sign_up_path(id)).status == 404u);
    BOOST_TEST(other.fapi("PATCH", sign_up_path(id), {{"first_name", "Mallory"}}).status == 404u);
    BOOST_TEST(other.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", "email_code"}}).status ==
               404u);
}

BOOST_AUTO_TEST_CASE(metadata_and_legal_acceptance_reach_the_user) {
    test_server s([](conf::config& c) { c.email_address.verify_at_sign_up = false; });
    http_client c(s.fapi_port());
    auto r = c.fapi("POST", "/v1/client/sign_ups",
                    {{"email_address", "meta@example.com"},
                     {"password", password},
                     {"unsafe_metadata", R"({"plan":"pro","n":1})"},
                     {"legal_accepted", "true"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(str(response(r).at("unsafe_metadata").at("plan")) == "pro");
    BOOST_TEST(response(r).at("legal_accepted_at").is_int64());
    auto u = load_user(s, str(response(r).at("created_user_id")));
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST(u->unsafe_metadata == R"({"plan":"pro","n":1})");
    BOOST_TEST(u->legal_accepted_at > 0);
    auto sess = client_session(r, str(response(r).at("created_session_id")));
    BOOST_TEST(str(sess.at("user").at("unsafe_metadata").at("plan")) == "pro");
}

BOOST_AUTO_TEST_CASE(changing_the_email_restarts_its_verification) {
    test_server s;
    http_client c(s.fapi_port());
    auto [id, old_code] = start_email_code(s, c, "old@example.com");
    auto p = c.fapi("PATCH", sign_up_path(id), {{"email_address", "new@example.com"}});
    BOOST_TEST_REQUIRE(p.status == 200u);
    // The new address is sent its own code at once.
    BOOST_TEST(str(response(p).at("verifications").at("email_address").at("next_action")) == "needs_attempt");
    auto new_code = s.last_code("new@example.com");
    BOOST_TEST_REQUIRE(new_code.size() == 6u);
    // The code sent to the old address does not verify the new one.
    if (old_code != new_code) {
        auto r =
            c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", "email_code"}, {"code", old_code}});
        BOOST_TEST(r.error_code() == "form_code_incorrect");
    }
    auto ok =
        c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", "email_code"}, {"code", new_code}});
    BOOST_TEST(ok.status == 200u, ok.body);
}

BOOST_AUTO_TEST_SUITE_END()
