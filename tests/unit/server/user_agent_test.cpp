// The User-Agent parser behind latest_activity: a table of real browser UAs (desktop Chrome, Firefox, Safari,
// Edge, Opera on Windows, macOS and Linux; iPhone, iPad and Android browsers; headless Chrome; bots), then
// hostile input (empty, garbage, control bytes, invalid UTF-8, megabytes) that must parse to something bounded.
#include "server/api/user_agent.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>

using latchkey::server::api::max_user_agent_bytes;
using latchkey::server::api::max_version_chars;
using latchkey::server::api::parse_user_agent;
using latchkey::server::api::user_agent_info;

namespace {

struct ua_case {
    std::string_view ua;
    std::string_view browser;
    std::string_view version;
    std::string_view device;
    bool mobile;
};

// clang-format off
constexpr ua_case cases[] = {
    // ---- desktop ----
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "120.0.0.0", "Windows", false},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.85 Safari/537.36",
     "Chrome", "121.0.6167.85", "Macintosh", false},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.224 Safari/537.36",
     "Chrome", "120.0.6099.224", "Linux", false},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36",
     "Chrome", "120.0.6099.28", "Linux", false},
    {"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "120.0.0.0", "Chrome OS", false},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
     "Firefox", "121.0", "Windows", false},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:122.0) Gecko/20100101 Firefox/122.0",
     "Firefox", "122.0", "Macintosh", false},
    {"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
     "Firefox", "121.0", "Linux", false},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2.1 Safari/605.1.15",
     "Safari", "17.2.1", "Macintosh", false},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
     "Edge", "120.0.2210.91", "Windows", false},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.133",
     "Edge", "120.0.2210.133", "Macintosh", false},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/64.0.3282.140 Safari/537.36 Edge/17.17134",
     "Edge", "17.17134", "Windows", false},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
     "Opera", "106.0.0.0", "Windows", false},
    {"Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18",
     "Opera", "12.18", "Windows", false},
    {"Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
     "Internet Explorer", "11.0", "Windows", false},
    {"Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)",
     "Internet Explorer", "10.0", "Windows", false},
    // ---- phones and tablets ----
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
     "Safari", "17.2", "iPhone", true},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
     "Chrome", "120.0.6099.119", "iPhone", true},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15",
     "Firefox", "121.0", "iPhone", true},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/120.2210.150 Mobile/15E148 Safari/605.1.15",
     "Edge", "120.2210.150", "iPhone", true},
    {"Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
     "Safari", "17.2", "iPad", true},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
     "Chrome", "120.0.6099.144", "Android", true},
    {"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Safari/537.36",
     "Chrome", "120.0.6099.144", "Android tablet", true},
    {"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
     "Samsung Internet", "23.0", "Android", true},
    {"Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
     "Firefox", "121.0", "Android", true},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115",
     "Edge", "120.0.2210.115", "Android", true},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 OPR/79.0.4195.76524",
     "Opera", "79.0.4195.76524", "Android", true},
    // ---- not browsers: unknown browser, device when named ----
    {"curl/8.4.0", "", "", "", false},
    {"@clerk/backend@1.21.4", "", "", "", false},
    {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "", "", "", false},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
     "", "", "iPhone", true},  // an in-app WebView names no browser
    {"", "", "", "", false},
    // ---- odd versions ----
    {"Chrome/", "Chrome", "", "", false},
    {"Chrome/.", "Chrome", "", "", false},
    {"Chrome/12..", "Chrome", "12", "", false},
    {"Chrome/<script>alert(1)</script>", "Chrome", "", "", false},
    {"Firefox/1.2\"3", "Firefox", "1.2", "", false},
};
// clang-format on

