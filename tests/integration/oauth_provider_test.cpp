// latchkey as an OAuth 2.0 / OpenID Connect provider (issue 15): BAPI /v1/oauth_applications and the FAPI
// /oauth/* endpoints, on the real server over sockets.
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "server/http/router.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::test;

namespace {

using verb = http::verb;

json::object create_app(http_client& b, json::object body) {
    auto r = b.bapi(verb::post, "/v1/oauth_applications", body);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return r.json.as_object();
}

/// One query parameter of a URL ("" if absent), percent-decoded.
std::string url_param(std::string const& url, std::string const& name) {
    auto q = url.find('?');
    if (q == std::string::npos) return {};
    std::string_view rest = std::string_view(url).substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        auto kv = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        auto eq = kv.find('=');
        if (kv.substr(0, eq) == name) {
            std::string out;
            server::percent_decode(eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1), out, true);
            return out;
        }
    }
    return {};
}

constexpr char verifier[] = "dBjftJeZ4CVP-mJ92K9qpgZ7D3fsnPAkA0WXb5M3X9SY0aD3kzqLOvUw1hAg";

std::string challenge_of(std::string_view v) { return crypto::base64url_encode(crypto::sha256(v)); }

/// A provider set up for tests: an application, a signed-in browser, and an anonymous HTTP client for the RP.
struct provider {
    test_server s;
    http_client b = bapi_client(s);
    http_client browser{s.fapi_port()};
    http_client rp{s.fapi_port()};
    std::string client_id, secret, user_id, redirect = "https://rp.example/cb";

    explicit provider(json::object extra = {}) {
        json::object body{{"name", "RP"},
                          {"redirect_uris", json::array{"https://rp.example/cb", "rp://native"}},
                          {"scopes", "openid profile email offline_access"},
                          {"consent_screen_enabled", false}};
        for (auto const& [k, v] : extra) body[k] = v;
        auto app = create_app(b, body);
        client_id = str(app.at("client_id"));
        if (app.contains("client_secret")) secret = str(app.at("client_secret"));
        user_id = sign_in_browser(s, browser, "oauth-user@example.com").user_id;
    }

    http_result authorize(std::vector<std::pair<std::string, std::string>> q) {
        if (!browser.dev_browser.empty()) q.emplace_back("__clerk_db_jwt", browser.dev_browser);
        return browser.request(verb::get, "/oauth/authorize?" + form_encode(q));
    }
    std::vector<std::pair<std::string, std::string>> authz_params(std::string state = "state-12345") {
        return {{"response_type", "code"},
                {"client_id", client_id},
                {"redirect_uri", redirect},
                {"scope", "openid profile email"},
                {"state", std::move(state)},
                {"nonce", "n-0S6_WzA2Mj"},
                {"code_challenge", challenge_of(verifier)},
                {"code_challenge_method", "S256"}};
    }
    /// Authorizes and returns the code (the redirect must carry it and the state).
    std::string code() {
        auto r = authorize(authz_params());
        BOOST_TEST_REQUIRE(r.status == 302u, r.body);
        auto const loc = r.headers["location"];
        BOOST_TEST_REQUIRE(loc.starts_with(redirect + "?"), loc);
        BOOST_TEST(url_param(loc, "state") == "state-12345");
        return url_param(loc, "code");
    }
    http_result post(std::string const& path, std::vector<std::pair<std::string, std::string>> form, bool basic = true,
                     std::string const& bearer = {}) {
        std::vector<std::pair<std::string, std::string>> h{{"Content-Type", "application/x-www-form-urlencoded"}};
        if (basic && !secret.empty())
            h.emplace_back("Authorization", "Basic " + crypto::base64_encode(client_id + ":" + secret));
        else if (!basic) {
            form.emplace_back("client_id", client_id);
            if (!secret.empty()) form.emplace_back("client_secret", secret);
        }
        if (!bearer.empty()) h.emplace_back("Authorization", "Bearer " + bearer);
        return rp.request(verb::post, path, form_encode(form), h);
    }
    http_result exchange(std::string const& code, std::string const& v = verifier, bool basic = true) {
        return post(
            "/oauth/token",
            {{"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", redirect}, {"code_verifier", v}},
            basic);
    }
};

