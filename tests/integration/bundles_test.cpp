// The Clerk SDK bundles the FAPI serves under /npm/ (what @clerk/shared's loadClerkJSScript / loadClerkUIScript
// fetch) and the default avatar: every selector form @clerk/shared sends, encodings, validators, cache and
// cross-origin headers, the proxy prefix, HEAD, the Clerk-shaped 404 naming what is shipped, and the
// traversal table (nothing but an embedded file can ever be answered).
#include "bundles/bundles.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace latchkey;
using namespace latchkey::test;

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

constexpr char const* clerk_js = "/npm/@clerk/clerk-js@6/dist/clerk.browser.js";
constexpr char const* ui = "/npm/@clerk/ui@1/dist/ui.browser.js";

bundles::file const& embedded(std::string_view package, std::string_view name) {
    auto const* p = bundles::find_package(package);
    BOOST_TEST_REQUIRE(p != nullptr);
    auto const* f = bundles::find_file(*p, name);
    BOOST_TEST_REQUIRE(f != nullptr);
    return *f;
}

std::string const& header(http_result const& r, std::string const& name) {
    static std::string const none;
    auto it = r.headers.find(name);
    return it == r.headers.end() ? none : it->second;
}

http_result get(unsigned short port, std::string const& target, std::string const& accept_encoding = {},
                std::vector<std::pair<std::string, std::string>> extra = {}) {
    http_client c(port);
    if (!accept_encoding.empty()) extra.emplace_back("Accept-Encoding", accept_encoding);
    return c.request(http::verb::get, target, {}, extra);
}

/// HEAD on a fresh connection: the response has a Content-Length but no body (the parser must skip it).
http_result head(unsigned short port, std::string const& target, std::string const& accept_encoding) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    stream.expires_after(std::chrono::seconds(10));
    http::request<http::empty_body> req{http::verb::head, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::accept_encoding, accept_encoding);
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.skip(true);
    http::read(stream, buf, parser);
    auto const& res = parser.get();
    http_result out = to_result(res);
    // Nothing may follow the header: the next response on this connection must start right away.
    req.target("/v1/health");
    req.method(http::verb::get);
    http::write(stream, req);
    http::response<http::string_body> next;
    http::read(stream, buf, next);
    BOOST_TEST(next.result_int() == 200u);
    return out;
}

/// "@clerk/clerk-js@6.40.0" for the embedded package `i`.
std::string shipped_id(std::size_t i) {
    auto const& p = bundles::packages()[i];
    return std::string(p.name) + "@" + std::string(p.version);
}

/// The embedded version of package `i`, cut after `parts` dot-separated parts ("6", "6.40", "6.40.0").
std::string version_prefix(std::size_t i, int parts) {
    std::string_view v = bundles::packages()[i].version;
    std::size_t end = 0;
    for (int k = 0; k < parts && end != std::string_view::npos; ++k) end = v.find('.', end == 0 ? 0 : end + 1);
    return std::string(v.substr(0, end));
}

/// The first lazy chunk (a file that is not an entry) of package `i`.
std::string first_chunk(std::size_t i) {
    for (auto const& f : bundles::packages()[i].files)
        if (!f.name.ends_with(".browser.js")) return std::string(f.name);
    return {};
}

