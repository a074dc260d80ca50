// What issue 15 added after social sign-in: the app-link well-known files; plain OAuth 2.0 (GitHub-style)
// providers whose identity comes from their userinfo endpoints; the provider tokens sealed at rest and read (and
// refreshed) through BAPI; linking accounts to the signed-in user (POST /v1/me/external_accounts, reauthorize,
// DELETE tokens); RFC 7591 dynamic client registration. The provider is a small GitHub look-alike on a socket.
#include "conf/load.hpp"
#include "server/api/federation/federation.hpp"
#include "tests/common/federated.hpp"
#include "tests/common/loopback_http.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <mutex>
#include <thread>

using namespace latchkey;
using namespace latchkey::test;

namespace {

namespace bhttp = boost::beast::http;

/// A GitHub-style OAuth 2.0 provider: /token (authorization_code and refresh_token grants, no ID token),
/// /user and /user/emails for a bearer token it issued.
class tiny_github {
public:
    tiny_github() { base = http_.base; }
    struct account {
        json::value id = 4242;  ///< GitHub's ids are numbers
        std::string login = "octo", name = "Mona Octocat", email;
        bool email_verified = true;
    };
    /// Who the next code / token belongs to.
    void expect(account who) {
        std::lock_guard lk(mu_);
        who_ = std::move(who);
    }
    /// "" normal; "userinfo_500": /user fails; "refresh_400": the refresh grant is refused; "no_scope": token
    /// answers name no scope; "revoke_hang": /revoke answers after 2 s.
    void mode(std::string m) {
        std::lock_guard lk(mu_);
        mode_ = std::move(m);
    }
    void expires_in(int s) {
        std::lock_guard lk(mu_);
        expires_in_ = s;
    }
    std::string last_token_form() {
        std::lock_guard lk(mu_);
        return form_;
    }
    int refreshes() const { return refreshes_.load(); }
    /// The RFC 7009 revocation requests received: form body and Authorization header.
    std::vector<std::pair<std::string, std::string>> revocations() {
        std::lock_guard lk(mu_);
        return revocations_;
    }
    int issued() const { return issued_.load(); }
    std::string base;

private:
    void answer(loopback_http::request const& req, loopback_http::response& res) {
        std::string const target(req.target());
        std::string const auth(req[bhttp::field::authorization]);
        std::lock_guard lk(mu_);
        if (target == "/token") {
            form_ = req.body();
            bool const refresh = form_.find("grant_type=refresh_token") != std::string::npos;
            if (refresh && mode_ == "refresh_400") {
                res.result(bhttp::status::bad_request);
                res.body() = R"({"error":"invalid_grant"})";
            } else {
                if (refresh) ++refreshes_;
                auto const n = ++issued_;
                std::string const access = "gh-access-" + std::to_string(n);
                tokens_[access] = who_;
                json::object o{{"access_token", access}, {"token_type", "bearer"}, {"scope", "read:user,user:email"}};
                if (mode_ == "no_scope") o.erase("scope");
                if (!refresh) o["refresh_token"] = "gh-refresh-" + std::to_string(n);  // kept across refreshes
                if (expires_in_ > 0) o["expires_in"] = expires_in_;
                res.body() = json::serialize(o);
            }
        } else if (target == "/user" || target == "/user/emails") {
            auto it = auth.starts_with("Bearer ") ? tokens_.find(auth.substr(7)) : tokens_.end();
            if (it == tokens_.end()) {
                res.result(bhttp::status::unauthorized);
            } else if (target == "/user" && mode_ == "userinfo_500") {
                res.result(bhttp::status::internal_server_error);
            } else if (target == "/user") {
                auto const& w = it->second;
                res.body() = json::serialize(json::object{{"id", w.id},
                                                          {"login", w.login},
                                                          {"name", w.name},
                                                          {"email", nullptr},
                                                          {"avatar_url", "https://avatars.example/u/1"}});
            } else {
                auto const& w = it->second;
                res.body() = json::serialize(json::array{
                    json::object{
                        {"email", "noreply-" + w.login + "@users.example"}, {"verified", true}, {"primary", false}},
                    json::object{{"email", w.email}, {"verified", w.email_verified}, {"primary", true}}});
            }
        } else if (target == "/revoke") {
            revocations_.emplace_back(req.body(), auth);
            if (mode_ == "revoke_hang") std::this_thread::sleep_for(std::chrono::seconds(2));
            res.body() = "{}";
        } else {
            res.result(bhttp::status::not_found);
        }
    }

    std::mutex mu_;
    account who_;
    std::string mode_, form_;
    int expires_in_ = 0;
    std::map<std::string, account> tokens_;
    std::vector<std::pair<std::string, std::string>> revocations_;
    std::atomic<int> refreshes_{0}, issued_{0};
    loopback_http http_{[this](auto const& req, auto& res) { answer(req, res); }};  // last: it stops first
};

struct github_server {
    explicit github_server(std::function<void(conf::config&)> more = {}) : more_config(std::move(more)) {}
    tiny_github gh;
    std::function<void(conf::config&)> more_config;
    test_server s{[this](conf::config& c) {
        auto p = test_provider("oauth_github", "GitHub", "gh-client", "gh-secret");
        p.authorization_endpoint = gh.base + "/authorize";
        p.token_endpoint = gh.base + "/token";
        p.userinfo_endpoint = gh.base + "/user";
        p.emails_endpoint = gh.base + "/user/emails";
        p.scopes = {"read:user", "user:email"};
        c.oauth_providers.push_back(p);
        if (more_config) more_config(c);
    }};
    std::string redirect() const { return s.inst().frontend_api + "/sso-callback"; }