/// Printable ASCII only, as every output must be whatever came in.
bool printable(std::string_view s) {
    for (char c : s)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

void check_bounded(user_agent_info const& r, std::string_view in) {
    BOOST_TEST(r.browser_version.size() <= max_version_chars);
    BOOST_TEST(printable(r.browser_name));
    BOOST_TEST(printable(r.browser_version));
    BOOST_TEST(printable(r.device_type));
    // The version views the input's first max_user_agent_bytes.
    if (!r.browser_version.empty()) {
        BOOST_TEST((r.browser_version.data() >= in.data()));
        BOOST_TEST((r.browser_version.data() + r.browser_version.size() <=
                    in.data() + std::min(in.size(), max_user_agent_bytes)));
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(user_agent)

BOOST_AUTO_TEST_CASE(real_browsers_table) {
    for (auto const& c : cases) {
        auto const r = parse_user_agent(c.ua);
        BOOST_TEST(r.browser_name == c.browser, c.ua);
        BOOST_TEST(r.browser_version == c.version, c.ua);
        BOOST_TEST(r.device_type == c.device, c.ua);
        BOOST_TEST(r.is_mobile == c.mobile, c.ua);
        check_bounded(r, c.ua);
    }
}

BOOST_AUTO_TEST_CASE(only_the_first_512_bytes_count) {
    // A browser token past the bound is not seen; one before it is, and its version is cut at the bound.
    std::string padded(max_user_agent_bytes, 'x');
    BOOST_TEST(parse_user_agent(padded + "Chrome/120.0").browser_name.empty());
    std::string at_edge = std::string(max_user_agent_bytes - 11, 'x') + "Chrome/120.0.6099.129 (Windows)";
    auto r = parse_user_agent(at_edge);
    BOOST_TEST(r.browser_name == "Chrome");
    BOOST_TEST(r.browser_version == "120");  // cut after "Chrome/120.", the dangling dot dropped
    BOOST_TEST(r.device_type.empty());
    check_bounded(r, at_edge);
}

BOOST_AUTO_TEST_CASE(long_versions_are_cut) {
    std::string ua = "Firefox/" + std::string(200, '9');
    auto r = parse_user_agent(ua);
    BOOST_TEST(r.browser_name == "Firefox");
    BOOST_TEST(r.browser_version == std::string(max_version_chars, '9'));
}

BOOST_AUTO_TEST_CASE(hostile_bytes) {
    std::string nul_ua("Mozilla/5.0 (Windows\0NT) Chrome/1\0.2", 37);
    auto r = parse_user_agent(nul_ua);
    BOOST_TEST(r.browser_name == "Chrome");
    BOOST_TEST(r.browser_version == "1");
    BOOST_TEST(r.device_type == "Windows");
    check_bounded(r, nul_ua);

    std::string bad_utf8 = "\xff\xfe\xc0\xaf Firefox/\xe2\x82 9 \x80\r\n\t";
    r = parse_user_agent(bad_utf8);
    BOOST_TEST(r.browser_name == "Firefox");
    BOOST_TEST(r.browser_version.empty());
    check_bounded(r, bad_utf8);

    std::string huge(4 << 20, 'A');  // 4 MiB: read only up to the bound
    r = parse_user_agent(huge);
    BOOST_TEST(r.browser_name.empty());
    check_bounded(r, huge);

    // Random bytes seeded with browser tokens: never crashes (ASan/UBSan), output always bounded and printable.
    std::mt19937 rng(19);
    std::string_view const tokens[] = {"Chrome/", "Version/", "Safari/", "AppleWebKit/", "Android",
                                       "Mobile",  "Trident/", "rv:",     "Edg/",         "OPR/",
                                       "iPad",    "Opera/",   "MSIE "};
    for (int i = 0; i < 5000; ++i) {
        std::string s;
        auto const n = rng() % 700;
        while (s.size() < n) {
            if (rng() % 4 == 0)
                s += tokens[rng() % std::size(tokens)];
            else
                s += static_cast<char>(rng() % 256);
        }
        auto const out = parse_user_agent(s);
        check_bounded(out, s);
    }
}

BOOST_AUTO_TEST_SUITE_END()
