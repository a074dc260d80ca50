#pragma once
// What several integration suites do the same way to get to the point they test: a BAPI fixture, a seeded
// signed-in user, a signed-in browser, the invitation links the outbox holds. Kept out of server_fixture.hpp so
// only the suites that use it include it. Failed expectations throw std::runtime_error (as in server_fixture).
#include "tests/common/server_fixture.hpp"

#include <string>

namespace latchkey::test {

/// A server with default settings and a BAPI client on it (use as BOOST_FIXTURE_TEST_CASE(name, bapi_env)).
struct bapi_env {
    test_server s;
    http_client b = bapi_client(s);
    server::api::app& a = s.app();
};

/// A server with default settings and a browser on it (use as BOOST_FIXTURE_TEST_CASE(name, fapi_env)).
struct fapi_env {
    test_server s;
    http_client c{s.fapi_port()};
};

/// Seeds a user (verified `email`, and `password` when non-empty), a client and an active session on that client,
/// directly in the store.
signed_in seed_signed_in(test_server& s, std::string const& email, std::string const& password = {});

/// A browser (its own cookie jar) signed in as a new user with `email`.
struct person {
    http_client c;
    signed_in who;
};
person browser(test_server& s, std::string const& email);

/// What `res` says, as http_client::request returns it (headers lower-cased, Set-Cookie apart, JSON parsed).
http_result to_result(http::response<http::string_body> const& res);

/// The `__clerk_ticket` query value of `link`.
std::string ticket_of(std::string const& link);

/// The link of the last message of `kind` (invitation, organization_invitation, ...) sent to `to`.
std::string link_sent_to(test_server& s, std::string const& to, std::string const& kind);

/// The `__clerk_ticket` of that link.
inline std::string ticket_sent_to(test_server& s, std::string const& to, std::string const& kind) {
    return ticket_of(link_sent_to(s, to, kind));
}

}  // namespace latchkey::test
