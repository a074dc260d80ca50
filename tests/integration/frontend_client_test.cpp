// FAPI: the client, dev browser, __client cookie, sessions (touch/end/remove/sign out all), token minting,
// last_active_token caching and the handshake.
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::test;

namespace {

/// Verifies a JWT against the served JWKS (kid lookup + RS256), the way an independent verifier would.
bool verifies_with_jwks(test_server& s, std::string const& jwt) {
    http_client c(s.fapi_port());
    auto jwks = c.request(http::verb::get, "/.well-known/jwks.json");
    auto kid = jwt_header(jwt).at("kid").as_string();
    for (auto const& k : jwks.json.at("keys").as_array()) {
        if (k.at("kid").as_string() != kid) continue;
        auto pub = crypto::public_key::from_jwk(k.at("n").as_string(), k.at("e").as_string());
        auto parts = crypto::parse_jws(jwt);
        return pub && parts && crypto::verify_rs256(pub->get(), *parts).has_value();
    }
    return false;
}

/// The __client_uat value a reply set (-1 when it set none).
std::int64_t client_uat(http_result const& r) {
    for (auto const& sc : r.set_cookies)
        if (sc.starts_with("__client_uat=")) return std::stoll(sc.substr(13));
    return -1;
}

/// GET /v1/client's sessions (required to succeed).
json::array client_sessions(http_client& c) {
    auto r = c.fapi("GET", "/v1/client");
    if (r.status != 200u) throw std::runtime_error("GET /v1/client: " + std::to_string(r.status));
    return r.json.at("response").at("sessions").as_array();
}

/// The session `id` in a GET /v1/client sessions array (null when absent).
json::value find_session(json::array const& sessions, std::string const& id) {
    for (auto const& v : sessions)
        if (v.at("id").as_string() == id) return v;
    return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(frontend_client)

BOOST_FIXTURE_TEST_CASE(no_client_is_null_null, fapi_env) {
    auto r = c.fapi("GET", "/v1/client");
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.json.at("response").is_null());
    BOOST_TEST(r.json.at("client").is_null());
    BOOST_TEST(r.headers["content-type"] == "application/json");
}

BOOST_AUTO_TEST_CASE(dev_browser_keys_one_client) {
    test_server s;
    http_client c(s.fapi_port());
    auto db = c.fapi("POST", "/v1/dev_browser");
    BOOST_TEST_REQUIRE(db.status == 200u);
    std::string token(db.json.at("id").as_string());
    BOOST_TEST(!token.empty());
    c.dev_browser = token;
    BOOST_TEST(c.fapi("GET", "/v1/client").json.at("response").is_null());
    auto created = c.fapi("POST", "/v1/client");
    BOOST_TEST_REQUIRE(created.status == 200u);
    std::string id(created.json.at("response").at("id").as_string());
    BOOST_TEST(id.starts_with("client_"));
    // No cookies in dev-browser mode: the token in the query keys the client.
    BOOST_TEST(created.set_cookies.empty());
    http_client other(s.fapi_port());
    other.dev_browser = token;
    auto again = other.fapi("GET", "/v1/client");
    BOOST_TEST(again.json.at("response").at("id").as_string() == id);
    // An unknown dev-browser token is refused with the code clerk-js recovers from.
    other.dev_browser = "dvb_unknown";
    auto bad = other.fapi("GET", "/v1/client");
    BOOST_TEST(bad.status == 401u);
    BOOST_TEST(bad.error_code() == "dev_browser_unauthenticated");
}

BOOST_AUTO_TEST_CASE(client_cookie_is_httponly_and_identifies_the_browser) {
    test_server s([](conf::config& c) { c.instance_type = "production"; });
    http_client c(s.fapi_port());
    auto created = c.fapi("POST", "/v1/client");
    BOOST_TEST_REQUIRE(created.status == 200u);
    std::string client_cookie;
    for (auto const& sc : created.set_cookies)
        if (sc.starts_with("__client=")) client_cookie = sc;
    BOOST_TEST_REQUIRE(!client_cookie.empty());
    BOOST_TEST(client_cookie.find("HttpOnly") != std::string::npos);
    BOOST_TEST(client_cookie.find("SameSite=Lax") != std::string::npos);
    BOOST_TEST(client_cookie.find("Secure") == std::string::npos);  // plain http: Secure dropped
    auto got = c.fapi("GET", "/v1/client");
    BOOST_TEST(got.json.at("response").at("id") == created.json.at("response").at("id"));
    // A forged cookie (right id, wrong MAC) is no client at all.
    std::string id(created.json.at("response").at("id").as_string());
    http_client forger(s.fapi_port());
    forger.cookies["__client"] = id + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    BOOST_TEST(forger.fapi("GET", "/v1/client").json.at("response").is_null());
    // Signed-out client: __client_uat is 0 (production: the FAPI owns it).
    bool uat_zero = false;
    for (auto const& sc : created.set_cookies) uat_zero = uat_zero || sc.starts_with("__client_uat=0;");
    BOOST_TEST(uat_zero);
}

BOOST_AUTO_TEST_CASE(client_json_carries_sessions_with_valid_tokens) {
    test_server s([](conf::config& c) { c.instance_type = "production"; });
    http_client c(s.fapi_port());
    c.origin = "http://localhost:3000";
    auto si = sign_in_browser(s, c, "ada@example.com");
    auto r = c.fapi("GET", "/v1/client");
    BOOST_TEST_REQUIRE(r.status == 200u);
    auto const& client = r.json.at("response").as_object();
    BOOST_TEST(client.at("last_active_session_id").as_string() == si.session_id);
    auto const& sessions = client.at("sessions").as_array();
    BOOST_TEST_REQUIRE(sessions.size() == 1u);
    auto const& sess = sessions[0].as_object();
    BOOST_TEST(sess.at("status").as_string() == "active");
    BOOST_TEST(sess.at("user").at("id").as_string() == si.user_id);
    BOOST_TEST(sess.at("user").at("email_addresses").as_array().size() == 1u);
    BOOST_TEST(sess.at("public_user_data").at("identifier").as_string() == "ada@example.com");
    std::string jwt(sess.at("last_active_token").at("jwt").as_string());
    auto claims = jwt_payload(jwt);
    BOOST_TEST(claims.at("sub").as_string() == si.user_id);
    BOOST_TEST(claims.at("sid").as_string() == si.session_id);
    BOOST_TEST(claims.at("azp").as_string() == "http://localhost:3000");
    BOOST_TEST(claims.at("iss").as_string() == s.inst().issuer);
    BOOST_TEST(claims.at("v").as_int64() == 2);
    BOOST_TEST(claims.at("sts").as_string() == "active");
    BOOST_TEST(claims.at("exp").as_int64() - claims.at("iat").as_int64() == 60);
    BOOST_TEST(claims.at("nbf").as_int64() <= claims.at("iat").as_int64());
    BOOST_TEST(jwt_header(jwt).at("typ").as_string() == "JWT");
    BOOST_TEST(verifies_with_jwks(s, jwt));
    // __client_uat never later than the token's iat (clerk-wire rule 19).
    std::int64_t uat = -1;
    for (auto const& sc : r.set_cookies)
        if (sc.starts_with("__client_uat=")) uat = std::stoll(sc.substr(13));
    BOOST_TEST(uat > 0);
    BOOST_TEST(uat <= claims.at("iat").as_int64());
    // A second read reuses the cached token (no RSA signature per GET /v1/client).
    auto r2 = c.fapi("GET", "/v1/client");
    BOOST_TEST(r2.json.at("response").at("sessions").at(0).at("last_active_token").at("jwt").as_string() == jwt);
}

BOOST_AUTO_TEST_CASE(token_endpoint_mints_bare_fresh_tokens) {
    test_server s([](conf::config& c) { c.token_lifetime = std::chrono::seconds(120); });
    auto [c, si] = browser(s, "grace@example.com");
    auto r = c.fapi("POST", "/v1/client/sessions/" + si.session_id + "/tokens", {{"organization_id", ""}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(r.json.at("object").as_string() == "token");
    BOOST_TEST(!r.json.as_object().contains("response"));  // bare, not wrapped
    std::string jwt(r.json.at("jwt").as_string());
    auto claims = jwt_payload(jwt);
    BOOST_TEST(claims.at("exp").as_int64() - claims.at("iat").as_int64() == 120);  // configured lifetime
    BOOST_TEST(verifies_with_jwks(s, jwt));
    // Another browser cannot mint for this session.
    http_client stranger(s.fapi_port());
    stranger.fapi("POST", "/v1/client");
    auto denied = stranger.fapi("POST", "/v1/client/sessions/" + si.session_id + "/tokens");
    BOOST_TEST(denied.status == 401u);
}

BOOST_AUTO_TEST_CASE(ended_expired_and_revoked_sessions_never_mint) {
    test_server s;
    auto [c, si] = browser(s, "linus@example.com");
    std::string path = "/v1/client/sessions/" + si.session_id;
    BOOST_TEST(c.fapi("POST", path + "/tokens").status == 200u);
    // Revoked (e.g. by the Backend API): no more tokens.
    auto& a = s.app();
    auto revoke = a.db.with_write([&](store::write_txn& w) -> store::result<void> {
        auto rec = w.sessions().get(si.session_id).value().value();
        rec.status = "revoked";
        return w.sessions().put(rec);
    });
    BOOST_TEST_REQUIRE(revoke.has_value());
    a.tokens.erase(si.session_id);
    BOOST_TEST(c.fapi("POST", path + "/tokens").status == 401u);
    BOOST_TEST(c.fapi("GET", "/v1/client").json.at("response").at("sessions").as_array().empty());
    // Expired: a fresh session, then the clock passes its expire_at.
    auto sid2 = seed_session(a, si.client_id, si.user_id);
    BOOST_TEST(c.fapi("POST", "/v1/client/sessions/" + sid2 + "/tokens").status == 200u);
    s.advance(std::chrono::hours(24 * 8));
    BOOST_TEST(c.fapi("POST", "/v1/client/sessions/" + sid2 + "/tokens").status == 401u);
    BOOST_TEST(c.fapi("GET", "/v1/client").json.at("response").at("last_active_session_id").is_null());
}

BOOST_AUTO_TEST_CASE(touch_end_remove_and_sign_out_all) {
    test_server s;
    auto [c, si] = browser(s, "one@example.com");
    auto user2 = seed_user(s.app(), "two@example.com", "another good passphrase");
    auto sess2 = seed_session(s.app(), si.client_id, user2);
    auto before = c.fapi("GET", "/v1/client").json.at("response");
    BOOST_TEST(before.at("sessions").as_array().size() == 2u);
    BOOST_TEST(before.at("last_active_session_id").as_string() == sess2);
    // setActive: touch the first session; it becomes last active and the envelope carries it.
    auto t = c.fapi("POST", "/v1/client/sessions/" + si.session_id + "/touch",
                    {{"active_organization_id", ""}, {"intent", "select_session"}});
    BOOST_TEST_REQUIRE(t.status == 200u);
    BOOST_TEST(t.json.at("response").at("id").as_string() == si.session_id);
    BOOST_TEST(t.json.at("client").at("last_active_session_id").as_string() == si.session_id);
    // end: leaves the signed-in set.
    auto e = c.fapi("POST", "/v1/client/sessions/" + si.session_id + "/end");
    BOOST_TEST_REQUIRE(e.status == 200u);
    BOOST_TEST(e.json.at("response").at("status").as_string() == "ended");
    BOOST_TEST(e.json.at("client").at("sessions").as_array().size() == 1u);
    // touch of an ended session: 401 (clerk-js re-fetches the client).
    BOOST_TEST(c.fapi("POST", "/v1/client/sessions/" + si.session_id + "/touch").status == 401u);
    // remove
    auto rm = c.fapi("POST", "/v1/client/sessions/" + sess2 + "/remove");
    BOOST_TEST(rm.json.at("response").at("status").as_string() == "removed");
    BOOST_TEST(rm.json.at("client").at("sessions").as_array().empty());
    // sign out of all
    auto sess3 = seed_session(s.app(), si.client_id, si.user_id);
    auto all = c.fapi("DELETE", "/v1/client/sessions");
    BOOST_TEST_REQUIRE(all.status == 200u);
    BOOST_TEST(all.json.at("client").at("sessions").as_array().empty());
    BOOST_TEST(all.json.at("response").at("id").as_string() == si.client_id);
    BOOST_TEST(c.fapi("POST", "/v1/client/sessions/" + sess3 + "/tokens").status == 401u);
    // unknown session id: 404
    BOOST_TEST(c.fapi("GET", "/v1/client/sessions/sess_nope").status == 404u);
}

BOOST_AUTO_TEST_CASE(delete_client_signs_out_and_clears_cookies) {
    test_server s([](conf::config& c) { c.instance_type = "production"; });
    auto [c, si] = browser(s, "del@example.com");
    auto d = c.fapi("DELETE", "/v1/client");
    BOOST_TEST_REQUIRE(d.status == 200u);
    BOOST_TEST(d.json.at("response").at("deleted").as_bool());
    BOOST_TEST(c.cookies.count("__client") == 0u);
    BOOST_TEST(c.fapi("GET", "/v1/client").json.at("response").is_null());
}

BOOST_AUTO_TEST_CASE(handshake_redirects_with_signed_directives) {
    test_server s([](conf::config& c) { c.allowed_origins = {"http://localhost:3000"}; });
    auto [c, si] = browser(s, "hs@example.com");
    auto r = c.fapi(
        "GET",
        "/v1/client/"
        "handshake?redirect_url=http%3A%2F%2Flocalhost%3A3000%2Fdash%3Fx%3D1&format=token&suffixed_cookies=true");
    BOOST_TEST_REQUIRE(r.status == 307u);
    std::string loc = r.headers["location"];
    BOOST_TEST(loc.starts_with("http://localhost:3000/dash?x=1&__clerk_handshake="));
    std::string token = loc.substr(loc.find("__clerk_handshake=") + 18);
    BOOST_TEST(verifies_with_jwks(s, token));
    auto directives = jwt_payload(token).at("handshake").as_array();
    bool session = false, session_suffixed = false, uat = false;
    for (auto const& d : directives) {
        std::string v(d.as_string());
        if (v.starts_with("__session=ey")) {
            session = true;
            std::string jwt = v.substr(10, v.find(';') - 10);
            BOOST_TEST(jwt_payload(jwt).at("sid").as_string() == si.session_id);
        }
        if (v.starts_with("__session_" + s.inst().cookie_suffix + "=ey")) session_suffixed = true;
        if (v.starts_with("__client_uat=") && !v.starts_with("__client_uat=0;")) uat = true;
    }
    BOOST_TEST(session);
    BOOST_TEST(session_suffixed);
    BOOST_TEST(uat);
    // Signed out: directives clear the cookies.
    http_client anon(s.fapi_port());
    auto out = anon.fapi("GET", "/v1/client/handshake?redirect_url=http%3A%2F%2Flocalhost%3A3000%2F");
    BOOST_TEST_REQUIRE(out.status == 307u);
    std::string t2 = out.headers["location"].substr(out.headers["location"].find("__clerk_handshake=") + 18);
    auto d2 = jwt_payload(t2).at("handshake").as_array();
    bool cleared = false;
    for (auto const& d : d2)
        cleared = cleared || std::string(d.as_string()).starts_with("__session=; Path=/; Max-Age=0");
    BOOST_TEST(cleared);
    // Open redirects are refused.
    auto evil = anon.fapi("GET", "/v1/client/handshake?redirect_url=https%3A%2F%2Fevil.example%2F");
    BOOST_TEST(evil.status == 422u);
    BOOST_TEST(evil.param_name() == "redirect_url");
}

BOOST_AUTO_TEST_CASE(handshake_nonce_resolves_once_through_the_backend_api) {
    test_server s([](conf::config& c) { c.allowed_origins = {"http://localhost:3000"}; });
    auto [c, si] = browser(s, "nonce@example.com");
    auto r = c.fapi("GET", "/v1/client/handshake?redirect_url=http%3A%2F%2Flocalhost%3A3000%2F&format=nonce");
    BOOST_TEST_REQUIRE(r.status == 307u);
    std::string loc = r.headers["location"];
    auto at = loc.find("__clerk_handshake_nonce=");
    BOOST_TEST_REQUIRE(at != std::string::npos);
    std::string nonce = loc.substr(at + 24);
    http_client b(s.bapi_port());
    b.secret_key = s.secret_key();
    auto p = b.bapi(http::verb::get, "/v1/clients/handshake_payload?nonce=" + nonce);
    BOOST_TEST_REQUIRE(p.status == 200u);
    bool has_session = false;
    for (auto const& d : p.json.at("directives").as_array()) {
        std::string v(d.as_string());
        if (v.starts_with("__session=ey"))
            has_session = jwt_payload(v.substr(10, v.find(';') - 10)).at("sid").as_string() == si.session_id;
    }
    BOOST_TEST(has_session);
    // Single use.
    BOOST_TEST(b.bapi(http::verb::get, "/v1/clients/handshake_payload?nonce=" + nonce).status == 404u);
    BOOST_TEST(b.bapi(http::verb::get, "/v1/clients/handshake_payload").param_name() == "nonce");
}

BOOST_AUTO_TEST_CASE(native_clients_use_the_authorization_header) {
    test_server s([](conf::config& c) { c.instance_type = "production"; });
    http_client c(s.fapi_port());
    // A native app (Expo) asks with _is_native=1: the credential comes back in Authorization, not a cookie.
    auto created = c.fapi("POST", "/v1/client?_is_native=1");
    BOOST_TEST_REQUIRE(created.status == 200u);
    BOOST_TEST(created.set_cookies.size() == 0u);
    std::string credential = created.headers["authorization"];
    BOOST_TEST_REQUIRE(!credential.empty());
    http_client app(s.fapi_port());
    auto got = app.request(http::verb::get, "/v1/client?_is_native=1", {}, {{"Authorization", credential}});
    BOOST_TEST(got.json.at("response").at("id") == created.json.at("response").at("id"));
    // A forged credential is refused as unauthenticated (clerk-js re-fetches the client).
    auto forged = app.request(http::verb::get, "/v1/client", {}, {{"Authorization", "client_x.forged"}});
    BOOST_TEST(forged.status == 401u);
    BOOST_TEST(forged.error_code() == "authentication_invalid");
}

BOOST_AUTO_TEST_CASE(cookie_authenticated_writes_from_foreign_origins_are_refused) {
    test_server s([](conf::config& c) {
        c.instance_type = "production";
        c.allowed_origins = {"https://app.example.com"};
    });
    http_client c(s.fapi_port());
    BOOST_TEST_REQUIRE(c.fapi("POST", "/v1/client").status == 200u);  // no Origin: a same-origin/server call
    c.origin = "https://evil.example";
    auto r = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "x@example.com"}});
    BOOST_TEST(r.status == 403u);
    BOOST_TEST(r.error_code() == "origin_invalid");
    BOOST_TEST(r.headers.count("access-control-allow-origin") == 0u);
    c.origin = "https://app.example.com";
    auto ok = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "x@example.com"}});
    BOOST_TEST(ok.status == 422u);  // reaches the handler: unknown identifier
    BOOST_TEST(ok.headers["access-control-allow-origin"] == "https://app.example.com");
    BOOST_TEST(ok.headers["access-control-allow-credentials"] == "true");
    // Reads are not state-changing: a foreign origin may GET, but gets no CORS grant to read the answer.
    c.origin = "https://evil.example";
    auto read = c.fapi("GET", "/v1/client");
    BOOST_TEST(read.status == 200u);
    BOOST_TEST(read.headers.count("access-control-allow-origin") == 0u);
}

