#pragma once
// Boost.Test checks the integration suites make the same way (non-fatal BOOST_TEST, as the suites wrote them).
// Header-only: the fixture library is also linked where Boost.Test is not.
#include "tests/common/server_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace latchkey::test {

/// The reply's piggy-backed client holds `sid` as its last active session: active, of `user_id`, with a session
/// token for it.
inline void expect_new_session(http_result const& r, std::string const& sid, std::string const& user_id) {
    auto sess = client_session(r, sid);
    BOOST_TEST_REQUIRE(sess.is_object(), "the new session is missing from the piggy-backed client");
    BOOST_TEST(str(sess.at("status")) == "active");
    BOOST_TEST(str(sess.at("user").at("id")) == user_id);
    auto jwt = str(sess.at("last_active_token").at("jwt"));
    BOOST_TEST(str(jwt_payload(jwt).at("sub")) == user_id);
    BOOST_TEST(str(jwt_payload(jwt).at("sid")) == sid);
    BOOST_TEST(str(r.json.at("client").at("last_active_session_id")) == sid);
}

/// The reply's response is a new attempt: 200, an id starting with `prefix`, the `object` and `status` given.
/// Returns the attempt's id.
inline std::string expect_attempt(http_result const& r, std::string const& prefix, std::string const& object,
                                  std::string const& status) {
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& a = response(r);
    std::string id = str(a.at("id"));
    BOOST_TEST(id.starts_with(prefix));
    BOOST_TEST(str(a.at("object")) == object);
    BOOST_TEST(str(a.at("status")) == status);
    return id;
}

}  // namespace latchkey::test
