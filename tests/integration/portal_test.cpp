// The Account Portal on the FAPI origin (/sign-in, /sign-up, /user and their bootstrap /portal/portal.js): the
// headers every page carries (CSP with a per-response style nonce and no inline script, no framing, no-store), the
// shipped bundles it loads with the instance's key, the proxy prefix, escaping of config and request input
// (application name, redirect targets), the open-redirect table (every refused target falls back to the
// configured after-sign-in URL), the BAPI listener serving none of it, and display_config pointing at it.
#include "tests/common/server_fixture.hpp"

#include "bundles/bundles.hpp"
#include "conf/load.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

using namespace latchkey;
using namespace latchkey::test;

namespace {

std::string const& header(http_result const& r, std::string const& name) {
    static std::string const none;
    auto it = r.headers.find(name);
    return it == r.headers.end() ? none : it->second;
}

http_result get(unsigned short port, std::string const& target,
                std::vector<std::pair<std::string, std::string>> const& headers = {}) {
    http_client c(port);
    return c.request(http::verb::get, target, {}, headers);
}

std::size_t count(std::string_view text, std::string_view needle) {
    std::size_t n = 0;
    for (auto p = text.find(needle); p != std::string_view::npos; p = text.find(needle, p + 1)) ++n;
    return n;
}

/// The page's settings: the JSON data block the bootstrap reads.
json::object settings_of(http_result const& r) {
    std::string_view const open = R"(<script type="application/json" id="latchkey-portal-settings">)";
    auto start = r.body.find(open);
    BOOST_TEST_REQUIRE(start != std::string::npos);
    start += open.size();
    auto end = r.body.find("</script>", start);
    BOOST_TEST_REQUIRE(end != std::string::npos);
    auto v = json::parse(std::string_view(r.body).substr(start, end - start));
    BOOST_TEST_REQUIRE(v.is_object());
    return v.as_object();
}

/// The value of directive `name` in a CSP ("" if absent).
std::string directive(std::string const& csp, std::string const& name) {
    std::string_view rest = csp;
    while (!rest.empty()) {
        auto semi = rest.find(';');
        std::string_view d = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
        while (!d.empty() && d.front() == ' ') d.remove_prefix(1);
        if (d.starts_with(name + " ") || d == name) return std::string(d.substr(std::min(d.size(), name.size() + 1)));
    }
    return {};
}

std::string shipped(std::string_view package) {
    auto const* p = bundles::find_package(package);
    BOOST_TEST_REQUIRE(p != nullptr);
    return std::string(p->version);
}

/// Every header and body expectation of a portal page.
void expect_portal_page(http_result const& r, std::string const& prefix = {}) {
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(header(r, "content-type") == "text/html; charset=utf-8");
    BOOST_TEST(header(r, "cache-control") == "no-store");
    BOOST_TEST(header(r, "x-frame-options") == "DENY");
    BOOST_TEST(header(r, "referrer-policy") == "same-origin");
    BOOST_TEST(header(r, "x-content-type-options") == "nosniff");
    BOOST_TEST(header(r, "access-control-allow-origin").empty());
    std::string const& csp = header(r, "content-security-policy");
    BOOST_TEST(directive(csp, "default-src") == "'none'");
    BOOST_TEST(directive(csp, "script-src") == "'self'");
    BOOST_TEST(directive(csp, "frame-ancestors") == "'none'");
    BOOST_TEST(directive(csp, "base-uri") == "'none'");
    BOOST_TEST(directive(csp, "object-src").empty());  // default-src 'none' covers it
    BOOST_TEST(csp.find("unsafe-inline") == std::string::npos);
    BOOST_TEST(csp.find("unsafe-eval") == std::string::npos);
    // The style nonce is the one the page hands to Clerk.load() and puts on its own <style>.
    std::string const style = directive(csp, "style-src");
    BOOST_TEST_REQUIRE(style.starts_with("'self' 'nonce-"));
    std::string const nonce = style.substr(14, style.find('\'', 14) - 14);
    // Beyond the nonce, only the hashes of the two fixed <style> texts @clerk/ui's code field creates.
    BOOST_TEST(style.substr(14 + nonce.size()) ==
               "' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
               "'sha256-KQDhUccuEkZUQDnfbVDeY+ev2LZ+73AQR7ro4JppAY8='");
    BOOST_TEST(nonce.size() >= 22u);
    BOOST_TEST(r.body.find("<style nonce=\"" + nonce + "\">") != std::string::npos);
    BOOST_TEST(str(settings_of(r).at("nonce")) == nonce);

    // No inline script: every <script> has a src, except the JSON data block.
    BOOST_TEST(count(r.body, "<script") == 4u);
    BOOST_TEST(count(r.body, "<script src=") == 3u);
    BOOST_TEST(count(r.body, "</script>") == 4u);
    BOOST_TEST(r.body.find("<script src=\"" + prefix + "/npm/@clerk/clerk-js@" + shipped("@clerk/clerk-js") +
                           "/dist/clerk.browser.js\"") != std::string::npos);
    BOOST_TEST(r.body.find("<script src=\"" + prefix + "/npm/@clerk/ui@" + shipped("@clerk/ui") +
                           "/dist/ui.browser.js\"") != std::string::npos);
    BOOST_TEST(r.body.find("<script src=\"" + prefix + "/portal/portal.js\" defer>") != std::string::npos);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(portal)

BOOST_AUTO_TEST_CASE(pages_are_served_with_strict_headers) {
    test_server s;
    for (auto const* path : {"/sign-in", "/sign-up", "/user"}) {
        BOOST_TEST_CONTEXT(path) {
            auto r = get(s.fapi_port(), path);
            expect_portal_page(r);
            BOOST_TEST(r.body.find("data-clerk-publishable-key=\"" + s.inst().publishable_key + "\"") !=
                       std::string::npos);
            BOOST_TEST(r.body.find("data-clerk-proxy-url=\"" + s.inst().frontend_api + "\"") != std::string::npos);
            auto settings = settings_of(r);
            BOOST_TEST(str(settings.at("page")) == std::string(path).substr(1));
            BOOST_TEST(str(settings.at("signInUrl")) == s.inst().frontend_api + "/sign-in");
            BOOST_TEST(str(settings.at("signUpUrl")) == s.inst().frontend_api + "/sign-up");
            BOOST_TEST(str(settings.at("userProfileUrl")) == s.inst().frontend_api + "/user");
            // A query string does not change the route.
            BOOST_TEST(get(s.fapi_port(), std::string(path) + "?x=1#y").status == 200u);
        }
    }
    // A fresh nonce per response.
    std::set<std::string> nonces;
    for (int i = 0; i < 5; ++i) nonces.insert(str(settings_of(get(s.fapi_port(), "/sign-in")).at("nonce")));
    BOOST_TEST(nonces.size() == 5u);
    // Only the three pages: no sub-paths (hash routing), no other methods.
    BOOST_TEST(get(s.fapi_port(), "/sign-in/factor-one").status == 404u);
    BOOST_TEST(get(s.fapi_port(), "/users").status == 404u);
    http_client c(s.fapi_port());
    auto post = c.request(http::verb::post, "/sign-in", "a=b", {{"Content-Type", "application/x-www-form-urlencoded"}});
    BOOST_TEST(post.status == 405u);
}

BOOST_AUTO_TEST_CASE(head_answers_the_headers_only) {
    test_server s;
    http_client c(s.fapi_port());
    auto r = c.request(http::verb::head, "/sign-up");
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.body.empty());
    BOOST_TEST(header(r, "content-type") == "text/html; charset=utf-8");
    BOOST_TEST(!header(r, "content-security-policy").empty());
}

BOOST_AUTO_TEST_CASE(bootstrap_script_is_served_with_a_validator) {
    test_server s;
    auto r = get(s.fapi_port(), "/portal/portal.js");
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(header(r, "content-type") == "application/javascript; charset=utf-8");
    BOOST_TEST(header(r, "x-content-type-options") == "nosniff");
    BOOST_TEST(header(r, "cache-control") == "no-cache");
    BOOST_TEST(r.body.find("latchkey-portal-settings") != std::string::npos);
    BOOST_TEST(r.body.find("mountSignIn") != std::string::npos);
    std::string const etag = header(r, "etag");
    BOOST_TEST_REQUIRE(etag.size() > 2u);
    auto again = get(s.fapi_port(), "/portal/portal.js", {{"If-None-Match", etag}});
    BOOST_TEST(again.status == 304u);
    BOOST_TEST(again.body.empty());
}

BOOST_AUTO_TEST_CASE(under_the_proxy_prefix) {
    test_server s([](conf::config& c) {
        c.instance_type = "production";
        c.frontend_api = "https://app.example.com/__clerk";
    });
    for (auto const* target : {"/__clerk/sign-in", "/__clerk/sign-up", "/__clerk/user", "/sign-in"}) {
        BOOST_TEST_CONTEXT(target) {
            auto r = get(s.fapi_port(), target);
            expect_portal_page(r, "/__clerk");
            auto settings = settings_of(r);
            BOOST_TEST(str(settings.at("signInUrl")) == "https://app.example.com/__clerk/sign-in");
            BOOST_TEST(str(settings.at("userProfileUrl")) == "https://app.example.com/__clerk/user");
            // Behind a proxy the app is the home: signing in with no target goes there.
            BOOST_TEST(str(settings.at("afterSignInUrl")) == "https://app.example.com");
            BOOST_TEST(r.body.find("data-clerk-proxy-url=\"https://app.example.com/__clerk\"") != std::string::npos);
            std::string const& csp = header(r, "content-security-policy");
            BOOST_TEST(directive(csp, "connect-src") == "'self' https://app.example.com");
        }
    }
    BOOST_TEST(get(s.fapi_port(), "/__clerk/portal/portal.js").status == 200u);
    BOOST_TEST(get(s.fapi_port(), "/__clerk/npm/@clerk/ui@1/dist/ui.browser.js").status == 200u);
}

BOOST_AUTO_TEST_CASE(branding_reaches_the_page_escaped) {
    std::string const evil_name = "</script><script>alert(1)</script><!-- \"'&";
    test_server s([&](conf::config& c) {
        c.application_name = evil_name;
        c.branding.logo_url = "https://cdn.example.net/logo.png";
        c.branding.favicon_url = "https://cdn.example.net/icon.png";
        c.branding.primary_color = "#123abc";
        c.branding.background_color = "#fafafa";
        c.branding.text_color = "#101010";
    });
    for (auto const* path : {"/sign-in", "/sign-up", "/user"}) {
        BOOST_TEST_CONTEXT(path) {
            auto r = get(s.fapi_port(), path);
            expect_portal_page(r);  // still exactly four script elements
            BOOST_TEST(r.body.find("alert(1)</script>") == std::string::npos);
            BOOST_TEST(r.body.find("<!--") == std::string::npos);
            BOOST_TEST(
                r.body.find("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!-- &quot;&#39;&amp;</title>") !=
                std::string::npos);
            auto settings = settings_of(r);
            auto const& vars = settings.at("appearance").at("variables").as_object();
            BOOST_TEST(str(vars.at("colorPrimary")) == "#123abc");
            BOOST_TEST(str(vars.at("colorBackground")) == "#fafafa");
            BOOST_TEST(str(vars.at("colorForeground")) == "#101010");
            BOOST_TEST(r.body.find("<link rel=\"icon\" href=\"https://cdn.example.net/icon.png\">") !=
                       std::string::npos);
            BOOST_TEST(r.body.find("background:#fafafa}") != std::string::npos);
            std::string const& csp = header(r, "content-security-policy");
            BOOST_TEST(directive(csp, "img-src").find("https://cdn.example.net") != std::string::npos);
        }
    }
    // The components read the name and logo from the environment (JSON: escaped by the serializer).
    http_client c(s.fapi_port());
    auto env = c.request(http::verb::get, "/v1/environment");
    BOOST_TEST(str(env.json.at("display_config").at("application_name")) == evil_name);
    BOOST_TEST(str(env.json.at("display_config").at("logo_image_url")) == "https://cdn.example.net/logo.png");
    BOOST_TEST(str(env.json.at("display_config").at("favicon_image_url")) == "https://cdn.example.net/icon.png");
}

BOOST_AUTO_TEST_CASE(social_provider_logos_are_allowed_images) {
    // The social buttons of <SignIn/> and <SignUp/> show each provider's configured logo_url
    // (user_settings.social): the page's img-src names the logos' origins; a provider without a logo adds none.
    test_server s([&](conf::config& c) {
        conf::oauth_provider with_logo;
        with_logo.strategy = "oauth_custom_partner";
        with_logo.name = "Partner";
        with_logo.client_id = "partner";
        with_logo.client_secret = "partner-secret";
        // Endpoints given, so nothing is discovered (and nothing here is ever contacted).
        with_logo.authorization_endpoint = "https://id.partner.example/authorize";
        with_logo.token_endpoint = "https://id.partner.example/token";
        with_logo.jwks_uri = "https://id.partner.example/jwks";
        with_logo.logo_url = "https://static.partner.example:8443/brand/logo.svg";
        conf::oauth_provider without_logo = with_logo;
        without_logo.strategy = "oauth_custom_bare";
        without_logo.logo_url.clear();
        c.oauth_providers = {with_logo, without_logo};
    });
    for (auto const* path : {"/sign-in", "/sign-up"}) {
        BOOST_TEST_CONTEXT(path) {
            auto r = get(s.fapi_port(), path);
            expect_portal_page(r);
            std::string const img = directive(header(r, "content-security-policy"), "img-src");
            BOOST_TEST(count(img, " https://static.partner.example:8443") == 1u, img);
            BOOST_TEST(img.find("/brand/logo.svg") == std::string::npos, img);  // origins only
            BOOST_TEST(img.find("bare.example") == std::string::npos, img);
        }
    }
    http_client c(s.fapi_port());
    auto env = c.request(http::verb::get, "/v1/environment");
    auto const& social = env.json.at("user_settings").at("social");
    BOOST_TEST(str(social.at("oauth_custom_partner").at("logo_url")) ==
               "https://static.partner.example:8443/brand/logo.svg");
    BOOST_TEST(social.at("oauth_custom_bare").at("logo_url").is_null());
}

BOOST_AUTO_TEST_CASE(branding_settings_are_validated) {
    auto load = [](std::string const& text) {
        conf::config c;
        if (auto e = conf::apply_json(c, text)) return e->setting + ": " + e->message;
        if (auto e = conf::validate(c)) return e->setting + ": " + e->message;
        return std::string{};
    };
    BOOST_TEST(load(R"j({"branding":{"logo_url":"https://cdn.example.net/l.png","primary_color":"#abc",
        "background_color":"#AABBCCDD","text_color":"#000000"}})j")
                   .empty());
    BOOST_TEST(load(R"j({"branding":{"primary_color":"red"}})j").starts_with("branding.primary_color"));
    BOOST_TEST(load(R"j({"branding":{"primary_color":"#12345"}})j").starts_with("branding.primary_color"));
    BOOST_TEST(load(R"j({"branding":{"text_color":"#000;}body{x:y"}})j").starts_with("branding.text_color"));
    BOOST_TEST(load(R"j({"branding":{"logo_url":"javascript:alert(1)"}})j").starts_with("branding.logo_url"));
    BOOST_TEST(load(R"j({"branding":{"logo_url":"https://x.example/\"><script>"}})j").starts_with("branding.logo_url"));
    BOOST_TEST(load(R"j({"branding":{"logo_url":"https://user@x.example/"}})j").starts_with("branding.logo_url"));
    BOOST_TEST(load(R"j({"branding":{"favicon_url":"//x.example/i.png"}})j").starts_with("branding.favicon_url"));
    BOOST_TEST(load(R"j({"branding":{"logo":"https://x.example/"}})j").starts_with("branding.logo"));
    BOOST_TEST(load(R"j({"branding":"#fff"})j").starts_with("branding"));
    BOOST_TEST(load(R"j({"user_profile_url":"/account"})j").starts_with("user_profile_url"));
    BOOST_TEST(load(R"j({"legal_consent":{"enabled":true,"terms_url":"https://x.example/t"}})j").empty());
    BOOST_TEST(load(R"j({"legal_consent":{"terms_url":"ftp://x.example/t"}})j").starts_with("legal_consent.terms_url"));
}

BOOST_AUTO_TEST_CASE(open_redirects_are_refused) {
    test_server s([](conf::config& c) {
        c.instance_type = "production";
        c.frontend_api = "https://clerk.example.com";
        c.home_url = "https://app.example.com/home";
        c.allowed_origins = {"https://app.example.com"};
        c.allowed_redirect_origins = {"https://partner.example.org"};
    });
    std::string const fallback = "https://app.example.com/home";
    std::vector<std::string> const refused = {
        "https://evil.example/",
        "http://app.example.com/",  // another scheme is another origin
        "https://app.example.com.evil.example/",
        "https://evil.example/?x=https://app.example.com",
        "//evil.example/",
        "///evil.example/",
        "\\\\evil.example\\",
        "/\\evil.example",
        "https:\\\\evil.example",
        "javascript:alert(1)//https://app.example.com",
        "JavaScript:alert(document.domain)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "https://app.example.com@evil.example/",
        "https://app.example.com:443@evil.example/",
        "https://evil.example\\@app.example.com/",
        "https://evil.example%2F@app.example.com/",
        "https://user:pass@app.example.com/",
        "https://app.example.com/\r\nSet-Cookie: pwned=1",
        "https://app.example.com/%0d%0a\r\nLocation: https://evil.example/",
        "https://app.example.com/\t",
        "https://app.example.com/ x",
        "https://app.example.com/</script><script>alert(1)</script>",
        "https://evil.example:443/",
        "https://%65vil.example/",
        "http://127.0.0.1.evil.example/",
        "/relative/path",
        "",
        std::string(5000, 'a'),
    };
    for (auto const& target : refused) {
        for (auto const* name : {"redirect_url", "after_sign_in_url", "sign_in_force_redirect_url"}) {
            BOOST_TEST_CONTEXT(name << "=" << target.substr(0, 80)) {
                auto r = get(s.fapi_port(), "/sign-in?" + form_encode({{name, target}}));
                expect_portal_page(r);
                auto settings = settings_of(r);
                BOOST_TEST(str(settings.at("afterSignInUrl")) == fallback);
                BOOST_TEST(!settings.at("requestedTargets").as_bool());
                BOOST_TEST(r.body.find("evil") == std::string::npos);
                BOOST_TEST(r.body.find("alert(1)</script>") == std::string::npos);
                BOOST_TEST(header(r, "set-cookie").empty());
                BOOST_TEST(header(r, "location").empty());
                for (auto const& o : settings.at("allowedRedirectOrigins").as_array())
                    BOOST_TEST(str(o).find("evil") == std::string::npos);
            }
        }
        BOOST_TEST_CONTEXT("after_sign_up_url=" << target.substr(0, 80)) {
            auto r = get(s.fapi_port(), "/sign-up?" + form_encode({{"after_sign_up_url", target}}));
            BOOST_TEST(str(settings_of(r).at("afterSignUpUrl")) == fallback);
        }
    }

    struct accepted_case {
        std::string input, expected;
    };
    std::vector<accepted_case> const accepted = {
        {"https://app.example.com/dashboard?tab=1#top", "https://app.example.com/dashboard?tab=1#top"},
        {"https://APP.example.com:443/x", "https://app.example.com/x"},
        {"https://clerk.example.com/user", "https://clerk.example.com/user"},  // the instance's own origin
        {"https://partner.example.org/welcome", "https://partner.example.org/welcome"},
    };
    for (auto const& [input, expected] : accepted) {
        BOOST_TEST_CONTEXT(input) {
            auto r = get(s.fapi_port(), "/sign-in?" + form_encode({{"redirect_url", input}}));
            auto settings = settings_of(r);
            BOOST_TEST(str(settings.at("afterSignInUrl")) == expected);
            BOOST_TEST(str(settings.at("afterSignUpUrl")) == expected);  // redirect_url serves both
            BOOST_TEST(settings.at("requestedTargets").as_bool());
        }
    }
    // Separate targets for sign-in and sign-up; the first allowed of each list wins.
    auto r = get(s.fapi_port(), "/sign-up?" + form_encode({{"sign_in_force_redirect_url", "https://evil.example/"},
                                                           {"after_sign_in_url", "https://app.example.com/in"},
                                                           {"after_sign_up_url", "https://app.example.com/up"}}));
    auto settings = settings_of(r);
    BOOST_TEST(str(settings.at("afterSignInUrl")) == "https://app.example.com/in");
    BOOST_TEST(str(settings.at("afterSignUpUrl")) == "https://app.example.com/up");
    std::set<std::string> origins;
    for (auto const& o : settings.at("allowedRedirectOrigins").as_array()) origins.insert(str(o));
    BOOST_TEST((origins == std::set<std::string>{"https://clerk.example.com", "https://app.example.com",
                                                 "https://partner.example.org"}));
}

BOOST_AUTO_TEST_CASE(without_home_url_home_is_the_profile_page) {
    test_server s([](conf::config& c) {
        c.instance_type = "production";
        c.frontend_api = "https://clerk.example.com";
    });
    auto settings = settings_of(get(s.fapi_port(), "/sign-in?redirect_url=https%3A%2F%2Fevil.example%2F"));
    BOOST_TEST(str(settings.at("afterSignInUrl")) == "https://clerk.example.com/user");
    http_client c(s.fapi_port());
    auto env = c.request(http::verb::get, "/v1/environment");
    // The FAPI's own origin has no home page: every "go home" (after sign-in, after switching account) goes there.
    for (auto const* key : {"home_url", "after_sign_in_url", "after_sign_up_url", "after_switch_session_url"})
        BOOST_TEST(str(env.json.at("display_config").at(key)) == "https://clerk.example.com/user", key);
}

BOOST_AUTO_TEST_CASE(the_bapi_listener_serves_no_portal) {
    test_server s;
    for (auto const* path : {"/sign-in", "/sign-up", "/user", "/portal/portal.js"}) {
        BOOST_TEST_CONTEXT(path) {
            auto r = get(s.bapi_port(), path);
            expect_error(r, 404, "resource_not_found");
            BOOST_TEST(header(r, "content-security-policy").empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(display_config_points_at_the_portal) {
    {
        test_server s;
        http_client c(s.fapi_port());
        auto const env = c.request(http::verb::get, "/v1/environment");
        auto const& dc = env.json.at("display_config");
        std::string const fapi = s.inst().frontend_api;
        BOOST_TEST(str(dc.at("sign_in_url")) == fapi + "/sign-in");
        BOOST_TEST(str(dc.at("sign_up_url")) == fapi + "/sign-up");
        BOOST_TEST(str(dc.at("user_profile_url")) == fapi + "/user");
        BOOST_TEST(str(dc.at("after_sign_out_all_url")) == fapi + "/sign-in");
        BOOST_TEST(dc.at("logo_image_url").is_null());
        BOOST_TEST(dc.at("terms_url").is_null());
        // The URLs it announces answer with the portal.
        for (auto const* key : {"sign_in_url", "sign_up_url", "user_profile_url"})
            BOOST_TEST(get(s.fapi_port(), str(dc.at(key)).substr(fapi.size())).status == 200u);
    }
    {
        test_server s([](conf::config& c) {
            c.frontend_api = "https://app.example.com/__clerk";
            c.instance_type = "production";
        });
        http_client c(s.fapi_port());
        auto const env = c.request(http::verb::get, "/v1/environment");
        auto const& dc = env.json.at("display_config");
        BOOST_TEST(str(dc.at("sign_in_url")) == "https://app.example.com/__clerk/sign-in");
        BOOST_TEST(str(dc.at("user_profile_url")) == "https://app.example.com/__clerk/user");
        BOOST_TEST(str(dc.at("home_url")) == "https://app.example.com");
        BOOST_TEST(str(dc.at("after_sign_in_url")) == "https://app.example.com");
    }
    {
        // The app's own pages, where the config names them.
        test_server s([](conf::config& c) {
            c.home_url = "https://app.example.com";
            c.sign_in_url = "https://app.example.com/login";
            c.sign_up_url = "https://app.example.com/join";
            c.user_profile_url = "https://app.example.com/me";
            c.legal_consent = {true, "https://app.example.com/terms", "https://app.example.com/privacy"};
        });
        http_client c(s.fapi_port());
        auto const reply = c.request(http::verb::get, "/v1/environment");
        auto const& env = reply.json;
        auto const& dc = env.at("display_config");
        BOOST_TEST(str(dc.at("sign_in_url")) == "https://app.example.com/login");
        BOOST_TEST(str(dc.at("sign_up_url")) == "https://app.example.com/join");
        BOOST_TEST(str(dc.at("user_profile_url")) == "https://app.example.com/me");
        BOOST_TEST(str(dc.at("after_sign_in_url")) == "https://app.example.com");
        BOOST_TEST(str(dc.at("terms_url")) == "https://app.example.com/terms");
        BOOST_TEST(str(dc.at("privacy_policy_url")) == "https://app.example.com/privacy");
        BOOST_TEST(env.at("user_settings").at("sign_up").at("legal_consent_enabled").as_bool());
        // The portal stays complete in itself: its pages link each other.
        auto settings = settings_of(get(s.fapi_port(), "/sign-in"));
        BOOST_TEST(str(settings.at("signUpUrl")) == s.inst().frontend_api + "/sign-up");
    }
}

BOOST_AUTO_TEST_CASE(organization_pages_are_served_and_announced) {
    test_server s([](conf::config& c) { c.organizations.enabled = true; });
    std::string const fapi = s.inst().frontend_api;
    for (auto const* path : {"/organization", "/create-organization"}) {
        BOOST_TEST_CONTEXT(path) {
            auto r = get(s.fapi_port(), path);
            expect_portal_page(r);
            auto settings = settings_of(r);
            BOOST_TEST(str(settings.at("page")) == std::string(path).substr(1));
            BOOST_TEST(str(settings.at("organizationProfileUrl")) == fapi + "/organization");
            BOOST_TEST(str(settings.at("createOrganizationUrl")) == fapi + "/create-organization");
            BOOST_TEST(r.body.find("<div id=\"latchkey-portal-bar\"></div>") != std::string::npos);
            expect_error(get(s.bapi_port(), path), 404, "resource_not_found");
        }
    }
    BOOST_TEST(get(s.fapi_port(), "/organization/members").status == 404u);
    // The bootstrap mounts the organization components for these pages.
    auto js = get(s.fapi_port(), "/portal/portal.js");
    for (auto const* call :
         {"mountOrganizationProfile", "mountCreateOrganization", "mountOrganizationList", "mountOrganizationSwitcher"})
        BOOST_TEST(js.body.find(call) != std::string::npos, call);
    // display_config points at them, and they answer.
    http_client c(s.fapi_port());
    auto const env = c.request(http::verb::get, "/v1/environment");
    auto const& dc = env.json.at("display_config");
    BOOST_TEST(str(dc.at("organization_profile_url")) == fapi + "/organization");
    BOOST_TEST(str(dc.at("create_organization_url")) == fapi + "/create-organization");
    for (auto const* key : {"organization_profile_url", "create_organization_url"})
        BOOST_TEST(get(s.fapi_port(), str(dc.at(key)).substr(fapi.size())).status == 200u);
}

BOOST_AUTO_TEST_CASE(legal_consent_is_a_missing_field_until_accepted) {
    test_server s([](conf::config& c) {
        c.legal_consent = {true, "https://app.example.com/terms", "https://app.example.com/privacy"};
        c.email_address.verify_at_sign_up = false;
    });
    http_client c(s.fapi_port());
    auto r = c.fapi("POST", "/v1/client/sign_ups",
                    {{"email_address", "legal@example.com"}, {"password", "correct horse battery staple"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    auto const& su = response(r);
    BOOST_TEST(str(su.at("status")) == "missing_requirements");
    BOOST_TEST(json::serialize(su.at("missing_fields")) == R"(["legal_accepted"])");
    BOOST_TEST(json::serialize(su.at("required_fields")).find("legal_accepted") != std::string::npos);
    auto done = c.fapi("PATCH", "/v1/client/sign_ups/" + str(su.at("id")), {{"legal_accepted", "true"}});
    BOOST_TEST_REQUIRE(done.status == 200u);
    BOOST_TEST(str(response(done).at("status")) == "complete");
    BOOST_TEST(!response(done).at("legal_accepted_at").is_null());
}

BOOST_AUTO_TEST_SUITE_END()
