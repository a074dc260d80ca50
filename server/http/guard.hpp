#pragma once
// What may leave the server built from request input: header field values and redirect targets.
//
// Response splitting is refused in two places that every response passes: `serialize_head` (the only code
// that writes a head to the wire) never writes a field whose name or value fails `header_safe`, and every
// redirect target the API accepts or stores goes through `parse_redirect`, which re-serialises the URL from
// Boost.URL's parse instead of copying the input.
#include "server/http/types.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::server {

/// False when `v` holds CR, LF or NUL (RFC 9110 section 5.5: never valid in a field value).
bool header_safe(std::string_view v) noexcept;

/// True when no field name or value of `res` (nor its reason phrase) could split the response.
bool head_safe(response const& res);

/// Serializes the status line and header fields of `res` into `out` (reused per connection, so its capacity is
/// allocated once); the caller sends the body as a second buffer of the same gather write: one `sendmsg` per
/// response, without Beast's serializer (whose buffer-sequence iterators cost more than the copy on small
/// responses; A/B in bench/RESULTS.md). Responses always carry Content-Length (set by `prepare_payload`; bodies
/// are strings), never chunked encoding. THE writer of heads: a field that fails `header_safe` is never
/// written (the connection code has already replaced such a response with a 500 after `head_safe`, so this is
/// the last line of defence, not the first).
void serialize_head(response const& res, std::string& out);

inline constexpr std::size_t max_redirect_bytes = 4096;

struct redirect_target {
    std::string origin;  ///< scheme://host[:port], lower-case, default port dropped
    std::string url;     ///< the URL re-serialised from its parse (normalised)
};

/// A redirect target: an absolute http(s) URL with a host, no userinfo, and no control characters, spaces,
/// backslashes or non-ASCII bytes anywhere (at most max_redirect_bytes). nullopt for anything else. Whether
/// its origin is allowed is the caller's policy.
std::optional<redirect_target> parse_redirect(std::string_view input);

/// `url` (as parse_redirect returned it) with `name=value` appended to its query, both percent-encoded,
/// and the fragment kept last.
std::string with_query_param(std::string_view url, std::string_view name, std::string_view value);

}  // namespace latchkey::server
