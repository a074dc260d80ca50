// BAPI /v1/sessions*: list (bare and paginated, filters, paging), get, revoke (and its effect on
// FAPI), legacy verify, and token minting (default lifetime, expires_in_seconds, non-live
// sessions).
#include "crypto/jws.hpp"
#include "crypto/random.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <set>

using namespace latchkey;
using namespace latchkey::test;

namespace {

using verb = http::verb;

std::set<std::string> ids_of(json::array const& a) {
    std::set<std::string> out;
    for (auto const& s : a) out.insert(str(s.at("id")));
    return out;
}

void set_status(test_server& s, std::string const& id, std::string const& status) {
    auto& a = s.app();
    auto r = a.db.with_write([&](store::write_txn& w) -> store::result<void> {
        auto got = w.sessions().get(id);
        if (!got) return got.error();
        auto rec = **got;
        rec.status = status;
        return w.sessions().put(rec);
    });
    BOOST_TEST_REQUIRE(r.has_value());
}

/// Verifies a JWT against the server's keyring; returns the payload.
json::object verified_payload(test_server& s, std::string const& jwt) {
    auto parts = crypto::parse_jws(jwt);
    BOOST_TEST_REQUIRE(parts.has_value());
    auto header = json::parse(parts->header_json).as_object();
    BOOST_TEST(header.at("alg") == "RS256");
    BOOST_TEST(header.at("typ") == "JWT");
    auto const* key = s.app().keys.find(header.at("kid").as_string());
    BOOST_TEST_REQUIRE(key != nullptr);
    BOOST_TEST(crypto::verify_rs256(key->get(), *parts).has_value());
    return json::parse(parts->payload_json).as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(backend_sessions)

BOOST_FIXTURE_TEST_CASE(list_filters_pages_and_honours_paginated, bapi_env) {
    std::string ann = seed_user(a, "ann@example.com");
    std::string bob = seed_user(a, "bob@example.com");
    std::string c1 = seed_client(s.app()), c2 = seed_client(s.app());
    std::string s1 = seed_session(a, c1, ann);
    s.advance(std::chrono::milliseconds(5));
    std::string s2 = seed_session(a, c2, ann);
    s.advance(std::chrono::milliseconds(5));
    std::string s3 = seed_session(a, c2, bob);
    set_status(s, s1, "ended");

    auto bare = b.bapi(verb::get, "/v1/sessions?user_id=" + ann);
    BOOST_TEST_REQUIRE(bare.status == 200u, bare.body);
    BOOST_TEST_REQUIRE(bare.json.is_array());
    BOOST_TEST(ids_of(bare.json.as_array()) == (std::set<std::string>{s1, s2}));
    auto const& first = bare.json.as_array()[0].as_object();
    BOOST_TEST(first.at("object") == "session");
    for (auto const* k : {"id", "client_id", "user_id", "status", "last_active_at", "expire_at", "abandon_at",
                          "created_at", "updated_at"})
        BOOST_TEST(first.contains(k), k);
    BOOST_TEST(first.at("expire_at").as_int64() > 1'600'000'000'000);  // ms

    auto pag = b.bapi(verb::get, "/v1/sessions?user_id=" + ann + "&paginated=true");
    BOOST_TEST_REQUIRE(pag.status == 200u);
    BOOST_TEST_REQUIRE(pag.json.is_object());
    BOOST_TEST(pag.json.at("total_count") == 2);
    BOOST_TEST(pag.json.at("data").as_array().size() == 2u);

    auto by_client = b.bapi(verb::get, "/v1/sessions?client_id=" + c2 + "&paginated=true");
    BOOST_TEST(ids_of(by_client.json.at("data").as_array()) == (std::set<std::string>{s2, s3}));
    auto both = b.bapi(verb::get, "/v1/sessions?client_id=" + c2 + "&user_id=" + bob);
    BOOST_TEST(ids_of(both.json.as_array()) == std::set<std::string>{s3});
    auto active = b.bapi(verb::get, "/v1/sessions?user_id=" + ann + "&status=active");
    BOOST_TEST(ids_of(active.json.as_array()) == std::set<std::string>{s2});
    auto ended = b.bapi(verb::get, "/v1/sessions?user_id=" + ann + "&status=ended&paginated=true");
    BOOST_TEST(ids_of(ended.json.at("data").as_array()) == std::set<std::string>{s1});
    BOOST_TEST(ended.json.at("total_count") == 1);

    // Paging: total_count counts every match, data only the page.
    auto page = b.bapi(verb::get, "/v1/sessions?client_id=" + c2 + "&paginated=true&limit=1");
    BOOST_TEST(page.json.at("data").as_array().size() == 1u);
    BOOST_TEST(page.json.at("total_count") == 2);
    auto page2 = b.bapi(verb::get, "/v1/sessions?client_id=" + c2 + "&paginated=true&limit=1&offset=1");
    BOOST_TEST(page2.json.at("data").as_array().size() == 1u);
    BOOST_TEST(page2.json.at("data").as_array()[0].at("id") != page.json.at("data").as_array()[0].at("id"));
    auto past = b.bapi(verb::get, "/v1/sessions?client_id=" + c2 + "&paginated=true&offset=10");
    BOOST_TEST(past.json.at("data").as_array().empty());
    BOOST_TEST(past.json.at("total_count") == 2);
    auto nobody = b.bapi(verb::get, "/v1/sessions?user_id=user_nobody");
    BOOST_TEST(nobody.status == 200u);
    BOOST_TEST(nobody.json.as_array().empty());

    expect_error(b.bapi(verb::get, "/v1/sessions?user_id=" + ann + "&status=bogus"), 422, "form_param_value_invalid",
                 "status");
    expect_error(b.bapi(verb::get, "/v1/sessions?limit=0"), 422, "form_param_value_invalid", "limit");
    expect_error(b.bapi(verb::get, "/v1/sessions?limit=501"), 422, "form_param_value_invalid", "limit");
    expect_error(b.bapi(verb::get, "/v1/sessions?offset=x"), 422, "form_param_value_invalid", "offset");

    http_client anon(s.bapi_port());
    expect_error(anon.request(verb::get, "/v1/sessions"), 401, "authorization_header_missing");
}

BOOST_FIXTURE_TEST_CASE(get_and_revoke, bapi_env) {
    auto const [client, user, sid] = seed_signed_in(s, "revoke@example.com");

    expect_error(b.bapi(verb::get, "/v1/sessions/sess_missing"), 404, "resource_not_found");
    expect_error(b.bapi(verb::post, "/v1/sessions/sess_missing/revoke"), 404, "resource_not_found");

    auto g = b.bapi(verb::get, "/v1/sessions/" + sid);
    BOOST_TEST_REQUIRE(g.status == 200u);
    BOOST_TEST(g.json.at("object") == "session");
    BOOST_TEST(g.json.at("status") == "active");
    BOOST_TEST(g.json.at("user_id") == json::value(user));
    BOOST_TEST(g.json.at("client_id") == json::value(client));

    auto before = a.db.with_read([&](store::read_txn& t) { return t.clients().get(client); });
    s.advance(std::chrono::milliseconds(10));
    auto r = b.bapi(verb::post, "/v1/sessions/" + sid + "/revoke");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.json.at("object") == "session");
    BOOST_TEST(r.json.at("status") == "revoked");
    BOOST_TEST(b.bapi(verb::get, "/v1/sessions/" + sid).json.at("status") == "revoked");
    // The client moved on (its __client_uat changes) and no token can be minted any more.
    auto after = a.db.with_read([&](store::read_txn& t) { return t.clients().get(client); });
    BOOST_TEST((*after)->updated_at > (*before)->updated_at);
    BOOST_TEST(b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens").status != 200u);
    // Revoking again is harmless.
    auto again = b.bapi(verb::post, "/v1/sessions/" + sid + "/revoke");
    BOOST_TEST(again.status == 200u);
    BOOST_TEST(again.json.at("status") == "revoked");
}

BOOST_AUTO_TEST_CASE(revoked_session_cannot_mint_from_the_frontend) {
    test_server s;
    auto b = bapi_client(s);
    http_client c(s.fapi_port());
    auto created = c.fapi("POST", "/v1/client");
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    std::string client = str(created.json.at("response").at("id"));
    std::string user = seed_user(s.app(), "browser@example.com", "correct horse battery staple");
    std::string sid = seed_session(s.app(), client, user);
    BOOST_TEST_REQUIRE(c.fapi("POST", "/v1/client/sessions/" + sid + "/tokens").status == 200u);

    BOOST_TEST_REQUIRE(b.bapi(verb::post, "/v1/sessions/" + sid + "/revoke").status == 200u);
    auto t = c.fapi("POST", "/v1/client/sessions/" + sid + "/tokens");
    BOOST_TEST(t.status != 200u, t.body);
    BOOST_TEST(t.status < 500u, t.body);
    // The browser's client no longer shows the session as signed in.
    auto cl = c.fapi("GET", "/v1/client");
    BOOST_TEST_REQUIRE(cl.status == 200u);
    for (auto const& sess : cl.json.at("response").at("sessions").as_array())
        if (sess.at("id") == json::value(sid)) BOOST_TEST(sess.at("status") != "active");
}

BOOST_FIXTURE_TEST_CASE(tokens_are_bare_signed_and_honour_expires_in_seconds, bapi_env) {
    std::string user = seed_user(a, "token@example.com");
    std::string sid = seed_session(a, seed_client(s.app()), user);

    auto r = b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.headers.at("content-type") == "application/json");
    BOOST_TEST(r.json.at("object") == "token");
    auto p = verified_payload(s, str(r.json.at("jwt")));
    BOOST_TEST(p.at("sub") == json::value(user));
    BOOST_TEST(p.at("sid") == json::value(sid));
    BOOST_TEST(p.at("iss") == json::value(s.inst().issuer));
    BOOST_TEST(p.at("exp").as_int64() - p.at("iat").as_int64() == a.cfg.token_lifetime.count());
    BOOST_TEST(p.at("nbf").as_int64() <= p.at("iat").as_int64());
    BOOST_TEST(!p.contains("azp"));  // no browser origin on the Backend API
    BOOST_TEST(jwt_header(str(r.json.at("jwt"))).at("kid") == json::value(a.keys.active().kid()));

    auto longer = b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens", json::object{{"expires_in_seconds", 3600}});
    BOOST_TEST_REQUIRE(longer.status == 200u, longer.body);
    auto lp = verified_payload(s, str(longer.json.at("jwt")));
    BOOST_TEST(lp.at("exp").as_int64() - lp.at("iat").as_int64() == 3600);
    BOOST_TEST(
        b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens", json::object{{"expires_in_seconds", nullptr}}).status ==
        200u);

    expect_error(b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens", json::object{{"expires_in_seconds", 29}}), 422,
                 "form_param_value_invalid", "expires_in_seconds");
    expect_error(b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens", json::object{{"expires_in_seconds", 315360001}}),
                 422, "form_param_value_invalid", "expires_in_seconds");
    expect_error(b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens", json::object{{"expires_in_seconds", "60"}}), 422,
                 "form_param_type_invalid", "expires_in_seconds");
    expect_error(b.bapi(verb::post, "/v1/sessions/sess_missing/tokens"), 404, "resource_not_found");
    expect_error(b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens/no_such_template"), 404, "resource_not_found");
    expect_error(b.bapi(verb::post, "/v1/sessions/sess_missing/tokens/no_such_template"), 404, "resource_not_found");
}

BOOST_FIXTURE_TEST_CASE(non_live_sessions_get_no_tokens, bapi_env) {
    std::string user = seed_user(a, "gone@example.com");
    std::string ended = seed_session(a, seed_client(s.app()), user);
    std::string expiring = seed_session(a, seed_client(s.app()), user);
    set_status(s, ended, "ended");
    auto r = b.bapi(verb::post, "/v1/sessions/" + ended + "/tokens");
    BOOST_TEST(r.status >= 400u);
    BOOST_TEST(r.status < 500u);
    expect_error(r, 401, "session_not_active");
    BOOST_TEST(r.json.as_object().contains("errors"));

    // Past its expiry a stored "active" session is expired: no token, and BAPI says so.
    BOOST_TEST_REQUIRE(b.bapi(verb::post, "/v1/sessions/" + expiring + "/tokens").status == 200u);
    s.advance(std::chrono::hours(24 * 8));
    auto late = b.bapi(verb::post, "/v1/sessions/" + expiring + "/tokens");
    BOOST_TEST(late.error_code() == "session_not_active");
    BOOST_TEST(b.bapi(verb::get, "/v1/sessions/" + expiring).json.at("status") == "expired");
    // Status filters use the effective status.
    auto active = b.bapi(verb::get, "/v1/sessions?user_id=" + user + "&status=active&paginated=true");
    BOOST_TEST(active.json.at("total_count") == 0);
    auto expired = b.bapi(verb::get, "/v1/sessions?user_id=" + user + "&status=expired&paginated=true");
    BOOST_TEST(expired.json.at("total_count") == 1);
    BOOST_TEST_REQUIRE(expired.json.at("data").as_array().size() == 1u);
    BOOST_TEST(expired.json.at("data").as_array()[0].at("id") == json::value(expiring));
    BOOST_TEST(expired.json.at("data").as_array()[0].at("status") == "expired");
    auto ended_list = b.bapi(verb::get, "/v1/sessions?user_id=" + user + "&status=ended");
    BOOST_TEST(ids_of(ended_list.json.as_array()) == std::set<std::string>{ended});
    // Revoking an expired session leaves it expired.
    auto rv = b.bapi(verb::post, "/v1/sessions/" + expiring + "/revoke");
    BOOST_TEST(rv.status == 200u);
    BOOST_TEST(rv.json.at("status") == "expired");
}

BOOST_FIXTURE_TEST_CASE(legacy_verify, bapi_env) {
    std::string user = seed_user(a, "verify@example.com");
    std::string sid = seed_session(a, seed_client(s.app()), user);
    std::string other = seed_session(a, seed_client(s.app()), user);
    auto t = b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens");
    BOOST_TEST_REQUIRE(t.status == 200u);
    std::string jwt = str(t.json.at("jwt"));

    auto ok = b.bapi(verb::post, "/v1/sessions/" + sid + "/verify", json::object{{"token", jwt}});
    BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
    BOOST_TEST(ok.json.at("object") == "session");
    BOOST_TEST(ok.json.at("id") == json::value(sid));

    expect_error(b.bapi(verb::post, "/v1/sessions/" + other + "/verify", json::object{{"token", jwt}}), 422,
                 "form_param_value_invalid", "token");
    expect_error(b.bapi(verb::post, "/v1/sessions/" + sid + "/verify", json::object{{"token", "not.a.jwt"}}), 422,
                 "form_param_value_invalid", "token");
    // A tampered signature.
    std::string tampered = jwt;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    expect_error(b.bapi(verb::post, "/v1/sessions/" + sid + "/verify", json::object{{"token", tampered}}), 422,
                 "form_param_value_invalid", "token");
    expect_error(b.bapi(verb::post, "/v1/sessions/" + sid + "/verify", json::object{}), 422, "form_param_missing",
                 "token");
    expect_error(b.bapi(verb::post, "/v1/sessions/" + sid + "/verify", json::object{{"token", 42}}), 422,
                 "form_param_type_invalid", "token");
    expect_error(b.bapi(verb::post, "/v1/sessions/sess_missing/verify", json::object{{"token", jwt}}), 422,
                 "form_param_value_invalid", "token");
    // Expired tokens (past the 5 s leeway) and revoked sessions do not verify.
    s.advance(std::chrono::seconds(a.cfg.token_lifetime.count() + 10));
    expect_error(b.bapi(verb::post, "/v1/sessions/" + sid + "/verify", json::object{{"token", jwt}}), 422,
                 "form_param_value_invalid", "token");
    std::string fresh = str(b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens").json.at("jwt"));
    BOOST_TEST(b.bapi(verb::post, "/v1/sessions/" + sid + "/verify", json::object{{"token", fresh}}).status == 200u);
    BOOST_TEST_REQUIRE(b.bapi(verb::post, "/v1/sessions/" + sid + "/revoke").status == 200u);
    expect_error(b.bapi(verb::post, "/v1/sessions/" + sid + "/verify", json::object{{"token", fresh}}), 422,
                 "form_param_value_invalid", "token");
}

BOOST_AUTO_TEST_SUITE_END()
