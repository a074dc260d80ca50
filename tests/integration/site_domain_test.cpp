// The instance's site (issue 12): a production FAPI at clerk.<domain> accepts the app's origins on <domain> and
// its subdomains without a list, sets __client_uat on <domain> for the app's servers (and __client host-only,
// HttpOnly), and its handshake serves an app server that has no __session yet. Public suffixes are never a site.
// Development keys always name a dev-browser host, with the reachable FAPI as the proxy URL.
#include "server/api/dispatch.hpp"
#include "server/api/site.hpp"
#include "server/instance.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <stdexcept>

using namespace latchkey;
using namespace latchkey::test;

namespace {

void production_on(conf::config& c, std::string const& fapi) {
    c.instance_type = "production";
    c.frontend_api = fapi;
}

/// The Access-Control-Allow-Origin the FAPI answers a GET /v1/environment from `origin` with ("" = none).
std::string cors_for(test_server& s, std::string const& origin) {
    http_client c(s.fapi_port());
    auto r = c.request(http::verb::get, "/v1/environment", {}, {{"Origin", origin}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    auto it = r.headers.find("access-control-allow-origin");
    return it == r.headers.end() ? std::string{} : it->second;
}

/// The Set-Cookie line for cookie `name` ("" if none).
std::string set_cookie(http_result const& r, std::string const& name) {
    for (auto const& sc : r.set_cookies)
        if (sc.starts_with(name + "=")) return sc;
    return {};
}

bool has_attr(std::string const& cookie, std::string const& attr) {
    return cookie.find("; " + attr + ";") != std::string::npos || cookie.ends_with("; " + attr);
}

std::string host_of_key(std::string const& pk) {
    // pk_test_/pk_live_ + unpadded base64 of "<host>$"
    std::string b64 = pk.substr(8);
    while (b64.size() % 4 != 0) b64 += '=';
    static std::string const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned buf = 0;
    int bits = 0;
    for (char ch : b64) {
        if (ch == '=') break;
        buf = (buf << 6) | static_cast<unsigned>(alphabet.find(ch));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buf >> bits) & 0xff);
        }
    }
    if (out.empty() || out.back() != '$') throw std::runtime_error("not a publishable key");
    out.pop_back();
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(site_domain)

BOOST_AUTO_TEST_CASE(registrable_domain_follows_the_public_suffix_list) {
    using server::site::registrable_domain;
    BOOST_TEST(registrable_domain("clerk.example.com").value_or("-") == "example.com");
    BOOST_TEST(registrable_domain("a.b.example.co.uk").value_or("-") == "example.co.uk");
    BOOST_TEST(registrable_domain("CLERK.Example.Test").value_or("-") == "example.test");
    BOOST_TEST(registrable_domain("me.github.io").value_or("-") == "me.github.io");
    // Public suffixes, single labels, IP literals and malformed names are nothing a cookie may be scoped to.
    for (char const* h : {"com", "co.uk", "github.io", "localhost", "test", "127.0.0.1", "10.1.2.3", "[::1]", "",
                          ".example.com", "example..com", "exa mple.com", "example.com.", "-bad.example.com"})
        BOOST_TEST(!registrable_domain(h).has_value(), h);
    BOOST_TEST(server::site::within("app.example.test", "example.test"));
    BOOST_TEST(server::site::within("example.test", "example.test"));
    BOOST_TEST(!server::site::within("evilexample.test", "example.test"));
    BOOST_TEST(!server::site::within("example.test.evil.com", "example.test"));
}

BOOST_AUTO_TEST_CASE(production_accepts_its_site_and_subdomains_by_default) {
    test_server s([](conf::config& c) { production_on(c, "https://clerk.example.test"); });
    BOOST_TEST(s.inst().site_domain == "example.test");
    for (char const* ok :
         {"https://example.test", "https://app.example.test", "https://a.b.example.test", "https://clerk.example.test"})
        BOOST_TEST(cors_for(s, ok) == ok, ok);
    for (char const* bad :
         {"https://example.test.evil.com", "https://evilexample.test", "http://app.example.test", "http://example.test",
          "https://app.example.test:8443", "https://example.test:444", "https://app.example.test/",
          "https://user@app.example.test", "null", "https://app.example.test.", "https://app..example.test",
          "https://%61pp.example.test", "https://app.example.test\\@evil.com", "https://test", "https://localhost"})
        BOOST_TEST(cors_for(s, bad).empty(), bad);

    // The same rule is the CSRF rule: a cookie-authenticated write from the site passes, from elsewhere not.
    http_client c(s.fapi_port());
    auto created = c.fapi("POST", "/v1/client");
    BOOST_TEST_REQUIRE(created.status == 200u);
    c.origin = "https://app.example.test";
    BOOST_TEST(c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "nobody@example.test"}}).error_code() !=
               "origin_invalid");
    c.origin = "https://evilexample.test";
    BOOST_TEST(c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "nobody@example.test"}}).error_code() ==
               "origin_invalid");
}