/// The Clerk-shaped 404 for a bundle that is not shipped: it names the shipped packages.
void expect_not_shipped(http_result const& r) {
    expect_error(r, 404, "resource_not_found");
    auto const& e = r.json.at("errors").at(0);
    BOOST_TEST(json::serialize(e.at("meta").at("shipped")) == "[\"" + shipped_id(0) + "\",\"" + shipped_id(1) + "\"]");
    BOOST_TEST(str(e.at("long_message")).find(shipped_id(0)) != std::string::npos);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(npm_bundles)

BOOST_AUTO_TEST_CASE(the_embedded_set_is_the_pinned_packages_with_every_chunk) {
    auto const all = bundles::packages();
    BOOST_TEST_REQUIRE(all.size() == 2u);
    BOOST_TEST(all[0].name == "@clerk/clerk-js");
    BOOST_TEST(all[0].version.starts_with("6."));
    BOOST_TEST(all[1].name == "@clerk/ui");
    BOOST_TEST(all[1].version.starts_with("1."));
    // Entries of every variant and the lazy chunks they load; not the bundler builds nor React Native's.
    for (auto n : {"clerk.browser.js", "clerk.legacy.browser.js"})
        BOOST_TEST(bundles::find_file(all[0], n) != nullptr, n);
    for (auto n : {"clerk.js", "clerk.mjs", "clerk.native.js", "clerk.no-rhc.js"})
        BOOST_TEST(bundles::find_file(all[0], n) == nullptr, n);
    for (auto n : {"ui.browser.js", "ui.legacy.browser.js", "ui.shared.browser.js"})
        BOOST_TEST(bundles::find_file(all[1], n) != nullptr, n);
    for (auto n : {"index.js", "ClerkUI.js", "entry.js"}) BOOST_TEST(bundles::find_file(all[1], n) == nullptr, n);
    for (auto const& p : all) {
        std::size_t chunks = 0;
        for (auto const& f : p.files) {
            bool const entry = f.name.ends_with(".browser.js");
            BOOST_TEST((entry || f.name.ends_with("_" + std::string(p.version) + ".js")), f.name);
            BOOST_TEST(f.name.find(".native") == std::string_view::npos, f.name);
            chunks += entry ? 0 : 1;
            BOOST_TEST(!f.identity.body.empty());
            // The strong ETag is the content's SHA-256 (24 hex digits); each encoding has its own.
            auto digest = crypto::hex_encode(crypto::sha256(f.identity.body)).substr(0, 24);
            BOOST_TEST(f.identity.etag == "\"" + digest + "\"");
            if (!f.br.body.empty()) BOOST_TEST(f.br.etag == "\"" + digest + "-br\"");
            if (!f.gzip.body.empty()) BOOST_TEST(f.gzip.body.substr(0, 2) == "\x1f\x8b");
        }
        BOOST_TEST(chunks > 10u, p.name);
    }
}

BOOST_AUTO_TEST_CASE(every_selector_form_resolves_to_the_shipped_build) {
    test_server s;
    auto const& f = embedded("@clerk/clerk-js", "clerk.browser.js");
    struct row {
        std::string selector;
        std::string cache;
    };
    std::string const immutable = "public, max-age=31536000, immutable";
    std::string const moving = "public, max-age=300";
    for (auto const& [selector, cache] : std::vector<row>{{"@" + version_prefix(0, 1), moving},
                                                          {"@" + version_prefix(0, 2), moving},
                                                          {"@" + version_prefix(0, 3), immutable},
                                                          {"@latest", moving},
                                                          {"@canary", moving},
                                                          {"@snapshot", moving},
                                                          {"", moving}}) {
        auto r = get(s.fapi_port(), "/npm/@clerk/clerk-js" + selector + "/dist/clerk.browser.js");
        BOOST_TEST(r.status == 200u, selector);
        BOOST_TEST(r.body == f.identity.body, selector);
        BOOST_TEST(header(r, "cache-control") == cache, selector);
        BOOST_TEST(header(r, "content-type") == "application/javascript; charset=utf-8");
        BOOST_TEST(header(r, "etag") == f.identity.etag);
    }
    auto const& u = embedded("@clerk/ui", "ui.browser.js");
    for (auto const& sel : {version_prefix(1, 1), version_prefix(1, 3), std::string("latest")}) {
        auto r = get(s.fapi_port(), "/npm/@clerk/ui@" + sel + "/dist/ui.browser.js");
        BOOST_TEST(r.status == 200u, sel);
        BOOST_TEST(r.body == u.identity.body, sel);
    }
    // Path segments are compared percent-decoded: "%40clerk" is "@clerk".
    BOOST_TEST(get(s.fapi_port(), "/npm/%40clerk/clerk-js@6/dist/clerk%2Ebrowser.js").body == f.identity.body);
    // A lazy chunk, where the entry's public path puts it.
    auto const name = first_chunk(1);
    auto chunk = get(s.fapi_port(), "/npm/@clerk/ui@" + version_prefix(1, 3) + "/dist/" + name);
    BOOST_TEST(chunk.status == 200u);
    BOOST_TEST(chunk.body == embedded("@clerk/ui", name).identity.body);
}

BOOST_AUTO_TEST_CASE(unknown_majors_versions_packages_and_files_are_clerk_shaped_404s_naming_what_is_shipped) {
    test_server s;
    for (std::string t :
         {"/npm/@clerk/clerk-js@7/dist/clerk.browser.js", "/npm/@clerk/clerk-js@5/dist/clerk.browser.js",
          "/npm/@clerk/clerk-js@6.39.0/dist/clerk.browser.js",
          "/npm/@clerk/clerk-js@6.41.0-snapshot.v20260101/dist/clerk.browser.js",
          "/npm/@clerk/clerk-js@6.4/dist/clerk.browser.js", "/npm/@clerk/clerk-js@^6/dist/clerk.browser.js",
          "/npm/@clerk/ui@2/dist/ui.browser.js", "/npm/@clerk/clerk-react@5/dist/index.js",
          "/npm/@evil/clerk-js@6/dist/clerk.browser.js", "/npm/clerk-js@6/dist/clerk.browser.js",
          "/npm/react@19/dist/react.js", "/npm/@clerk/clerk-js@6/dist/clerk.js",
          "/npm/@clerk/clerk-js@6/dist/clerk.native.js", "/npm/@clerk/clerk-js@6/dist/ui.browser.js",
          "/npm/@clerk/clerk-js@6/dist/"}) {
        BOOST_TEST_CONTEXT(t) {
            auto r = get(s.fapi_port(), t);
            if (t.ends_with('/'))
                expect_error(r, 404, "resource_not_found");  // no file segment: the router's own 404
            else
                expect_not_shipped(r);
            BOOST_TEST(header(r, "cache-control") == "no-store");
        }
    }
    auto r = get(s.fapi_port(), "/npm/@clerk/clerk-js@7/dist/clerk.browser.js");
    BOOST_TEST(str(r.json.at("errors").at(0).at("long_message")).starts_with("@clerk/clerk-js@7 is not served here"));
}

BOOST_AUTO_TEST_CASE(accept_encoding_picks_the_precompressed_body) {
    test_server s;
    auto const& f = embedded("@clerk/clerk-js", "clerk.browser.js");
    BOOST_TEST_REQUIRE(!f.br.body.empty());
    BOOST_TEST_REQUIRE(!f.gzip.body.empty());
    BOOST_TEST(f.br.body.size() < f.gzip.body.size());
    BOOST_TEST(f.gzip.body.size() < f.identity.body.size());
    struct row {
        std::string accept;
        std::string encoding;  ///< "" = identity
    };
    for (auto const& [accept, encoding] : std::vector<row>{{"gzip, deflate, br", "br"},
                                                           {"br", "br"},
                                                           {"BR;q=1.0", "br"},
                                                           {"gzip", "gzip"},
                                                           {"x-gzip, gzip;q=0.5", "gzip"},
                                                           {"br;q=0.2, gzip;q=0.8", "gzip"},
                                                           {"br;q=0, gzip", "gzip"},
                                                           {"*", "br"},
                                                           {"deflate", ""},
                                                           {"identity", ""},
                                                           {"br;q=0, gzip;q=0", ""},
                                                           {"", ""}}) {
        BOOST_TEST_CONTEXT("Accept-Encoding: " << accept) {
            auto r = get(s.fapi_port(), clerk_js, accept);
            BOOST_TEST(r.status == 200u);
            BOOST_TEST(header(r, "vary") == "Accept-Encoding");
            BOOST_TEST(header(r, "content-encoding") == encoding);
            auto const& rep = encoding == "br" ? f.br : encoding == "gzip" ? f.gzip : f.identity;
            BOOST_TEST(r.body == rep.body);
            BOOST_TEST(header(r, "etag") == rep.etag);
            BOOST_TEST(header(r, "content-length") == std::to_string(rep.body.size()));
        }
    }
}

BOOST_AUTO_TEST_CASE(if_none_match_answers_304_with_the_validators) {
    test_server s;
    auto const& f = embedded("@clerk/clerk-js", "clerk.browser.js");
    for (std::string inm : {std::string(f.br.etag), "W/" + std::string(f.br.etag), "\"x\", " + std::string(f.br.etag),
                            std::string("*")}) {
        BOOST_TEST_CONTEXT("If-None-Match: " << inm) {
            auto r = get(s.fapi_port(), clerk_js, "br", {{"If-None-Match", inm}});
            BOOST_TEST(r.status == 304u);
            BOOST_TEST(r.body.empty());
            BOOST_TEST(header(r, "etag") == f.br.etag);
            BOOST_TEST(header(r, "cache-control") == "public, max-age=300");
            BOOST_TEST(header(r, "vary") == "Accept-Encoding");
            BOOST_TEST(header(r, "content-encoding").empty());
            BOOST_TEST(header(r, "content-type").empty());
        }
    }
    // Another representation's tag, or a stale one: the full body.
    for (std::string inm : {std::string(f.identity.etag), std::string(f.gzip.etag), std::string("\"0123\"")}) {
        auto r = get(s.fapi_port(), clerk_js, "br", {{"If-None-Match", inm}});
        BOOST_TEST(r.status == 200u, inm);
        BOOST_TEST(r.body == f.br.body);
    }
}

BOOST_AUTO_TEST_CASE(cross_origin_script_headers_and_no_fapi_credentials) {
    test_server s;
    http_client c(s.fapi_port());
    c.origin = "http://localhost:3000";  // an allowed origin of a development instance
    auto r = c.request(http::verb::get, ui, {}, {{"Accept-Encoding", "br"}});
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(header(r, "access-control-allow-origin") == "*");
    BOOST_TEST(header(r, "access-control-allow-credentials").empty());
    BOOST_TEST(header(r, "cross-origin-resource-policy") == "cross-origin");
    BOOST_TEST(header(r, "timing-allow-origin") == "*");
    BOOST_TEST(header(r, "x-content-type-options") == "nosniff");
    BOOST_TEST(r.set_cookies.empty());
    BOOST_TEST(r.body == embedded("@clerk/ui", "ui.browser.js").br.body);
}

BOOST_AUTO_TEST_CASE(head_sends_the_header_and_content_length_without_the_body) {
    test_server s;
    auto const& f = embedded("@clerk/clerk-js", "clerk.browser.js");
    auto r = head(s.fapi_port(), clerk_js, "gzip");
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.body.empty());
    BOOST_TEST(header(r, "content-length") == std::to_string(f.gzip.body.size()));
    BOOST_TEST(header(r, "content-encoding") == "gzip");
    BOOST_TEST(header(r, "etag") == f.gzip.etag);
}

