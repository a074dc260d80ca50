#pragma once
// Writing a Unix time as UTC text: the mail Date header (RFC 5322), SAML's xs:dateTime and the Clerk export's
// RFC 3339 timestamps share this. Header-only and including nothing of ours, like escape.hpp, so server/saml (a
// library of its own), server/delivery and server/migrate all include it without an arrow running back up.
#include <cstdint>
#include <ctime>
#include <string>

namespace latchkey::server {

/// `seconds` since the epoch in UTC through strftime's `format` (at most 63 characters of output).
inline std::string format_utc(std::int64_t seconds, char const* format) {
    std::time_t const t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[64];
    std::size_t const n = std::strftime(buf, sizeof buf, format, &tm);
    return std::string(buf, n);
}

}  // namespace latchkey::server