BOOST_AUTO_TEST_CASE(allowed_origins_add_to_the_site) {
    test_server s([](conf::config& c) {
        production_on(c, "https://clerk.example.test");
        c.allowed_origins = {"https://partner.example.org"};
    });
    BOOST_TEST(cors_for(s, "https://partner.example.org") == "https://partner.example.org");
    BOOST_TEST(cors_for(s, "https://app.example.test") == "https://app.example.test");
    BOOST_TEST(cors_for(s, "https://other.example.org").empty());
}

BOOST_AUTO_TEST_CASE(a_public_suffix_is_never_a_site) {
    // A FAPI right under a public suffix: its site is its own registrable domain, never the suffix.
    test_server s([](conf::config& c) { production_on(c, "https://clerk.co.uk"); });
    BOOST_TEST(s.inst().site_domain == "clerk.co.uk");
    BOOST_TEST(cors_for(s, "https://other.co.uk").empty());
    BOOST_TEST(cors_for(s, "https://co.uk").empty());
    test_server gh([](conf::config& c) { production_on(c, "https://clerk.me.github.io"); });
    BOOST_TEST(gh.inst().site_domain == "me.github.io");
    BOOST_TEST(cors_for(gh, "https://you.github.io").empty());
    BOOST_TEST(cors_for(gh, "https://me.github.io") == "https://me.github.io");
    // An IP or a plain local host has no site: nothing beyond the lists.
    test_server ip([](conf::config& c) { c.instance_type = "production"; });
    BOOST_TEST(ip.inst().site_domain.empty());
    BOOST_TEST(cors_for(ip, "http://127.0.0.1:1").empty());
    // A configured app_domain that is a public suffix, or that the FAPI host is not on, is refused at start.
    BOOST_CHECK_THROW(test_server([](conf::config& c) {
                          production_on(c, "https://clerk.example.co.uk");
                          c.app_domain = "co.uk";
                      }),
                      std::exception);
    BOOST_CHECK_THROW(test_server([](conf::config& c) {
                          production_on(c, "https://clerk.example.test");
                          c.app_domain = "example.org";
                      }),
                      std::exception);
    // A narrower app_domain narrows the site.
    test_server narrow([](conf::config& c) {
        production_on(c, "https://clerk.app.example.test");
        c.app_domain = "app.example.test";
    });
    BOOST_TEST(cors_for(narrow, "https://www.app.example.test") == "https://www.app.example.test");
    BOOST_TEST(cors_for(narrow, "https://example.test").empty());
}

