// The admin console against the real server (issue 23): one-time console links (single use, expiry), operator
// sign-in with password and TOTP, lockout, the session cookie (attributes, replay after sign-out, idle and
// absolute timeouts), CSRF on every write (token header and Origin), the operator role checks (impersonation),
// the BAPI reached through a console session, the audit log (API and `latchkey audit`), the static app (CSP,
// precompression, ETags), and the FAPI listener never serving any of it.
#include "server/api/console/console.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "crypto/totp.hpp"
#include "server/delivery/history.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/scripted_http.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

using namespace latchkey;
using namespace latchkey::test;
namespace console = latchkey::server::api::console;

namespace {

using verb = http::verb;
constexpr char const* op_password = "operator password 1";

/// A console client on the backend listener: the cookie jar, the listener's Origin and the CSRF token.
struct console_client {
    explicit console_client(test_server& s) : s_(s), http(s.bapi_port()) {
        http.origin = "http://127.0.0.1:" + std::to_string(s.bapi_port());
    }
    /// Opens a fresh console link for `name` (as `latchkey console-link` does) and signs in with it.
    http_result open_link(std::string const& name = "owner") {
        auto token = console::create_link(s_.app().db, name, s_.app().now_ms());
        BOOST_TEST_REQUIRE(token.has_value());
        last_token = *token;
        return follow(*token);
    }
    http_result follow(std::string const& token) {
        auto r = http.request(verb::get, "/console/link?token=" + token);
        if (r.status == 303) load_csrf();
        return r;
    }
    void load_csrf() {
        auto r = http.request(verb::get, "/console/api/session");
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        csrf = str(r.json.at("csrf_token"));
    }
    /// A JSON request with the CSRF header (unless `with_csrf` is false).
    http_result call(verb m, std::string const& path, json::value const& body = nullptr, bool with_csrf = true) {
        std::vector<std::pair<std::string, std::string>> h;
        if (with_csrf) h.emplace_back(std::string(console::csrf_header), csrf);
        std::string text;
        if (!body.is_null()) {
            h.emplace_back("Content-Type", "application/json");
            text = json::serialize(body);
        }
        return http.request(m, path, text, h);
    }

