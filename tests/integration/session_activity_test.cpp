// Session activity (latest_activity) over HTTP against the real server: the browser, device and address a
// sign-in came from, shown by FAPI GET /v1/me/sessions/active and the BAPI session; refreshed by touch and not by
// token mints; the city and country from a GeoIP database — a real MaxMind DB file written by the small MMDB
// writer below and read by libmaxminddb —; hostile User-Agents stored bounded and rendered as valid JSON; and
// a bad geoip_database stopping the binary at start with exit code 2.
#include "server/geoip.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using namespace latchkey;
using namespace latchkey::test;

namespace {

constexpr char const* password = "correct horse battery staple";

constexpr char const* chrome_mac =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.85 "
    "Safari/537.36";
constexpr char const* safari_iphone =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Mobile/15E148 Safari/604.1";
constexpr char const* firefox_windows =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
constexpr char const* chrome_android =
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile "
    "Safari/537.36";

using headers = std::vector<std::pair<std::string, std::string>>;

/// A FAPI call as http_client::fapi makes it, with extra request headers (User-Agent, X-Forwarded-For).
http_result fapi_with(http_client& c, std::string const& method, std::string const& path,
                      std::vector<std::pair<std::string, std::string>> const& form, headers extra) {
    std::string target = path;
    target += path.find('?') == std::string::npos ? '?' : '&';
    target += "__clerk_api_version=2025-11-10&_clerk_js_version=6.40.0";
    if (!c.dev_browser.empty()) target += "&__clerk_db_jwt=" + c.dev_browser;
    http::verb verb = http::verb::get;
    std::string body;
    if (method != "GET") {
        verb = http::verb::post;
        if (method != "POST") target += "&_method=" + method;
        extra.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        body = form_encode(form);
    }
    return c.request(verb, target, body, extra);
}

/// Signs `email` in with its password from browser `c`, sending `extra` headers; returns the new session id.
std::string sign_in_with(http_client& c, std::string const& email, headers const& extra) {
    auto r = fapi_with(c, "POST", "/v1/client/sign_ins",
                       {{"identifier", email}, {"strategy", "password"}, {"password", password}}, extra);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST_REQUIRE(str(response(r).at("status")) == "complete", r.body);
    return str(response(r).at("created_session_id"));
}

/// latest_activity of session `sid` in GET /v1/me/sessions/active, as browser `c` sees it.
json::object fapi_activity(http_client& c, std::string const& sid) {
    auto r = c.fapi("GET", "/v1/me/sessions/active");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST_REQUIRE(r.json.is_array(), "not JSON (or not UTF-8): " << r.body);
    for (auto const& s : r.json.as_array())
        if (str(s.at("id")) == sid) return s.at("latest_activity").as_object();
    BOOST_FAIL("session " << sid << " missing from /v1/me/sessions/active: " << r.body);
    return {};
}

/// The BAPI session's latest_activity (null or an object).
json::value bapi_activity(test_server& s, std::string const& sid) {
    auto b = bapi_client(s);
    auto r = b.bapi(http::verb::get, "/v1/sessions/" + sid);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST_REQUIRE(r.json.is_object(), "not JSON (or not UTF-8): " << r.body);
    return r.json.at("latest_activity");
}

/// Checks every member of a SessionActivity: the shape (exactly these nine keys) and the values (null when the
/// expected string is empty).
void expect_activity(json::object const& a, std::string_view browser, std::string_view version, std::string_view device,
                     bool mobile, std::string_view ip, std::string_view city, std::string_view country) {
    BOOST_TEST(a.size() == 9u, json::serialize(a));
    BOOST_TEST(str(a.at("object")) == "session_activity");
    BOOST_TEST(str(a.at("id")).starts_with("sess_activity_"));
    auto check = [&](char const* key, std::string_view want) {
        auto const& v = a.at(key);
        if (want.empty())
            BOOST_TEST(v.is_null(), key << " should be null: " << json::serialize(a));
        else
            BOOST_TEST((v.is_string() && v.as_string() == want),
                       key << " should be " << want << ": " << json::serialize(a));
    };
    check("browser_name", browser);
    check("browser_version", version);
    check("device_type", device);
    BOOST_TEST(a.at("is_mobile").is_bool());
    BOOST_TEST(a.at("is_mobile").as_bool() == mobile, json::serialize(a));
    check("ip_address", ip);
    check("city", city);
    check("country", country);
}

// ---- A MaxMind DB writer, just enough for tests (https://maxmind.github.io/MaxMind-DB/) ----
//
// Layout: the binary search tree (node_count nodes of two 24-bit records, left for a 0 bit, right for a 1 bit;
// a record holds a node number, node_count for "no data", or node_count + 16 + an offset into the data
// section), 16 zero bytes, the data section (values in the MaxMind DB type encoding), then the metadata
// marker "\xAB\xCD\xEFMaxMind.com" followed by the metadata map.

class mmdb_writer {
public:
    /// Maps the IPv4 prefix a.b.c.d/len to `data` (a JSON object of objects and strings).
    void insert(std::array<std::uint8_t, 4> addr, unsigned len, json::value const& data) {
        std::uint32_t const offset = static_cast<std::uint32_t>(data_.size());
        encode(data_, data);
        std::size_t node = 0;
        for (unsigned bit = 0; bit < len; ++bit) {
            unsigned const b = (addr[bit / 8] >> (7 - bit % 8)) & 1u;
            bool const last = bit + 1 == len;
            auto& rec = nodes_[node][b];
            if (last) {
                rec = {kind::data, offset};
            } else {
                if (rec.k != kind::node) {
                    rec = {kind::node, static_cast<std::uint32_t>(nodes_.size())};
                    nodes_.push_back({});
                }
                node = nodes_[node][b].v;
            }
        }
    }