BOOST_AUTO_TEST_CASE(client_uat_is_set_on_the_site_and_client_stays_on_the_fapi_host) {
    test_server s([](conf::config& c) { production_on(c, "https://clerk.example.test"); });
    http_client c(s.fapi_port());
    std::vector<std::pair<std::string, std::string>> const on_fapi_host{{"Host", "clerk.example.test"}};
    auto created = c.request(http::verb::post, "/v1/client", {}, on_fapi_host);
    BOOST_TEST_REQUIRE(created.status == 200u);
    std::string const client = set_cookie(created, "__client");
    BOOST_TEST_REQUIRE(!client.empty());
    BOOST_TEST(client.find("Domain=") == std::string::npos);  // host-only: the FAPI host
    BOOST_TEST(has_attr(client, "HttpOnly"));
    BOOST_TEST(has_attr(client, "Secure"));
    std::string const uat = set_cookie(created, "__client_uat");
    BOOST_TEST(uat.find("; Domain=example.test;") != std::string::npos);
    BOOST_TEST(!has_attr(uat, "HttpOnly"));  // clerk-js reads it too
    BOOST_TEST(has_attr(uat, "Secure"));
    std::string const suffixed = set_cookie(created, "__client_uat_" + s.inst().cookie_suffix);
    BOOST_TEST(suffixed.find("; Domain=example.test;") != std::string::npos);

    // Signed in: __client_uat carries the client's last change, still on the site.
    auto user = seed_user(s.app(), "uat@example.test");
    auto client_id = std::string(created.json.at("response").at("id").as_string());
    seed_session(s.app(), client_id, user);
    auto got = c.request(http::verb::get, "/v1/client", {}, on_fapi_host);
    std::string const signed_in = set_cookie(got, "__client_uat");
    BOOST_TEST(signed_in.find("; Domain=example.test;") != std::string::npos);
    BOOST_TEST(!signed_in.starts_with("__client_uat=0;"));

    // Sign-out clears them with the same Domain (else the browser keeps the old ones).
    auto out = c.request(http::verb::delete_, "/v1/client", {},
                         {{"Host", "clerk.example.test"}, {"Origin", "https://app.example.test"}});
    BOOST_TEST_REQUIRE(out.status == 200u);
    BOOST_TEST(set_cookie(out, "__client_uat").starts_with("__client_uat=0; Path=/; Domain=example.test;"));
    BOOST_TEST(set_cookie(out, "__client").find("Max-Age=0") != std::string::npos);

    // The configuration decides, not the Host header (a reverse proxy may rewrite it); a same-origin proxy keeps
    // the cookie on the app's host.
    http_client other(s.fapi_port());
    auto by_ip = other.request(http::verb::post, "/v1/client");
    BOOST_TEST(set_cookie(by_ip, "__client_uat").find("; Domain=example.test;") != std::string::npos);
    http_client proxied(s.fapi_port());
    auto via_proxy =
        proxied.request(http::verb::post, "/v1/client", {},
                        {{"Host", "app.example.test"}, {"Clerk-Proxy-Url", "https://app.example.test/__clerk"}});
    BOOST_TEST(set_cookie(via_proxy, "__client_uat").find("Domain=") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(handshake_serves_an_app_server_without_a_session_cookie) {
    test_server s([](conf::config& c) { production_on(c, "https://clerk.example.test"); });
    auto [c, si] = browser(s, "hs-site@example.test");
    // The app server (app.example.test) saw __client_uat but no __session: @clerk/backend sends the browser here
    // with only the __client cookie of the FAPI host.
    auto r = c.request(http::verb::get,
                       "/v1/client/handshake?redirect_url=https%3A%2F%2Fapp.example.test%2Fdash&format=nonce"
                       "&suffixed_cookies=true&__clerk_hs_reason=client-uat-but-no-session-token",
                       {}, {{"Host", "clerk.example.test"}, {"Sec-Fetch-Dest", "document"}});
    BOOST_TEST_REQUIRE(r.status == 307u);
    std::string const loc = r.headers["location"];
    BOOST_TEST_REQUIRE(loc.starts_with("https://app.example.test/dash?__clerk_handshake_nonce="));
    http_client b(s.bapi_port());
    b.secret_key = s.secret_key();
    auto p = b.bapi(http::verb::get, "/v1/clients/handshake_payload?nonce=" + loc.substr(loc.find('=') + 1));
    BOOST_TEST_REQUIRE(p.status == 200u);
    bool session = false, uat_on_site = false, uat_suffixed = false, db_jwt = false;
    for (auto const& d : p.json.at("directives").as_array()) {
        std::string v(d.as_string());
        if (v.starts_with("__session=ey")) {
            auto const claims = jwt_payload(v.substr(10, v.find(';') - 10));
            session = claims.at("sid").as_string() == si.session_id && v.find("Domain=") == std::string::npos &&
                      has_attr(v, "Secure");
            // A navigation without a Referer: the token is for the app it returns to.
            BOOST_TEST(claims.at("azp").as_string() == "https://app.example.test");
        }
        if (v.starts_with("__client_uat=") && !v.starts_with("__client_uat=0;"))
            uat_on_site = v.find("; Domain=example.test;") != std::string::npos;
        if (v.starts_with("__client_uat_" + s.inst().cookie_suffix + "=")) uat_suffixed = true;
        db_jwt = db_jwt || v.starts_with("__clerk_db_jwt");
    }
    BOOST_TEST(session);
    BOOST_TEST(uat_on_site);
    BOOST_TEST(uat_suffixed);
    BOOST_TEST(!db_jwt);  // production has no dev browser

    // The redirect check is api::allowed_redirect: look-alikes of the site are refused.
    for (char const* bad : {"https%3A%2F%2Fexample.test.evil.com%2F", "https%3A%2F%2Fevilexample.test%2F",
                            "http%3A%2F%2Fapp.example.test%2F", "https%3A%2F%2Fapp.example.test%3A8443%2F",
                            "https%3A%2F%2Fx%40app.example.test%2F"}) {
        auto e = c.request(http::verb::get, std::string("/v1/client/handshake?redirect_url=") + bad, {},
                           {{"Host", "clerk.example.test"}});
        BOOST_TEST(e.status == 422u, bad);
        BOOST_TEST(e.param_name() == "redirect_url", bad);
    }
    BOOST_TEST(server::api::allowed_redirect(s.app(), "https://example.test/x").has_value());
}

BOOST_AUTO_TEST_CASE(development_keys_name_a_dev_browser_host) {
    test_server s;  // development, FAPI http://127.0.0.1:<port>
    std::string const host = host_of_key(s.inst().publishable_key);
    BOOST_TEST(s.inst().publishable_key.starts_with("pk_test_"));
    BOOST_TEST(host.starts_with("latchkey-"));
    BOOST_TEST(host.ends_with(".lcl.dev"));
    BOOST_TEST(server::dev_browser_host(host));
    BOOST_TEST(s.inst().proxy_url == s.inst().frontend_api);
    BOOST_TEST(s.inst().issuer == "https://" + host);
    BOOST_TEST(s.inst().site_domain.empty());
    // A development key that already names a dev-browser host stays as it is.
    test_server named([](conf::config& c) { c.frontend_api = "https://fancy-cat-12.clerk.accounts.dev"; });
    BOOST_TEST(host_of_key(named.inst().publishable_key) == "fancy-cat-12.clerk.accounts.dev");
    BOOST_TEST(named.inst().proxy_url.empty());
    BOOST_TEST(named.inst().site_domain.empty());  // Clerk's shared domain is no one's site
    // Production keys name the FAPI host; the proxy URL only when the SDKs cannot reach https://<host> directly.
    test_server prod([](conf::config& c) { production_on(c, "https://clerk.example.test"); });
    BOOST_TEST(host_of_key(prod.inst().publishable_key) == "clerk.example.test");
    BOOST_TEST(prod.inst().proxy_url.empty());
    test_server plain([](conf::config& c) { c.instance_type = "production"; });
    BOOST_TEST(plain.inst().proxy_url == plain.inst().frontend_api);
}

BOOST_AUTO_TEST_CASE(development_handshake_hands_the_app_its_dev_browser) {
    test_server s([](conf::config& c) { c.allowed_origins = {"http://127.0.0.1:3000"}; });
    // A browser that reaches the handshake with no dev browser (the app's first page): it gets a new one.
    http_client c(s.fapi_port());
    auto r = c.fapi("GET", "/v1/client/handshake?redirect_url=http%3A%2F%2F127.0.0.1%3A3000%2F&format=token");
    BOOST_TEST_REQUIRE(r.status == 307u);
    std::string const loc = r.headers["location"];
    auto directives = jwt_payload(loc.substr(loc.find("__clerk_handshake=") + 18)).at("handshake").as_array();
    std::string dvb;
    for (auto const& d : directives) {
        std::string v(d.as_string());
        if (v.starts_with("__clerk_db_jwt=")) dvb = v.substr(15, v.find(';') - 15);
    }
    BOOST_TEST_REQUIRE(dvb.starts_with("dvb_"));
    // ... which the FAPI knows: clerk-js adopts it from the cookie.
    http_client browser(s.fapi_port());
    browser.dev_browser = dvb;
    BOOST_TEST(browser.fapi("POST", "/v1/client").status == 200u);
    // A browser that has one keeps it.
    auto again = browser.fapi("GET", "/v1/client/handshake?redirect_url=http%3A%2F%2F127.0.0.1%3A3000%2F&format=token");
    BOOST_TEST_REQUIRE(again.status == 307u);
    std::string const loc2 = again.headers["location"];
    bool same = false;
    auto const payload2 = jwt_payload(loc2.substr(loc2.find("__clerk_handshake=") + 18));
    for (auto const& d : payload2.at("handshake").as_array())
        same = same || std::string(d.as_string()).starts_with("__clerk_db_jwt=" + browser.dev_browser + ";");
    BOOST_TEST(same);
}

BOOST_AUTO_TEST_SUITE_END()