    test_server& s_;
    http_client http;
    std::string csrf;
    std::string last_token;
};

void add_operator(test_server& s, std::string const& name, std::string const& role, std::string const& totp = {}) {
    auto r = console::add_operator(s.app().db, name, role, op_password, totp, s.app().now_ms());
    BOOST_TEST_REQUIRE(r.has_value());
}

http_result password_sign_in(console_client& c, std::string const& name, std::string const& password,
                             std::string const& code = {}) {
    auto r = c.http.request(verb::post, "/console/api/sign_in",
                            json::serialize(json::object{{"name", name}, {"password", password}, {"code", code}}),
                            {{"Content-Type", "application/json"}});
    if (r.status == 200) c.csrf = str(r.json.at("csrf_token"));
    return r;
}

std::vector<store::audit_record> audit_log(test_server& s) {
    auto r = s.app().db.with_read([](store::read_txn& t) { return t.console().audit(100); });
    BOOST_TEST_REQUIRE(r.has_value());
    return *r;
}

bool audited(test_server& s, std::string const& action, std::string const& target, int status) {
    for (auto const& e : audit_log(s))
        if (e.action == action && e.target == target && e.status == status) return true;
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(console_auth)

BOOST_AUTO_TEST_CASE(link_signs_in_once_with_a_strict_cookie) {
    test_server s;
    console_client c(s);
    auto r = c.open_link();
    BOOST_TEST_REQUIRE(r.status == 303u, r.body);
    BOOST_TEST(r.headers["location"] == "/console/");
    BOOST_TEST_REQUIRE(r.set_cookies.size() == 1u);
    auto const& sc = r.set_cookies[0];
    BOOST_TEST(sc.starts_with(std::string(console::cookie_name) + "="));
    BOOST_TEST(sc.find("HttpOnly") != std::string::npos);
    BOOST_TEST(sc.find("SameSite=Strict") != std::string::npos);
    BOOST_TEST(sc.find("Path=/") != std::string::npos);
    BOOST_TEST(sc.find("Secure") == std::string::npos);  // no TLS listener here
    auto me = c.http.request(verb::get, "/console/api/session");
    BOOST_TEST_REQUIRE(me.status == 200u, me.body);
    BOOST_TEST(me.json.at("operator").at("name") == "owner");
    BOOST_TEST(me.json.at("operator").at("role") == "admin");
    BOOST_TEST(me.json.as_object().contains("csrf_token"));

    // The same link again (another browser): refused, and signs nobody in.
    console_client other(s);
    auto again = other.follow(c.last_token);
    expect_error(again, 401, "console_link_invalid", "token");
    BOOST_TEST(again.set_cookies.empty());
    // An unknown token, and none at all.
    expect_error(other.follow("not-a-token"), 401, "console_link_invalid", "token");
    expect_error(other.http.request(verb::get, "/console/link"), 401, "console_link_invalid", "token");
    BOOST_TEST(audited(s, "console.link", "", 401));
}

BOOST_AUTO_TEST_CASE(expired_link_is_refused) {
    test_server s;
    auto token = console::create_link(s.app().db, "owner", s.app().now_ms());
    BOOST_TEST_REQUIRE(token.has_value());
    s.advance(std::chrono::milliseconds(console::link_ttl_ms + 1000));
    console_client c(s);
    expect_error(c.follow(*token), 401, "console_link_invalid", "token");
    // A link for an operator that does not exist is not created (only "owner" is made on demand).
    BOOST_TEST(!console::create_link(s.app().db, "nobody", s.app().now_ms()).has_value());
}

BOOST_AUTO_TEST_CASE(cookie_replayed_after_sign_out_is_refused) {
    test_server s;
    console_client c(s);
    BOOST_TEST_REQUIRE(c.open_link().status == 303u);
    auto const cookie = c.http.cookies.at(std::string(console::cookie_name));
    auto out = c.call(verb::post, "/console/api/sign_out");
    BOOST_TEST_REQUIRE(out.status == 200u, out.body);
    BOOST_TEST(out.set_cookies.at(0).find("Max-Age=0") != std::string::npos);
    // The old cookie, replayed: refused on the console's routes and on the BAPI's.
    console_client replay(s);
    replay.http.cookies[std::string(console::cookie_name)] = cookie;
    expect_error(replay.http.request(verb::get, "/console/api/session"), 401, "console_session_invalid");
    expect_error(replay.http.request(verb::get, "/v1/users"), 401, "console_session_invalid");
    // A made-up cookie, too.
    replay.http.cookies[std::string(console::cookie_name)] = "forged";
    expect_error(replay.http.request(verb::get, "/v1/users"), 401, "console_session_invalid");
}

BOOST_AUTO_TEST_CASE(idle_and_absolute_timeouts_end_the_session) {
    test_server s;
    console_client c(s);
    BOOST_TEST_REQUIRE(c.open_link().status == 303u);
    // Activity keeps it alive past the idle timeout...
    for (int i = 0; i < 3; ++i) {
        s.advance(std::chrono::milliseconds(console::idle_timeout_ms / 2));
        BOOST_TEST_REQUIRE(c.http.request(verb::get, "/v1/users").status == 200u);
    }
    // ...idleness ends it.
    s.advance(std::chrono::milliseconds(console::idle_timeout_ms + 1));
    expect_error(c.http.request(verb::get, "/v1/users"), 401, "console_session_invalid");

    // However active, a session ends at the absolute timeout.
    console_client d(s);
    BOOST_TEST_REQUIRE(d.open_link().status == 303u);
    std::int64_t const step = console::idle_timeout_ms / 2;
    std::int64_t elapsed = 0;
    while (elapsed + step < console::absolute_timeout_ms) {
        s.advance(std::chrono::milliseconds(step));
        elapsed += step;
        BOOST_TEST_REQUIRE(d.http.request(verb::get, "/v1/users").status == 200u);
    }
    s.advance(std::chrono::milliseconds(console::absolute_timeout_ms - elapsed + 1000));
    expect_error(d.http.request(verb::get, "/v1/users"), 401, "console_session_invalid");
}

BOOST_AUTO_TEST_CASE(writes_need_the_csrf_token_and_the_listeners_origin) {
    test_server s;
    auto uid = seed_user(s.app(), "csrf@example.com");
    console_client c(s);
    BOOST_TEST_REQUIRE(c.open_link().status == 303u);
    // No token, a wrong token: refused, and nothing changed.
    expect_error(c.call(verb::post, "/v1/users/" + uid + "/ban", nullptr, false), 403, "console_csrf_invalid");
    c.csrf += "x";
    expect_error(c.call(verb::post, "/v1/users/" + uid + "/ban"), 403, "console_csrf_invalid");
    c.load_csrf();
    // The right token from another origin, or with no Origin at all: refused.
    c.http.origin = "http://evil.example";
    expect_error(c.call(verb::post, "/v1/users/" + uid + "/ban"), 403, "console_csrf_invalid");
    c.http.origin.clear();
    expect_error(c.call(verb::post, "/v1/users/" + uid + "/ban"), 403, "console_csrf_invalid");
    BOOST_TEST(!load_user(s, uid)->banned);
    // Sign-in by password checks the Origin too (no login CSRF).
    add_operator(s, "olga", "admin");
    console_client x(s);
    x.http.origin = "http://evil.example";
    expect_error(password_sign_in(x, "olga", op_password), 403, "console_csrf_invalid");
    // Token and Origin right: the BAPI route runs as for the secret key, and is audited.
    c.http.origin = "http://127.0.0.1:" + std::to_string(s.bapi_port());
    auto ok = c.call(verb::post, "/v1/users/" + uid + "/ban");
    BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
    BOOST_TEST(ok.json.at("banned") == true);
    BOOST_TEST(load_user(s, uid)->banned);
    BOOST_TEST(audited(s, "POST /v1/users/{user_id}/ban", uid, 200));
    // Reads need no token.
    auto list = c.http.request(verb::get, "/v1/users?query=csrf");
    BOOST_TEST_REQUIRE(list.status == 200u);
    BOOST_TEST(list.json.as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(password_and_totp_sign_in_and_lockout) {
    test_server s;
    std::string const raw = "12345678901234567890";
    std::string const b32 = crypto::base32_encode(raw);
    add_operator(s, "tess", "support", b32);
    console_client c(s);
    // A wrong code, a missing code, a wrong password, an unknown name: the same refusal.
    expect_error(password_sign_in(c, "tess", op_password, "000000"), 401, "operator_credentials_invalid");
    expect_error(password_sign_in(c, "tess", op_password), 401, "operator_credentials_invalid");
    expect_error(password_sign_in(c, "tess", "wrong password"), 401, "operator_credentials_invalid");
    expect_error(password_sign_in(c, "nobody", op_password), 401, "operator_credentials_invalid");
    expect_error(password_sign_in(c, "tess", ""), 422, "form_param_missing", "password");
    // Password and code: signed in (three failures so far).
    auto code = crypto::totp(raw, s.app().now_ms() / 1000);
    auto ok = password_sign_in(c, "TESS", op_password, code);
    BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
    BOOST_TEST(ok.json.at("operator").at("role") == "support");
    BOOST_TEST(c.http.request(verb::get, "/console/api/session").status == 200u);
    // The same code again (replay): refused.
    console_client d(s);
    expect_error(password_sign_in(d, "tess", op_password, code), 401, "operator_credentials_invalid");
    // Five failures in a row lock the operator; then even the right credentials are refused until it ends.
    for (int i = 0; i < console::max_failed_sign_ins - 2; ++i)
        expect_error(password_sign_in(d, "tess", "wrong"), 401, "operator_credentials_invalid");
    expect_error(password_sign_in(d, "tess", "wrong"), 403, "operator_locked");
    s.advance(std::chrono::seconds(31));
    expect_error(password_sign_in(d, "tess", op_password, crypto::totp(raw, s.app().now_ms() / 1000)), 403,
                 "operator_locked");
    s.advance(std::chrono::milliseconds(console::lockout_ms));
    auto back = password_sign_in(d, "tess", op_password, crypto::totp(raw, s.app().now_ms() / 1000));
    BOOST_TEST(back.status == 200u, back.body);
    BOOST_TEST(audited(s, "console.sign_in", audit_log(s).front().target, 200));
    int locked = 0;
    for (auto const& e : audit_log(s)) locked += e.detail == "locked out" || e.detail == "locked";
    BOOST_TEST(locked >= 2);
}

BOOST_AUTO_TEST_CASE(roles_limit_what_an_operator_may_do) {
    test_server s;
    auto uid = seed_user(s.app(), "role@example.com");
    add_operator(s, "vera", "viewer");
    add_operator(s, "sam", "support");
    console_client viewer(s);
    BOOST_TEST_REQUIRE(password_sign_in(viewer, "vera", op_password).status == 200u);
    BOOST_TEST(viewer.http.request(verb::get, "/v1/users/" + uid).status == 200u);
    expect_error(viewer.call(verb::post, "/v1/users/" + uid + "/lock"), 403, "operator_right_missing");
    console_client support(s);
    BOOST_TEST_REQUIRE(password_sign_in(support, "sam", op_password).status == 200u);
    BOOST_TEST(support.call(verb::post, "/v1/users/" + uid + "/lock").status == 200u);
    // Impersonation needs its own right: support does not have it, the owner (admin) does.
    json::object actor{{"user_id", uid}, {"actor", json::object{{"sub", "operator:sam"}}}};
    expect_error(support.call(verb::post, "/v1/actor_tokens", actor), 403, "operator_right_missing");
    console_client admin(s);
    BOOST_TEST_REQUIRE(admin.open_link().status == 303u);
    auto t = admin.call(verb::post, "/v1/actor_tokens", actor);
    BOOST_TEST_REQUIRE(t.status == 200u, t.body);
    BOOST_TEST(t.json.at("url").is_string());
    BOOST_TEST(audited(s, "POST /v1/actor_tokens", uid, 200));
    BOOST_TEST(audited(s, "POST /v1/actor_tokens", uid, 403));
}

BOOST_AUTO_TEST_CASE(audit_log_is_served_and_printed) {
    test_server s;
    auto uid = seed_user(s.app(), "audit@example.com");
    console_client c(s);
    BOOST_TEST_REQUIRE(c.open_link().status == 303u);
    BOOST_TEST_REQUIRE(c.call(verb::post, "/v1/users/" + uid + "/lock").status == 200u);
    auto log = c.http.request(verb::get, "/console/api/audit?limit=10");
    BOOST_TEST_REQUIRE(log.status == 200u, log.body);
    auto const& newest = log.json.at("data").as_array().at(0).as_object();
    BOOST_TEST(newest.at("action") == "POST /v1/users/{user_id}/lock");
    BOOST_TEST(str(newest.at("target")) == uid);
    BOOST_TEST(newest.at("operator_name") == "owner");
    BOOST_TEST(newest.at("ip") == "127.0.0.1");
    BOOST_TEST(newest.at("status") == 200);
    expect_error(c.http.request(verb::get, "/console/api/audit?limit=0"), 422, "form_param_value_invalid", "limit");
    expect_error(c.http.request(verb::get, "/console/api/audit?limit=abc"), 422, "form_param_value_invalid", "limit");
    // Without a session: refused.
    http_client anon(s.bapi_port());
    expect_error(anon.request(verb::get, "/console/api/audit"), 401, "console_session_invalid");

    // `latchkey audit` prints the same entries from the data dir, beside the running server.
    char const* bin = std::getenv("LATCHKEY_BIN");
    if (bin == nullptr) return;
    std::string const cmd = std::string(bin) + " audit --limit 5 --data-dir " + s.data_dir() + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    BOOST_TEST_REQUIRE(p != nullptr);
    std::string out;
    char buf[4096];
    while (auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    BOOST_TEST(WEXITSTATUS(::pclose(p)) == 0, out);
    BOOST_TEST(out.find("\"action\":\"POST /v1/users/{user_id}/lock\"") != std::string::npos, out);
    BOOST_TEST(out.find(uid) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_fapi_listener_never_serves_the_console) {
    test_server s;
    http_client f(s.fapi_port());
    for (auto const* path :
         {"/console", "/console/", "/console/assets/console.js", "/console/link?token=x", "/console/api/session"})
        expect_error(f.request(verb::get, path), 404, "resource_not_found");
    expect_error(f.request(verb::post, "/console/api/sign_in", "{}", {{"Content-Type", "application/json"}}), 404,
                 "resource_not_found");
    // A console cookie does not authorise the FAPI's routes either (they know nothing of it).
    console_client c(s);
    BOOST_TEST_REQUIRE(c.open_link().status == 303u);
    http_client fc(s.fapi_port());
    fc.cookies = c.http.cookies;
    BOOST_TEST(fc.request(verb::get, "/v1/me").status != 200u);
}

BOOST_AUTO_TEST_CASE(static_app_is_precompressed_with_a_strict_csp) {
    test_server s;
    http_client b(s.bapi_port());
    auto page = b.request(verb::get, "/console/");
    BOOST_TEST_REQUIRE(page.status == 200u);
    BOOST_TEST(page.headers["content-type"].starts_with("text/html"));
    auto const csp = page.headers["content-security-policy"];
    BOOST_TEST(csp.find("default-src 'self'") != std::string::npos);
    BOOST_TEST(csp.find("script-src 'self'") != std::string::npos);
    BOOST_TEST(csp.find("unsafe-inline") == std::string::npos);
    BOOST_TEST(csp.find("frame-ancestors 'none'") != std::string::npos);
    BOOST_TEST(page.body.find("<script type=\"module\" src=\"/console/assets/console.js\">") != std::string::npos);
    BOOST_TEST(page.body.find("<script>") == std::string::npos);  // no inline script
    BOOST_TEST(b.request(verb::get, "/console").status == 200u);

    auto plain = b.request(verb::get, "/console/assets/console.js");
    BOOST_TEST_REQUIRE(plain.status == 200u);
    BOOST_TEST(plain.headers["content-type"].starts_with("text/javascript"));
    BOOST_TEST(!plain.headers.contains("content-encoding"));
    BOOST_TEST(plain.body.find("innerHTML") == std::string::npos);  // data only ever lands as text
    auto br = b.request(verb::get, "/console/assets/console.js", {}, {{"Accept-Encoding", "gzip, deflate, br"}});
    BOOST_TEST(br.headers["content-encoding"] == "br");
    BOOST_TEST(br.body.size() < plain.body.size() / 2);
    auto gz = b.request(verb::get, "/console/assets/console.js", {}, {{"Accept-Encoding", "gzip, br;q=0"}});
    BOOST_TEST(gz.headers["content-encoding"] == "gzip");
    BOOST_TEST(gz.headers["vary"] == "Accept-Encoding");
    // ETags: a revalidation is a 304 without a body.
    auto etag = br.headers["etag"];
    BOOST_TEST(!etag.empty());
    auto again =
        b.request(verb::get, "/console/assets/console.js", {}, {{"Accept-Encoding", "br"}, {"If-None-Match", etag}});
    BOOST_TEST(again.status == 304u);
    BOOST_TEST(again.body.empty());
    expect_error(b.request(verb::get, "/console/assets/nope.js"), 404, "resource_not_found");
    expect_error(b.request(verb::get, "/console/assets/..%2Findex.html"), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(charts_read_bucketed_counters) {
    test_server s;
    auto const pw = std::string("correct horse battery staple");
    seed_user(s.app(), "chart@example.com", pw);
    http_client browser(s.fapi_port());
    auto ok = browser.fapi("POST", "/v1/client/sign_ins",
                           {{"identifier", "chart@example.com"}, {"strategy", "password"}, {"password", pw}});
    BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
    http_client other(s.fapi_port());
    auto bad = other.fapi("POST", "/v1/client/sign_ins",
                          {{"identifier", "chart@example.com"}, {"strategy", "password"}, {"password", "wrong one"}});
    BOOST_TEST_REQUIRE(bad.status == 422u, bad.body);
    console_client c(s);
    BOOST_TEST_REQUIRE(c.open_link().status == 303u);
    for (auto const* range : {"hour", "day", "month"}) {
        auto r = c.http.request(verb::get, std::string("/console/api/stats?range=") + range);
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        auto const& series = r.json.at("series").as_object();
        auto sum = [&](char const* name) {
            std::int64_t n = 0;
            if (auto const* v = series.if_contains(name))
                for (auto const& x : v->as_array()) n += x.as_int64();
            return n;
        };
        std::size_t const buckets = r.json.at("buckets").as_array().size();
        BOOST_TEST(buckets == (std::string(range) == "hour" ? 60u : std::string(range) == "day" ? 24u : 30u));
        BOOST_TEST(sum("sign_ins.ok") == 1);
        BOOST_TEST(sum("sign_ins.ok.password") == 1);
        BOOST_TEST(sum("sign_ins.failed") == 1);
        BOOST_TEST(sum("active_sessions") == 1);
        BOOST_TEST(sum("sign_ups") == 0);
    }
    // A touch in a later minute counts the session active there; a second touch in the same minute does not.
    auto const sid = str(response(ok).at("created_session_id"));
    s.advance(std::chrono::minutes(2));
    BOOST_TEST_REQUIRE(browser.fapi("POST", "/v1/client/sessions/" + sid + "/touch").status == 200u);
    BOOST_TEST_REQUIRE(browser.fapi("POST", "/v1/client/sessions/" + sid + "/touch").status == 200u);
    auto hour = c.http.request(verb::get, "/console/api/stats?range=hour");
    std::int64_t active = 0;
    for (auto const& x : hour.json.at("series").at("active_sessions").as_array()) active += x.as_int64();
    BOOST_TEST(active == 2);
    expect_error(c.http.request(verb::get, "/console/api/stats?range=year"), 422, "form_param_value_invalid", "range");
}

BOOST_FIXTURE_TEST_CASE(secret_key_requests_are_unchanged, bapi_env) {
    // A console cookie next to an Authorization header: the secret key decides (and a bad one is refused).
    console_client c(s);
    BOOST_TEST_REQUIRE(c.open_link().status == 303u);
    b.cookies = c.http.cookies;
    BOOST_TEST(b.bapi(verb::get, "/v1/users").status == 200u);
    b.secret_key = "sk_test_wrong";
    expect_error(b.bapi(verb::get, "/v1/users"), 401, "clerk_key_invalid");
    // Neither: the BAPI's own answer.
    http_client none(s.bapi_port());
    expect_error(none.request(verb::get, "/v1/users"), 401, "authorization_header_missing");
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

/// The ids BAPI GET /v1/users?<query> lists, in its order.
std::vector<std::string> listed_ids(http_client& b, std::string const& query) {
    auto r = b.bapi(verb::get, "/v1/users?" + query);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    std::vector<std::string> out;
    for (auto const& u : r.json.as_array()) out.push_back(str(u.at("id")));
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(console_search)

BOOST_FIXTURE_TEST_CASE(bapi_query_is_a_prefix_search_over_every_identifier, bapi_env) {
    auto ada = create_user(b, {{"email_address", json::array{"ada.lovelace@engine.example"}},
                               {"phone_number", json::array{"+15555550111"}},
                               {"username", "countess"},
                               {"first_name", "Ada"},
                               {"last_name", "Lovelace"},
                               {"external_id", "crm-1815"},
                               {"skip_password_requirement", true}});
    auto alan = create_user(b, {{"email_address", json::array{"alan@turing.example"}},
                                {"first_name", "Alan"},
                                {"last_name", "Turing"},
                                {"skip_password_requirement", true}});
    auto const ada_id = str(ada.at("id")), alan_id = str(alan.at("id"));
    auto ids = [&](std::string const& q) {
        auto v = listed_ids(b, "query=" + q);
        return std::set<std::string>(v.begin(), v.end());
    };
    using set = std::set<std::string>;
    BOOST_TEST(ids("ada.lo") == set{ada_id});           // email prefix
    BOOST_TEST(ids("ADA.LO") == set{ada_id});           // any case
    BOOST_TEST(ids("engine.ex") == set{ada_id});        // email domain
    BOOST_TEST(ids("%2B1555555") == set{ada_id});       // phone, with '+'
    BOOST_TEST(ids("1555555") == set{ada_id});          // and without
    BOOST_TEST(ids("count") == set{ada_id});            // username
    BOOST_TEST(ids("lovel") == set{ada_id});            // last name
    BOOST_TEST(ids("ada%20love") == set{ada_id});       // full name
    BOOST_TEST(ids("crm-18") == set{ada_id});           // external id
    BOOST_TEST(ids(ada_id.substr(0, 7)).size() == 2u);  // id prefix ("user_" + time): both
    BOOST_TEST(ids(ada_id) == set{ada_id});             // a whole id
    BOOST_TEST(ids("a") == (set{ada_id, alan_id}));     // Ada, Alan
    BOOST_TEST(ids("al") == set{alan_id});
    BOOST_TEST(ids("zz").empty());
    // With other filters: both must hold; the count agrees.
    BOOST_TEST(ids("a&user_id=" + alan_id) == set{alan_id});
    BOOST_TEST(ids("ada&user_id=" + alan_id).empty());
    auto count = b.bapi(verb::get, "/v1/users/count?query=a");
    BOOST_TEST(count.json.at("total_count") == 2);
    BOOST_TEST(b.bapi(verb::get, "/v1/users/count?query=zz").json.at("total_count") == 0);
    // Ordering and paging apply to the matches.
    auto page = b.bapi(verb::get, "/v1/users?query=a&order_by=-created_at&limit=1");
    BOOST_TEST_REQUIRE(page.json.as_array().size() == 1u);
    BOOST_TEST(str(page.json.at(0).at("id")) == alan_id);
    auto second = b.bapi(verb::get, "/v1/users?query=a&order_by=first_name&limit=1&offset=1");
    BOOST_TEST(str(second.json.at(0).at("id")) == alan_id);
    // The index follows updates and deletes.
    BOOST_TEST_REQUIRE(b.bapi(verb::patch, "/v1/users/" + alan_id, json::object{{"first_name", "Zed"}}).status == 200u);
    BOOST_TEST(ids("zed") == set{alan_id});
    BOOST_TEST(ids("al").empty() == false);  // still alan@turing.example
    BOOST_TEST_REQUIRE(b.bapi(verb::delete_, "/v1/users/" + alan_id).status == 200u);
    BOOST_TEST(ids("zed").empty());
    // The console session gets the same answers.
    console_client c(s);
    BOOST_TEST_REQUIRE(c.open_link().status == 303u);
    auto r = c.http.request(verb::get, "/v1/users?query=ada.lo");
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at(0).at("id")) == ada_id);
}

// 45 users, 30 of them "Ada": "ada" has 90 index entries (name, email, full name), more than a page's budget, so
// its pages come from walking the users newest (or oldest) first; "ada.lovelace1" (8 matches) from the index.
// Either way the pages are Clerk's order and paging, and the count is the number of matches.
BOOST_FIXTURE_TEST_CASE(broad_query_pages_in_creation_order, bapi_env) {
    std::vector<std::string> adas;
    for (int i = 0; i < 45; ++i) {
        bool const ada = i % 3 != 0;
        auto u = create_user(b, {{"email_address", json::array{(ada ? "ada.lovelace" : "alan.turing") +
                                                               std::to_string(i) + "@example.com"}},
                                 {"first_name", ada ? "Ada" : "Alan"},
                                 {"last_name", ada ? "Lovelace" : "Turing"},
                                 {"skip_password_requirement", true}});
        if (ada) adas.push_back(str(u.at("id")));
    }
    std::sort(adas.begin(), adas.end());  // creation order is id order (two in one millisecond: by the random part)
    auto ids = [&](std::string const& query) { return listed_ids(b, query); };
    auto newest = [&](std::size_t from, std::size_t n) {
        return std::vector<std::string>(adas.rbegin() + from, adas.rbegin() + std::min(from + n, adas.size()));
    };
    BOOST_TEST(ids("query=ada&limit=5") == newest(0, 5));  // -created_at is the default
    BOOST_TEST(ids("query=ADA&limit=5&offset=5&order_by=-created_at") == newest(5, 5));
    BOOST_TEST(ids("query=ada%20l&limit=10&offset=25") == newest(25, 10));
    BOOST_TEST(ids("query=ada&limit=3&order_by=%2Bcreated_at") ==
               std::vector<std::string>(adas.begin(), adas.begin() + 3));
    BOOST_TEST(ids("query=a&limit=100").size() == 45u);  // every user: Ada, Alan
    auto const narrow = ids("query=ada.lovelace1&limit=100");
    BOOST_TEST(narrow.size() == 8u);  // 1, 10..19 minus the Alans (12, 15, 18)
    BOOST_TEST(std::is_sorted(narrow.rbegin(), narrow.rend()));
    BOOST_TEST(b.bapi(verb::get, "/v1/users/count?query=ada").json.at("total_count") == 30);
    BOOST_TEST(b.bapi(verb::get, "/v1/users/count?query=ada.lovelace1").json.at("total_count") == 8);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

/// Waits (bounded) until `pred` holds; true when it did.
template <class F>
bool eventually(F const& pred, std::chrono::seconds limit = std::chrono::seconds(10)) {
    auto const deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

json::object find_by(json::value const& list, std::string const& key, std::string const& value) {
    for (auto const& v : list.at("data").as_array())
        if (v.at(key) == value.c_str()) return v.as_object();
    return {};
}

}  // namespace

// The console's remaining pages (issue 23): the instance page, operator management, and the latchkey BAPI
// endpoints the console adds (template preview, webhook deliveries and retry, the users export), plus the
// organization pages' BAPI calls through a console session.
BOOST_AUTO_TEST_SUITE(console_pages)

BOOST_AUTO_TEST_CASE(instance_page_shows_settings_keys_and_hooks_never_a_secret) {
    test_server s([](conf::config& c) {
        c.allowed_origins = {"https://app.example.com"};
        c.webhooks.push_back(
            {"http://127.0.0.1:1/hooks", {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, {"user.created"}, {}});
        c.delivery.email.password = "smtp secret 123";
    });
    add_operator(s, "vera", "viewer");
    console_client viewer(s);
    BOOST_TEST_REQUIRE(password_sign_in(viewer, "vera", op_password).status == 200u);
    auto r = viewer.http.request(verb::get, "/console/api/instance");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.json.at("allowed_origins").as_array().size() == 1u);
    BOOST_TEST(r.json.at("allowed_origins").at(0) == "https://app.example.com");
    auto const& keys = r.json.at("signing_keys").as_array();
    BOOST_TEST_REQUIRE(keys.size() >= 1u);
    BOOST_TEST(keys[0].at("active") == true);
    BOOST_TEST(keys[0].at("kid") == s.app().keys.active().kid().c_str());
    BOOST_TEST(r.json.at("webhook_endpoints").at(0).at("url") == "http://127.0.0.1:1/hooks");
    BOOST_TEST(r.json.at("settings").at("sign_up_mode") == "public");
    BOOST_TEST(r.json.at("settings").at("email_address").at("enabled") == true);
    // No secret anywhere in it: the secret key, the webhook secret, the SMTP password.
    BOOST_TEST(r.body.find(s.app().inst.secret_keys.at(0)) == std::string::npos);
    BOOST_TEST(r.body.find("whsec_") == std::string::npos);
    BOOST_TEST(r.body.find("smtp secret") == std::string::npos);
    // Without a console session: refused.
    http_client anon(s.bapi_port());
    expect_error(anon.request(verb::get, "/console/api/instance"), 401, "console_session_invalid");
}

BOOST_AUTO_TEST_CASE(operators_are_managed_by_admins_with_an_audit_trail) {
    test_server s;
    console_client admin(s);
    BOOST_TEST_REQUIRE(admin.open_link().status == 303u);
    auto list = admin.http.request(verb::get, "/console/api/operators");
    BOOST_TEST_REQUIRE(list.status == 200u, list.body);
    BOOST_TEST(list.json.at("total_count") == 1);
    auto const owner_id = str(list.json.at("data").at(0).at("id"));

    // Add: a support operator with a password and an authenticator (its secret shown once).
    auto nina =
        admin.call(verb::post, "/console/api/operators",
                   json::object{{"name", "Nina"}, {"role", "support"}, {"password", op_password}, {"totp", true}});
    BOOST_TEST_REQUIRE(nina.status == 200u, nina.body);
    BOOST_TEST(nina.json.at("name") == "nina");
    BOOST_TEST(nina.json.at("totp_enabled") == true);
    auto const nina_id = str(nina.json.at("id"));
    auto const secret = crypto::base32_decode(str(nina.json.at("totp_secret")));
    BOOST_TEST_REQUIRE(secret.has_value());
    BOOST_TEST(str(nina.json.at("otpauth_uri")).starts_with("otpauth://totp/"));
    BOOST_TEST(admin.http.request(verb::get, "/console/api/operators").body.find("totp_secret") == std::string::npos);
    // Bad input.
    expect_error(admin.call(verb::post, "/console/api/operators", json::object{{"name", "nina"}, {"role", "viewer"}}),
                 422, "form_identifier_exists", "name");
    expect_error(admin.call(verb::post, "/console/api/operators", json::object{{"name", "x"}, {"role", "root"}}), 422,
                 "form_param_value_invalid", "role");
    expect_error(
        admin.call(verb::post, "/console/api/operators", json::object{{"name", "<b>x</b>"}, {"role", "viewer"}}), 422,
        "form_param_format_invalid", "name");
    expect_error(admin.call(verb::post, "/console/api/operators",
                            json::object{{"name", "y"}, {"role", "viewer"}, {"password", "short"}}),
                 422, "form_password_length_too_short", "password");
    expect_error(admin.call(verb::post, "/console/api/operators", json::object{{"role", "viewer"}}), 422,
                 "form_param_missing", "name");

    // Nina signs in with her password and authenticator; support may not manage operators.
    console_client n(s);
    BOOST_TEST_REQUIRE(
        password_sign_in(n, "nina", op_password, crypto::totp(*secret, s.app().now_ms() / 1000)).status == 200u);
    expect_error(n.http.request(verb::get, "/console/api/operators"), 403, "operator_right_missing");
    expect_error(n.call(verb::post, "/console/api/operators", json::object{{"name", "z"}, {"role", "admin"}}), 403,
                 "operator_right_missing");
    expect_error(n.call(verb::patch, "/console/api/operators/" + owner_id, json::object{{"role", "viewer"}}), 403,
                 "operator_right_missing");

    // Change role: nina becomes a viewer, and her next write is refused.
    auto uid = seed_user(s.app(), "pages@example.com");
    BOOST_TEST(n.call(verb::post, "/v1/users/" + uid + "/lock").status == 200u);
    auto demoted = admin.call(verb::patch, "/console/api/operators/" + nina_id, json::object{{"role", "viewer"}});
    BOOST_TEST_REQUIRE(demoted.status == 200u, demoted.body);
    BOOST_TEST(demoted.json.at("role") == "viewer");
    expect_error(n.call(verb::post, "/v1/users/" + uid + "/unlock"), 403, "operator_right_missing");
    expect_error(admin.call(verb::patch, "/console/api/operators/" + nina_id, json::object{{"role", "god"}}), 422,
                 "form_param_value_invalid", "role");
    // An admin never changes or removes themself (the instance keeps an admin).
    expect_error(admin.call(verb::patch, "/console/api/operators/" + owner_id, json::object{{"role", "viewer"}}), 422,
                 "form_param_value_invalid", "operator_id");
    expect_error(admin.call(verb::delete_, "/console/api/operators/" + owner_id), 422, "form_param_value_invalid",
                 "operator_id");
    expect_error(admin.call(verb::patch, "/console/api/operators/op_unknown", json::object{{"role", "viewer"}}), 404,
                 "resource_not_found");

    // Reset the authenticator: a new secret, the old one's codes refused.
    auto reset = admin.call(verb::post, "/console/api/operators/" + nina_id + "/reset_totp");
    BOOST_TEST_REQUIRE(reset.status == 200u, reset.body);
    auto const fresh = crypto::base32_decode(str(reset.json.at("totp_secret")));
    BOOST_TEST_REQUIRE(fresh.has_value());
    BOOST_TEST(*fresh != *secret);
    s.advance(std::chrono::seconds(31));
    console_client n2(s);
    expect_error(password_sign_in(n2, "nina", op_password, crypto::totp(*secret, s.app().now_ms() / 1000)), 401,
                 "operator_credentials_invalid");
    BOOST_TEST(password_sign_in(n2, "nina", op_password, crypto::totp(*fresh, s.app().now_ms() / 1000)).status == 200u);

    // Remove: her sessions stop working at once, and she signs in no more (the name stays taken: the audit log
    // names her).
    auto gone = admin.call(verb::delete_, "/console/api/operators/" + nina_id);
    BOOST_TEST_REQUIRE(gone.status == 200u, gone.body);
    BOOST_TEST(gone.json.at("deleted") == true);
    expect_error(n2.http.request(verb::get, "/console/api/session"), 401, "console_session_invalid");
    expect_error(admin.call(verb::delete_, "/console/api/operators/" + nina_id), 404, "resource_not_found");
    console_client n3(s);
    expect_error(password_sign_in(n3, "nina", op_password, crypto::totp(*fresh, s.app().now_ms() / 1000)), 401,
                 "operator_credentials_invalid");
    BOOST_TEST(!console::create_link(s.app().db, "nina", s.app().now_ms()).has_value());
    BOOST_TEST(admin.http.request(verb::get, "/console/api/operators").json.at("total_count") == 1);

    // Every step is in the audit log, with the operator acted on.
    BOOST_TEST(audited(s, "POST /console/api/operators", "", 200));
    BOOST_TEST(audited(s, "PATCH /console/api/operators/{operator_id}", nina_id, 200));
    BOOST_TEST(audited(s, "POST /console/api/operators/{operator_id}/reset_totp", nina_id, 200));
    BOOST_TEST(audited(s, "DELETE /console/api/operators/{operator_id}", nina_id, 200));
    BOOST_TEST(audited(s, "PATCH /console/api/operators/{operator_id}", owner_id, 403));
}

BOOST_FIXTURE_TEST_CASE(template_preview_renders_the_claims_for_a_chosen_user, bapi_env) {
    auto tpl = b.bapi(
        verb::post, "/v1/jwt_templates",
        json::object{{"name", "plan"},
                     {"claims", json::object{{"plan", "{{user.public_metadata.plan}}"}, {"who", "user {{user.id}}"}}}});
    BOOST_TEST_REQUIRE(tpl.status == 200u, tpl.body);
    auto const tid = str(tpl.json.at("id"));
    auto uid = seed_user(s.app(), "preview@example.com");
    BOOST_TEST_REQUIRE(
        b.bapi(verb::patch, "/v1/users/" + uid, json::object{{"public_metadata", json::object{{"plan", "gold"}}}})
            .status == 200u);
    auto p = b.bapi(verb::get, "/v1/jwt_templates/" + tid + "/preview?user_id=" + uid);
    BOOST_TEST_REQUIRE(p.status == 200u, p.body);
    BOOST_TEST(p.json.at("claims").at("plan") == "gold");
    BOOST_TEST(p.json.at("claims").at("who") == ("user " + uid).c_str());
    BOOST_TEST(p.json.at("session_id").is_null());
    // A user with a live session: its session is the one rendered.
    http_client browser(s.fapi_port());
    auto si = sign_in_browser_as(s, browser, uid);
    p = b.bapi(verb::get, "/v1/jwt_templates/" + tid + "/preview?user_id=" + uid);
    BOOST_TEST(p.json.at("session_id") == si.session_id.c_str());
    // Through a viewer's console session (a read).
    add_operator(s, "vera", "viewer");
    console_client viewer(s);
    BOOST_TEST_REQUIRE(password_sign_in(viewer, "vera", op_password).status == 200u);
    BOOST_TEST(viewer.http.request(verb::get, "/v1/jwt_templates/" + tid + "/preview?user_id=" + uid).status == 200u);
    // Bad input.
    expect_error(b.bapi(verb::get, "/v1/jwt_templates/" + tid + "/preview"), 422, "form_param_missing", "user_id");
    expect_error(b.bapi(verb::get, "/v1/jwt_templates/" + tid + "/preview?user_id=user_nobody"), 404,
                 "resource_not_found", "user_id");
    expect_error(b.bapi(verb::get, "/v1/jwt_templates/jtmp_nope/preview?user_id=" + uid), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(webhook_deliveries_are_listed_and_retried) {
    test_server s([](conf::config& c) {
        c.delivery.backoff_base = std::chrono::minutes(10);
        c.delivery.backoff_max = std::chrono::minutes(10);
        c.webhooks.push_back(
            {"http://127.0.0.1:1/hooks", {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, {"user.created"}, {}});
    });
    auto b = bapi_client(s);
    create_user(b,
                json::object{{"email_address", json::array{"hook@example.com"}}, {"skip_password_requirement", true}});
    json::object d;
    // The first attempt fails (nothing listens on port 1): the delivery waits ten minutes for its next.
    BOOST_TEST_REQUIRE(eventually([&] {
        auto r = b.bapi(verb::get, "/v1/webhook_deliveries");
        if (r.status != 200 || r.json.at("data").as_array().empty()) return false;
        d = r.json.at("data").at(0).as_object();
        return d.at("status") == "retrying";
    }));
    BOOST_TEST(d.at("event_type") == "user.created");
    BOOST_TEST(d.at("url") == "http://127.0.0.1:1/hooks");
    BOOST_TEST(d.at("attempts") == 1);
    BOOST_TEST(!str(d.at("last_error")).empty());
    auto const id = str(d.at("id"));

    // A viewer may look but not retry; support retries: the worker tries again now, not in ten minutes.
    add_operator(s, "vera", "viewer");
    console_client viewer(s);
    BOOST_TEST_REQUIRE(password_sign_in(viewer, "vera", op_password).status == 200u);
    BOOST_TEST(viewer.http.request(verb::get, "/v1/webhook_deliveries").status == 200u);
    expect_error(viewer.call(verb::post, "/v1/webhook_deliveries/" + id + "/retry"), 403, "operator_right_missing");
    add_operator(s, "sam", "support");
    console_client support(s);
    BOOST_TEST_REQUIRE(password_sign_in(support, "sam", op_password).status == 200u);
    auto r = support.call(verb::post, "/v1/webhook_deliveries/" + id + "/retry");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(eventually([&] {
        auto l = b.bapi(verb::get, "/v1/webhook_deliveries");
        return l.status == 200 && find_by(l.json, "id", id).contains("attempts") &&
               find_by(l.json, "id", id).at("attempts") == 2;
    }));
    BOOST_TEST(audited(s, "POST /v1/webhook_deliveries/{delivery_id}/retry", id, 200));
    expect_error(b.bapi(verb::post, "/v1/webhook_deliveries/job_nope/retry"), 404, "resource_not_found");
    expect_error(b.bapi(verb::get, "/v1/webhook_deliveries?limit=0"), 422, "form_param_value_invalid", "limit");
}

BOOST_FIXTURE_TEST_CASE(export_downloads_the_users_in_the_import_formats_without_secrets, bapi_env) {
    for (int i = 0; i < 3; ++i)
        create_user(b, json::object{{"email_address", json::array{"exp" + std::to_string(i) + "@example.com"}},
                                    {"password", "correct horse battery staple"}});
    auto csv = b.bapi(verb::get, "/v1/exports/users");
    BOOST_TEST_REQUIRE(csv.status == 200u, csv.body);
    BOOST_TEST(csv.headers["content-type"].starts_with("text/csv"));
    BOOST_TEST(csv.headers["content-disposition"].find("users.csv") != std::string::npos);
    BOOST_TEST(csv.body.starts_with("id,"));
    BOOST_TEST(std::count(csv.body.begin(), csv.body.end(), '\n') == 4);  // header + 3 users
    BOOST_TEST(csv.body.find("exp2@example.com") != std::string::npos);
    BOOST_TEST(csv.body.find("$argon2") == std::string::npos);  // never a digest
    auto js = b.bapi(verb::get, "/v1/exports/users?format=clerk-json");
    BOOST_TEST_REQUIRE(js.status == 200u, js.body);
    auto arr = json::parse(js.body).as_array();
    BOOST_TEST(arr.size() == 3u);
    expect_error(b.bapi(verb::get, "/v1/exports/users?format=xml"), 422, "form_param_value_invalid", "format");
    // Through the console: admins only.
    add_operator(s, "sam", "support");
    console_client support(s);
    BOOST_TEST_REQUIRE(password_sign_in(support, "sam", op_password).status == 200u);
    expect_error(support.http.request(verb::get, "/v1/exports/users"), 403, "operator_right_missing");
    console_client admin(s);
    BOOST_TEST_REQUIRE(admin.open_link().status == 303u);
    BOOST_TEST(admin.http.request(verb::get, "/v1/exports/users").status == 200u);
}

BOOST_AUTO_TEST_CASE(organization_pages_work_through_a_console_session) {
    test_server s([](conf::config& c) { c.organizations.enabled = true; });
    auto uid = seed_user(s.app(), "member@example.com");
    add_operator(s, "sam", "support");
    console_client c(s);
    BOOST_TEST_REQUIRE(password_sign_in(c, "sam", op_password).status == 200u);
    auto org = c.call(verb::post, "/v1/organizations", json::object{{"name", "<script>alert(1)</script> Acme"}});
    BOOST_TEST_REQUIRE(org.status == 200u, org.body);
    auto const oid = str(org.json.at("id"));
    auto const base = "/v1/organizations/" + oid;
    auto found = c.http.request(verb::get, "/v1/organizations?query=acme");
    BOOST_TEST_REQUIRE(found.status == 200u, found.body);
    BOOST_TEST(found.json.at("total_count") == 1);
    BOOST_TEST(
        c.call(verb::post, base + "/memberships", json::object{{"user_id", uid}, {"role", "org:member"}}).status ==
        200u);
    auto role = c.call(verb::patch, base + "/memberships/" + uid, json::object{{"role", "org:admin"}});
    BOOST_TEST_REQUIRE(role.status == 200u, role.body);
    BOOST_TEST(role.json.at("role") == "org:admin");
    auto inv = c.call(verb::post, base + "/invitations",
                      json::object{{"email_address", "new@example.com"}, {"role", "org:member"}});
    BOOST_TEST_REQUIRE(inv.status == 200u, inv.body);
    auto revoked = c.call(verb::post, base + "/invitations/" + str(inv.json.at("id")) + "/revoke", json::object{});
    BOOST_TEST_REQUIRE(revoked.status == 200u, revoked.body);
    BOOST_TEST(revoked.json.at("status") == "revoked");
    auto dom = c.call(verb::post, base + "/domains", json::object{{"name", "acme.test"}, {"verified", true}});
    BOOST_TEST_REQUIRE(dom.status == 200u, dom.body);
    BOOST_TEST(c.call(verb::delete_, base + "/domains/" + str(dom.json.at("id"))).status == 200u);
    BOOST_TEST(c.call(verb::delete_, base + "/memberships/" + uid).status == 200u);
    BOOST_TEST(audited(s, "PATCH /v1/organizations/{organization_id}/memberships/{user_id}", uid, 200));
    BOOST_TEST(audited(s, "DELETE /v1/organizations/{organization_id}/domains/{domain_id}", oid, 200));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- signing-key rotation while serving (server/api/console/keys.cpp) ----

namespace {

/// Whether `jwt` verifies against the key with its kid in the JWKS the BAPI serves now.
bool verifies_against_jwks(http_client& b, std::string const& jwt) {
    auto jwks = b.bapi(verb::get, "/v1/jwks");
    BOOST_TEST_REQUIRE(jwks.status == 200u, jwks.body);
    auto const kid = str(jwt_header(jwt).at("kid"));
    auto parts = crypto::parse_jws(jwt);
    BOOST_TEST_REQUIRE(parts.has_value());
    for (auto const& k : jwks.json.at("keys").as_array()) {
        if (str(k.at("kid")) != kid) continue;
        auto pub = crypto::public_key::from_jwk(str(k.at("n")), str(k.at("e")));
        BOOST_TEST_REQUIRE(pub.has_value());
        return crypto::verify_rs256(pub->get(), *parts).has_value();
    }
    return false;
}

std::set<std::string> jwks_kids(http_client& b) {
    std::set<std::string> kids;
    auto const jwks = b.bapi(verb::get, "/v1/jwks");
    for (auto const& k : jwks.json.at("keys").as_array()) kids.insert(str(k.at("kid")));
    return kids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(console_keys)

BOOST_AUTO_TEST_CASE(rotation_publishes_a_new_key_and_retirement_removes_the_old) {
    test_server s;
    std::string const sid = seed_session(s.app(), seed_client(s.app()), seed_user(s.app(), "keys@example.com"));
    auto b = bapi_client(s);
    auto mint = [&] {
        auto r = b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens");
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        return str(r.json.at("jwt"));
    };
    std::string const old_kid = s.app().keys.active().kid();
    std::string const old_token = mint();
    BOOST_TEST(str(jwt_header(old_token).at("kid")) == old_kid);

    // Rotate from the console (admin): a new key on disk, in the JWKS beside the old, signing new tokens.
    console_client admin(s);
    BOOST_TEST_REQUIRE(admin.open_link().status == 303u);
    auto rotated = admin.call(verb::post, "/v1/signing_keys", json::object{});
    BOOST_TEST_REQUIRE(rotated.status == 200u, rotated.body);
    std::string const new_kid = str(rotated.json.at("kid"));
    BOOST_TEST(new_kid != old_kid);
    BOOST_TEST(rotated.json.at("active") == true);
    BOOST_TEST(rotated.json.at("bits") == 2048);
    BOOST_TEST((jwks_kids(b) == std::set<std::string>{old_kid, new_kid}));
    bool on_disk = false;
    for (auto const& e : std::filesystem::directory_iterator(std::filesystem::path(s.data_dir()) / "keys"))
        on_disk = on_disk || e.path().filename().string() == "0002-" + new_kid + ".pem";
    BOOST_TEST(on_disk);  // as `latchkey keys --rotate` writes it: the next start loads it as the active key
    std::string const new_token = mint();
    BOOST_TEST(str(jwt_header(new_token).at("kid")) == new_kid);
    BOOST_TEST(verifies_against_jwks(b, new_token));
    BOOST_TEST(verifies_against_jwks(b, old_token));  // minted before the rotation: still verifies
    auto listed = b.bapi(verb::get, "/v1/signing_keys");
    BOOST_TEST_REQUIRE(listed.status == 200u, listed.body);
    BOOST_TEST(listed.json.at("total_count") == 2);
    BOOST_TEST(listed.json.at("data").at(0).at("kid") == json::value(new_kid));
    BOOST_TEST(listed.json.at("data").at(0).at("active") == true);
    BOOST_TEST(listed.json.at("data").at(1).at("active") == false);

    // The active key cannot be retired; an unknown kid is not found; viewer and support are refused.
    expect_error(admin.call(verb::delete_, "/v1/signing_keys/" + new_kid), 422, "form_param_value_invalid", "kid");
    expect_error(admin.call(verb::delete_, "/v1/signing_keys/ins_nosuchkey"), 404, "resource_not_found");
    add_operator(s, "vera", "viewer");
    add_operator(s, "sam", "support");
    for (std::string name : {"vera", "sam"}) {
        console_client c(s);
        BOOST_TEST_REQUIRE(password_sign_in(c, name, op_password).status == 200u);
        BOOST_TEST(c.http.request(verb::get, "/v1/signing_keys").status == 200u);
        expect_error(c.call(verb::post, "/v1/signing_keys", json::object{}), 403, "operator_right_missing");
        expect_error(c.call(verb::delete_, "/v1/signing_keys/" + old_kid), 403, "operator_right_missing");
    }
    BOOST_TEST(jwks_kids(b).size() == 2u);

    // Retire the old key: gone from the JWKS, its tokens no longer verify; the new key keeps signing.
    auto retired = admin.call(verb::delete_, "/v1/signing_keys/" + old_kid);
    BOOST_TEST_REQUIRE(retired.status == 200u, retired.body);
    BOOST_TEST(retired.json.at("deleted") == true);
    BOOST_TEST((jwks_kids(b) == std::set<std::string>{new_kid}));
    BOOST_TEST(!verifies_against_jwks(b, old_token));
    BOOST_TEST(verifies_against_jwks(b, mint()));
    BOOST_TEST(audited(s, "DELETE /v1/signing_keys/{kid}", old_kid, 200));
    BOOST_TEST(audited(s, "DELETE /v1/signing_keys/{kid}", new_kid, 422));
    BOOST_TEST(audited(s, "POST /v1/signing_keys", "", 200));
    BOOST_TEST(audited(s, "POST /v1/signing_keys", "", 403));

    // The secret key may rotate too (code can do what the console does).
    auto again = b.bapi(verb::post, "/v1/signing_keys");
    BOOST_TEST_REQUIRE(again.status == 200u, again.body);
    BOOST_TEST(jwks_kids(b).size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(console_deliveries)

BOOST_AUTO_TEST_CASE(successful_deliveries_stay_listed_with_their_response_code) {
    scripted_source receiver({http_answer("204 No Content", "")});
    std::string const url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hooks";
    auto config = [&](conf::config& c) {
        c.webhooks.push_back({url, {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, {"user.created"}, {}});
        c.webhooks.push_back(
            {"http://127.0.0.1:1/down", {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, {"user.created"}, {}});
        c.delivery.backoff_base = std::chrono::minutes(10);
        c.delivery.backoff_max = std::chrono::minutes(10);
    };
    test_server s(config);
    auto b = bapi_client(s);
    {
        for (int i = 0; i < 3; ++i)
            create_user(b, json::object{{"email_address", json::array{"hist" + std::to_string(i) + "@example.com"}},
                                        {"skip_password_requirement", true}});
        // Three successes leave the queue but stay listed; the unreachable endpoint's three wait in the queue.
        BOOST_TEST_REQUIRE(eventually([&] {
            auto r = b.bapi(verb::get, "/v1/webhook_deliveries?status=delivered");
            return r.status == 200 && r.json.at("total_count") == 3;
        }));
        auto d = b.bapi(verb::get, "/v1/webhook_deliveries?status=delivered");
        auto const& first = d.json.at("data").at(0).as_object();
        BOOST_TEST(first.at("url") == json::value(url));
        BOOST_TEST(first.at("event_type") == "user.created");
        BOOST_TEST(first.at("status") == "delivered");
        BOOST_TEST(first.at("attempts") == 1);
        BOOST_TEST(first.at("response_code") == 204);
        BOOST_TEST(first.at("delivered_at").as_int64() >= first.at("created_at").as_int64());
        BOOST_TEST(str(first.at("msg_id")).starts_with("msg_"));
        BOOST_TEST(receiver.requests().size() == 3u);
        BOOST_TEST_REQUIRE(eventually([&] {
            auto r = b.bapi(verb::get, "/v1/webhook_deliveries?status=retrying");
            return r.status == 200 && r.json.at("total_count") == 3;
        }));
        // Filters: by endpoint, by status, both; everything together; a bad status is refused.
        auto all = b.bapi(verb::get, "/v1/webhook_deliveries");
        BOOST_TEST(all.json.at("total_count") == 6);
        auto by_url = b.bapi(verb::get, "/v1/webhook_deliveries?url=http%3A%2F%2F127.0.0.1%3A1%2Fdown");
        BOOST_TEST(by_url.json.at("total_count") == 3);
        for (auto const& x : by_url.json.at("data").as_array()) BOOST_TEST(x.at("status") == "retrying");
        BOOST_TEST(b.bapi(verb::get, "/v1/webhook_deliveries?status=delivered&url=http%3A%2F%2F127.0.0.1%3A1%2Fdown")
                       .json.at("total_count") == 0);
        BOOST_TEST(b.bapi(verb::get, "/v1/webhook_deliveries?status=delivered&limit=2").json.at("total_count") == 2);
        expect_error(b.bapi(verb::get, "/v1/webhook_deliveries?status=sent"), 422, "form_param_value_invalid",
                     "status");
        // The console reads the same list through an operator's session.
        console_client c(s);
        BOOST_TEST_REQUIRE(c.open_link().status == 303u);
        BOOST_TEST(c.http.request(verb::get, "/v1/webhook_deliveries?status=delivered").json.at("total_count") == 3);
    }
}

BOOST_AUTO_TEST_CASE(the_history_is_bounded_per_endpoint_and_read_back_from_its_file) {
    tmp_dir dir;
    std::string const file = dir.path + "/webhook_history.jsonl";
    {
        server::delivery::history h(file, 2);
        for (int i = 0; i < 3; ++i)
            h.record({"job_" + std::to_string(i), "http://a/h", "user.created", "msg_" + std::to_string(i), "delivered",
                      1, 200, "", 10, 100 + i});
        h.record({"job_b", "http://b/h", "user.deleted", "msg_b", "delivered", 2, 202, "", 10, 50});
        h.save();
        auto l = h.list({}, {}, 10);
        BOOST_TEST_REQUIRE(l.size() == 3u);  // job_0 dropped: two per endpoint
        BOOST_TEST(l[0].id == "job_2");
        BOOST_TEST(l[1].id == "job_1");
        BOOST_TEST(l[2].id == "job_b");
    }
    server::delivery::history again(file, 2);
    auto l = again.list("http://b/h", "delivered", 10);
    BOOST_TEST_REQUIRE(l.size() == 1u);
    BOOST_TEST(l[0].response_code == 202);
    BOOST_TEST(l[0].attempts == 2);
    BOOST_TEST(again.list({}, {}, 10).size() == 3u);
    BOOST_TEST(again.list({}, {}, 1).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
