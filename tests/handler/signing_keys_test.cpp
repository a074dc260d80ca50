// Signing-key rotation with the shared PostgreSQL store configured (server/api/console/keys.cpp): refused with a
// Clerk-shaped error, the keys untouched (each node has its own copy of keys/, so a rotation on one would not be
// seen by the others). The handler harness keeps the in-memory store whatever the config names.
#include "tests/handler/harness.hpp"

#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::handler_test;

BOOST_AUTO_TEST_SUITE(handler_signing_keys)

BOOST_AUTO_TEST_CASE(rotation_and_retirement_are_refused_with_a_shared_store) {
    handler_env env([](conf::config& c) { c.postgres_url = "postgresql://latchkey@127.0.0.1:1/latchkey"; });
    auto const kid = env.app().keys.active().kid();
    auto r = env.bapi(http::verb::post, "/v1/signing_keys");
    BOOST_TEST(r.status == 409u, r.body);
    BOOST_TEST(r.error_code() == "signing_key_rotation_unsupported");
    auto d = env.bapi(http::verb::delete_, "/v1/signing_keys/" + kid);
    BOOST_TEST(d.status == 409u, d.body);
    BOOST_TEST(d.error_code() == "signing_key_rotation_unsupported");
    BOOST_TEST(env.app().keys.current().size() == 1u);
    BOOST_TEST(env.app().keys.active().kid() == kid);
}

BOOST_AUTO_TEST_SUITE_END()
