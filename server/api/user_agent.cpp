#include "server/api/user_agent.hpp"

namespace latchkey::server::api {

namespace {

bool has(std::string_view ua, std::string_view token) noexcept { return ua.find(token) != std::string_view::npos; }

/// The run of digits and dots right after `token` (e.g. "120.0.6099.129" after "Chrome/"), at most
/// max_version_chars long; empty when the token is absent or not followed by a version.
std::string_view version_after(std::string_view ua, std::string_view token) noexcept {
    auto const at = ua.find(token);
    if (at == std::string_view::npos) return {};
    std::string_view rest = ua.substr(at + token.size());
    std::size_t n = 0;
    while (n < rest.size() && n < max_version_chars && ((rest[n] >= '0' && rest[n] <= '9') || rest[n] == '.')) ++n;
    while (n > 0 && rest[n - 1] == '.') --n;  // "Chrome/." or a cut that ends on a dot
    return rest.substr(0, n);
}

struct browser_rule {
    std::string_view token;    ///< what identifies the browser (and precedes its version)
    std::string_view name;     ///< the name reported
    std::string_view version;  ///< the token whose version is reported, when not `token` itself
};

// Order matters: browsers built on Chromium or WebKit also send "Chrome/" and "Safari/", so the specific
// tokens come first, then Firefox, then Chrome (every Chromium, headless and iOS builds included), then
// Safari last.
constexpr browser_rule browsers[] = {
    {"Edg/", "Edge", {}},
    {"EdgA/", "Edge", {}},
    {"EdgiOS/", "Edge", {}},
    {"Edge/", "Edge", {}},  // EdgeHTML (Edge 12-18)
    {"OPR/", "Opera", {}},
    {"OPX/", "Opera", {}},
    {"OPT/", "Opera", {}},
    {"OPiOS/", "Opera", {}},
    {"Opera/", "Opera", "Version/"},  // Presto: "Opera/9.80 ... Version/12.16"
    {"SamsungBrowser/", "Samsung Internet", {}},
    {"FxiOS/", "Firefox", {}},
    {"Firefox/", "Firefox", {}},
    {"CriOS/", "Chrome", {}},
    {"HeadlessChrome/", "Chrome", {}},
    {"Chrome/", "Chrome", {}},
    {"Chromium/", "Chrome", {}},
    {"MSIE ", "Internet Explorer", {}},        // IE 10 and older: "MSIE 10.0; ... Trident/6.0"
    {"Trident/", "Internet Explorer", "rv:"},  // IE 11: "Trident/7.0; rv:11.0"
};

struct device_rule {
    std::string_view token;
    std::string_view name;
    bool mobile;
};

// iOS and Android before the desktop systems their UAs also name ("like Mac OS X", "Linux").
constexpr device_rule devices[] = {
    {"iPhone", "iPhone", true},       {"iPod", "iPhone", true},      {"iPad", "iPad", true},
    {"Android", "Android", true},  // phone or tablet: see below
    {"CrOS", "Chrome OS", false},     {"Windows", "Windows", false}, {"Macintosh", "Macintosh", false},
    {"Mac OS X", "Macintosh", false}, {"Linux", "Linux", false},     {"X11", "Linux", false},
};

}  // namespace

user_agent_info parse_user_agent(std::string_view ua) noexcept {
    ua = ua.substr(0, max_user_agent_bytes);
    user_agent_info out;
    for (auto const& b : browsers) {
        if (!has(ua, b.token)) continue;
        out.browser_name = b.name;
        out.browser_version = version_after(ua, b.version.empty() ? b.token : b.version);
        break;
    }
    // Safari names itself only by "Safari/" (its version is in "Version/"); every browser above that runs on
    // WebKit also says "Safari/", so it is Safari only when nothing else matched.
    if (out.browser_name.empty() && has(ua, "Safari/") && has(ua, "AppleWebKit/")) {
        out.browser_name = "Safari";
        out.browser_version = version_after(ua, "Version/");
    }
    for (auto const& d : devices) {
        if (!has(ua, d.token)) continue;
        out.device_type = d.name;
        out.is_mobile = d.mobile;
        break;
    }
    // Android phones say "Mobile" (Chrome: "Mobile Safari/", Firefox: "; Mobile;"); tablets do not.
    if (out.device_type == "Android" && !has(ua, "Mobile")) out.device_type = "Android tablet";
    return out;
}

}  // namespace latchkey::server::api