// GET /v1/client splices a cached rendering of each session's user. These cases change the user (or the
// session, or the clock) between two reads by every route there is and expect the second read to show it.

BOOST_AUTO_TEST_CASE(cached_user_json_follows_every_change_of_the_user) {
    test_server s;
    auto [c, si] = browser(s, "cache@example.com");
    auto b = bapi_client(s);
    auto user_of = [&] { return find_session(client_sessions(c), si.session_id).at("user"); };
    auto pud_of = [&] { return find_session(client_sessions(c), si.session_id).at("public_user_data"); };
    BOOST_TEST(user_of().at("first_name").is_null());  // warm the cache
    BOOST_TEST(user_of().at("first_name").is_null());  // and read it from there

    // FAPI PATCH /v1/me: the envelope and the next GET both carry the new name, in user and public_user_data.
    auto p = c.fapi("PATCH", "/v1/me", {{"first_name", "Grace"}});
    BOOST_TEST_REQUIRE(p.status == 200u);
    BOOST_TEST(str(client_session(p, si.session_id).at("user").at("first_name")) == "Grace");
    BOOST_TEST(str(user_of().at("first_name")) == "Grace");
    BOOST_TEST(str(pud_of().at("first_name")) == "Grace");

    // BAPI: profile fields, metadata, lock.
    BOOST_TEST_REQUIRE(
        b.bapi(http::verb::patch, "/v1/users/" + si.user_id, json::object{{"last_name", "Hopper"}}).status == 200u);
    BOOST_TEST(str(user_of().at("last_name")) == "Hopper");
    BOOST_TEST(str(pud_of().at("last_name")) == "Hopper");
    auto m = b.bapi(http::verb::patch, "/v1/users/" + si.user_id + "/metadata",
                    json::object{{"public_metadata", json::object{{"plan", "pro"}}}});
    BOOST_TEST_REQUIRE(m.status == 200u);
    BOOST_TEST(str(user_of().at("public_metadata").at("plan")) == "pro");
    BOOST_TEST_REQUIRE(b.bapi(http::verb::post, "/v1/users/" + si.user_id + "/lock").status == 200u);
    BOOST_TEST(user_of().at("locked").as_bool());

    // A change straight in the store that does not touch updated_at (the cache compares content, not stamps).
    auto const stamp = load_user(s, si.user_id)->updated_at;
    edit_user(s, si.user_id, [&](store::user_record& u) {
        u.username = "amazing_grace";
        u.updated_at = stamp;
        u.identifications.front().value = "renamed@example.com";
    });
    auto u = user_of();
    BOOST_TEST(str(u.at("username")) == "amazing_grace");
    BOOST_TEST(str(u.at("email_addresses").at(0).at("email_address")) == "renamed@example.com");
    BOOST_TEST(str(pud_of().at("identifier")) == "renamed@example.com");
    BOOST_TEST(u.at("updated_at").as_int64() == stamp);
    // Password removal flips password_enabled.
    BOOST_TEST(u.at("password_enabled").as_bool());
    edit_user(s, si.user_id, [](store::user_record& r) { r.password_digest.clear(); });
    BOOST_TEST(!user_of().at("password_enabled").as_bool());
    // Private metadata never reaches the frontend, cached or not.
    edit_user(s, si.user_id, [](store::user_record& r) { r.private_metadata = R"({"secret":"x"})"; });
    BOOST_TEST(!user_of().as_object().contains("private_metadata"));
}

