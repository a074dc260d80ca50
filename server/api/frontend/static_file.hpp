#pragma once
// What every file served from the binary (SDK bundles, the default avatar, the portal's script, the console's app)
// shares: a strong ETag computed by the compiler from the bytes, the If-None-Match check, the Accept-Encoding
// choice and the reply.
#include "server/api/context.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::server::api::frontend {

/// FNV-1a of `bytes` as a quoted 16-hex-digit ETag; constexpr, so it follows every edit of embedded text.
constexpr std::array<char, 18> etag_of(std::string_view bytes) {
    std::uint64_t h = 14695981039346656037ull;
    for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    std::array<char, 18> out{};
    out[0] = out[17] = '"';
    for (int i = 16; i >= 1; --i, h >>= 4) out[static_cast<std::size_t>(i)] = "0123456789abcdef"[h & 0xf];
    return out;
}

constexpr std::string_view view_of(std::array<char, 18> const& etag) { return {etag.data(), etag.size()}; }

/// True when If-None-Match (weak comparison, RFC 9110 13.1.2; lists and `*`) matches `etag`.
bool none_match(request_ctx const& ctx, std::string_view etag);

/// The q-value `accept_encoding` gives `coding` ("br", "gzip"; case-insensitive); 0 when absent or refused. A "*"
/// counts for codings not listed.
double accepted_q(std::string_view accept_encoding, std::string_view coding);

/// The reply for a file embedded in the binary, its headers already set: 304 without a body when If-None-Match
/// matches `etag`, else `body` (valid for the whole process) with `encoding` as its Content-Encoding when not empty.
/// The headers of a page the server ships (the portal's documents, the console's app): its Content-Security-Policy,
/// no framing, no MIME sniffing, `referrer_policy`, and a browsing context of its own (COOP same-origin).
void page_security_headers(request_ctx& ctx, std::string csp, std::string_view referrer_policy);

reply embedded_file(request_ctx& ctx, std::string_view content_type, std::string_view etag, std::string_view body,
                    std::string_view encoding = {});

}  // namespace latchkey::server::api::frontend
