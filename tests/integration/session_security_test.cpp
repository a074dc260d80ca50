// Issue 20's session and framing holes, each proven over HTTP against the real server: response splitting and
// open redirects through the handshake's redirect_url, session fixation through a client credential that
// outlived authentication (cookie, native and dev-browser clients), Transfer-Encoding framing, the CSRF gate's
// Referer fallback, and the Secure attribute that a request header must not strip.
#include "tests/common/server_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <cctype>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace latchkey;
using namespace latchkey::test;

namespace {

constexpr char const* password = "correct horse battery staple";

std::string pct(std::string const& s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string o;
    for (unsigned char ch : s) {
        if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            o += static_cast<char>(ch);
        } else {
            o += '%';
            o += hex[ch >> 4];
            o += hex[ch & 15];
        }
    }
    return o;
}

/// Writes `bytes` on a fresh connection and reads everything until the server closes it (or 5 s pass).
std::string read_all(unsigned short port, std::string const& bytes) {
    namespace net = boost::asio;
    net::io_context ioc;
    net::ip::tcp::socket sock(ioc);
    sock.connect({net::ip::make_address("127.0.0.1"), port});
    net::write(sock, net::buffer(bytes));
    std::string out;
    char buf[4096];
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    sock.non_blocking(true);
    while (std::chrono::steady_clock::now() < deadline) {
        boost::system::error_code ec;
        auto n = sock.read_some(net::buffer(buf), ec);
        if (ec == net::error::would_block) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        if (ec) break;  // eof: the server closed
        out.append(buf, n);
    }
    return out;
}

std::size_t count_responses(std::string const& wire) {
    std::size_t n = 0;
    for (auto p = wire.find("HTTP/1.1 "); p != std::string::npos; p = wire.find("HTTP/1.1 ", p + 1)) ++n;
    return n;
}

std::string fapi_origin(test_server& s) { return "http://127.0.0.1:" + std::to_string(s.fapi_port()); }

http_result handshake(test_server& s, std::string const& redirect) {
    http_client c(s.fapi_port());
    return c.request(http::verb::get, "/v1/client/handshake?redirect_url=" + pct(redirect));
}

http_result sign_in(http_client& c, std::string const& email) {
    return c.fapi("POST", "/v1/client/sign_ins",
                  {{"identifier", email}, {"strategy", "password"}, {"password", password}});
}

std::string created_session(http_result const& r) {
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return str(r.json.at("response").at("created_session_id"));
}

/// What a credential can still do: read its client and mint a token for `sid`.
struct reach {
    bool has_client = false;
    unsigned mint_status = 0;
};