    std::string file() const {
        std::string out;
        auto const n = static_cast<std::uint32_t>(nodes_.size());
        for (auto const& node : nodes_) {
            for (auto const& rec : node) {
                std::uint32_t v = n;  // empty
                if (rec.k == kind::node) v = rec.v;
                if (rec.k == kind::data) v = n + 16 + rec.v;
                out.push_back(static_cast<char>((v >> 16) & 0xff));
                out.push_back(static_cast<char>((v >> 8) & 0xff));
                out.push_back(static_cast<char>(v & 0xff));
            }
        }
        out.append(16, '\0');
        out += data_;
        out += "\xAB\xCD\xEFMaxMind.com";
        map_header(out, 9);
        string(out, "binary_format_major_version");
        uint(out, 5, 2);
        string(out, "binary_format_minor_version");
        uint(out, 5, 0);
        string(out, "build_epoch");
        uint(out, 9, 1700000000);
        string(out, "database_type");
        string(out, "Latchkey-Test-City");
        string(out, "description");
        map_header(out, 1);
        string(out, "en");
        string(out, "latchkey session activity test database");
        string(out, "ip_version");
        uint(out, 5, 4);
        string(out, "languages");
        control(out, 11, 1);
        string(out, "en");
        string(out, "node_count");
        uint(out, 6, n);
        string(out, "record_size");
        uint(out, 5, 24);
        return out;
    }

private:
    enum class kind : std::uint8_t { empty, node, data };
    struct record {
        kind k = kind::empty;
        std::uint32_t v = 0;
    };
    std::vector<std::array<record, 2>> nodes_{1};
    std::string data_;