BOOST_AUTO_TEST_CASE(bundles_sit_under_the_fapi_proxy_prefix_too) {
    test_server s([](conf::config& c) { c.frontend_api = "https://clerk.example.com/__clerk"; });
    BOOST_TEST_REQUIRE(s.inst().fapi_path_prefix == "/__clerk");
    auto const& f = embedded("@clerk/clerk-js", "clerk.browser.js");
    auto r = get(s.fapi_port(), std::string("/__clerk") + clerk_js, "br");
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.body == f.br.body);
    auto u = get(s.fapi_port(), std::string("/__clerk") + ui);
    BOOST_TEST(u.status == 200u);
    expect_not_shipped(get(s.fapi_port(), "/__clerk/npm/@clerk/ui@9/dist/ui.browser.js"));
}

BOOST_AUTO_TEST_CASE(the_bapi_serves_no_bundles) {
    test_server s;
    auto r = get(s.bapi_port(), clerk_js);
    expect_error(r, 404, "resource_not_found");
    BOOST_TEST(r.body.find("shipped") == std::string::npos);
}

// Path tricks, encoded or not: nothing but an embedded name can match, and no file is ever read (the set is in
// the binary), so each is a Clerk-shaped 404 and the server keeps serving. Bytes the HTTP parser refuses in a
// request target (raw backslash, NUL) get its Clerk-shaped 400 before any routing.
BOOST_AUTO_TEST_CASE(traversal_and_malformed_paths_are_clerk_shaped_404s) {
    test_server s;
    std::vector<std::string> const table{
        "/npm/@clerk/clerk-js@6/dist/../package.json",
        "/npm/@clerk/clerk-js@6/dist/..%2fpackage.json",
        "/npm/@clerk/clerk-js@6/dist/%2e%2e%2fpackage.json",
        "/npm/@clerk/clerk-js@6/dist/%2e%2e",
        "/npm/@clerk/clerk-js@6/dist/..",
        "/npm/@clerk/clerk-js@6/dist/.",
        "/npm/@clerk/clerk-js@6/dist/%2fetc%2fpasswd",
        "/npm/@clerk/clerk-js@6/dist/%5c..%5cpackage.json",
        "/npm/@clerk/clerk-js@6/dist/clerk.browser.js%00.png",
        "/npm/@clerk/clerk-js@6/dist/clerk.browser.js%00",
        "/npm/@clerk/clerk-js@6/dist/clerk.browser.js%",
        "/npm/@clerk/clerk-js@6/dist/clerk.browser.js%zz",
        "/npm/@clerk/clerk-js@6/dist/CLERK.BROWSER.JS",
        "/npm/@clerk/clerk-js@6/dist/clerk.browser.js/",
        "/npm/@clerk/clerk-js@6/dist/types/index.d.ts",
        "/npm/@clerk/clerk-js@6/../../v1/environment",
        "/npm/@clerk/clerk-js@6%2f..%2f..%2fv1/dist/clerk.browser.js",
        "/npm/@clerk/..%2fclerk-js@6/dist/clerk.browser.js",
        "/npm/@clerk/clerk-js@%2e%2e/dist/clerk.browser.js",
        "/npm/@clerk/clerk-js@6/dist/" + std::string(4000, 'a') + ".js",
        "/npm/@clerk/clerk-js@" + std::string(4000, '6') + "/dist/clerk.browser.js",
        "/npm/@" + std::string(4000, 'c') + "/clerk-js@6/dist/clerk.browser.js",
        "/npm/@clerk/clerk-js@6/dist/a/b/c/d/e/f/g/h/i/j/k/l/m/clerk.browser.js",
    };
    for (auto const& target : table) {
        BOOST_TEST_CONTEXT(target.substr(0, 120)) {
            auto r = get(s.fapi_port(), target);
            expect_error(r, 404, "resource_not_found");
            BOOST_TEST(r.body.find("\"version\"") == std::string::npos);  // no package.json
            BOOST_TEST(r.body.size() < 2048u);                            // long input is not echoed back
        }
    }
    for (std::string raw : {std::string("/npm/@clerk/clerk-js@6/dist/..\\package.json"),
                            std::string("/npm/@clerk/clerk-js@6/dist/clerk.browser.js") + '\0' + ".png"}) {
        auto r = raw_exchange(s.fapi_port(), "GET " + raw + " HTTP/1.1\r\nHost: x\r\n\r\n");
        BOOST_TEST_CONTEXT(raw) {
            BOOST_TEST((r.status == 400u || r.status == 404u));
            BOOST_TEST((r.error_code() == "malformed_request" || r.error_code() == "resource_not_found"));
        }
    }
    BOOST_TEST(get(s.fapi_port(), "/v1/health").status == 200u);
}