reach probe(http_client& c, std::string const& sid) {
    reach out;
    auto got = c.fapi("GET", "/v1/client");
    out.has_client = got.status == 200u && got.json.at("response").is_object();
    out.mint_status = c.fapi("POST", "/v1/client/sessions/" + sid + "/tokens").status;
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(session_security)

// ---- 1. redirect_url: no response splitting, no open redirect ----

BOOST_AUTO_TEST_CASE(handshake_refuses_crlf_in_redirect_url_and_never_splits_the_response) {
    test_server s;
    for (std::string inject : std::vector<std::string>{"\r\nSet-Cookie: pwn=1", "\nSet-Cookie: pwn=1",
                                                       "\rSet-Cookie: pwn=1", std::string("\0Set-Cookie: pwn=1", 18)}) {
        auto r = handshake(s, fapi_origin(s) + "/" + inject);
        expect_error(r, 422, "form_param_value_invalid", "redirect_url");
        for (auto const& sc : r.set_cookies) BOOST_TEST(sc.find("pwn") == std::string::npos, sc);
        BOOST_TEST(r.headers.count("location") == 0u);
    }
    // Raw on the wire: the encoded CRLF never becomes a header of its own.
    auto raw =
        raw_exchange(s.fapi_port(), "GET /v1/client/handshake?redirect_url=" + pct(fapi_origin(s) + "/") +
                                        "%0D%0ASet-Cookie:%20pwn=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    BOOST_TEST(raw.status == 422u);
    for (auto const& sc : raw.set_cookies) BOOST_TEST(sc.find("pwn") == std::string::npos, sc);
}

BOOST_AUTO_TEST_CASE(handshake_refuses_redirects_off_the_allowed_origins) {
    test_server s;
    auto const own = fapi_origin(s);
    std::vector<std::string> const bad = {
        "javascript:alert(1)",
        "data:text/html,hi",
        "//evil.example/",
        "\\\\evil.example\\",
        "/relative",
        "https://evil.example/",
        "http://127.0.0.1.evil.example/",
        own + "@evil.example/",
        "http://user@127.0.0.1:" + std::to_string(s.fapi_port()) + "/",
        "http://evil.example\\@127.0.0.1/",
        own + "/\\evil",
        own + "/a b",
        own + "/\t",
        "ftp://127.0.0.1/",
        "http:///path",
        "http://%65vil.example/",
        own + "/" + std::string(5000, 'a'),
        "http://[v1.fe]/",
    };
    for (auto const& url : bad) {
        auto r = handshake(s, url);
        BOOST_TEST(r.status == 422u, url + " -> " + std::to_string(r.status));
        BOOST_TEST(r.headers.count("location") == 0u, url);
    }
}

BOOST_AUTO_TEST_CASE(handshake_location_is_reserialised_from_the_parsed_url) {
    test_server s;
    auto r = handshake(s, "HTTP://127.0.0.1:" + std::to_string(s.fapi_port()) + "/a/../app?x=1#frag");
    BOOST_TEST_REQUIRE(r.status == 307u, r.body);
    auto const& loc = r.headers.at("location");
    BOOST_TEST(loc.starts_with(fapi_origin(s) + "/app?x=1&__clerk_handshake="), loc);
    BOOST_TEST(loc.ends_with("#frag"), loc);
}

BOOST_AUTO_TEST_CASE(allowed_redirect_origins_extend_the_redirect_allow_list_only) {
    test_server s([](conf::config& c) {
        c.allowed_origins = {"http://app.example"};
        c.allowed_redirect_origins = {"https://accounts.partner.example"};
    });
    BOOST_TEST(handshake(s, "https://accounts.partner.example/done").status == 307u);
    BOOST_TEST(handshake(s, "http://app.example/after").status == 307u);
    BOOST_TEST(handshake(s, "https://other.partner.example/done").status == 422u);
    // A redirect origin is not a CORS origin.
    http_client c(s.fapi_port());
    auto pre = c.request(http::verb::get, "/v1/environment", {}, {{"Origin", "https://accounts.partner.example"}});
    BOOST_TEST(pre.headers.count("access-control-allow-origin") == 0u);
}

// ---- 2. session fixation: the client credential rotates on sign-in, sign-up and sign-out ----

BOOST_AUTO_TEST_CASE(cookie_credential_captured_before_sign_in_is_dead_after_it) {
    test_server s;
    seed_user(s.app(), "fixation@example.com", password);
    http_client victim(s.fapi_port());
    BOOST_TEST_REQUIRE(victim.fapi("POST", "/v1/client").status == 200u);
    std::string const planted = victim.cookies.at("__client");

    std::string const sid = created_session(sign_in(victim, "fixation@example.com"));
    std::string const after = victim.cookies.at("__client");
    BOOST_TEST(after != planted);
    // The victim's browser keeps working with the rotated credential.
    auto mine = probe(victim, sid);
    BOOST_TEST(mine.has_client);
    BOOST_TEST(mine.mint_status == 200u);

    // The attacker who planted (or captured) the pre-authentication value reaches nothing.
    http_client attacker(s.fapi_port());
    attacker.cookies["__client"] = planted;
    auto theirs = probe(attacker, sid);
    BOOST_TEST(!theirs.has_client);
    BOOST_TEST(theirs.mint_status != 200u);
    BOOST_TEST(attacker.fapi("GET", "/v1/me").status != 200u);
    // Nor does the BAPI accept it as a client credential.
    auto b = bapi_client(s);
    BOOST_TEST(b.bapi(http::verb::post, "/v1/clients/verify", json::object{{"token", planted}}).status == 422u);
    BOOST_TEST(b.bapi(http::verb::post, "/v1/clients/verify", json::object{{"token", after}}).status == 200u);

    // Sign-out rotates again: the signed-in value is dead too.
    auto out = victim.fapi("POST", "/v1/client/sessions/" + sid + "/end");
    BOOST_TEST_REQUIRE(out.status == 200u, out.body);
    BOOST_TEST(victim.cookies.at("__client") != after);
    http_client thief(s.fapi_port());
    thief.cookies["__client"] = after;
    BOOST_TEST(!probe(thief, sid).has_client);
    BOOST_TEST(victim.fapi("GET", "/v1/client").json.at("response").is_object());
}

BOOST_AUTO_TEST_CASE(sign_up_and_sign_out_of_all_rotate_the_cookie_credential) {
    test_server s;
    http_client c(s.fapi_port());
    auto up = c.fapi("POST", "/v1/client/sign_ups",
                     {{"email_address", "newbie+clerk_test@example.com"}, {"password", password}});
    BOOST_TEST_REQUIRE(up.status == 200u, up.body);
    std::string const before = c.cookies.at("__client");
    std::string const id = str(up.json.at("response").at("id"));
    BOOST_TEST_REQUIRE(
        c.fapi("POST", "/v1/client/sign_ups/" + id + "/prepare_verification", {{"strategy", "email_code"}}).status ==
        200u);
    auto done = c.fapi("POST", "/v1/client/sign_ups/" + id + "/attempt_verification",
                       {{"strategy", "email_code"}, {"code", "424242"}});
    BOOST_TEST_REQUIRE(done.status == 200u, done.body);
    BOOST_TEST_REQUIRE(str(done.json.at("response").at("status")) == "complete");
    std::string const signed_up = c.cookies.at("__client");
    BOOST_TEST(signed_up != before);
    http_client stale(s.fapi_port());
    stale.cookies["__client"] = before;
    BOOST_TEST(!stale.fapi("GET", "/v1/client").json.at("response").is_object());

    BOOST_TEST_REQUIRE(c.fapi("DELETE", "/v1/client/sessions").status == 200u);
    BOOST_TEST(c.cookies.at("__client") != signed_up);
    stale.cookies["__client"] = signed_up;
    BOOST_TEST(!stale.fapi("GET", "/v1/client").json.at("response").is_object());
}

BOOST_AUTO_TEST_CASE(native_credential_rotates_through_the_authorization_header) {
    test_server s;
    seed_user(s.app(), "native@example.com", password);
    http_client app(s.fapi_port());
    auto created = app.request(http::verb::post, "/v1/client?_is_native=1", {},
                               {{"Content-Type", "application/x-www-form-urlencoded"}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    std::string const before = created.headers.at("authorization");
    BOOST_TEST(created.set_cookies.empty());

    auto si = app.request(
        http::verb::post, "/v1/client/sign_ins?_is_native=1",
        form_encode({{"identifier", "native@example.com"}, {"strategy", "password"}, {"password", password}}),
        {{"Authorization", before}, {"Content-Type", "application/x-www-form-urlencoded"}});
    std::string const sid = created_session(si);
    BOOST_TEST_REQUIRE(si.headers.count("authorization") == 1u);
    std::string const after = si.headers.at("authorization");
    BOOST_TEST(after != before);

    auto with = [&](std::string const& cred) {
        return app.request(http::verb::post, "/v1/client/sessions/" + sid + "/tokens?_is_native=1", {},
                           {{"Authorization", cred}, {"Content-Type", "application/x-www-form-urlencoded"}});
    };
    BOOST_TEST(with(after).status == 200u);
    expect_error(with(before), 401, "authentication_invalid");
}

BOOST_AUTO_TEST_CASE(dev_browser_token_rotates_on_sign_in) {
    test_server s;
    seed_user(s.app(), "devbrowser@example.com", password);
    http_client c(s.fapi_port());
    auto db = c.request(http::verb::post, "/v1/dev_browser");
    BOOST_TEST_REQUIRE(db.status == 200u, db.body);
    c.dev_browser = str(db.json.at("id"));
    std::string const before = c.dev_browser;
    BOOST_TEST_REQUIRE(c.fapi("GET", "/v1/client").status == 200u);

    auto si = sign_in(c, "devbrowser@example.com");
    std::string const sid = created_session(si);
    BOOST_TEST_REQUIRE(si.headers.count("clerk-db-jwt") == 1u);
    BOOST_TEST(c.dev_browser == si.headers.at("clerk-db-jwt"));
    BOOST_TEST(c.dev_browser != before);
    BOOST_TEST(probe(c, sid).mint_status == 200u);

    http_client stale(s.fapi_port());
    stale.dev_browser = before;
    expect_error(stale.fapi("GET", "/v1/client"), 401, "dev_browser_unauthenticated");
}

// ---- 4. Transfer-Encoding framing ----

BOOST_AUTO_TEST_CASE(transfer_encoding_not_ending_in_chunked_is_400_and_closes) {
    test_server s;
    std::string const smuggled = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
    for (std::string te : std::vector<std::string>{"identity", "gzip", "xchunked", "chunked, identity",
                                                   "chunked, chunked", "gzip;q=chunked", "chunked;ext=1"}) {
        auto wire = read_all(s.fapi_port(),
                             "POST /v1/client HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te + "\r\n\r\n" + smuggled);
        BOOST_TEST(wire.starts_with("HTTP/1.1 400 "), te << ": " << wire.substr(0, 40));
        BOOST_TEST(wire.find("\"code\":\"malformed_request\"") != std::string::npos, te);
        // Exactly one response and the connection closed: the smuggled request was never parsed.
        BOOST_TEST(count_responses(wire) == 1u, te);
    }
    // Both Transfer-Encoding and Content-Length: refused as well.
    auto both = raw_exchange(s.fapi_port(),
                             "POST /v1/client HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                             "Content-Length: 5\r\n\r\n0\r\n\r\n");
    BOOST_TEST(both.status == 400u);
    // A well-framed chunked request is still served.
    auto ok = raw_exchange(s.fapi_port(),
                           "POST /v1/client HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
                           "Connection: close\r\n\r\n0\r\n\r\n");
    BOOST_TEST(ok.status != 400u);
    auto plain = raw_exchange(s.fapi_port(),
                              "POST /v1/client HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                              "Connection: close\r\n\r\n0\r\n\r\n");
    BOOST_TEST(plain.status == 200u, plain.body);
}

// ---- 6. CSRF: Referer when Origin is missing ----

BOOST_AUTO_TEST_CASE(cookie_writes_without_origin_are_judged_by_referer) {
    test_server s([](conf::config& c) { c.allowed_origins = {"http://app.example"}; });
    http_client c(s.fapi_port());
    auto const si = sign_in_browser(s, c, "csrf@example.com", password);
    auto write = [&](std::vector<std::pair<std::string, std::string>> headers) {
        headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        return c.request(http::verb::post, "/v1/me?_method=PATCH", form_encode({{"first_name", "Mallory"}}), headers);
    };
    expect_error(write({{"Referer", "https://evil.example/attack.html"}}), 403, "origin_invalid");
    expect_error(write({{"Referer", "http://app.example.evil.example/"}}), 403, "origin_invalid");
    expect_error(write({{"Referer", "not a url"}}), 403, "origin_invalid");
    auto end = c.request(http::verb::post, "/v1/client/sessions/" + si.session_id + "/end", {},
                         {{"Referer", "https://evil.example/"}, {"Content-Type", "application/x-www-form-urlencoded"}});
    expect_error(end, 403, "origin_invalid");
    // The user is unchanged and still signed in.
    BOOST_TEST(load_user(s, si.user_id)->first_name.empty());
    BOOST_TEST(load_session(s, si.session_id)->status == "active");
    // Same-site Referers pass.
    BOOST_TEST(write({{"Referer", "http://app.example/profile"}}).status == 200u);
    BOOST_TEST(write({{"Referer", fapi_origin(s) + "/x"}}).status == 200u);
}

// ---- 7. Secure follows the configured frontend API, never a request header ----

BOOST_AUTO_TEST_CASE(clerk_proxy_url_header_cannot_drop_secure) {
    test_server s([](conf::config& c) { c.frontend_api = "https://clerk.example.com"; });
    http_client c(s.fapi_port());
    auto r = c.request(
        http::verb::post, "/v1/client", {},
        {{"Clerk-Proxy-Url", "http://app.example/__clerk"}, {"Content-Type", "application/x-www-form-urlencoded"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    bool saw = false;
    for (auto const& sc : r.set_cookies) {
        if (!sc.starts_with("__client")) continue;
        saw = true;
        BOOST_TEST(sc.find("; Secure") != std::string::npos, sc);
    }
    BOOST_TEST(saw);
}

BOOST_AUTO_TEST_SUITE_END()