BOOST_AUTO_TEST_CASE(ended_revoked_and_expired_sessions_leave_the_cached_client) {
    test_server s;
    auto [c, si] = browser(s, "leave@example.com");
    auto second = seed_session(s.app(), si.client_id, si.user_id);
    auto third = seed_session(s.app(), si.client_id, si.user_id);
    BOOST_TEST(client_sessions(c).size() == 3u);
    BOOST_TEST(client_sessions(c).size() == 3u);  // cached
    BOOST_TEST_REQUIRE(c.fapi("POST", "/v1/client/sessions/" + si.session_id + "/end").status == 200u);
    auto after_end = client_sessions(c);
    BOOST_TEST(after_end.size() == 2u);
    BOOST_TEST(find_session(after_end, si.session_id).is_null());
    auto b = bapi_client(s);
    BOOST_TEST_REQUIRE(b.bapi(http::verb::post, "/v1/sessions/" + second + "/revoke").status == 200u);
    auto after_revoke = client_sessions(c);
    BOOST_TEST(after_revoke.size() == 1u);
    BOOST_TEST(str(after_revoke.at(0).at("id")) == third);
    // The clock: factor_verification_age is computed per request, and expiry removes the session.
    auto fva = [&] { return find_session(client_sessions(c), third).at("factor_verification_age").at(0).as_int64(); };
    auto const fva0 = fva();
    s.advance(std::chrono::minutes(10));
    BOOST_TEST(fva() == fva0 + 10);
    s.advance(std::chrono::hours(24 * 8));
    auto r = c.fapi("GET", "/v1/client");
    BOOST_TEST(r.json.at("response").at("sessions").as_array().empty());
    BOOST_TEST(r.json.at("response").at("last_active_session_id").is_null());
}

