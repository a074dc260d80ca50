#pragma once
// issue 17's envelope budget, shared by the handler suites: a FAPI write replies with the envelope its own write txn
// read — exactly the expected writes, nothing after the write, a bound on the reads before it (counting_db's txn
// log) — and the client it piggy-backs is the one a fresh GET /v1/client renders right after (the same bytes).
#include "tests/handler/harness.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>

namespace latchkey::handler_test {

/// The client `r` piggy-backs is, byte for byte, what a fresh GET /v1/client renders right after.
inline void expect_fresh_client(handler_env& env, answer const& r) {
    auto fresh = env.fapi("GET", "/v1/client");
    BOOST_TEST_REQUIRE(fresh.status == 200u, fresh.body);
    BOOST_TEST(json::serialize(r.json.at("client")) == json::serialize(fresh.json.at("response")));
}

/// Runs `call` (a FAPI call that must succeed) and holds it to the envelope's budget: `writes` writes (0 or 1), the
/// write the last txn, after at most `max_reads` reads; the piggy-backed client is byte for byte what a fresh read
/// renders.
inline answer within_budget(handler_env& env, std::size_t writes, std::size_t max_reads,
                            std::function<answer()> const& call) {
    (void)env.txn_log();
    answer r = call();
    auto const log = env.txn_log();
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(static_cast<std::size_t>(std::count(log.begin(), log.end(), 'w')) == writes, log);
    if (writes > 0 && !log.empty()) BOOST_TEST(log.back() == 'w', "a txn after the write: " << log);
    BOOST_TEST(static_cast<std::size_t>(std::count(log.begin(), log.end(), 'r')) <= max_reads, log);
    expect_fresh_client(env, r);
    return r;
}

/// A user with a password (create_password_user) and the env's browser signed in as them; returns the session id.
inline std::string signed_in(handler_env& env, std::string const& email) {
    create_password_user(env, email);
    auto r = password_sign_in(env, email);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return str(r.response().at("created_session_id"));
}

}  // namespace latchkey::handler_test