    /// Starts a sign-in or sign-up with GitHub; returns the provider URL.
    std::string start(http_client& c, std::string const& path) {
        auto r = c.fapi("POST", path, {{"strategy", "oauth_github"}, {"redirect_url", redirect()}});
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        auto const& resp = response(r);
        auto const& v = path.ends_with("sign_ins") ? resp.at("first_factor_verification")
                                                   : resp.at("verifications").at("external_account");
        return str(v.at("external_verification_redirect_url"));
    }
    http_result callback(http_client& c, std::string const& url) {
        return c.request(http::verb::get, "/v1/oauth_callback?code=gh-code&state=" + query_param(url, "state"));
    }
    /// A new user signed up through GitHub as `who`; returns its id.
    std::string sign_up(http_client& c, tiny_github::account who) {
        gh.expect(std::move(who));
        auto url = start(c, "/v1/client/sign_ups");
        auto cb = callback(c, url);
        BOOST_TEST_REQUIRE(cb.status == 303u, cb.body);
        auto client = c.fapi("GET", "/v1/client");
        auto const& sessions = client.json.at("response").at("sessions").as_array();
        BOOST_TEST_REQUIRE(sessions.size() == 1u, client.body);
        return str(sessions[0].at("user").at("id"));
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(federation_links)

BOOST_AUTO_TEST_CASE(well_known_app_links_come_from_the_config) {
    std::string const fp =
        "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5";
    test_server s{[&](conf::config& c) {
        conf::android_app one;
        one.package_name = "com.example.app";
        one.sha256_cert_fingerprints = {fp};
        conf::android_app two;
        two.package_name = "com.example.other";
        two.sha256_cert_fingerprints = {fp};
        two.relations = {"delegate_permission/common.get_login_creds"};
        c.android_apps = {one, two};
        c.ios_app_ids = {"ABCDE12345.com.example.app"};
    }};
    http_client c(s.fapi_port());
    auto links = c.request(http::verb::get, "/.well-known/assetlinks.json");
    BOOST_TEST_REQUIRE(links.status == 200u, links.body);
    BOOST_TEST(links.headers["content-type"].starts_with("application/json"));
    auto const& arr = links.json.as_array();
    BOOST_TEST_REQUIRE(arr.size() == 2u);
    BOOST_TEST(arr[0].at("relation").as_array().size() == 2u);
    BOOST_TEST(arr[0].at("relation").as_array()[0] == "delegate_permission/common.handle_all_urls");
    BOOST_TEST(arr[0].at("target").at("namespace") == "android_app");
    BOOST_TEST(arr[0].at("target").at("package_name") == "com.example.app");
    BOOST_TEST(str(arr[0].at("target").at("sha256_cert_fingerprints").as_array()[0]) == fp);
    BOOST_TEST(arr[1].at("relation").as_array().size() == 1u);
    BOOST_TEST(arr[1].at("relation").as_array()[0] == "delegate_permission/common.get_login_creds");

    auto aasa = c.request(http::verb::get, "/.well-known/apple-app-site-association");
    BOOST_TEST_REQUIRE(aasa.status == 200u, aasa.body);
    BOOST_TEST(aasa.headers["content-type"].starts_with("application/json"));
    BOOST_TEST(json::serialize(aasa.json) == R"({"webcredentials":{"apps":["ABCDE12345.com.example.app"]}})");
}

BOOST_AUTO_TEST_CASE(well_known_app_links_are_404_when_not_configured) {
    test_server s;
    http_client c(s.fapi_port());
    expect_error(c.request(http::verb::get, "/.well-known/assetlinks.json"), 404, "resource_not_found");
    expect_error(c.request(http::verb::get, "/.well-known/apple-app-site-association"), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(the_config_loader_checks_app_links) {
    conf::config c;
    auto ok = conf::apply_json(c, R"({"android_apps":[{"package_name":"com.example.app",
        "sha256_cert_fingerprints":["14:6d:e9:83:c5:73:06:50:d8:ee:b9:95:2f:34:fc:64:16:a0:83:42:e6:1d:be:a8:8a:04:96:b2:3f:cf:44:e5"]}],
        "ios_app_ids":["ABCDE12345.com.example.app"]})");
    BOOST_TEST(!ok.has_value());
    BOOST_TEST_REQUIRE(c.android_apps.size() == 1u);
    BOOST_TEST(c.android_apps[0].sha256_cert_fingerprints[0].starts_with("14:6D:E9"));  // upper-cased
    conf::config d;
    auto bad = conf::apply_json(
        d, R"({"android_apps":[{"package_name":"com.example.app","sha256_cert_fingerprints":["AB:CD"]}]})");
    BOOST_TEST_REQUIRE(bad.has_value());
    BOOST_TEST(bad->setting == "android_apps[0].sha256_cert_fingerprints");
    conf::config e;
    auto bad_ios = conf::apply_json(e, R"({"ios_app_ids":["no-team-id"]})");
    BOOST_TEST_REQUIRE(bad_ios.has_value());
    BOOST_TEST(bad_ios->setting == "ios_app_ids");
}

BOOST_AUTO_TEST_CASE(a_github_style_provider_proves_the_identity_through_userinfo_and_emails) {
    github_server f;
    http_client c(f.s.fapi_port());
    f.gh.expect({4242, "octo", "Mona Octocat", "mona@example.com", true});
    auto url = f.start(c, "/v1/client/sign_ups");
    BOOST_TEST(url.starts_with(f.gh.base + "/authorize?response_type=code&client_id=gh-client"), url);
    BOOST_TEST(query_param(url, "scope") == "read%3Auser%20user%3Aemail");
    BOOST_TEST(query_param(url, "nonce").empty());  // no ID token, no nonce
    BOOST_TEST(!query_param(url, "code_challenge").empty());
    auto cb = f.callback(c, url);
    BOOST_TEST_REQUIRE(cb.status == 303u, cb.body);
    BOOST_TEST(f.gh.last_token_form().find("code_verifier=") != std::string::npos);

    auto client = c.fapi("GET", "/v1/client");
    auto const& sessions = client.json.at("response").at("sessions").as_array();
    BOOST_TEST_REQUIRE(sessions.size() == 1u, client.body);
    auto const& user = sessions[0].at("user");
    auto const& ea = user.at("external_accounts").as_array().at(0);
    BOOST_TEST(ea.at("provider") == "oauth_github");
    BOOST_TEST(ea.at("provider_user_id") == "4242");  // the numeric id as text
    BOOST_TEST(ea.at("username") == "octo");
    BOOST_TEST(ea.at("email_address") == "mona@example.com");  // the primary verified address of /user/emails
    BOOST_TEST(user.at("first_name") == "Mona");
    BOOST_TEST(user.at("last_name") == "Octocat");
    BOOST_TEST(user.at("email_addresses").as_array().at(0).at("email_address") == "mona@example.com");
    BOOST_TEST(user.at("email_addresses").as_array().at(0).at("verification").at("status") == "verified");
    // The environment lists GitHub with Clerk's icon.
    auto env = c.fapi("GET", "/v1/environment");
    BOOST_TEST(env.json.at("user_settings").at("social").at("oauth_github").at("strategy") == "oauth_github");
}

BOOST_AUTO_TEST_CASE(a_failing_userinfo_fails_the_attempt_and_creates_no_user) {
    github_server f;
    f.gh.mode("userinfo_500");
    http_client c(f.s.fapi_port());
    f.gh.expect({1, "eve", "Eve", "eve@example.com", true});
    auto url = f.start(c, "/v1/client/sign_ups");
    BOOST_TEST_REQUIRE(f.callback(c, url).status == 303u);
    auto client = c.fapi("GET", "/v1/client");
    auto const& v = client.json.at("response").at("sign_up").at("verifications").at("external_account");
    BOOST_TEST(v.at("status") == "failed", client.body);
    BOOST_TEST(v.at("error").at("code") == "oauth_fetch_user_error", client.body);
    BOOST_TEST(v.at("error").at("long_message").is_string());
    BOOST_TEST(client.json.at("response").at("sessions").as_array().empty());
    auto b = bapi_client(f.s);
    BOOST_TEST(b.bapi(http::verb::get, "/v1/users/count").json.at("total_count") == 0);
}

BOOST_AUTO_TEST_CASE(an_unverified_provider_email_is_not_linked_to_the_account_that_owns_it) {
    github_server f;
    auto const owner = seed_user(f.s.app(), "taken@example.com", "correct horse battery staple");
    http_client c(f.s.fapi_port());
    f.gh.expect({77, "mallory", "Mallory", "taken@example.com", /*verified=*/false});
    auto url = f.start(c, "/v1/client/sign_ins");
    BOOST_TEST_REQUIRE(f.callback(c, url).status == 303u);
    auto client = c.fapi("GET", "/v1/client");
    auto const& v = client.json.at("response").at("sign_in").at("first_factor_verification");
    BOOST_TEST(v.at("status") == "transferable", client.body);
    BOOST_TEST(v.at("error").at("code") == "external_account_not_found");
    BOOST_TEST(client.json.at("response").at("sessions").as_array().empty());
    BOOST_TEST(load_user(f.s, owner)->external_accounts.empty());

    // The same address verified at the provider links it (a sign-in).
    http_client c2(f.s.fapi_port());
    f.gh.expect({78, "owner", "Owner", "taken@example.com", true});
    auto url2 = f.start(c2, "/v1/client/sign_ins");
    BOOST_TEST_REQUIRE(f.callback(c2, url2).status == 303u);
    BOOST_TEST(load_user(f.s, owner)->external_accounts.size() == 1u);
}

BOOST_AUTO_TEST_CASE(provider_tokens_are_sealed_at_rest_and_read_refreshed_through_bapi) {
    github_server f;
    f.gh.expires_in(3600);
    http_client c(f.s.fapi_port());
    auto const user_id = f.sign_up(c, {4243, "tok", "Tok Ens", "tok@example.com", true});
    auto stored = load_user(f.s, user_id);
    BOOST_TEST_REQUIRE(stored->external_accounts.size() == 1u);
    auto const& ea = stored->external_accounts[0];
    BOOST_TEST(!ea.access_token_sealed.empty());
    BOOST_TEST(ea.access_token_sealed.find("gh-access") == std::string::npos);  // not in the clear
    BOOST_TEST(ea.refresh_token_sealed.find("gh-refresh") == std::string::npos);
    BOOST_TEST(ea.token_expires_at > f.s.app().now_ms());
    // Neither the FAPI nor the BAPI user shows them.
    auto b = bapi_client(f.s);
    auto u = b.bapi(http::verb::get, "/v1/users/" + user_id);
    BOOST_TEST(u.body.find("gh-access") == std::string::npos);
    BOOST_TEST(u.body.find("sealed") == std::string::npos);

    // @clerk/backend's getUserOauthAccessToken(userId, 'github'): paginated=true.
    auto t = b.bapi(http::verb::get, "/v1/users/" + user_id + "/oauth_access_tokens/oauth_github?paginated=true");
    BOOST_TEST_REQUIRE(t.status == 200u, t.body);
    BOOST_TEST(t.json.at("total_count") == 1);
    auto const& tok = t.json.at("data").as_array().at(0);
    BOOST_TEST(tok.at("object") == "oauth_access_token");
    BOOST_TEST(tok.at("token") == "gh-access-1");
    BOOST_TEST(tok.at("provider") == "oauth_github");
    BOOST_TEST(tok.at("provider_user_id") == "4243");
    BOOST_TEST(str(tok.at("external_account_id")) == ea.id);
    BOOST_TEST(tok.at("expires_at").as_int64() > f.s.app().now_ms() / 1000);
    BOOST_TEST(tok.at("scopes").as_array().size() == 2u);
    BOOST_TEST(tok.at("label").is_null());
    // Without paginated: a bare array; the provider may be named without its oauth_ prefix.
    auto bare = b.bapi(http::verb::get, "/v1/users/" + user_id + "/oauth_access_tokens/github");
    BOOST_TEST_REQUIRE(bare.status == 200u, bare.body);
    BOOST_TEST(bare.json.as_array().size() == 1u);
    BOOST_TEST(f.gh.refreshes() == 0);
    // Another provider: none; an unknown user: 404.
    BOOST_TEST(
        b.bapi(http::verb::get, "/v1/users/" + user_id + "/oauth_access_tokens/oauth_google").json.as_array().empty());
    expect_error(b.bapi(http::verb::get, "/v1/users/user_nope/oauth_access_tokens/oauth_github"), 404,
                 "resource_not_found");

    // An access token about to expire is refreshed first and the new one kept; the refresh token (not re-sent
    // by the provider) stays.
    edit_user(f.s, user_id,
              [&](store::user_record& r) { r.external_accounts[0].token_expires_at = f.s.app().now_ms() + 1000; });
    auto r1 = b.bapi(http::verb::get, "/v1/users/" + user_id + "/oauth_access_tokens/oauth_github");
    BOOST_TEST_REQUIRE(r1.status == 200u, r1.body);
    BOOST_TEST(r1.json.as_array().at(0).at("token") == "gh-access-2");
    BOOST_TEST(f.gh.refreshes() == 1);
    BOOST_TEST(f.gh.last_token_form().find("refresh_token=gh-refresh-1") != std::string::npos);
    auto again = b.bapi(http::verb::get, "/v1/users/" + user_id + "/oauth_access_tokens/oauth_github");
    BOOST_TEST(again.json.as_array().at(0).at("token") == "gh-access-2");  // kept: no second refresh
    BOOST_TEST(f.gh.refreshes() == 1);
    edit_user(f.s, user_id,
              [&](store::user_record& r) { r.external_accounts[0].token_expires_at = f.s.app().now_ms() + 1000; });
    auto r2 = b.bapi(http::verb::get, "/v1/users/" + user_id + "/oauth_access_tokens/oauth_github");
    BOOST_TEST(r2.json.as_array().at(0).at("token") == "gh-access-3");
    BOOST_TEST(f.gh.last_token_form().find("refresh_token=gh-refresh-1") != std::string::npos);

    // The provider refuses the refresh: Clerk's error, nothing changes.
    f.gh.mode("refresh_400");
    edit_user(f.s, user_id,
              [&](store::user_record& r) { r.external_accounts[0].token_expires_at = f.s.app().now_ms() + 1000; });
    expect_error(b.bapi(http::verb::get, "/v1/users/" + user_id + "/oauth_access_tokens/oauth_github"), 400,
                 "oauth_token_retrieval_error");

    // A sealed token copied into another identity's account does not open.
    edit_user(f.s, user_id, [&](store::user_record& r) { r.external_accounts[0].provider_user_id = "9999"; });
    f.gh.mode("");
    edit_user(f.s, user_id, [&](store::user_record& r) { r.external_accounts[0].token_expires_at = 0; });
    BOOST_TEST(
        b.bapi(http::verb::get, "/v1/users/" + user_id + "/oauth_access_tokens/oauth_github").json.as_array().empty());
}

BOOST_AUTO_TEST_CASE(a_signed_in_user_links_reauthorizes_and_drops_the_tokens_of_an_account) {
    github_server f;
    http_client c(f.s.fapi_port());
    auto me = sign_in_browser(f.s, c, "ada@example.com");
    auto const done = f.s.inst().frontend_api + "/done";

    // Bad requests first: unknown strategy, no redirect_url, not signed in.
    expect_error(c.fapi("POST", "/v1/me/external_accounts", {{"strategy", "oauth_nope"}, {"redirect_url", done}}), 422,
                 "strategy_for_user_invalid", "strategy");
    expect_error(c.fapi("POST", "/v1/me/external_accounts", {{"strategy", "oauth_github"}}), 422, "form_param_missing",
                 "redirect_url");
    expect_error(http_client(f.s.fapi_port())
                     .fapi("POST", "/v1/me/external_accounts", {{"strategy", "oauth_github"}, {"redirect_url", done}}),
                 401, "authentication_invalid");

    // clerk-js's user.createExternalAccount({strategy, redirectUrl}).
    auto r = c.fapi("POST", "/v1/me/external_accounts", {{"strategy", "oauth_github"}, {"redirect_url", done}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& pending = response(r);
    BOOST_TEST(pending.at("object") == "external_account");
    BOOST_TEST(pending.at("provider") == "oauth_github");
    BOOST_TEST(pending.at("verification").at("status") == "unverified");
    auto const url = str(pending.at("verification").at("external_verification_redirect_url"));
    auto const account_id = str(pending.at("id"));
    BOOST_TEST(url.starts_with(f.gh.base + "/authorize?"), url);
    BOOST_TEST(query_param(url, "state").starts_with(me.user_id + "."));

    f.gh.expect({5150, "ada-gh", "Ada L", "ada-gh@example.com", true});
    auto cb = f.callback(c, url);
    BOOST_TEST_REQUIRE(cb.status == 303u, cb.body);
    BOOST_TEST(cb.headers["location"] == done);
    auto u = load_user(f.s, me.user_id);
    BOOST_TEST_REQUIRE(u->external_accounts.size() == 1u);
    BOOST_TEST(u->external_accounts[0].id == account_id);
    BOOST_TEST(u->external_accounts[0].provider_user_id == "5150");
    BOOST_TEST(!u->external_accounts[0].access_token_sealed.empty());
    // A replayed callback finds nothing.
    expect_error(f.callback(c, url), 400, "oauth_callback_invalid", "state");

    // Reauthorize: a new round trip for the same account; the provider's latest token is kept.
    expect_error(c.fapi("PATCH", "/v1/me/external_accounts/eac_nope/reauthorize", {{"redirect_url", done}}), 404,
                 "resource_not_found");
    auto re = c.fapi("PATCH", "/v1/me/external_accounts/" + account_id + "/reauthorize", {{"redirect_url", done}});
    BOOST_TEST_REQUIRE(re.status == 200u, re.body);
    BOOST_TEST(str(response(re).at("id")) == account_id);
    BOOST_TEST(response(re).at("verification").at("status") == "unverified");
    auto const url2 = str(response(re).at("verification").at("external_verification_redirect_url"));
    BOOST_TEST_REQUIRE(f.callback(c, url2).status == 303u);
    auto b = bapi_client(f.s);
    auto toks = b.bapi(http::verb::get, "/v1/users/" + me.user_id + "/oauth_access_tokens/oauth_github");
    BOOST_TEST_REQUIRE(toks.json.as_array().size() == 1u, toks.body);
    BOOST_TEST(toks.json.as_array()[0].at("token") == "gh-access-2");
    BOOST_TEST(load_user(f.s, me.user_id)->external_accounts.size() == 1u);

    // DELETE .../tokens: the account stays, its tokens go; the reply is the user.
    expect_error(c.fapi("DELETE", "/v1/me/external_accounts/eac_nope/tokens"), 404, "resource_not_found");
    auto del = c.fapi("DELETE", "/v1/me/external_accounts/" + account_id + "/tokens");
    BOOST_TEST_REQUIRE(del.status == 200u, del.body);
    BOOST_TEST(response(del).at("object") == "user");
    BOOST_TEST(response(del).at("external_accounts").as_array().size() == 1u);
    BOOST_TEST(b.bapi(http::verb::get, "/v1/users/" + me.user_id + "/oauth_access_tokens/oauth_github")
                   .json.as_array()
                   .empty());
    BOOST_TEST(load_user(f.s, me.user_id)->external_accounts[0].refresh_token_sealed.empty());

    // Another user cannot take the identity over: their link proves it but it stays with its owner.
    http_client c2(f.s.fapi_port());
    auto other = sign_in_browser(f.s, c2, "bob@example.com");
    auto r2 = c2.fapi("POST", "/v1/me/external_accounts", {{"strategy", "oauth_github"}, {"redirect_url", done}});
    BOOST_TEST_REQUIRE(r2.status == 200u, r2.body);
    BOOST_TEST_REQUIRE(
        f.callback(c2, str(response(r2).at("verification").at("external_verification_redirect_url"))).status == 303u);
    auto const refused = load_user(f.s, other.user_id)->external_accounts;
    BOOST_TEST_REQUIRE(refused.size() == 1u);  // the account the round trip started, failed
    BOOST_TEST(refused[0].provider_user_id.empty());
    BOOST_TEST(refused[0].verification_status == "failed");
    BOOST_TEST(refused[0].verification_error == "external_account_exists");
    BOOST_TEST(load_user(f.s, me.user_id)->external_accounts.size() == 1u);
    // A state started by one browser is not finished by another signed-in browser.
    auto r3 = c2.fapi("POST", "/v1/me/external_accounts", {{"strategy", "oauth_github"}, {"redirect_url", done}});
    auto const url3 = str(response(r3).at("verification").at("external_verification_redirect_url"));
    expect_error(f.callback(c, url3), 400, "oauth_callback_invalid", "state");
}

BOOST_AUTO_TEST_CASE(a_failed_link_shows_as_the_accounts_verification_error_and_returns_to_the_redirect_url) {
    github_server f;
    http_client c(f.s.fapi_port());
    auto me = sign_in_browser(f.s, c, "ada@example.com");
    auto const done = f.s.inst().frontend_api + "/done";
    auto link = [&] {
        auto r = c.fapi("POST", "/v1/me/external_accounts", {{"strategy", "oauth_github"}, {"redirect_url", done}});
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        return std::pair{str(response(r).at("id")),
                         str(response(r).at("verification").at("external_verification_redirect_url"))};
    };
    // The one account the user has, as GET /v1/me and the BAPI user show it.
    auto fapi_account = [&] {
        auto r = c.fapi("GET", "/v1/me");
        return json::object(sole_account(response(r), "external_accounts"));
    };
    auto bapi_account = [&] { return json::object(sole_account(bapi_user(f.s, me.user_id), "external_accounts")); };
    auto expect_failed = [&](json::object const& ea, std::string const& id, std::string const& code) {
        BOOST_TEST(str(ea.at("id")) == id);
        auto const& v = ea.at("verification");
        BOOST_TEST(v.at("status") == "failed");
        BOOST_TEST(str(v.at("error").at("code")) == code);
        BOOST_TEST(v.at("error").at("message").is_string());
        BOOST_TEST(v.at("error").at("long_message").is_string());
        BOOST_TEST(v.at("error").at("meta").is_object());
    };

    // Pending: the started account shows unverified, with when it lapses.
    auto [id1, url1] = link();
    auto pending = fapi_account();
    BOOST_TEST(str(pending.at("id")) == id1);
    BOOST_TEST(pending.at("verification").at("status") == "unverified");
    BOOST_TEST(pending.at("verification").at("error").is_null());
    BOOST_TEST(pending.at("verification").at("expire_at").is_int64());

    // The provider says access_denied: back to the redirect URL, the account failed with Clerk's error.
    auto denied =
        c.request(http::verb::get, "/v1/oauth_callback?error=access_denied&state=" + query_param(url1, "state"));
    BOOST_TEST_REQUIRE(denied.status == 303u, denied.body);
    BOOST_TEST(denied.headers["location"] == done);
    expect_failed(fapi_account(), id1, "oauth_access_denied");
    expect_failed(bapi_account(), id1, "oauth_access_denied");

    // A new round trip replaces the failed one; a wrong state from the browser that started it fails it.
    auto [id2, url2] = link();
    BOOST_TEST(id2 != id1);
    auto wrong = c.request(http::verb::get, "/v1/oauth_callback?code=gh-code&state=" + me.user_id + ".not-the-state");
    BOOST_TEST_REQUIRE(wrong.status == 303u, wrong.body);
    BOOST_TEST(wrong.headers["location"] == done);
    expect_failed(fapi_account(), id2, "oauth_callback_invalid");

    // A missing state: the browser's signed-in user's round trip fails the same way.
    auto [id3, url3] = link();
    auto missing = c.request(http::verb::get, "/v1/oauth_callback?code=gh-code");
    BOOST_TEST_REQUIRE(missing.status == 303u, missing.body);
    BOOST_TEST(missing.headers["location"] == done);
    expect_failed(fapi_account(), id3, "oauth_callback_invalid");
    BOOST_TEST(f.gh.issued() == 0);  // no code was exchanged for a bad state

    // Another browser cannot fail (or finish) someone's round trip: a raw error, the round trip stays.
    auto [id4, url4] = link();
    http_client stranger(f.s.fapi_port());
    expect_error(
        stranger.request(http::verb::get, "/v1/oauth_callback?code=gh-code&state=" + me.user_id + ".not-the-state"),
        400, "oauth_callback_invalid", "state");
    expect_error(stranger.request(http::verb::get, "/v1/oauth_callback?code=gh-code"), 400, "oauth_callback_invalid",
                 "state");
    BOOST_TEST(fapi_account().at("verification").at("status") == "unverified");

    // Then the right callback proves the identity: the same account, verified, no error.
    f.gh.expect({5150, "ada-gh", "Ada L", "ada-gh@example.com", true});
    BOOST_TEST_REQUIRE(f.callback(c, url4).status == 303u);
    auto linked = fapi_account();
    BOOST_TEST(str(linked.at("id")) == id4);
    BOOST_TEST(linked.at("provider_user_id") == "5150");
    BOOST_TEST(linked.at("verification").at("status") == "verified");
    BOOST_TEST(linked.at("verification").at("error").is_null());
    BOOST_TEST(bapi_account().at("verification").at("status") == "verified");

    // A reauthorization the provider refuses: the account keeps its identity and tokens, and shows the error;
    // the next one that succeeds clears it.
    auto re = c.fapi("PATCH", "/v1/me/external_accounts/" + id4 + "/reauthorize", {{"redirect_url", done}});
    BOOST_TEST_REQUIRE(re.status == 200u, re.body);
    auto const url5 = str(response(re).at("verification").at("external_verification_redirect_url"));
    BOOST_TEST(fapi_account().at("verification").at("status") == "verified");  // until the round trip ends
    BOOST_TEST_REQUIRE(
        c.request(http::verb::get, "/v1/oauth_callback?error=access_denied&state=" + query_param(url5, "state"))
            .status == 303u);
    auto refused = fapi_account();
    expect_failed(refused, id4, "oauth_access_denied");
    BOOST_TEST(refused.at("provider_user_id") == "5150");
    BOOST_TEST(!load_user(f.s, me.user_id)->external_accounts[0].access_token_sealed.empty());
    re = c.fapi("PATCH", "/v1/me/external_accounts/" + id4 + "/reauthorize", {{"redirect_url", done}});
    BOOST_TEST_REQUIRE(
        f.callback(c, str(response(re).at("verification").at("external_verification_redirect_url"))).status == 303u);
    BOOST_TEST(fapi_account().at("verification").at("status") == "verified");
    BOOST_TEST(fapi_account().at("verification").at("error").is_null());
}

BOOST_AUTO_TEST_CASE(a_pending_or_failed_link_is_no_way_in_so_the_last_proven_account_stays) {
    // Email is no first factor here: the GitHub identity is the user's only way in.
    github_server f{[](conf::config& c) { c.email_address.used_for_first_factor = false; }};
    http_client c(f.s.fapi_port());
    f.sign_up(c, {5150, "ada-gh", "Ada L", "ada-gh@example.com", true});
    auto const proven = str(response(c.fapi("GET", "/v1/me")).at("external_accounts").at(0).at("id"));
    // A second round trip the provider refuses leaves a failed account beside the proven one.
    auto r = c.fapi("POST", "/v1/me/external_accounts",
                    {{"strategy", "oauth_github"}, {"redirect_url", f.s.inst().frontend_api + "/done"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const url = str(response(r).at("verification").at("external_verification_redirect_url"));
    BOOST_TEST_REQUIRE(
        c.request(http::verb::get, "/v1/oauth_callback?error=access_denied&state=" + query_param(url, "state"))
            .status == 303u);
    BOOST_TEST_REQUIRE(response(c.fapi("GET", "/v1/me")).at("external_accounts").as_array().size() == 2u);
    // The failed account is no way in: removing the proven one is refused, and it stays.
    expect_error(c.fapi("DELETE", "/v1/me/external_accounts/" + proven), 422, "cannot_remove_last_identification");
    auto const after = c.fapi("GET", "/v1/me");
    auto const& left = response(after).at("external_accounts").as_array();
    BOOST_TEST(left.size() == 2u);
    BOOST_TEST(std::any_of(left.begin(), left.end(), [&](auto const& e) { return str(e.at("id")) == proven; }));
}

BOOST_AUTO_TEST_CASE(additional_scopes_are_asked_for_and_approved_and_the_provider_revokes_dropped_tokens) {
    github_server f([](conf::config& c) {
        auto& p = c.oauth_providers.back();
        p.revocation_endpoint = p.token_endpoint.substr(0, p.token_endpoint.rfind('/')) + "/revoke";
    });
    http_client c(f.s.fapi_port());
    auto me = sign_in_browser(f.s, c, "ada@example.com");
    auto const done = f.s.inst().frontend_api + "/done";
    f.gh.mode("no_scope");  // the token answer names no scope: what was asked for is what was approved

    // clerk-js's createExternalAccount({additionalScopes: ['repo', 'gist']}): additional_scope repeated.
    auto r = c.fapi("POST", "/v1/me/external_accounts",
                    {{"strategy", "oauth_github"},
                     {"redirect_url", done},
                     {"additional_scope", "repo"},
                     {"additional_scope", "gist"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const url = str(response(r).at("verification").at("external_verification_redirect_url"));
    auto const account_id = str(response(r).at("id"));
    BOOST_TEST(query_param(url, "scope") == "read%3Auser%20user%3Aemail%20repo%20gist", url);
    f.gh.expect({5151, "ada-gh", "Ada L", "ada-gh@example.com", true});
    BOOST_TEST_REQUIRE(f.callback(c, url).status == 303u);
    BOOST_TEST(load_user(f.s, me.user_id)->external_accounts.at(0).approved_scopes == "read:user user:email repo gist");
    auto shown = c.fapi("GET", "/v1/me");
    BOOST_TEST(shown.json.at("response").at("external_accounts").at(0).at("approved_scopes") ==
               "read:user user:email repo gist");

    // reauthorize({additionalScopes}) asks for more; a scope token with a quote or a space inside is refused.
    expect_error(c.fapi("PATCH", "/v1/me/external_accounts/" + account_id + "/reauthorize",
                        {{"redirect_url", done}, {"additional_scope", "a\"b"}}),
                 422, "form_param_value_invalid", "additional_scope");
    auto re = c.fapi("PATCH", "/v1/me/external_accounts/" + account_id + "/reauthorize",
                     {{"redirect_url", done}, {"additional_scope", "admin:org"}});
    BOOST_TEST_REQUIRE(re.status == 200u, re.body);
    auto const url2 = str(response(re).at("verification").at("external_verification_redirect_url"));
    BOOST_TEST(query_param(url2, "scope") == "read%3Auser%20user%3Aemail%20admin%3Aorg", url2);
    BOOST_TEST_REQUIRE(f.callback(c, url2).status == 303u);
    BOOST_TEST(load_user(f.s, me.user_id)->external_accounts.at(0).approved_scopes == "read:user user:email admin:org");
    // The provider names the scope it granted: that is what is kept.
    f.gh.mode("");
    auto re2 = c.fapi("PATCH", "/v1/me/external_accounts/" + account_id + "/reauthorize", {{"redirect_url", done}});
    BOOST_TEST_REQUIRE(
        f.callback(c, str(response(re2).at("verification").at("external_verification_redirect_url"))).status == 303u);
    BOOST_TEST(load_user(f.s, me.user_id)->external_accounts.at(0).approved_scopes == "read:user,user:email");

    auto wait_for_revocations = [&](std::size_t n) {
        auto const until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (f.gh.revocations().size() < n && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return f.gh.revocations();
    };
    // DELETE .../tokens: the provider is told (RFC 7009: the refresh token, HTTP Basic client authentication).
    BOOST_TEST(f.gh.revocations().empty());
    BOOST_TEST_REQUIRE(c.fapi("DELETE", "/v1/me/external_accounts/" + account_id + "/tokens").status == 200u);
    auto revs = wait_for_revocations(1);
    BOOST_TEST_REQUIRE(revs.size() == 1u);
    BOOST_TEST(revs[0].first.find("token=gh-refresh-3") != std::string::npos, revs[0].first);
    BOOST_TEST(revs[0].first.find("token_type_hint=refresh_token") != std::string::npos);
    BOOST_TEST(revs[0].second.starts_with("Basic "));
    // No tokens left: dropping them again tells the provider nothing.
    BOOST_TEST_REQUIRE(c.fapi("DELETE", "/v1/me/external_accounts/" + account_id + "/tokens").status == 200u);

    // destroy() of a linked account with tokens: the answer does not wait for a provider that hangs.
    auto re3 = c.fapi("PATCH", "/v1/me/external_accounts/" + account_id + "/reauthorize", {{"redirect_url", done}});
    BOOST_TEST_REQUIRE(
        f.callback(c, str(response(re3).at("verification").at("external_verification_redirect_url"))).status == 303u);
    f.gh.mode("revoke_hang");
    auto const t0 = std::chrono::steady_clock::now();
    auto gone = c.fapi("DELETE", "/v1/me/external_accounts/" + account_id);
    BOOST_TEST_REQUIRE(gone.status == 200u, gone.body);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1500)));
    revs = wait_for_revocations(2);
    BOOST_TEST_REQUIRE(revs.size() == 2u);
    BOOST_TEST(revs[1].first.find("token=gh-refresh-") != std::string::npos, revs[1].first);
    BOOST_TEST(load_user(f.s, me.user_id)->external_accounts.empty());
}

BOOST_AUTO_TEST_CASE(a_flow_error_reads_its_words_from_the_error_table) {
    namespace api = server::api;
    // One reading for the OAuth and the SAML flows' stored error codes: any code of the table gets the table's
    // message and long message. (Before the fold each flow knew its own short list, and any other code, such as
    // oauth_provider_unavailable or a SAML code in an OAuth flow, was answered with its bare name as the message.)
    for (auto c : {api::code::oauth_provider_unavailable, api::code::saml_email_address_domain_mismatch,
                   api::code::external_account_not_found, api::code::oauth_access_denied}) {
        auto const e = api::make_error(c);
        auto const j = api::federation::error_json(api::code_name(c));
        BOOST_TEST_REQUIRE(j.is_object());
        BOOST_TEST(j.at("code").as_string() == api::code_name(c));
        BOOST_TEST(j.at("message").as_string() == e.message);
        BOOST_TEST(j.at("long_message").as_string() == e.long_message);
        BOOST_TEST(j.at("message").as_string() != api::code_name(c));
    }
    BOOST_TEST(api::federation::error_json("not_a_code_of_ours").at("message") == "not_a_code_of_ours");
    BOOST_TEST(api::federation::error_json("").is_null());
}

BOOST_AUTO_TEST_CASE(dynamic_client_registration_is_off_by_default) {
    test_server s;
    http_client c(s.fapi_port());
    auto reg = c.request(http::verb::post, "/oauth/register", R"({"redirect_uris":["https://app.example/cb"]})",
                         {{"Content-Type", "application/json"}});
    expect_error(reg, 422, "dynamic_client_registration_disabled");
    for (auto const* doc : {"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"}) {
        auto d = c.request(http::verb::get, doc);
        BOOST_TEST_REQUIRE(d.status == 200u);
        BOOST_TEST(!d.json.as_object().contains("registration_endpoint"), doc);
    }
}

BOOST_AUTO_TEST_CASE(dynamic_client_registration_registers_clients_when_enabled) {
    test_server s{[](conf::config& c) { c.oauth_dynamic_client_registration = true; }};
    http_client c(s.fapi_port());
    auto const iss = s.inst().frontend_api;
    for (auto const* doc : {"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"}) {
        auto d = c.request(http::verb::get, doc);
        BOOST_TEST(str(d.json.at("registration_endpoint")) == iss + "/oauth/register", doc);
    }
    auto post = [&](std::string const& body) {
        return c.request(http::verb::post, "/oauth/register", body, {{"Content-Type", "application/json"}});
    };
    auto reg = post(R"({"client_name":"MCP tool","redirect_uris":["https://app.example/cb","myapp://cb"],
                        "token_endpoint_auth_method":"client_secret_basic","scope":"openid email","logo_uri":"https://app.example/l.png"})");
    BOOST_TEST_REQUIRE(reg.status == 201u, reg.body);
    BOOST_TEST(!str(reg.json.at("client_id")).empty());
    BOOST_TEST(str(reg.json.at("client_secret")).starts_with("lk_oas_"));
    BOOST_TEST(reg.json.at("client_secret_expires_at") == 0);
    BOOST_TEST(reg.json.at("client_id_issued_at").as_int64() > 0);
    BOOST_TEST(reg.json.at("redirect_uris").as_array().size() == 2u);
    BOOST_TEST(reg.json.at("token_endpoint_auth_method") == "client_secret_basic");
    BOOST_TEST(reg.json.at("client_name") == "MCP tool");
    BOOST_TEST(reg.json.at("scope") == "openid email");
    // BAPI sees a dynamically registered application with its consent screen on.
    auto b = bapi_client(s);
    auto list = b.bapi(http::verb::get, "/v1/oauth_applications");
    auto const& apps = list.json.at("data").as_array();
    BOOST_TEST_REQUIRE(apps.size() == 1u, list.body);
    BOOST_TEST(apps[0].at("client_id") == reg.json.at("client_id"));
    BOOST_TEST(apps[0].at("dynamically_registered") == true);
    BOOST_TEST(apps[0].at("consent_screen_enabled") == true);
    BOOST_TEST(apps[0].at("client_image_url") == "https://app.example/l.png");
    // A public client gets no secret; the name defaults to the client id.
    auto pub = post(R"({"redirect_uris":["myapp://cb"],"token_endpoint_auth_method":"none"})");
    BOOST_TEST_REQUIRE(pub.status == 201u, pub.body);
    BOOST_TEST(!pub.json.as_object().contains("client_secret"));
    BOOST_TEST(pub.json.at("client_name") == pub.json.at("client_id"));
    // RFC 7591 errors.
    auto bad = [&](std::string const& body, std::string const& error) {
        auto r = post(body);
        BOOST_TEST(r.status == 400u, body);
        BOOST_TEST(str(r.json.at("error")) == error, body);
        BOOST_TEST(r.json.at("error_description").is_string());
    };
    bad(R"({"client_name":"x"})", "invalid_redirect_uri");
    bad(R"({"redirect_uris":[]})", "invalid_redirect_uri");
    bad(R"({"redirect_uris":["not a uri"]})", "invalid_redirect_uri");
    bad(R"({"redirect_uris":["https://a.example/cb#frag"]})", "invalid_redirect_uri");
    bad(R"({"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"private_key_jwt"})",
        "invalid_client_metadata");
    bad(R"({"redirect_uris":["https://a.example/cb"],"scope":"admin"})", "invalid_client_metadata");
    bad(R"({"redirect_uris":["https://a.example/cb"],"grant_types":["client_credentials"]})",
        "invalid_client_metadata");
    bad(R"({"redirect_uris":["https://a.example/cb"],"client_name":5})", "invalid_client_metadata");
    expect_error(post("[1,2]"), 400, "request_body_invalid");
}

BOOST_AUTO_TEST_SUITE_END()