BOOST_AUTO_TEST_CASE(token_in_the_client_is_never_older_than_client_uat) {
    test_server s([](conf::config& c) {
        c.instance_type = "production";
        c.allowed_origins = {"http://localhost:3000"};
    });
    http_client c(s.fapi_port());
    c.origin = "http://localhost:3000";
    auto si = sign_in_browser(s, c, "uat@example.com");
    auto jwt_of = [&](http_result const& r) {
        return std::string(find_session(r.json.at("response").at("sessions").as_array(), si.session_id)
                               .at("last_active_token")
                               .at("jwt")
                               .as_string());
    };
    auto r1 = c.fapi("GET", "/v1/client");
    auto const jwt1 = jwt_of(r1);
    BOOST_TEST(client_uat(r1) <= jwt_payload(jwt1).at("iat").as_int64());
    BOOST_TEST(jwt_of(c.fapi("GET", "/v1/client")) == jwt1);  // cached token, cached user
    // The client changes later (another session signs in on it): __client_uat moves forward and the token
    // shown must be re-minted, not served from the cache (clerk-js would otherwise keep a stale session).
    s.advance(std::chrono::seconds(5));
    auto other = seed_user(s.app(), "uat2@example.com");
    auto const other_session = seed_session(s.app(), si.client_id, other);  // now the last active one
    auto r2 = c.fapi("GET", "/v1/client");
    auto const jwt2 = jwt_of(r2);
    BOOST_TEST(jwt2 != jwt1);
    BOOST_TEST(client_uat(r2) > client_uat(r1));
    BOOST_TEST(client_uat(r2) <= jwt_payload(jwt2).at("iat").as_int64());
    // A user change in between (of the last active session's user) keeps the rule and shows the change.
    s.advance(std::chrono::seconds(2));
    auto p = c.fapi("PATCH", "/v1/me", {{"first_name", "Uma"}});
    BOOST_TEST_REQUIRE(p.status == 200u);
    auto r3 = c.fapi("GET", "/v1/client");
    auto const sessions = r3.json.at("response").at("sessions").as_array();
    BOOST_TEST(str(find_session(sessions, other_session).at("user").at("first_name")) == "Uma");
    BOOST_TEST(find_session(sessions, si.session_id).at("user").at("first_name").is_null());
    BOOST_TEST(client_uat(r3) <= jwt_payload(jwt_of(r3)).at("iat").as_int64());
}

