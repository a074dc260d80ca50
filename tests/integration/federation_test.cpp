// Social sign-in as a relying party (issue 15) against a real OpenID provider on a socket: a small IdP in this
// file (discovery, JWKS, token endpoint signing RS256 ID tokens) that latchkey reaches with libcurl.
#include "crypto/encoding.hpp"
#include "crypto/es256.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "crypto/totp.hpp"
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
#include <set>
#include <thread>

using namespace latchkey;
using namespace latchkey::test;

namespace {

namespace bhttp = boost::beast::http;

/// The upstream OpenID provider: answers discovery, its JWKS and the token endpoint (one code at a time).
class tiny_idp {
public:
    explicit tiny_idp(bool down_at_start = false)
        : down(down_at_start), key_(*crypto::signing_key::generate_rsa(2048)) {
        issuer = http_.base;
    }
    /// What the next token answer's ID token says.
    void expect(std::string nonce, std::string sub, std::string email) {
        std::lock_guard lk(mu_);
        nonce_ = std::move(nonce), sub_ = std::move(sub), email_ = std::move(email);
    }
    std::string last_token_form() {
        std::lock_guard lk(mu_);
        return form_;
    }
    /// Sign ID tokens with a P-256 key (ES256), published next to the RSA key.
    void use_es256() {
        std::lock_guard lk(mu_);
        es256_ = true;
    }
    /// A new RSA key replaces the old one in the JWKS (a rotation).
    void rotate_key() {
        auto fresh = *crypto::signing_key::generate_rsa(2048);
        std::lock_guard lk(mu_);
        key_ = std::move(fresh);
    }
    /// The next ID tokens name this kid (signed with the current key anyway).
    void force_kid(std::string kid) {
        std::lock_guard lk(mu_);
        forced_kid_ = std::move(kid);
    }
    /// ES256 tokens named "ec-1" but signed by another P-256 key than the published one.
    void sign_with_stray_ec_key() {
        std::lock_guard lk(mu_);
        stray_ = *crypto::generate_p256();
    }
    /// The token endpoint's next answers: "" (normal), "hang" (answers after 2 s), "huge" (a 300 KiB body).
    void token_mode(std::string mode) {
        std::lock_guard lk(mu_);
        token_mode_ = std::move(mode);
    }
    int jwks_requests() const { return jwks_requests_.load(); }
    /// An ID token as an app would post it (One Tap, a native SDK): no nonce; `claims` override the defaults
    /// (iss: this provider, aud, exp: in 5 minutes, email verified); `stray` signs with a key not in the JWKS.
    std::string mint(std::string const& aud, std::string const& sub, std::string const& email,
                     json::object const& claims = {}, bool stray = false) {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                       .count();
        json::object c{{"iss", issuer},
                       {"aud", aud},
                       {"sub", sub},
                       {"iat", now},
                       {"exp", now + 300},
                       {"email", email},
                       {"email_verified", true},
                       {"given_name", "Tap"}};
        for (auto const& kv : claims) c[kv.key()] = kv.value();
        std::lock_guard lk(mu_);
        json::object header{{"alg", "RS256"}, {"kid", key_.kid()}, {"typ", "JWT"}};
        if (stray) {
            auto other = *crypto::signing_key::generate_rsa(2048);
            return *crypto::sign_rs256(other, json::serialize(header), json::serialize(c));
        }
        return *crypto::sign_rs256(key_, json::serialize(header), json::serialize(c));
    }
    std::string issuer;
    std::atomic<bool> down;  ///< discovery answers 503 (the provider is down)

private:
    void answer(loopback_http::request const& req, loopback_http::response& res) {
        std::string const target(req.target());
        if (target == "/.well-known/openid-configuration" && down) {
            res.result(bhttp::status::service_unavailable);
        } else if (target == "/.well-known/openid-configuration") {
            res.body() = json::serialize(json::object{{"issuer", issuer},
                                                      {"authorization_endpoint", issuer + "/authorize"},
                                                      {"token_endpoint", issuer + "/token"},
                                                      {"jwks_uri", issuer + "/jwks"}});
        } else if (target == "/jwks") {
            ++jwks_requests_;
            std::lock_guard lk(mu_);
            auto set = json::parse(crypto::jwks_json([&] {
                crypto::keyring r;
                r.add(*key_.clone(), true);
                return r;
            }()));
            auto pt = *crypto::p256_jwk(ec_.get());
            set.at("keys").as_array().push_back(json::object{
                {"kty", "EC"}, {"crv", "P-256"}, {"kid", "ec-1"}, {"use", "sig"}, {"x", pt.x}, {"y", pt.y}});
            res.body() = json::serialize(set);
        } else if (target == "/token" && mode() == "hang") {
            std::this_thread::sleep_for(std::chrono::seconds(2));
            res.body() = "{}";
        } else if (target == "/token" && mode() == "huge") {
            res.body() = "{\"access_token\":\"" + std::string(300 * 1024, 'a') + "\"}";
        } else if (target == "/token" && refuses_code(req.body())) {
            res.result(bhttp::status::bad_request);
            res.body() = R"({"error":"invalid_grant"})";
        } else if (target == "/token") {
            std::lock_guard lk(mu_);
            form_ = req.body();
            auto now =
                std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                    .count();
            json::object claims{
                {"iss", issuer},       {"aud", "latchkey-test"},   {"sub", sub_},     {"nonce", nonce_},
                {"iat", now},          {"exp", now + 300},         {"email", email_}, {"email_verified", true},
                {"given_name", "Ada"}, {"family_name", "Lovelace"}};
            json::object header{{"alg", es256_ ? "ES256" : "RS256"},
                                {"kid", !forced_kid_.empty() ? forced_kid_
                                        : es256_             ? "ec-1"
                                                             : key_.kid()},
                                {"typ", "JWT"}};
            auto jwt = es256_ ? crypto::sign_es256(stray_ ? stray_.get() : ec_.get(), json::serialize(header),
                                                   json::serialize(claims))
                              : crypto::sign_rs256(key_, json::serialize(header), json::serialize(claims));
            res.body() = json::serialize(json::object{{"access_token", "at-1"},
                                                      {"token_type", "Bearer"},
                                                      {"id_token", *jwt},
                                                      {"scope", "openid email profile"}});
        } else {
            res.result(bhttp::status::not_found);
        }
    }

