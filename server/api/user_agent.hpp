#pragma once
// A small User-Agent parser for Clerk's SessionActivity: browser name and version, device type, is_mobile.
//
// It answers what <UserProfile/>'s "Active devices" shows, the way Clerk reports it: a browser name from a
// fixed set (Chrome, Firefox, Safari, Edge, Opera, Samsung Internet, Internet Explorer; headless and iOS
// builds report under the browser they are), the browser's version as its UA gives it ("120.0.6099.129"),
// and the device the UA names (Macintosh, Windows, Linux, Chrome OS, iPhone, iPad, Android, Android tablet).
// Phones and tablets are mobile.
//
// Bounded and allocation-free: only the first max_user_agent_bytes of the input are read, every search is a
// plain substring find over them, and the results are views of static names or of the input itself (versions
// are runs of digits and dots, at most max_version_chars long), so the output is always printable ASCII,
// whatever bytes the input holds.
#include <cstddef>
#include <string_view>

namespace latchkey::server::api {

/// The most of a User-Agent that is stored and parsed; longer values are cut (no real browser comes close).
inline constexpr std::size_t max_user_agent_bytes = 512;

/// The longest browser version reported (longer runs are cut).
inline constexpr std::size_t max_version_chars = 32;

/// What a User-Agent says. Empty views mean "unknown" (rendered as null).
/// Object lifetimes: browser_version views the parsed input; the names view static storage.
struct user_agent_info {
    std::string_view browser_name;
    std::string_view browser_version;
    std::string_view device_type;
    bool is_mobile = false;
};

/// Parses `ua` (any bytes; never throws, never reads past max_user_agent_bytes).
user_agent_info parse_user_agent(std::string_view ua) noexcept;

}  // namespace latchkey::server::api
