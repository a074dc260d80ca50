#pragma once
// Paging through a Clerk-compatible Backend API's users (Clerk's own, or another latchkey's) with libcurl.
#include <boost/json/value.hpp>

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>

namespace latchkey::server::migrate {

/// GETs `<base>/v1/users?limit=100&offset=N&order_by=+created_at` with `Authorization: Bearer <secret_key>`
/// until a short page, handing each user object to `each` with the total when the source tells it (else 0).
/// A 429 waits for its Retry-After (at most 60 s, at most 20 times in a row); other failures (5xx, transport,
/// a body that is not a user list) are retried 3 times with backoff, then end the paging. Returns "" or why
/// the paging stopped. Progress remarks go to `err`.
std::string fetch_users(std::string const& base, std::string const& secret_key,
                        std::function<void(boost::json::value, std::size_t)> const& each, std::ostream& err);

}  // namespace latchkey::server::migrate