    /// Codes "native-*" are single-use (a replay is refused, as a provider does); "refused-*" never exchange.
    bool refuses_code(std::string const& form) {
        auto at = form.find("code=");
        if (at == std::string::npos) return false;
        auto const end = form.find('&', at);
        auto const code = form.substr(at + 5, end == std::string::npos ? std::string::npos : end - at - 5);
        std::lock_guard lk(mu_);
        if (code.starts_with("refused-")) return true;
        return code.starts_with("native-") && !spent_codes_.insert(code).second;
    }
    std::set<std::string> spent_codes_;
    crypto::signing_key key_;
    std::mutex mu_;
    std::string nonce_, sub_, email_, form_;
    crypto::evp_pkey_ptr ec_ = *crypto::generate_p256();
    std::string mode() {
        std::lock_guard lk(mu_);
        return token_mode_;
    }
    std::string token_mode_;
    crypto::evp_pkey_ptr stray_;
    bool es256_ = false;
    std::string forced_kid_;
    std::atomic<int> jwks_requests_{0};
    loopback_http http_{[this](auto const& req, auto& res) { answer(req, res); }};  // last: it stops first
};

struct federated {
    explicit federated(std::function<void(conf::config&)> more = {}, bool idp_down_at_start = false)
        : idp(idp_down_at_start), more_config(std::move(more)) {}
    tiny_idp idp;
    std::function<void(conf::config&)> more_config;
    test_server s{[this](conf::config& c) {
        auto p = test_provider("oauth_custom_acme", "Acme", "latchkey-test", "idp-secret");
        p.issuer = idp.issuer;
        c.oauth_providers.push_back(p);
        if (more_config) more_config(c);
    }};
    std::string redirect() const { return s.inst().frontend_api + "/sso-callback"; }
};

/// Starts an OAuth sign-in (or sign-up) and returns the provider URL it answered with.
std::string start(federated& f, http_client& c, std::string const& path) {
    auto r = c.fapi("POST", path, {{"strategy", "oauth_custom_acme"}, {"redirect_url", f.redirect()}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& resp = response(r);
    auto const& v = path.ends_with("sign_ins") ? resp.at("first_factor_verification")
                                               : resp.at("verifications").at("external_account");
    BOOST_TEST(v.at("status") == "unverified");
    BOOST_TEST(v.at("strategy") == "oauth_custom_acme");
    return str(v.at("external_verification_redirect_url"));
}

http_result callback(federated& f, http_client& c, std::string const& url, std::string const& sub,
                     std::string const& email) {
    f.idp.expect(query_param(url, "nonce"), sub, email);
    return c.request(http::verb::get, "/v1/oauth_callback?code=the-code&state=" + query_param(url, "state"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(federation)

BOOST_AUTO_TEST_CASE(sign_in_transfers_to_sign_up_then_signs_in_by_provider) {
    federated f;
    http_client c(f.s.fapi_port());
    auto url = start(f, c, "/v1/client/sign_ins");
    BOOST_TEST(url.starts_with(f.idp.issuer + "/authorize?response_type=code&client_id=latchkey-test"), url);
    BOOST_TEST(query_param(url, "code_challenge_method") == "S256");
    BOOST_TEST(!query_param(url, "code_challenge").empty());

    auto cb = callback(f, c, url, "acme-user-1", "ada@example.com");
    BOOST_TEST_REQUIRE(cb.status == 303u, cb.body);
    // The code went back with the PKCE verifier, the callback URI and HTTP Basic.
    BOOST_TEST(f.idp.last_token_form().find("code_verifier=") != std::string::npos);
    BOOST_TEST(f.idp.last_token_form().find("code=the-code") != std::string::npos);

    // A replayed callback finds no pending flow.
    auto replay = c.request(http::verb::get, "/v1/oauth_callback?code=the-code&state=" + query_param(url, "state"));
    expect_error(replay, 400, "oauth_callback_invalid", "state");
    // No such account: the sign-in is transferable (external_account_not_found); clerk-js signs up by transfer.
    auto const user_id = transfer_to_sign_up(c);

    auto const u = bapi_user(f.s, user_id);
    auto const& ea = sole_account(u, "external_accounts");
    BOOST_TEST(ea.at("provider") == "oauth_custom_acme");
    BOOST_TEST(ea.at("provider_user_id") == "acme-user-1");
    BOOST_TEST(u.at("email_addresses").as_array()[0].at("email_address") == "ada@example.com");

    // Another browser signs in with the same provider identity: complete, same user.
    http_client c2(f.s.fapi_port());
    auto url2 = start(f, c2, "/v1/client/sign_ins");
    BOOST_TEST_REQUIRE(callback(f, c2, url2, "acme-user-1", "ada@example.com").status == 303u);
    expect_session_of(c2, user_id);  // complete: the attempt left the client and its session is the one signed in
}

BOOST_AUTO_TEST_CASE(sign_up_by_provider_creates_the_user) {
    federated f;
    http_client c(f.s.fapi_port());
    auto url = start(f, c, "/v1/client/sign_ups");
    BOOST_TEST_REQUIRE(callback(f, c, url, "acme-user-2", "grace@example.com").status == 303u);
    auto const user = session_user(c);
    // The completed sign-up stays on the client for handleRedirectCallback's setActive.
    auto client = c.fapi("GET", "/v1/client");
    BOOST_TEST(client.json.at("response").at("sign_up").at("status") == "complete", client.body);
    BOOST_TEST(client.json.at("response").at("sign_up").at("created_session_id") ==
               client.json.at("response").at("sessions").at(0).at("id"));
    BOOST_TEST(user.at("external_accounts").as_array()[0].at("provider_user_id") == "acme-user-2");
    BOOST_TEST(user.at("email_addresses").as_array()[0].at("email_address") == "grace@example.com");
    BOOST_TEST(user.at("first_name") == "Ada");
    BOOST_TEST(user.at("password_enabled") == false);
}

BOOST_AUTO_TEST_CASE(a_user_with_a_second_factor_still_owes_it_after_the_provider) {
    federated f([](conf::config& c) { c.second_factors = {"totp"}; });
    http_client c(f.s.fapi_port());
    auto url = start(f, c, "/v1/client/sign_ups");
    BOOST_TEST_REQUIRE(callback(f, c, url, "acme-user-3", "mfa@example.com").status == 303u);
    // The new user sets up an authenticator app.
    auto t = c.fapi("POST", "/v1/me/totp");
    BOOST_TEST_REQUIRE(t.status == 200u, t.body);
    auto key = crypto::base32_decode(str(response(t).at("secret")));
    BOOST_TEST_REQUIRE(key.has_value());
    auto code = [&](int steps) { return crypto::totp(*key, f.s.app().now_ms() / 1000 + steps * 30); };
    BOOST_TEST_REQUIRE(c.fapi("POST", "/v1/me/totp/attempt_verification", {{"code", code(0)}}).status == 200u);

    // Another browser signs in through the provider: the provider proved the first factor only.
    http_client c2(f.s.fapi_port());
    auto url2 = start(f, c2, "/v1/client/sign_ins");
    BOOST_TEST_REQUIRE(callback(f, c2, url2, "acme-user-3", "mfa@example.com").status == 303u);
    auto client = c2.fapi("GET", "/v1/client");
    auto const& cl = client.json.at("response");
    BOOST_TEST(cl.at("sessions").as_array().empty(), client.body);
    BOOST_TEST_REQUIRE(cl.at("sign_in").is_object(), client.body);
    BOOST_TEST(cl.at("sign_in").at("status") == "needs_second_factor", client.body);
    auto const id = str(cl.at("sign_in").at("id"));
    auto done = c2.fapi("POST", "/v1/client/sign_ins/" + id + "/attempt_second_factor",
                        {{"strategy", "totp"}, {"code", code(1)}});
    BOOST_TEST_REQUIRE(done.status == 200u, done.body);
    BOOST_TEST(response(done).at("status") == "complete", done.body);
}

BOOST_AUTO_TEST_CASE(environment_lists_the_provider_and_unknown_strategies_are_refused) {
    federated f;
    http_client c(f.s.fapi_port());
    auto env = c.fapi("GET", "/v1/environment");
    auto const& acme = env.json.at("user_settings").at("social").at("oauth_custom_acme");
    BOOST_TEST(acme.at("enabled") == true);
    BOOST_TEST(acme.at("authenticatable") == true);
    BOOST_TEST(acme.at("name") == "Acme");
    auto r =
        c.fapi("POST", "/v1/client/sign_ins", {{"strategy", "oauth_custom_other"}, {"redirect_url", f.redirect()}});
    expect_error(r, 422, "strategy_for_user_invalid", "strategy");
    r = c.fapi("POST", "/v1/client/sign_ins",
               {{"strategy", "oauth_custom_acme"}, {"redirect_url", "https://evil.example/x"}});
    expect_error(r, 422, "form_param_value_invalid", "redirect_url");
    r = c.fapi("POST", "/v1/client/sign_ups", {{"transfer", "true"}});
    expect_error(r, 422, "form_param_value_invalid", "transfer");
}

BOOST_AUTO_TEST_CASE(bad_callbacks_are_refused_and_a_wrong_nonce_fails_the_attempt) {
    federated f;
    http_client c(f.s.fapi_port());
    expect_error(c.request(http::verb::get, "/v1/oauth_callback?code=x"), 400, "oauth_callback_invalid", "state");
    expect_error(c.request(http::verb::get, "/v1/oauth_callback?code=x&state=sia_nope.zzz"), 400,
                 "oauth_callback_invalid", "state");
    auto url = start(f, c, "/v1/client/sign_ins");
    auto tampered = query_param(url, "state");
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    expect_error(c.request(http::verb::get, "/v1/oauth_callback?code=x&state=" + tampered), 400,
                 "oauth_callback_invalid", "state");
    // The IdP signs a token for another nonce: nothing is proven, no user is created.
    f.idp.expect("another-nonce", "acme-user-3", "eve@example.com");
    auto cb = c.request(http::verb::get, "/v1/oauth_callback?code=x&state=" + query_param(url, "state"));
    BOOST_TEST_REQUIRE(cb.status == 303u, cb.body);
    auto client = c.fapi("GET", "/v1/client");
    auto const& v = client.json.at("response").at("sign_in").at("first_factor_verification");
    BOOST_TEST(v.at("status") == "failed", client.body);
    BOOST_TEST(v.at("error").at("code") == "oauth_fetch_user_error");
    auto b = bapi_client(f.s);
    BOOST_TEST(b.bapi(http::verb::get, "/v1/users/count").json.at("total_count") == 0);
}

BOOST_AUTO_TEST_CASE(es256_id_tokens_are_verified_against_the_providers_ec_key) {
    federated f;
    f.idp.use_es256();
    http_client c(f.s.fapi_port());
    auto url = start(f, c, "/v1/client/sign_ups");
    BOOST_TEST_REQUIRE(callback(f, c, url, "acme-ec-1", "ec@example.com").status == 303u);
    BOOST_TEST(session_user(c).at("external_accounts").as_array()[0].at("provider_user_id") == "acme-ec-1");

    // A token whose ES256 signature was made by another P-256 key fails the attempt: no user.
    f.idp.sign_with_stray_ec_key();
    http_client c2(f.s.fapi_port());
    auto url2 = start(f, c2, "/v1/client/sign_ups");
    f.idp.expect(query_param(url2, "nonce"), "acme-ec-2", "ec2@example.com");
    auto tampered = c2.request(http::verb::get, "/v1/oauth_callback?code=x&state=" + query_param(url2, "state"));
    BOOST_TEST_REQUIRE(tampered.status == 303u);
    auto b = bapi_client(f.s);
    BOOST_TEST(b.bapi(http::verb::get, "/v1/users/count").json.at("total_count") == 1);
}

BOOST_AUTO_TEST_CASE(the_jwks_is_cached_and_refetched_once_for_a_rotated_key_but_not_for_made_up_kids) {
    federated f;
    auto sign_up = [&](std::string const& sub) {
        http_client c(f.s.fapi_port());
        auto url = start(f, c, "/v1/client/sign_ups");
        BOOST_TEST_REQUIRE(callback(f, c, url, sub, sub + "@example.com").status == 303u);
        auto client = c.fapi("GET", "/v1/client");
        return client.json.at("response").at("sessions").as_array().size() == 1u;
    };
    BOOST_TEST(sign_up("jwks-1"));
    BOOST_TEST(sign_up("jwks-2"));
    BOOST_TEST(f.idp.jwks_requests() == 1);  // the second ID token was checked against the cached set

    // The provider rotates its key: the unknown kid refetches the set once, and the sign-up goes through.
    f.idp.rotate_key();
    BOOST_TEST(sign_up("jwks-3"));
    BOOST_TEST(f.idp.jwks_requests() == 2);
    BOOST_TEST(sign_up("jwks-4"));
    BOOST_TEST(f.idp.jwks_requests() == 2);

    // A kid no set has: one refetch, then none for the same kid within the minute; no user either time.
    f.idp.force_kid("made-up");
    BOOST_TEST(!sign_up("jwks-5"));
    BOOST_TEST(f.idp.jwks_requests() == 3);
    BOOST_TEST(!sign_up("jwks-6"));
    BOOST_TEST(f.idp.jwks_requests() == 3);
    auto b = bapi_client(f.s);
    BOOST_TEST(b.bapi(http::verb::get, "/v1/users/count").json.at("total_count") == 4);
}

BOOST_AUTO_TEST_CASE(a_provider_down_at_start_does_not_stop_the_server_and_is_discovered_later) {
    federated f({}, /*idp_down_at_start=*/true);
    http_client c(f.s.fapi_port());
    auto attempt = [&] {
        return c.fapi("POST", "/v1/client/sign_ins",
                      {{"strategy", "oauth_custom_acme"}, {"redirect_url", f.redirect()}});
    };
    expect_error(attempt(), 503, "oauth_provider_unavailable", "strategy");
    // The provider comes back: the background retry (250 ms, then doubling) discovers it.
    f.idp.down = false;
    http_result r;
    for (int i = 0; i < 100; ++i) {
        r = attempt();
        if (r.status == 200u) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto url = str(response(r).at("first_factor_verification").at("external_verification_redirect_url"));
    BOOST_TEST(url.starts_with(f.idp.issuer + "/authorize?"), url);
    BOOST_TEST_REQUIRE(callback(f, c, url, "late-1", "late@example.com").status == 303u);
    auto client = c.fapi("GET", "/v1/client");
    BOOST_TEST(client.json.at("response").at("sign_in").at("first_factor_verification").at("status") == "transferable",
               client.body);
}

BOOST_AUTO_TEST_CASE(external_accounts_are_deleted_by_the_user_and_by_the_backend) {
    federated f;
    // Two users, each signed up through the provider.
    auto sign_up = [&](http_client& c, std::string const& sub) {
        auto url = start(f, c, "/v1/client/sign_ups");
        BOOST_TEST_REQUIRE(callback(f, c, url, sub, sub + "@example.com").status == 303u);
        auto client = c.fapi("GET", "/v1/client");
        auto const& user = client.json.at("response").at("sessions").as_array().at(0).at("user");
        return std::pair{str(user.at("id")), str(user.at("external_accounts").as_array().at(0).at("id"))};
    };
    http_client c1(f.s.fapi_port()), c2(f.s.fapi_port());
    auto [u1, ea1] = sign_up(c1, "del-1");
    auto [u2, ea2] = sign_up(c2, "del-2");

    // FAPI: another user's account is not found; the user's own goes (they still sign in by email code).
    expect_error(c1.fapi("DELETE", "/v1/me/external_accounts/" + ea2), 404, "resource_not_found");
    auto del = c1.fapi("DELETE", "/v1/me/external_accounts/" + ea1);
    BOOST_TEST_REQUIRE(del.status == 200u, del.body);
    BOOST_TEST(response(del).at("object") == "external_account");
    BOOST_TEST(response(del).at("deleted") == true);
    auto b = bapi_client(f.s);
    BOOST_TEST(b.bapi(http::verb::get, "/v1/users/" + u1).json.at("external_accounts").as_array().empty());
    expect_error(http_client(f.s.fapi_port()).fapi("DELETE", "/v1/me/external_accounts/" + ea1), 401,
                 "authentication_invalid");

    // BAPI: unknown ids are 404s; the account goes, with its identity index entry.
    expect_error(b.bapi(http::verb::delete_, "/v1/users/" + u2 + "/external_accounts/eac_nope"), 404,
                 "resource_not_found");
    expect_error(b.bapi(http::verb::delete_, "/v1/users/user_nope/external_accounts/" + ea2), 404,
                 "resource_not_found");
    auto gone = b.bapi(http::verb::delete_, "/v1/users/" + u2 + "/external_accounts/" + ea2);
    BOOST_TEST_REQUIRE(gone.status == 200u, gone.body);
    BOOST_TEST(gone.json.at("object") == "external_account");
    BOOST_TEST(gone.json.at("deleted") == true);
    BOOST_TEST(b.bapi(http::verb::get, "/v1/users/" + u2).json.at("external_accounts").as_array().empty());

    // Signing in through the provider as del-1 no longer finds the user by the identity: only its verified
    // email links it again (a sign-in), and the account comes back.
    http_client c3(f.s.fapi_port());
    auto url = start(f, c3, "/v1/client/sign_ins");
    BOOST_TEST_REQUIRE(callback(f, c3, url, "del-1", "del-1@example.com").status == 303u);
    auto u = b.bapi(http::verb::get, "/v1/users/" + u1);
    BOOST_TEST(u.json.at("external_accounts").as_array().size() == 1u, u.body);
}

BOOST_AUTO_TEST_CASE(a_hanging_or_oversized_token_answer_fails_the_attempt_and_creates_no_user) {
    federated f([](conf::config& c) { c.oauth_providers[0].timeout = std::chrono::milliseconds(700); });
    auto b = bapi_client(f.s);
    for (std::string mode : {"hang", "huge"}) {
        f.idp.token_mode(mode);
        http_client c(f.s.fapi_port());
        auto url = start(f, c, "/v1/client/sign_ups");
        auto const t0 = std::chrono::steady_clock::now();
        auto cb = callback(f, c, url, "slow-" + mode, mode + "@example.com");
        BOOST_TEST_REQUIRE(cb.status == 303u, cb.body);
        // The timeout ends the wait, not the provider (which answers after 2 s).
        bool const bounded = std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1900);
        BOOST_TEST(bounded, mode);
        auto client = c.fapi("GET", "/v1/client");
        auto const& v = client.json.at("response").at("sign_up").at("verifications").at("external_account");
        BOOST_TEST(v.at("status") == "failed", client.body);
        BOOST_TEST(v.at("error").at("code") == "oauth_token_exchange_error", client.body);
        BOOST_TEST(client.json.at("response").at("sessions").as_array().empty());
    }
    BOOST_TEST(b.bapi(http::verb::get, "/v1/users/count").json.at("total_count") == 0);
}

// ---- posted ID tokens (issue 15): `google_one_tap` and `oauth_token_<provider>` ----

namespace {

/// The Acme provider plus `oauth_google` (same test IdP as issuer, client id "google-client") and a plain OAuth 2.0
/// provider without an issuer.
void with_google(federated* f, conf::config& c) {
    auto g = test_provider("oauth_google", "Google", "google-client", "g-secret");
    g.issuer = f->idp.issuer;
    c.oauth_providers.push_back(g);
    auto plain = test_provider("oauth_github", "GitHub", "gh", "gh-secret");  // no issuer: no ID tokens to post
    plain.authorization_endpoint = f->idp.issuer + "/authorize";
    plain.token_endpoint = f->idp.issuer + "/token";
    plain.userinfo_endpoint = f->idp.issuer + "/user";
    c.oauth_providers.push_back(plain);
}

struct token_federated {
    federated f{[this](conf::config& c) { with_google(&f, c); }};
};

std::size_t user_count(federated& f) {
    auto b = bapi_client(f.s);
    auto r = b.bapi(http::verb::get, "/v1/users/count");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return r.json.at("total_count").to_number<std::size_t>();
}

}  // namespace

BOOST_AUTO_TEST_CASE(google_one_tap_signs_up_a_new_identity_then_signs_it_in) {
    token_federated t;
    auto& f = t.f;
    http_client c(f.s.fapi_port());
    auto const token = f.idp.mint("google-client", "g-user-1", "tap@example.com");
    // clerk-js's authenticateWithGoogleOneTap: sign in first; an unknown identity is external_account_not_found,
    // then a sign-up with the same token.
    auto si = c.fapi("POST", "/v1/client/sign_ins", {{"strategy", "google_one_tap"}, {"token", token}});
    expect_error(si, 422, "external_account_not_found", "token");
    BOOST_TEST(user_count(f) == 0u);
    auto su = c.fapi("POST", "/v1/client/sign_ups", {{"strategy", "google_one_tap"}, {"token", token}});
    BOOST_TEST_REQUIRE(su.status == 200u, su.body);
    BOOST_TEST(response(su).at("status") == "complete", su.body);
    auto const user_id = str(response(su).at("created_user_id"));
    auto const u = bapi_user(f.s, user_id);
    auto const& ea = sole_account(u, "external_accounts");
    BOOST_TEST(ea.at("provider") == "oauth_google");
    BOOST_TEST(ea.at("provider_user_id") == "g-user-1");
    BOOST_TEST(u.at("email_addresses").as_array()[0].at("email_address") == "tap@example.com");
    BOOST_TEST(u.at("email_addresses").as_array()[0].at("verification").at("status") == "verified");

    // The same identity signs up again: it is not moved nor duplicated.
    http_client c2(f.s.fapi_port());
    auto again = c2.fapi("POST", "/v1/client/sign_ups", {{"strategy", "google_one_tap"}, {"token", token}});
    expect_error(again, 422, "external_account_exists", "token");

    // Another browser signs in with a fresh token of the same identity: complete, same user.
    auto in = c2.fapi("POST", "/v1/client/sign_ins",
                      {{"strategy", "google_one_tap"}, {"token", f.idp.mint("google-client", "g-user-1", "")}});
    BOOST_TEST_REQUIRE(in.status == 200u, in.body);
    BOOST_TEST(response(in).at("status") == "complete", in.body);
    BOOST_TEST(response(in).at("first_factor_verification").at("strategy") == "google_one_tap", in.body);
    // The spec's verification_google_one_tap (no redirect URL: nothing to visit).
    BOOST_TEST(response(in).at("first_factor_verification").at("object") == "verification_google_one_tap", in.body);
    BOOST_TEST(
        !response(in).at("first_factor_verification").as_object().contains("external_verification_redirect_url"));
    // The environment names the Google client id One Tap mints its tokens for (clerk-js's <GoogleOneTap/>).
    auto env = c2.fapi("GET", "/v1/environment");
    BOOST_TEST_REQUIRE(env.status == 200u, env.body);
    BOOST_TEST(env.json.at("display_config").at("google_one_tap_client_id") == "google-client", env.body);
    expect_session_of(c2, user_id);
    BOOST_TEST(user_count(f) == 1u);
}

BOOST_AUTO_TEST_CASE(oauth_token_links_a_verified_email_to_its_owner_and_never_moves_an_owned_identity) {
    token_federated t;
    auto& f = t.f;
    auto b = bapi_client(f.s);
    auto made =
        b.bapi(http::verb::post, "/v1/users",
               json::object{{"email_address", json::array{"native@example.com"}}, {"password", "Tr0ub4dor&3x!"}});
    BOOST_TEST_REQUIRE(made.status == 200u, made.body);
    auto const owner = str(made.json.at("id"));
    http_client c(f.s.fapi_port());
    // A native app's provider SDK token for Acme: the verified email links the identity to the address's owner.
    auto in = c.fapi("POST", "/v1/client/sign_ins",
                     {{"strategy", "oauth_token_custom_acme"},
                      {"token", f.idp.mint("latchkey-test", "acme-native-1", "native@example.com")}});
    BOOST_TEST_REQUIRE(in.status == 200u, in.body);
    BOOST_TEST(response(in).at("status") == "complete", in.body);
    auto u = b.bapi(http::verb::get, "/v1/users/" + owner);
    BOOST_TEST_REQUIRE(u.json.at("external_accounts").as_array().size() == 1u, u.body);
    BOOST_TEST(u.json.at("external_accounts").as_array()[0].at("provider_user_id") == "acme-native-1");

    // An unverified email does not link: nobody owns that identity, so nothing signs in and nothing is created.
    http_client c2(f.s.fapi_port());
    auto unverified = c2.fapi("POST", "/v1/client/sign_ins",
                              {{"strategy", "oauth_token_custom_acme"},
                               {"token", f.idp.mint("latchkey-test", "acme-native-2", "native@example.com",
                                                    json::object{{"email_verified", false}})}});
    expect_error(unverified, 422, "external_account_not_found", "token");
    // Its sign-up is refused too: the address belongs to the first user.
    auto su = c2.fapi("POST", "/v1/client/sign_ups",
                      {{"strategy", "oauth_token_custom_acme"},
                       {"token", f.idp.mint("latchkey-test", "acme-native-1", "other@example.com")}});
    expect_error(su, 422, "external_account_exists", "token");
    BOOST_TEST(user_count(f) == 1u);

    // A banned owner: the attempt fails with user_banned and starts no session.
    BOOST_TEST_REQUIRE(b.bapi(http::verb::post, "/v1/users/" + owner + "/ban").status == 200u);
    http_client c3(f.s.fapi_port());
    auto banned =
        c3.fapi("POST", "/v1/client/sign_ins",
                {{"strategy", "oauth_token_custom_acme"}, {"token", f.idp.mint("latchkey-test", "acme-native-1", "")}});
    BOOST_TEST_REQUIRE(banned.status == 200u, banned.body);
    BOOST_TEST(response(banned).at("first_factor_verification").at("status") == "failed", banned.body);
    BOOST_TEST(response(banned).at("first_factor_verification").at("error").at("code") == "user_banned");
    BOOST_TEST(c3.fapi("GET", "/v1/client").json.at("response").at("sessions").as_array().empty());
}

BOOST_AUTO_TEST_CASE(oauth_token_with_a_code_exchanges_it_and_a_bad_or_replayed_code_creates_nothing) {
    token_federated t;
    auto& f = t.f;
    http_client c(f.s.fapi_port());
    auto code_sign_in = [&](http_client& h, std::string const& code, std::string const& token = {}) {
        std::vector<std::pair<std::string, std::string>> form{{"strategy", "oauth_token_custom_acme"}, {"code", code}};
        if (!token.empty()) form.emplace_back("token", token);
        return h.fapi("POST", "/v1/client/sign_ins", form);
    };
    // A native app posts the provider's authorization code: exchanged with the client secret, no PKCE, no
    // redirect_uri. An identity nobody has: the code is spent, so the sign-in stays transferable.
    f.idp.expect("", "acme-code-1", "coder@example.com");
    auto si = code_sign_in(c, "native-1");
    BOOST_TEST_REQUIRE(si.status == 200u, si.body);
    auto const form = f.idp.last_token_form();
    BOOST_TEST(form.find("grant_type=authorization_code") != std::string::npos, form);
    BOOST_TEST(form.find("code=native-1") != std::string::npos, form);
    BOOST_TEST(form.find("code_verifier") == std::string::npos, form);
    BOOST_TEST(form.find("redirect_uri") == std::string::npos, form);
    BOOST_TEST(user_count(f) == 0u);
    // clerk-js's transfer: the user is created with the account and the provider's tokens.
    auto const user_id = transfer_to_sign_up(c);
    auto b = bapi_client(f.s);
    auto u = b.bapi(http::verb::get, "/v1/users/" + user_id);
    BOOST_TEST_REQUIRE(u.json.at("external_accounts").as_array().size() == 1u, u.body);
    BOOST_TEST(u.json.at("external_accounts").as_array()[0].at("provider_user_id") == "acme-code-1");
    BOOST_TEST(u.json.at("email_addresses").as_array()[0].at("email_address") == "coder@example.com");
    auto toks = b.bapi(http::verb::get, "/v1/users/" + user_id + "/oauth_access_tokens/oauth_custom_acme");
    BOOST_TEST_REQUIRE(toks.json.as_array().size() == 1u, toks.body);
    BOOST_TEST(toks.json.as_array()[0].at("token") == "at-1");

    // A replayed code and a code the provider refuses: Clerk's oauth error on `code`, nothing signed in or created.
    http_client c2(f.s.fapi_port());
    expect_error(code_sign_in(c2, "native-1"), 422, "oauth_token_exchange_error", "code");
    expect_error(code_sign_in(c2, "refused-1"), 422, "oauth_token_exchange_error", "code");
    expect_error(
        c2.fapi("POST", "/v1/client/sign_ups", {{"strategy", "oauth_token_custom_acme"}, {"code", "native-1"}}), 422,
        "oauth_token_exchange_error", "code");
    expect_error(code_sign_in(c2, std::string(3000, 'x')), 422, "form_param_value_invalid", "code");
    // Code and token together must name the same identity.
    expect_error(code_sign_in(c2, "native-2", f.idp.mint("latchkey-test", "someone-else", "")), 422,
                 "form_param_value_invalid", "token");
    BOOST_TEST(c2.fapi("GET", "/v1/client").json.at("response").is_null());  // nothing written: not even a client
    BOOST_TEST(user_count(f) == 1u);

    // A fresh code (with the matching token) of the known identity signs it in.
    auto in = code_sign_in(c2, "native-3", f.idp.mint("latchkey-test", "acme-code-1", ""));
    BOOST_TEST_REQUIRE(in.status == 200u, in.body);
    BOOST_TEST(response(in).at("status") == "complete", in.body);
    expect_session_of(c2, user_id);
    BOOST_TEST(user_count(f) == 1u);
}

BOOST_AUTO_TEST_CASE(bad_posted_tokens_are_refused_on_token_and_create_nothing) {
    token_federated t;
    auto& f = t.f;
    http_client c(f.s.fapi_port());
    auto post = [&](std::string const& path, std::string const& strategy, std::string const& token) {
        std::vector<std::pair<std::string, std::string>> form{{"strategy", strategy}};
        if (!token.empty()) form.emplace_back("token", token);
        return c.fapi("POST", path, form);
    };
    for (auto const* path : {"/v1/client/sign_ins", "/v1/client/sign_ups"}) {
        BOOST_TEST_CONTEXT(path) {
            expect_error(post(path, "google_one_tap", ""), 422, "form_param_missing", "token");
            expect_error(post(path, "google_one_tap", "not.a.jwt"), 422, "form_param_value_invalid", "token");
            auto const now =
                std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                    .count();
            expect_error(post(path, "google_one_tap",
                              f.idp.mint("google-client", "g-bad", "", json::object{{"exp", now - 3600}})),
                         422, "form_param_value_invalid", "token");
            // Acme's audience is not Google's client.
            expect_error(post(path, "google_one_tap", f.idp.mint("latchkey-test", "g-bad", "")), 422,
                         "form_param_value_invalid", "token");
            expect_error(
                post(path, "google_one_tap",
                     f.idp.mint("google-client", "g-bad", "", json::object{{"iss", "https://accounts.google.com"}})),
                422, "form_param_value_invalid", "token");
            expect_error(post(path, "google_one_tap", f.idp.mint("google-client", "g-bad", "", {}, true)), 422,
                         "form_param_value_invalid", "token");
            // No such provider; a provider without an issuer has no ID tokens to check.
            expect_error(post(path, "oauth_token_apple", f.idp.mint("apple", "a", "")), 422,
                         "strategy_for_user_invalid", "strategy");
            expect_error(post(path, "oauth_token_github", f.idp.mint("gh", "a", "")), 422, "strategy_for_user_invalid",
                         "strategy");
        }
    }
    BOOST_TEST(user_count(f) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