    /// A control byte (type in the top 3 bits, or 0 and an extended-type byte for types above 7) and the size.
    static void control(std::string& out, unsigned type, std::size_t size) {
        unsigned first = 0;
        std::string ext;
        if (size < 29) {
            first = static_cast<unsigned>(size);
        } else if (size < 29 + 256) {
            first = 29;
            ext.push_back(static_cast<char>(size - 29));
        } else {
            first = 30;
            std::size_t const s = size - 285;
            ext.push_back(static_cast<char>((s >> 8) & 0xff));
            ext.push_back(static_cast<char>(s & 0xff));
        }
        if (type <= 7) {
            out.push_back(static_cast<char>((type << 5) | first));
        } else {
            out.push_back(static_cast<char>(first));
            out.push_back(static_cast<char>(type - 7));
        }
        out += ext;
    }
    static void map_header(std::string& out, std::size_t pairs) { control(out, 7, pairs); }
    static void string(std::string& out, std::string_view s) {
        control(out, 2, s.size());
        out += s;
    }
    /// An unsigned integer of `type` (5 uint16, 6 uint32, 9 uint64): big-endian, leading zero bytes dropped.
    static void uint(std::string& out, unsigned type, std::uint64_t v) {
        std::string bytes;
        for (; v != 0; v >>= 8) bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
        control(out, type, bytes.size());
        out += bytes;
    }
    static void encode(std::string& out, json::value const& v) {
        if (v.is_string()) {
            string(out, v.as_string());
        } else if (v.is_object()) {
            map_header(out, v.as_object().size());
            for (auto const& kv : v.as_object()) {
                string(out, kv.key());
                encode(out, kv.value());
            }
        } else {
            throw std::runtime_error("mmdb_writer: only objects and strings");
        }
    }
};

/// A test GeoIP database: 127.0.0.0/8 in Testville, TV; 10.0.0.0/8 in XX with no city; nothing else.
std::string write_test_mmdb(std::string const& dir) {
    mmdb_writer w;
    w.insert({127, 0, 0, 0}, 8, json::parse(R"({"city":{"names":{"en":"Testville","de":"Teststadt"}},
        "country":{"iso_code":"TV","names":{"en":"Testland"}}})"));
    w.insert({10, 0, 0, 0}, 8, json::parse(R"({"country":{"iso_code":"XX"}})"));
    std::string path = dir + "/test-city.mmdb";
    std::ofstream(path, std::ios::binary) << w.file();
    return path;
}

/// Runs the latchkey binary with `args` (and `env` before it), returns {exit status, stdout+stderr}.
std::pair<int, std::string> run_binary(std::string const& env, std::string const& args) {
    char const* bin = std::getenv("LATCHKEY_BIN");
    BOOST_TEST_REQUIRE(bin != nullptr, "LATCHKEY_BIN must point at the latchkey binary");
    std::string cmd = env + " '" + bin + "' " + args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    BOOST_TEST_REQUIRE(p != nullptr);
    std::string out;
    std::array<char, 512> buf{};
    while (auto n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    int const st = ::pclose(p);
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

bool exists(std::string const& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(session_activity)

BOOST_AUTO_TEST_CASE(sign_in_records_browser_device_and_address) {
    test_server s;
    auto uid = seed_user(s.app(), "ada@example.com", password);
    http_client c(s.fapi_port());
    auto sid = sign_in_with(c, "ada@example.com", {{"User-Agent", chrome_mac}});

    auto fa = fapi_activity(c, sid);
    expect_activity(fa, "Chrome", "121.0.6167.85", "Macintosh", false, "127.0.0.1", "", "");
    auto ba = bapi_activity(s, sid);
    BOOST_TEST_REQUIRE(ba.is_object(), json::serialize(ba));
    expect_activity(ba.as_object(), "Chrome", "121.0.6167.85", "Macintosh", false, "127.0.0.1", "", "");
    BOOST_TEST((str(ba.at("id")) == str(fa.at("id"))));  // one activity record, two views

    // The BAPI session list carries it too.
    auto b = bapi_client(s);
    auto list = b.bapi(http::verb::get, "/v1/sessions?user_id=" + uid);
    BOOST_TEST_REQUIRE(list.status == 200u, list.body);
    BOOST_TEST_REQUIRE(list.json.is_array());
    BOOST_TEST(str(list.json.at(0).at("latest_activity").at("browser_name")) == "Chrome");

    // Sign-up records it as well (start_session is shared): a second browser, on its phone.
    http_client phone(s.fapi_port());
    auto up = fapi_with(phone, "POST", "/v1/client/sign_ups",
                        {{"email_address", "grace+clerk_test@example.com"}, {"password", password}},
                        {{"User-Agent", safari_iphone}});
    BOOST_TEST_REQUIRE(up.status == 200u, up.body);
    auto suid = str(response(up).at("id"));
    auto code = fapi_with(phone, "POST", "/v1/client/sign_ups/" + suid + "/attempt_verification",
                          {{"strategy", "email_code"}, {"code", "424242"}}, {{"User-Agent", safari_iphone}});
    BOOST_TEST_REQUIRE(code.status == 200u, code.body);
    BOOST_TEST_REQUIRE(str(response(code).at("status")) == "complete", code.body);
    auto psid = str(response(code).at("created_session_id"));
    expect_activity(fapi_activity(phone, psid), "Safari", "17.2", "iPhone", true, "127.0.0.1", "", "");
}

BOOST_AUTO_TEST_CASE(sessions_without_activity) {
    // A session recorded before activity existed (or made without a request): the FAPI still sends the object
    // clerk-js expects, with nulls; the BAPI sends null, as its schema allows.
    test_server s;
    auto [c, in] = browser(s, "old@example.com");
    auto fa = fapi_activity(c, in.session_id);
    expect_activity(fa, "", "", "", false, "", "", "");
    BOOST_TEST(bapi_activity(s, in.session_id).is_null());
}

BOOST_AUTO_TEST_CASE(touch_refreshes_activity_and_token_mints_do_not) {
    test_server s;
    seed_user(s.app(), "lin@example.com", password);
    http_client c(s.fapi_port());
    auto sid = sign_in_with(c, "lin@example.com", {{"User-Agent", firefox_windows}});
    auto first = fapi_activity(c, sid);
    expect_activity(first, "Firefox", "121.0", "Windows", false, "127.0.0.1", "", "");

    // A token mint from another browser string changes nothing (no write on the hot path).
    auto tok = fapi_with(c, "POST", "/v1/client/sessions/" + sid + "/tokens", {}, {{"User-Agent", chrome_android}});
    BOOST_TEST_REQUIRE(tok.status == 200u, tok.body);
    BOOST_TEST((fapi_activity(c, sid) == first));

    // A touch with the same browser and address keeps the record (and its id).
    auto same = fapi_with(c, "POST", "/v1/client/sessions/" + sid + "/touch", {}, {{"User-Agent", firefox_windows}});
    BOOST_TEST_REQUIRE(same.status == 200u, same.body);
    BOOST_TEST((fapi_activity(c, sid) == first));

    // A touch from another browser string records the new one under a new id.
    auto moved = fapi_with(c, "POST", "/v1/client/sessions/" + sid + "/touch", {}, {{"User-Agent", chrome_android}});
    BOOST_TEST_REQUIRE(moved.status == 200u, moved.body);
    auto now = fapi_activity(c, sid);
    expect_activity(now, "Chrome", "120.0.6099.144", "Android", true, "127.0.0.1", "", "");
    BOOST_TEST(str(now.at("id")) != str(first.at("id")));
    auto ba = bapi_activity(s, sid);
    BOOST_TEST((ba == json::value(now)));
}

BOOST_AUTO_TEST_CASE(test_mmdb_is_read_by_libmaxminddb) {
    tmp_dir dir;
    auto path = write_test_mmdb(dir.path);
    server::geoip geo(path);
    BOOST_TEST(geo.database_type() == "Latchkey-Test-City");
    auto p = geo.lookup("127.0.0.1");
    BOOST_TEST(p.city == "Testville");
    BOOST_TEST(p.country == "TV");
    p = geo.lookup("127.255.1.2");
    BOOST_TEST(p.city == "Testville");
    p = geo.lookup("10.1.2.3");
    BOOST_TEST(p.city.empty());
    BOOST_TEST(p.country == "XX");
    for (auto const* unknown :
         {"128.0.0.1", "126.255.255.255", "192.168.1.1", "::1", "2001:db8::1", "", "nonsense", "localhost"}) {
        p = geo.lookup(unknown);
        BOOST_TEST(p.city.empty(), unknown);
        BOOST_TEST(p.country.empty(), unknown);
    }
}

BOOST_AUTO_TEST_CASE(geoip_database_fills_city_and_country) {
    tmp_dir dir;
    auto path = write_test_mmdb(dir.path);
    test_server s([&](conf::config& c) { c.geoip_database = path; });
    seed_user(s.app(), "kai@example.com", password);

    http_client direct(s.fapi_port());
    auto sid = sign_in_with(direct, "kai@example.com", {{"User-Agent", safari_iphone}});
    expect_activity(fapi_activity(direct, sid), "Safari", "17.2", "iPhone", true, "127.0.0.1", "Testville", "TV");
    auto ba = bapi_activity(s, sid);
    BOOST_TEST_REQUIRE(ba.is_object());
    expect_activity(ba.as_object(), "Safari", "17.2", "iPhone", true, "127.0.0.1", "Testville", "TV");

    // Behind a proxy that proves itself with the secret key, the forwarded address is the client's.
    auto const via_proxy = [&](std::string const& xff) -> headers {
        return {{"User-Agent", chrome_mac}, {"X-Forwarded-For", xff}, {"Clerk-Secret-Key", s.secret_key()}};
    };
    http_client office(s.fapi_port());
    auto osid = sign_in_with(office, "kai@example.com", via_proxy(" 10.1.2.3 , 198.51.100.7"));
    expect_activity(fapi_activity(office, osid), "Chrome", "121.0.6167.85", "Macintosh", false, "10.1.2.3", "", "XX");

    http_client v6(s.fapi_port());
    auto v6sid = sign_in_with(v6, "kai@example.com", via_proxy("2001:DB8:0:0::1"));
    expect_activity(fapi_activity(v6, v6sid), "Chrome", "121.0.6167.85", "Macintosh", false, "2001:db8::1", "", "");

    http_client mapped(s.fapi_port());
    auto msid = sign_in_with(mapped, "kai@example.com", via_proxy("::ffff:127.0.0.9"));
    expect_activity(fapi_activity(mapped, msid), "Chrome", "121.0.6167.85", "Macintosh", false, "127.0.0.9",
                    "Testville", "TV");

    // Without the key, X-Forwarded-For is ignored: the socket's address counts.
    http_client forged(s.fapi_port());
    auto fsid = sign_in_with(forged, "kai@example.com", {{"User-Agent", chrome_mac}, {"X-Forwarded-For", "10.9.9.9"}});
    expect_activity(fapi_activity(forged, fsid), "Chrome", "121.0.6167.85", "Macintosh", false, "127.0.0.1",
                    "Testville", "TV");

    // A forwarded value that is no address is recorded as none (and looked up as nothing).
    http_client junk(s.fapi_port());
    auto jsid = sign_in_with(junk, "kai@example.com", via_proxy("<script>\"x\""));
    expect_activity(fapi_activity(junk, jsid), "Chrome", "121.0.6167.85", "Macintosh", false, "", "", "");

    // A touch from a new address moves the place with it.
    auto moved = fapi_with(office, "POST", "/v1/client/sessions/" + osid + "/touch", {}, via_proxy("127.1.1.1"));
    BOOST_TEST_REQUIRE(moved.status == 200u, moved.body);
    expect_activity(fapi_activity(office, osid), "Chrome", "121.0.6167.85", "Macintosh", false, "127.1.1.1",
                    "Testville", "TV");
}

BOOST_AUTO_TEST_CASE(hostile_user_agents_are_stored_bounded_and_render_as_valid_json) {
    test_server s;
    seed_user(s.app(), "eve@example.com", password);
    std::vector<std::string> const hostile = {
        std::string(6000, 'A') + " Chrome/1.2.3",  // huge (the token is past the bound)
        "Mozilla/5.0 (Windows) \xff\xfe\xc0\xaf Firefox/\xe2\x82\xac"
        "9",  // invalid UTF-8
        "\"},\"is_mobile\":true,\"x\":\"\\u0000</script><script>alert(1)</script> Chrome/9\"9",
        "Mozilla/5.0 (\tiPhone\t) Version/1.0\t Safari/1 AppleWebKit/1",  // tabs, the one control character allowed
        std::string(600, '\x80') + "Edg/5",                               // obs-text bytes only
    };
    for (auto const& ua : hostile) {
        http_client c(s.fapi_port());
        auto r = fapi_with(c, "POST", "/v1/client/sign_ins",
                           {{"identifier", "eve@example.com"}, {"strategy", "password"}, {"password", password}},
                           {{"User-Agent", ua}});
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        BOOST_TEST_REQUIRE(r.json.is_object(), "invalid JSON or UTF-8 in the sign-in reply");
        auto sid = str(response(r).at("created_session_id"));

        auto stored = load_session(s, sid);
        BOOST_TEST_REQUIRE(stored.has_value());
        BOOST_TEST(stored->activity.user_agent == ua.substr(0, 512));  // kept bounded, byte for byte

        auto fa = fapi_activity(c, sid);  // parsed as strict JSON with valid UTF-8
        BOOST_TEST(fa.size() == 9u);
        BOOST_TEST(fa.at("is_mobile").is_bool());
        for (auto const* key : {"browser_name", "browser_version", "device_type"}) {
            auto const& v = fa.at(key);
            BOOST_TEST((v.is_null() || v.is_string()), key);
            if (v.is_string())
                for (char ch : v.as_string()) BOOST_TEST((ch >= 0x20 && ch < 0x7f), key << " holds a raw byte");
        }
        BOOST_TEST(bapi_activity(s, sid).is_object());
    }
    // Other control characters never reach a handler: the HTTP parser refuses the request (400).
    http_client ctl(s.fapi_port());
    auto refused = fapi_with(ctl, "POST", "/v1/client/sign_ins",
                             {{"identifier", "eve@example.com"}, {"strategy", "password"}, {"password", password}},
                             {{"User-Agent", "Mozilla/5.0 (iPhone\x01\x1f\x7f) Chrome/1"}});
    BOOST_TEST(refused.status == 400u, refused.body);

    // What the parser makes of some of the hostile values above.
    http_client c(s.fapi_port());
    auto sid = sign_in_with(c, "eve@example.com", {{"User-Agent", hostile[0]}});
    expect_activity(fapi_activity(c, sid), "", "", "", false, "127.0.0.1", "", "");
    http_client d(s.fapi_port());
    sid = sign_in_with(d, "eve@example.com", {{"User-Agent", hostile[2]}});
    expect_activity(fapi_activity(d, sid), "Chrome", "9", "", false, "127.0.0.1", "", "");
    http_client e(s.fapi_port());
    sid = sign_in_with(e, "eve@example.com", {{"User-Agent", hostile[3]}});
    expect_activity(fapi_activity(e, sid), "Safari", "1.0", "iPhone", true, "127.0.0.1", "", "");
}

BOOST_AUTO_TEST_CASE(bad_geoip_database_fails_at_start_with_exit_2) {
    tmp_dir dir;
    std::string const data = dir.path + "/data";
    std::string const common = "serve --listen 127.0.0.1:0 --backend-listen 127.0.0.1:0 --data-dir '" + data + "'";

    auto [rc, out] = run_binary("", common + " --geoip-database '" + dir.path + "/missing.mmdb'");
    BOOST_TEST(rc == 2, out);
    BOOST_TEST(out.find("geoip_database") != std::string::npos, out);
    BOOST_TEST(out.find("missing.mmdb") != std::string::npos, out);

    std::ofstream(dir.path + "/garbage.mmdb") << "not a MaxMind database at all";
    std::tie(rc, out) = run_binary("LATCHKEY_GEOIP_DATABASE='" + dir.path + "/garbage.mmdb'", common);
    BOOST_TEST(rc == 2, out);
    BOOST_TEST(out.find("geoip_database") != std::string::npos, out);

    BOOST_TEST(!exists(data), "the data dir was written before the bad setting was refused");
}

BOOST_AUTO_TEST_SUITE_END()