BOOST_AUTO_TEST_CASE(multi_session_clients_keep_each_users_own_json) {
    test_server s;
    auto [c, si] = browser(s, "first@example.com");
    auto second_user = seed_user(s.app(), "second@example.com");
    auto second = seed_session(s.app(), si.client_id, second_user);
    // The first user is also signed in on another browser: both browsers share the user's cached JSON.
    http_client other(s.fapi_port());
    auto elsewhere = sign_in_browser_as(s, other, si.user_id);
    auto check = [&](std::string const& first_name_1, std::string const& first_name_2) {
        auto sessions = client_sessions(c);
        BOOST_TEST_REQUIRE(sessions.size() == 2u);
        auto s1 = find_session(sessions, si.session_id);
        auto s2 = find_session(sessions, second);
        BOOST_TEST(str(s1.at("user").at("id")) == si.user_id);
        BOOST_TEST(str(s2.at("user").at("id")) == second_user);
        BOOST_TEST(str(s1.at("public_user_data").at("identifier")) == "first@example.com");
        BOOST_TEST(str(s2.at("public_user_data").at("identifier")) == "second@example.com");
        BOOST_TEST(str(s1.at("public_user_data").at("user_id")) == si.user_id);
        BOOST_TEST(str(s2.at("public_user_data").at("user_id")) == second_user);
        auto name = [](json::value const& v) { return v.is_null() ? std::string() : str(v); };
        BOOST_TEST(name(s1.at("user").at("first_name")) == first_name_1);
        BOOST_TEST(name(s2.at("user").at("first_name")) == first_name_2);
        BOOST_TEST(jwt_payload(str(s1.at("last_active_token").at("jwt"))).at("sub").as_string() == si.user_id);
        BOOST_TEST(jwt_payload(str(s2.at("last_active_token").at("jwt"))).at("sub").as_string() == second_user);
        auto o = find_session(client_sessions(other), elsewhere.session_id);
        BOOST_TEST(name(o.at("user").at("first_name")) == first_name_1);
    };
    check("", "");
    auto b = bapi_client(s);
    BOOST_TEST_REQUIRE(
        b.bapi(http::verb::patch, "/v1/users/" + second_user, json::object{{"first_name", "Second"}}).status == 200u);
    check("", "Second");
    BOOST_TEST_REQUIRE(
        b.bapi(http::verb::patch, "/v1/users/" + si.user_id, json::object{{"first_name", "First"}}).status == 200u);
    check("First", "Second");
}

