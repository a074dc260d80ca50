// Sign-in on the memory store: password (one step), a wrong password that still counts, the email code flow with
// the code the sink got, and the lockout after max_attempts.
#include "tests/handler/harness.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>

using namespace latchkey;
using namespace latchkey::handler_test;

namespace {

/// A completed sign-in: its session is in the piggy-backed client and in the store; returns the session id.
std::string expect_complete(handler_env& env, answer const& r, std::string const& user_id) {
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(str(r.response().at("status")) == "complete");
    auto const sid = str(r.response().at("created_session_id"));
    BOOST_TEST(str(r.json.at("client").at("last_active_session_id")) == sid);
    auto s = env.read([&](store::read_txn& t) { return t.sessions().get(sid); });
    BOOST_TEST_REQUIRE(s.has_value());
    BOOST_TEST_REQUIRE(s->has_value());
    BOOST_TEST((*s)->user_id == user_id);
    BOOST_TEST((*s)->status == "active");
    return sid;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(handler_sign_in)

BOOST_AUTO_TEST_CASE(password_one_step_and_a_wrong_password_that_counts) {
    handler_env env;
    auto const uid = create_password_user(env, "alice@example.com");
    auto wrong = password_sign_in(env, "alice@example.com", "not the password");
    BOOST_TEST(wrong.status == 422u, wrong.body);
    BOOST_TEST(wrong.error_code() == "form_password_incorrect");
    BOOST_TEST(wrong.param_name() == "password");
    BOOST_TEST(stored_user(env, uid).failed_attempts == 1);  // the 4xx committed its counter

    auto ok = password_sign_in(env, "Alice@Example.com");
    expect_complete(env, ok, uid);
    BOOST_TEST(stored_user(env, uid).failed_attempts == 0);
    BOOST_TEST(env.cookies().count("__client") == 1u);
}

BOOST_AUTO_TEST_CASE(sign_in_reply_reads_nothing_after_its_write) {
    // issue 17: the identifier and the password digest in one read, the state change in one write, and the reply
    // (the sign-in and the piggy-backed client with its new session) assembled from what that write read.
    handler_env env;
    auto const uid = create_password_user(env, "frank@example.com");
    (void)env.fapi("GET", "/v1/client");
    (void)env.txn_log();
    auto ok = password_sign_in(env, "frank@example.com");
    auto const log = env.txn_log();
    // resolve_identity may read the client credential; then the identifier and digest; then the one write.
    BOOST_TEST(std::count(log.begin(), log.end(), 'w') == 1, log);
    BOOST_TEST(log.back() == 'w', "a txn after the write: " << log);
    BOOST_TEST(std::count(log.begin(), log.end(), 'r') <= 2, log);
    auto const sid = expect_complete(env, ok, uid);
    BOOST_TEST(str(ok.json.at("client").at("sessions").at(0).at("id")) == sid);
}

BOOST_AUTO_TEST_CASE(unknown_identifier_is_form_identifier_not_found) {
    handler_env env;
    auto r = password_sign_in(env, "nobody@example.com");
    BOOST_TEST(r.status == 422u, r.body);
    BOOST_TEST(r.error_code() == "form_identifier_not_found");
    BOOST_TEST(r.param_name() == "identifier");
}

BOOST_AUTO_TEST_CASE(email_code_sent_after_commit_and_attempted) {
    handler_env env;
    auto const uid = create_password_user(env, "carol@example.com");
    auto created = env.fapi("POST", "/v1/client/sign_ins", {{"identifier", "carol@example.com"}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    BOOST_TEST(str(created.response().at("status")) == "needs_first_factor");
    auto const id = str(created.response().at("id"));
    std::string email_id;
    for (auto const& f : created.response().at("supported_first_factors").as_array())
        if (str(f.at("strategy")) == "email_code") email_id = str(f.at("email_address_id"));
    BOOST_TEST_REQUIRE(!email_id.empty());
    BOOST_TEST(env.sink().sent().empty());

    auto prep = env.fapi("POST", "/v1/client/sign_ins/" + id + "/prepare_first_factor",
                         {{"strategy", "email_code"}, {"email_address_id", email_id}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    BOOST_TEST_REQUIRE(env.sink().sent().size() == 1u);
    auto const code = env.sink().last_code("carol@example.com");
    // The digest of the code that went out is what the store holds.
    auto si = env.read([&](store::read_txn& t) { return t.sign_ins().get(id); });
    BOOST_TEST_REQUIRE(si.has_value());
    BOOST_TEST_REQUIRE(si->has_value());
    BOOST_TEST((*si)->first_factor.strategy == "email_code");
    BOOST_TEST(!(*si)->first_factor.code_digest.empty());

    auto ok = env.fapi("POST", "/v1/client/sign_ins/" + id + "/attempt_first_factor",
                       {{"strategy", "email_code"}, {"code", code}});
    expect_complete(env, ok, uid);
}

BOOST_AUTO_TEST_CASE(lockout_after_max_attempts_refuses_even_the_right_password) {
    handler_env env([](conf::config& c) {
        c.protection.max_attempts = 3;
        c.protection.lockout = std::chrono::seconds(600);
    });
    auto const uid = create_password_user(env, "mallory@example.com");
    for (int i = 0; i < 3; ++i) {
        auto r = password_sign_in(env, "mallory@example.com", "wrong password " + std::to_string(i));
        BOOST_TEST(r.error_code() == "form_password_incorrect", r.body);
    }
    BOOST_TEST(stored_user(env, uid).lockout_expires_at > env.app().now_ms());
    auto locked = password_sign_in(env, "mallory@example.com");
    BOOST_TEST(locked.status == 403u, locked.body);
    BOOST_TEST(locked.error_code() == "user_locked");
    // When the lockout has run out, the right password signs in and the counters reset.
    env.app().clock_offset_ms += 601'000;
    expect_complete(env, password_sign_in(env, "mallory@example.com"), uid);
    auto const u = stored_user(env, uid);
    BOOST_TEST(u.failed_attempts == 0);
    BOOST_TEST(u.lockout_expires_at == 0);
}

BOOST_AUTO_TEST_SUITE_END()
