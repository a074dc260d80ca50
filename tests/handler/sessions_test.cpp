// Session touch and end on the memory store: the stored session moves, and ending one drops its cached token
// after the commit (no token for it is shown or minted afterwards).
#include "tests/handler/budget.hpp"

#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::handler_test;

BOOST_AUTO_TEST_SUITE(handler_sessions)

BOOST_AUTO_TEST_CASE(touch_moves_last_active_at) {
    handler_env env;
    auto const sid = signed_in(env, "touch@example.com");
    auto const before = stored_session(env, sid).last_active_at;
    env.app().clock_offset_ms += 5'000;
    auto r = env.fapi("POST", "/v1/client/sessions/" + sid + "/touch");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(str(r.response().at("id")) == sid);
    BOOST_TEST(stored_session(env, sid).last_active_at >= before + 5'000);
}

BOOST_AUTO_TEST_CASE(end_writes_the_status_and_evicts_the_token_after_commit) {
    handler_env env;
    auto const sid = signed_in(env, "end@example.com");
    auto minted = env.fapi("POST", "/v1/client/sessions/" + sid + "/tokens");
    BOOST_TEST_REQUIRE(minted.status == 200u, minted.body);
    auto const now_s = env.app().now_ms() / 1000;
    BOOST_TEST(env.app().tokens.find(sid, "", now_s, 0, 0) != nullptr);  // cached by the sign-in / mint

    auto ended = env.fapi("POST", "/v1/client/sessions/" + sid + "/end");
    BOOST_TEST_REQUIRE(ended.status == 200u, ended.body);
    BOOST_TEST(str(ended.response().at("status")) == "ended");
    BOOST_TEST(stored_session(env, sid).status == "ended");
    BOOST_TEST(env.app().tokens.find(sid, "", now_s, 0, 0) == nullptr);
    // No token for an ended session.
    auto again = env.fapi("POST", "/v1/client/sessions/" + sid + "/tokens");
    BOOST_TEST(again.status / 100 == 4u, again.body);
}

BOOST_AUTO_TEST_CASE(sign_out_of_all_ends_every_session_of_the_client) {
    handler_env env;
    auto const sid = signed_in(env, "all@example.com");
    auto r = env.fapi("DELETE", "/v1/client/sessions");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(stored_session(env, sid).status == "ended");
    BOOST_TEST(env.app().tokens.find(sid, "", env.app().now_ms() / 1000, 0, 0) == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