void expect_oauth_error(http_result const& r, unsigned status, std::string const& error) {
    BOOST_TEST(r.status == status, r.body);
    BOOST_TEST_REQUIRE(r.json.is_object(), r.body);
    BOOST_TEST(str(r.json.at("error")) == error);
    BOOST_TEST(r.json.as_object().contains("error_description"));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(oauth_provider)

BOOST_AUTO_TEST_CASE(oauth_applications_crud_and_secret_shown_once) {
    test_server s;
    auto b = bapi_client(s);
    auto created = create_app(b, {{"name", "Acme"},
                                  {"redirect_uris", json::array{"https://acme.example/cb", "acme://cb"}},
                                  {"scopes", "openid profile email"}});
    BOOST_TEST(str(created.at("object")) == "oauth_application");
    auto const id = str(created.at("id"));
    auto const secret = str(created.at("client_secret"));
    BOOST_TEST(!secret.empty());
    BOOST_TEST(created.at("public").as_bool() == false);
    BOOST_TEST(str(created.at("scopes")) == "openid profile email");
    BOOST_TEST(created.at("redirect_uris").as_array().size() == 2u);
    BOOST_TEST(str(created.at("authorize_url")).ends_with("/oauth/authorize"));
    BOOST_TEST(str(created.at("discovery_url")).ends_with("/.well-known/openid-configuration"));

    // The secret is shown once: never on get/list/update, and only its digest is stored.
    auto got = b.bapi(verb::get, "/v1/oauth_applications/" + id);
    BOOST_TEST_REQUIRE(got.status == 200u);
    BOOST_TEST(!got.json.as_object().contains("client_secret"));
    BOOST_TEST(got.body.find(secret) == std::string::npos);
    s.app().db.with_read([&](store::read_txn& t) -> store::result<void> {
        auto a = t.oauth().app(id);
        BOOST_TEST_REQUIRE(a->has_value());
        BOOST_TEST((*a)->secret_digest.size() == 64u);
        BOOST_TEST((*a)->secret_digest.find(secret) == std::string::npos);
        return {};
    });

    // A public client has no secret; list is newest first with name_query.
    auto pub = create_app(b, {{"name", "Mobile"}, {"redirect_uris", json::array{"myapp://cb"}}, {"public", true}});
    BOOST_TEST(!pub.contains("client_secret"));
    BOOST_TEST(pub.at("pkce_required").as_bool());
    auto list = b.bapi(verb::get, "/v1/oauth_applications");
    BOOST_TEST_REQUIRE(list.status == 200u);
    BOOST_TEST(list.json.at("total_count").as_int64() == 2);
    BOOST_TEST(str(list.json.at("data").as_array()[0].at("name")) == "Mobile");
    auto q = b.bapi(verb::get, "/v1/oauth_applications?name_query=acm");
    BOOST_TEST(q.json.at("total_count").as_int64() == 1);

    // Update, rotate (a new secret, once), delete.
    auto up =
        b.bapi(verb::patch, "/v1/oauth_applications/" + id, json::object{{"name", "Acme 2"}, {"scopes", "profile"}});
    BOOST_TEST_REQUIRE(up.status == 200u, up.body);
    BOOST_TEST(str(up.json.at("name")) == "Acme 2");
    BOOST_TEST(str(up.json.at("client_id")) == str(created.at("client_id")));
    auto rot = b.bapi(verb::post, "/v1/oauth_applications/" + id + "/rotate_secret");
    BOOST_TEST_REQUIRE(rot.status == 200u, rot.body);
    BOOST_TEST(str(rot.json.at("client_secret")) != secret);
    expect_error(b.bapi(verb::post, "/v1/oauth_applications/" + str(pub.at("id")) + "/rotate_secret"), 422,
                 "form_param_value_invalid", "client_secret");
    auto del = b.bapi(verb::delete_, "/v1/oauth_applications/" + id);
    BOOST_TEST_REQUIRE(del.status == 200u);
    BOOST_TEST(del.json.at("deleted").as_bool());
    expect_error(b.bapi(verb::get, "/v1/oauth_applications/" + id), 404, "resource_not_found");
    expect_error(b.bapi(verb::patch, "/v1/oauth_applications/" + id, json::object{{"name", "x"}}), 404,
                 "resource_not_found");
    expect_error(b.bapi(verb::delete_, "/v1/oauth_applications/" + id), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(oauth_applications_bad_input_is_clerk_shaped) {
    test_server s;
    auto b = bapi_client(s);
    expect_error(
        b.bapi(verb::post, "/v1/oauth_applications", json::object{{"redirect_uris", json::array{"https://a/cb"}}}), 422,
        "form_param_missing", "name");
    expect_error(b.bapi(verb::post, "/v1/oauth_applications",
                        json::object{{"name", "x"}, {"redirect_uris", json::array{"not a uri"}}}),
                 422, "form_param_format_invalid", "redirect_uris");
    expect_error(b.bapi(verb::post, "/v1/oauth_applications",
                        json::object{{"name", "x"}, {"redirect_uris", json::array{"https://a/cb#frag"}}}),
                 422, "form_param_format_invalid", "redirect_uris");
    expect_error(b.bapi(verb::post, "/v1/oauth_applications", json::object{{"name", "x"}, {"scopes", "profile admin"}}),
                 422, "form_param_value_invalid", "scopes");
    expect_error(b.bapi(verb::post, "/v1/oauth_applications", json::object{{"name", 5}}), 422,
                 "form_param_type_invalid", "name");
    expect_error(b.bapi(verb::post, "/v1/oauth_applications", json::object{{"name", "x"}, {"public", "yes"}}), 422,
                 "form_param_type_invalid", "public");
    BOOST_TEST(b.bapi(verb::get, "/v1/oauth_applications").json.at("total_count").as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(code_flow_with_pkce_issues_tokens_id_token_and_userinfo) {
    provider p;
    auto tok = p.exchange(p.code());
    BOOST_TEST_REQUIRE(tok.status == 200u, tok.body);
    auto const& t = tok.json.as_object();
    BOOST_TEST(str(t.at("token_type")) == "Bearer");
    BOOST_TEST(str(t.at("access_token")).starts_with("oat_"));
    BOOST_TEST(t.at("expires_in").as_int64() == 86400);
    BOOST_TEST(str(t.at("scope")) == "openid profile email");
    BOOST_TEST(tok.headers["cache-control"].find("no-store") != std::string::npos);
    // The ID token: RS256 with the instance kid, iss = the FAPI, aud = the client, the nonce, the email.
    auto const idt = str(t.at("id_token"));
    auto h = jwt_header(idt), c = jwt_payload(idt);
    BOOST_TEST(str(h.at("alg")) == "RS256");
    BOOST_TEST(str(h.at("kid")) == p.s.inst().id);
    BOOST_TEST(str(c.at("iss")) == p.s.inst().frontend_api);
    BOOST_TEST(str(c.at("aud")) == p.client_id);
    BOOST_TEST(str(c.at("sub")) == p.user_id);
    BOOST_TEST(str(c.at("nonce")) == "n-0S6_WzA2Mj");
    BOOST_TEST(str(c.at("email")) == "oauth-user@example.com");

    // userinfo: GET and POST with the Bearer token.
    for (auto m : {verb::get, verb::post}) {
        auto ui = p.rp.request(m, "/oauth/userinfo", {}, {{"Authorization", "Bearer " + str(t.at("access_token"))}});
        BOOST_TEST_REQUIRE(ui.status == 200u, ui.body);
        BOOST_TEST(str(ui.json.at("sub")) == p.user_id);
        BOOST_TEST(str(ui.json.at("email")) == "oauth-user@example.com");
    }
    auto no = p.rp.request(verb::get, "/oauth/userinfo", {}, {{"Authorization", "Bearer oat_nope"}});
    expect_oauth_error(no, 401, "invalid_token");
    BOOST_TEST(no.headers["www-authenticate"].starts_with("Bearer"));
    expect_oauth_error(p.rp.request(verb::get, "/oauth/userinfo"), 401, "invalid_request");

    // Client auth by post works as well as Basic.
    auto tok2 = p.exchange(p.code(), verifier, false);
    BOOST_TEST(tok2.status == 200u, tok2.body);
    // POST /oauth/authorize (form) answers as GET does.
    auto form = p.authz_params();
    std::string target = "/oauth/authorize";
    if (!p.browser.dev_browser.empty()) target += "?__clerk_db_jwt=" + p.browser.dev_browser;
    auto posted = p.browser.request(verb::post, target, form_encode(form),
                                    {{"Content-Type", "application/x-www-form-urlencoded"}});
    BOOST_TEST_REQUIRE(posted.status == 302u, posted.body);
    BOOST_TEST(p.exchange(url_param(posted.headers["location"], "code")).status == 200u);
}

BOOST_AUTO_TEST_CASE(a_replayed_code_fails_and_revokes_what_it_issued) {
    provider p;
    auto const code = p.code();
    auto first = p.exchange(code);
    BOOST_TEST_REQUIRE(first.status == 200u, first.body);
    expect_oauth_error(p.exchange(code), 400, "invalid_grant");
    // The first exchange's tokens are revoked by the replay.
    auto ui = p.rp.request(verb::get, "/oauth/userinfo", {},
                           {{"Authorization", "Bearer " + str(first.json.at("access_token"))}});
    BOOST_TEST(ui.status == 401u);
    auto info = p.post("/oauth/token_info", {{"token", str(first.json.at("refresh_token"))}});
    BOOST_TEST(info.json.at("active").as_bool() == false);
}

BOOST_AUTO_TEST_CASE(wrong_verifier_wrong_redirect_uri_expired_code_are_invalid_grant) {
    provider p;
    expect_oauth_error(p.exchange(p.code(), std::string(60, 'x')), 400, "invalid_grant");
    auto const code = p.code();
    expect_oauth_error(p.post("/oauth/token", {{"grant_type", "authorization_code"},
                                               {"code", code},
                                               {"redirect_uri", "rp://native"},
                                               {"code_verifier", verifier}}),
                       400, "invalid_grant");
    auto const late = p.code();
    p.s.advance(std::chrono::minutes(11));
    expect_oauth_error(p.exchange(late), 400, "invalid_grant");
    expect_oauth_error(p.exchange("not-a-code"), 400, "invalid_grant");
    expect_oauth_error(p.post("/oauth/token", {{"grant_type", "password"}}), 400, "unsupported_grant_type");
    expect_oauth_error(p.post("/oauth/token", {{"grant_type", "authorization_code"}}), 400, "invalid_request");
}

BOOST_AUTO_TEST_CASE(unknown_client_and_bad_secret_are_invalid_client) {
    provider p;
    auto const code = p.code();
    auto good = p.secret;
    p.secret = "lk_oas_wrong";
    auto bad = p.exchange(code);
    expect_oauth_error(bad, 401, "invalid_client");
    BOOST_TEST(bad.headers["www-authenticate"].starts_with("Basic"));
    p.secret = good;
    auto const real = p.client_id;
    p.client_id = "unknown";
    expect_oauth_error(p.exchange(code), 401, "invalid_client");
    p.client_id = real;
    // The failed attempts did not burn the code.
    BOOST_TEST(p.exchange(code).status == 200u);
    // Confidential clients must authenticate: client_id alone is not enough.
    expect_oauth_error(p.rp.request(verb::post, "/oauth/token",
                                    form_encode({{"grant_type", "authorization_code"},
                                                 {"code", p.code()},
                                                 {"client_id", p.client_id},
                                                 {"redirect_uri", p.redirect},
                                                 {"code_verifier", verifier}}),
                                    {{"Content-Type", "application/x-www-form-urlencoded"}}),
                       401, "invalid_client");
}

BOOST_AUTO_TEST_CASE(authorize_checks_client_redirect_uri_pkce_scope_and_session) {
    provider p(json::object{{"public", true}});
    // Unknown client and unregistered redirect_uri: an error here, never a redirect.
    auto q = p.authz_params();
    q[1].second = "unknown";
    auto r = p.authorize(q);
    expect_oauth_error(r, 400, "invalid_client");
    q = p.authz_params();
    q[2].second = "https://evil.example/cb";
    r = p.authorize(q);
    expect_oauth_error(r, 400, "invalid_request");
    BOOST_TEST(!r.headers.contains("location"));
    // After that, errors go back to the RP with the state.
    q = p.authz_params();
    q.erase(q.begin() + 6, q.end());  // no PKCE: a public client must use it
    r = p.authorize(q);
    BOOST_TEST_REQUIRE(r.status == 302u);
    BOOST_TEST(url_param(r.headers["location"], "error") == "invalid_request");
    BOOST_TEST(url_param(r.headers["location"], "state") == "state-12345");
    q = p.authz_params();
    q[7].second = "plain";
    BOOST_TEST(url_param(p.authorize(q).headers["location"], "error") == "invalid_request");
    q = p.authz_params();
    q[3].second = "openid private_metadata";
    BOOST_TEST(url_param(p.authorize(q).headers["location"], "error") == "invalid_scope");
    q = p.authz_params();
    q[0].second = "token";
    BOOST_TEST(url_param(p.authorize(q).headers["location"], "error") == "unsupported_response_type");
    // A public client exchanges with client_id and the verifier only.
    auto tok = p.exchange(p.code(), verifier, false);
    BOOST_TEST(tok.status == 200u, tok.body);
    // Without a session: to the sign-in page with a redirect_url back to /oauth/authorize; prompt=none refuses.
    http_client stranger(p.s.fapi_port());
    auto anon = stranger.request(verb::get, "/oauth/authorize?" + form_encode(p.authz_params()));
    BOOST_TEST_REQUIRE(anon.status == 302u, anon.body);
    BOOST_TEST(url_param(anon.headers["location"], "redirect_url").find("/oauth/authorize?") != std::string::npos);
    auto none = p.authz_params();
    none.emplace_back("prompt", "none");
    auto n = stranger.request(verb::get, "/oauth/authorize?" + form_encode(none));
    BOOST_TEST(url_param(n.headers["location"], "error") == "login_required");
}

BOOST_AUTO_TEST_CASE(refresh_rotates_and_reuse_revokes_the_family) {
    provider p;
    auto first = p.exchange(p.code());
    BOOST_TEST_REQUIRE(first.status == 200u, first.body);
    auto const r1 = str(first.json.at("refresh_token"));
    auto second = p.post("/oauth/token", {{"grant_type", "refresh_token"}, {"refresh_token", r1}});
    BOOST_TEST_REQUIRE(second.status == 200u, second.body);
    auto const r2 = str(second.json.at("refresh_token"));
    BOOST_TEST(r2 != r1);
    BOOST_TEST(second.json.as_object().contains("id_token"));
    // A narrower scope is allowed, a wider one is not.
    auto narrow = p.post("/oauth/token",
                         {{"grant_type", "refresh_token"}, {"refresh_token", r2}, {"scope", "openid offline_access"}});
    expect_oauth_error(narrow, 400, "invalid_scope");
    narrow = p.post("/oauth/token", {{"grant_type", "refresh_token"}, {"refresh_token", r2}, {"scope", "openid"}});
    BOOST_TEST_REQUIRE(narrow.status == 200u, narrow.body);
    BOOST_TEST(str(narrow.json.at("scope")) == "openid");
    auto const r3 = str(narrow.json.at("refresh_token"));
    // Presenting r1 again is reuse: every token of the authorization dies, the newest included.
    expect_oauth_error(p.post("/oauth/token", {{"grant_type", "refresh_token"}, {"refresh_token", r1}}), 400,
                       "invalid_grant");
    expect_oauth_error(p.post("/oauth/token", {{"grant_type", "refresh_token"}, {"refresh_token", r3}}), 400,
                       "invalid_grant");
    auto ui = p.rp.request(verb::get, "/oauth/userinfo", {},
                           {{"Authorization", "Bearer " + str(narrow.json.at("access_token"))}});
    BOOST_TEST(ui.status == 401u);
}

BOOST_AUTO_TEST_CASE(introspection_and_revocation) {
    provider p;
    auto tok = p.exchange(p.code());
    BOOST_TEST_REQUIRE(tok.status == 200u, tok.body);
    auto const at = str(tok.json.at("access_token")), rt = str(tok.json.at("refresh_token"));
    auto info = p.post("/oauth/token_info", {{"token", at}});
    BOOST_TEST_REQUIRE(info.status == 200u, info.body);
    BOOST_TEST(info.json.at("active").as_bool());
    BOOST_TEST(str(info.json.at("sub")) == p.user_id);
    BOOST_TEST(str(info.json.at("client_id")) == p.client_id);
    BOOST_TEST(str(info.json.at("scope")) == "openid profile email");
    BOOST_TEST(p.post("/oauth/token_info", {{"token", "garbage"}}).json.at("active").as_bool() == false);
    // BAPI verify (what @clerk/backend's authenticateRequest calls for an oat_ token).
    auto v = p.b.bapi(verb::post, "/v1/oauth_applications/access_tokens/verify", json::object{{"access_token", at}});
    BOOST_TEST_REQUIRE(v.status == 200u, v.body);
    BOOST_TEST(str(v.json.at("object")) == "clerk_idp_oauth_access_token");
    BOOST_TEST(str(v.json.at("id")).size() == 36u);
    BOOST_TEST(str(v.json.at("subject")) == p.user_id);
    BOOST_TEST(v.json.at("revoked").as_bool() == false);
    BOOST_TEST(v.json.at("scopes").as_array().size() == 3u);
    expect_error(
        p.b.bapi(verb::post, "/v1/oauth_applications/access_tokens/verify", json::object{{"access_token", "oat_x"}}),
        404, "resource_not_found");
    expect_error(p.b.bapi(verb::post, "/v1/oauth_applications/access_tokens/verify", json::object{}), 422,
                 "form_param_missing", "access_token");
    expect_oauth_error(p.rp.request(verb::post, "/oauth/token_info", form_encode({{"token", at}}),
                                    {{"Content-Type", "application/x-www-form-urlencoded"}}),
                       401, "invalid_client");
    // Another client learns nothing about this client's token, and cannot revoke it.
    auto other = create_app(p.b, {{"name", "Other"}, {"redirect_uris", json::array{"https://o.example/cb"}}});
    auto other_basic =
        "Basic " + crypto::base64_encode(str(other.at("client_id")) + ":" + str(other.at("client_secret")));
    std::vector<std::pair<std::string, std::string>> h{{"Content-Type", "application/x-www-form-urlencoded"},
                                                       {"Authorization", other_basic}};
    BOOST_TEST(
        p.rp.request(verb::post, "/oauth/token_info", form_encode({{"token", at}}), h).json.at("active").as_bool() ==
        false);
    BOOST_TEST(p.rp.request(verb::post, "/oauth/token/revoke", form_encode({{"token", at}}), h).status == 200u);
    BOOST_TEST(p.post("/oauth/token_info", {{"token", at}}).json.at("active").as_bool());
    // Revoking the access token: 200, then inactive; unknown tokens also answer 200.
    BOOST_TEST(p.post("/oauth/token/revoke", {{"token", at}, {"token_type_hint", "access_token"}}).status == 200u);
    BOOST_TEST(p.post("/oauth/token_info", {{"token", at}}).json.at("active").as_bool() == false);
    BOOST_TEST(p.post("/oauth/token/revoke", {{"token", "unknown"}}).status == 200u);
    BOOST_TEST(p.b.bapi(verb::post, "/v1/oauth_applications/access_tokens/verify", json::object{{"access_token", at}})
                   .json.at("revoked")
                   .as_bool());
    // Revoking the refresh token ends the grant.
    BOOST_TEST(p.post("/oauth/token/revoke", {{"token", rt}}).status == 200u);
    expect_oauth_error(p.post("/oauth/token", {{"grant_type", "refresh_token"}, {"refresh_token", rt}}), 400,
                       "invalid_grant");
    // Deleting the application kills its tokens.
    auto fresh = p.exchange(p.code());
    BOOST_TEST_REQUIRE(fresh.status == 200u);
    auto list = p.b.bapi(verb::get, "/v1/oauth_applications?name_query=RP");
    BOOST_TEST_REQUIRE(
        p.b.bapi(verb::delete_, "/v1/oauth_applications/" + str(list.json.at("data").as_array()[0].at("id"))).status ==
        200u);
    auto ui = p.rp.request(verb::get, "/oauth/userinfo", {},
                           {{"Authorization", "Bearer " + str(fresh.json.at("access_token"))}});
    BOOST_TEST(ui.status == 401u);
}

BOOST_AUTO_TEST_CASE(consent_page_and_consent_endpoints) {
    provider p(json::object{{"consent_screen_enabled", true}});
    auto page = p.authorize(p.authz_params());
    BOOST_TEST_REQUIRE(page.status == 200u, page.body);
    BOOST_TEST(page.headers["content-type"].starts_with("text/html"));
    BOOST_TEST(page.body.find("/v1/me/oauth/consent/" + p.client_id) != std::string::npos);
    BOOST_TEST(page.headers["x-frame-options"] == "DENY");
    // The consent info clerk-js's <OAuthConsent/> reads.
    auto info = p.browser.fapi("GET", "/v1/me/oauth/consent/" + p.client_id +
                                          "?scope=openid%20email&redirect_uri=" + "https%3A%2F%2Frp.example%2Fcb");
    BOOST_TEST_REQUIRE(info.status == 200u, info.body);
    auto const& ci = info.json.at("response").as_object();
    BOOST_TEST(str(ci.at("oauth_application_name")) == "RP");
    BOOST_TEST(str(ci.at("redirect_domain")) == "rp.example");
    BOOST_TEST(ci.at("scopes").as_array().size() == 2u);
    // Deny, then allow: a 303 to the redirect URI with the error or the code.
    auto form = p.authz_params();
    form.emplace_back("consented", "false");
    auto denied = p.browser.fapi("POST", "/v1/me/oauth/consent/" + p.client_id, form);
    BOOST_TEST_REQUIRE(denied.status == 303u, denied.body);
    BOOST_TEST(url_param(denied.headers["location"], "error") == "access_denied");
    form.back().second = "true";
    auto allowed = p.browser.fapi("POST", "/v1/me/oauth/consent/" + p.client_id, form);
    BOOST_TEST_REQUIRE(allowed.status == 303u, allowed.body);
    auto const code = url_param(allowed.headers["location"], "code");
    BOOST_TEST(url_param(allowed.headers["location"], "state") == "state-12345");
    BOOST_TEST(p.exchange(code).status == 200u);
    // The consent POST validates the request again (redirect URI) and needs a session.
    form.emplace_back("redirect_uri", "https://evil.example/cb");
    form.erase(form.begin() + 2);
    auto evil = p.browser.fapi("POST", "/v1/me/oauth/consent/" + p.client_id, form);
    BOOST_TEST(evil.status == 400u);
    http_client stranger(p.s.fapi_port());
    BOOST_TEST(stranger.fapi("GET", "/v1/me/oauth/consent/" + p.client_id).status == 401u);
}

BOOST_AUTO_TEST_CASE(discovery_documents_are_complete_and_consistent) {
    test_server s;
    http_client c(s.fapi_port());
    auto oidc = c.request(verb::get, "/.well-known/openid-configuration");
    auto as = c.request(verb::get, "/.well-known/oauth-authorization-server");
    BOOST_TEST_REQUIRE(oidc.status == 200u);
    BOOST_TEST_REQUIRE(as.status == 200u);
    auto const& fapi = s.inst().frontend_api;
    for (auto const* d : {&oidc, &as}) {
        auto const& o = d->json.as_object();
        BOOST_TEST(str(o.at("issuer")) == fapi);
        BOOST_TEST(str(o.at("authorization_endpoint")) == fapi + "/oauth/authorize");
        BOOST_TEST(str(o.at("token_endpoint")) == fapi + "/oauth/token");
        BOOST_TEST(str(o.at("revocation_endpoint")) == fapi + "/oauth/token/revoke");
        BOOST_TEST(str(o.at("introspection_endpoint")) == fapi + "/oauth/token_info");
        BOOST_TEST(str(o.at("jwks_uri")) == fapi + "/.well-known/jwks.json");
        BOOST_TEST(json::serialize(o.at("code_challenge_methods_supported")) == R"(["S256"])");
        BOOST_TEST(json::serialize(o.at("response_types_supported")) == R"(["code"])");
    }
    BOOST_TEST(str(oidc.json.at("userinfo_endpoint")) == fapi + "/oauth/userinfo");
    BOOST_TEST(json::serialize(oidc.json.at("id_token_signing_alg_values_supported")) == R"(["RS256"])");
    BOOST_TEST(json::serialize(oidc.json.at("subject_types_supported")) == R"(["public"])");
    // The JWKS it names publishes the key that signs ID tokens.
    auto jwks = c.request(verb::get, "/.well-known/jwks.json");
    BOOST_TEST(jwks.body.find(s.inst().id) != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
