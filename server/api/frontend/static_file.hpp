#pragma once
// What every file the FAPI serves from the binary (SDK bundles, the default avatar, the portal's script) shares:
// a strong ETag computed by the compiler from the bytes, and the If-None-Match check.
#include "server/api/context.hpp"

#include <array>
#include <cstdint>
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

}  // namespace latchkey::server::api::frontend
