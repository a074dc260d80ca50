#pragma once
// Paging through a Clerk-compatible Backend API's lists (Clerk's own, or another latchkey's) with libcurl.
#include <boost/json/value.hpp>

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace latchkey::server::migrate {

/// GETs `<base><path>` (a "/v1/..." path, with or without a query) adding `limit=100&offset=N`, with
/// `Authorization: Bearer <secret_key>` until a short page, handing each object to `each` with the total when
/// the source tells it (else 0). A 429 waits for its Retry-After (at most 60 s, at most 20 times in a row); a 404
/// ends at once with `not_found` (the source has no such list); other failures (5xx, transport, a body that is
/// not a list) are retried 3 times with backoff, then end the paging. Returns "" or why the paging stopped.
/// Progress remarks go to `err`.
std::string fetch_list(std::string const& base, std::string_view path, std::string const& secret_key,
                       std::function<void(boost::json::value, std::size_t)> const& each, std::ostream& err);

/// What fetch_list returns when the source answered 404 for the list.
inline constexpr std::string_view not_found = "answered 404";

/// fetch_list of `/v1/users?order_by=+created_at`, oldest first. with `Authorization: Bearer <secret_key>`
std::string fetch_users(std::string const& base, std::string const& secret_key,
                        std::function<void(boost::json::value, std::size_t)> const& each, std::ostream& err);

}  // namespace latchkey::server::migrate