BOOST_AUTO_TEST_CASE(the_default_avatar_is_served_and_users_point_at_it) {
    test_server s;
    auto r = get(s.fapi_port(), "/v1/avatar/default");
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(header(r, "content-type") == "image/svg+xml");
    BOOST_TEST(r.body.starts_with("<svg "));
    BOOST_TEST(r.body.find("<script") == std::string::npos);
    BOOST_TEST(header(r, "access-control-allow-origin") == "*");
    BOOST_TEST(header(r, "cross-origin-resource-policy") == "cross-origin");
    BOOST_TEST(header(r, "content-security-policy").starts_with("default-src 'none'"));
    auto const etag = header(r, "etag");
    BOOST_TEST(!etag.empty());
    auto again = get(s.fapi_port(), "/v1/avatar/default", {}, {{"If-None-Match", etag}});
    BOOST_TEST(again.status == 304u);
    BOOST_TEST(again.body.empty());

    // A user without an image points at it, on the FAPI origin (BAPI user, FAPI user and public_user_data).
    std::string const expected = s.inst().frontend_api + "/v1/avatar/default";
    auto b = bapi_client(s);
    auto user = create_user(b, {{"email_address", json::array{"avatar@example.com"}},
                                {"password", "Lk-avatar-pass-9z"},
                                {"skip_password_checks", true}});
    BOOST_TEST(str(user.at("image_url")) == expected);
    BOOST_TEST(str(user.at("profile_image_url")) == expected);
    BOOST_TEST(!user.at("has_image").as_bool());
    http_client c(s.fapi_port());
    auto signed_in = sign_in_browser_as(s, c, str(user.at("id")));
    auto client = c.fapi("GET", "/v1/client");
    BOOST_TEST_REQUIRE(client.status == 200u);
    json::value session;
    for (auto const& x : client.json.at("response").at("sessions").as_array())
        if (str(x.at("id")) == signed_in.session_id) session = x;
    BOOST_TEST_REQUIRE(session.is_object());
    BOOST_TEST(str(session.at("user").at("image_url")) == expected);
    BOOST_TEST(str(session.at("public_user_data").at("image_url")) == expected);
    BOOST_TEST(client.body.find("img.clerk.com") == std::string::npos);
    // The path under the proxy prefix answers too.
    test_server p([](conf::config& cfg) { cfg.frontend_api = "https://clerk.example.com/__clerk"; });
    BOOST_TEST(get(p.fapi_port(), "/__clerk/v1/avatar/default").status == 200u);
}

BOOST_AUTO_TEST_SUITE_END()