// GET /v1/client reuses a whole rendered client (app.clients) while the store snapshot, the clock window, the
// azp and the tokens it shows are unchanged. Each step below changes exactly one of those and expects the next
// read to show it; the reads in between expect the very same bytes.
BOOST_AUTO_TEST_CASE(rendered_client_is_reused_only_while_nothing_it_shows_changed) {
    test_server s([](conf::config& c) {
        c.instance_type = "production";
        c.allowed_origins = {"http://localhost:3000", "http://localhost:4000"};
    });
    http_client c(s.fapi_port());
    c.origin = "http://localhost:3000";
    auto si = sign_in_browser(s, c, "reuse@example.com");
    auto jwt_of = [&](http_result const& r) {
        return std::string(r.json.at("response").at("sessions").at(0).at("last_active_token").at("jwt").as_string());
    };
    auto const r1 = c.fapi("GET", "/v1/client");
    auto const r2 = c.fapi("GET", "/v1/client");
    BOOST_TEST_REQUIRE(r1.status == 200u);
    BOOST_TEST(r2.body == r1.body);  // reused: same bytes
    BOOST_TEST(s.app().clients.size() >= 1u);
    // The hit still sets __client_uat, with the client's value.
    BOOST_TEST(client_uat(r2) == client_uat(r1));
    BOOST_TEST(client_uat(r2) > 0);

    // A token minted on the token endpoint replaces the cached one: the client shows it at once. (Two seconds
    // on, so the new token differs: RS256 is deterministic, and the old one is still well within its window.)
    s.advance(std::chrono::seconds(2));
    BOOST_TEST(c.fapi("GET", "/v1/client").body == r1.body);
    auto minted = c.fapi("POST", "/v1/client/sessions/" + si.session_id + "/tokens");
    BOOST_TEST_REQUIRE(minted.status == 200u);
    auto const r3 = c.fapi("GET", "/v1/client");
    BOOST_TEST(jwt_of(r3) == std::string(minted.json.at("jwt").as_string()));
    BOOST_TEST(jwt_of(r3) != jwt_of(r1));

    // Another origin (azp) gets a token minted for it, not the other origin's rendering.
    http_client other(s.fapi_port());
    other.cookies = c.cookies;
    other.origin = "http://localhost:4000";
    auto const r4 = other.fapi("GET", "/v1/client");
    BOOST_TEST_REQUIRE(r4.status == 200u);
    BOOST_TEST(jwt_payload(jwt_of(r4)).at("azp").as_string() == "http://localhost:4000");
    BOOST_TEST(jwt_payload(jwt_of(c.fapi("GET", "/v1/client"))).at("azp").as_string() == "http://localhost:3000");

    // The clock: within the same minute and token window the bytes stay; past the token's refresh point a
    // fresh token is shown, and factor_verification_age follows the minutes.
    auto const before = c.fapi("GET", "/v1/client");
    auto const fva0 = before.json.at("response").at("sessions").at(0).at("factor_verification_age").at(0).as_int64();
    s.advance(std::chrono::seconds(31));
    auto const after = c.fapi("GET", "/v1/client");
    BOOST_TEST(jwt_of(after) != jwt_of(before));
    BOOST_TEST(jwt_payload(jwt_of(after)).at("iat").as_int64() >=
               jwt_payload(jwt_of(before)).at("iat").as_int64() + 31);
    s.advance(std::chrono::seconds(60));
    auto const later = c.fapi("GET", "/v1/client");
    BOOST_TEST(later.json.at("response").at("sessions").at(0).at("factor_verification_age").at(0).as_int64() >=
               fva0 + 1);

    // A write anywhere in the store (here: an unrelated user) moves the snapshot: the client is rendered
    // again from the store — same content, since nothing of this client changed.
    auto const steady = c.fapi("GET", "/v1/client");
    (void)seed_user(s.app(), "unrelated@example.com");
    auto const again = c.fapi("GET", "/v1/client");
    BOOST_TEST(again.json.at("response") == steady.json.at("response"));
    // A write to this client's user shows.
    edit_user(s, si.user_id, [](store::user_record& u) { u.first_name = "Reused"; });
    auto const edited = c.fapi("GET", "/v1/client");
    BOOST_TEST(str(edited.json.at("response").at("sessions").at(0).at("user").at("first_name")) == "Reused");
}

BOOST_AUTO_TEST_CASE(envelopes_carry_the_same_client_as_get) {
    test_server s([](conf::config& c) { c.instance_type = "production"; });
    auto [c, si] = browser(s, "env@example.com");
    auto got = c.fapi("GET", "/v1/client");
    BOOST_TEST_REQUIRE(got.status == 200u);
    BOOST_TEST(got.json.at("client").is_null());
    // POST /v1/client answers the client as both response and client; touching piggy-backs it.
    auto posted = c.fapi("POST", "/v1/client");
    BOOST_TEST_REQUIRE(posted.status == 200u);
    BOOST_TEST(posted.json.at("response") == posted.json.at("client"));
    BOOST_TEST(posted.json.at("response") == got.json.at("response"));
    auto touched = c.fapi("POST", "/v1/client/sessions/" + si.session_id + "/touch");
    BOOST_TEST_REQUIRE(touched.status == 200u);
    BOOST_TEST(str(touched.json.at("response").at("id")) == si.session_id);
    BOOST_TEST(touched.json.at("response").at("user") ==
               find_session(touched.json.at("client").at("sessions").as_array(), si.session_id).at("user"));
}

BOOST_AUTO_TEST_SUITE_END()
