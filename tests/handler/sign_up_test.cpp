// Sign-up on the memory store: the attempt, the code it sends (after the commit), a wrong code that still counts,
// the right code completing into a user and a session, and an identifier already taken.
#include "tests/handler/harness.hpp"

#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::handler_test;

namespace {

constexpr char const* password = "correct horse battery staple";

std::string wrong(std::string const& code) { return code == "000000" ? "111111" : "000000"; }

}  // namespace

BOOST_AUTO_TEST_SUITE(handler_sign_up)

BOOST_AUTO_TEST_CASE(email_code_completes_into_a_user_and_a_session) {
    handler_env env;
    auto created =
        env.fapi("POST", "/v1/client/sign_ups", {{"email_address", "New.User@Example.com"}, {"password", password}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    auto const id = str(created.response().at("id"));
    BOOST_TEST(str(created.response().at("status")) == "missing_requirements");
    BOOST_TEST(env.cookies().count("__client") == 1u);
    // The code went out once, after the write that holds its digest committed.
    BOOST_TEST_REQUIRE(env.sink().sent().size() == 1u);
    auto const code = env.sink().last_code("new.user@example.com");
    BOOST_TEST(env.sink().sent()[0].kind == "email_code");

    // A wrong code is a 422 whose state lands: the attempt is counted.
    auto bad = env.fapi("POST", "/v1/client/sign_ups/" + id + "/attempt_verification",
                        {{"strategy", "email_code"}, {"code", wrong(code)}});
    BOOST_TEST(bad.status == 422u, bad.body);
    BOOST_TEST(bad.error_code() == "form_code_incorrect");
    BOOST_TEST(bad.param_name() == "code");
    auto stored = env.read([&](store::read_txn& t) { return t.sign_ups().get(id); });
    BOOST_TEST_REQUIRE(stored.has_value());
    BOOST_TEST_REQUIRE(stored->has_value());
    BOOST_TEST((*stored)->email_verification.attempts == 1);

    auto ok = env.fapi("POST", "/v1/client/sign_ups/" + id + "/attempt_verification",
                       {{"strategy", "email_code"}, {"code", code}});
    BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
    BOOST_TEST(str(ok.response().at("status")) == "complete");
    auto const user_id = str(ok.response().at("created_user_id"));
    auto const session_id = str(ok.response().at("created_session_id"));
    BOOST_TEST(str(ok.json.at("client").at("last_active_session_id")) == session_id);

    // The store holds the user (owning its verified email) and the active session.
    auto owner = env.read([](store::read_txn& t) { return t.users().id_by_email("new.user@example.com"); });
    BOOST_TEST_REQUIRE(owner.has_value());
    BOOST_TEST(owner->value_or("") == user_id);
    auto s = env.read([&](store::read_txn& t) { return t.sessions().get(session_id); });
    BOOST_TEST_REQUIRE(s.has_value());
    BOOST_TEST_REQUIRE(s->has_value());
    BOOST_TEST((*s)->user_id == user_id);
    BOOST_TEST((*s)->status == "active");
}

BOOST_AUTO_TEST_CASE(an_owned_email_is_form_identifier_exists_and_nothing_is_sent) {
    handler_env env;
    auto user = env.bapi(http::verb::post, "/v1/users",
                         json::object{{"email_address", json::array{"taken@example.com"}}, {"password", password}});
    BOOST_TEST_REQUIRE(user.status == 200u, user.body);
    auto r = env.fapi("POST", "/v1/client/sign_ups", {{"email_address", "Taken@Example.com"}, {"password", password}});
    BOOST_TEST(r.status == 422u, r.body);
    BOOST_TEST(r.error_code() == "form_identifier_exists");
    BOOST_TEST(r.param_name() == "email_address");
    BOOST_TEST(env.sink().sent().empty());
}

BOOST_AUTO_TEST_CASE(a_weak_password_is_refused_before_anything_is_written) {
    handler_env env;
    auto const before = env.db().version();
    auto r = env.fapi("POST", "/v1/client/sign_ups", {{"email_address", "weak@example.com"}, {"password", "short"}});
    BOOST_TEST(r.status == 422u, r.body);
    BOOST_TEST(r.param_name() == "password");
    BOOST_TEST(env.sink().sent().empty());
    auto n = env.read([](store::read_txn& t) { return t.users().count({}); });
    BOOST_TEST(n.value() == 0u);
    (void)before;
}

BOOST_AUTO_TEST_SUITE_END()
