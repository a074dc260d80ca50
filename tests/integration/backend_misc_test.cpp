// BAPI clients (list, get, verify, handshake payloads), email addresses and phone numbers, JWT
// templates (CRUD and claim rendering into session tokens) and the instance object.
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "crypto/random.hpp"
#include "server/api/frontend/identity.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::test;

namespace {

using verb = http::verb;

std::string mint(http_client& b, std::string const& sid, std::string const& tpl = {}) {
    auto r = b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens" + (tpl.empty() ? "" : "/" + tpl));
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return str(r.json.at("jwt"));
}

json::object get_user(http_client& b, std::string const& id) {
    auto r = b.bapi(verb::get, "/v1/users/" + id);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return r.json.as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(backend_misc)

// ----------------------------------------------------------------------------------------------
// clients

BOOST_FIXTURE_TEST_CASE(clients_list_and_get, bapi_env) {
    std::string user = seed_user(a, "client@example.com");
    std::string c1 = seed_client(s.app());
    s.advance(std::chrono::milliseconds(5));
    std::string c2 = seed_client(s.app());
    std::string sid = seed_session(a, c2, user);

    auto bare = b.bapi(verb::get, "/v1/clients");
    BOOST_TEST_REQUIRE(bare.status == 200u, bare.body);
    BOOST_TEST_REQUIRE(bare.json.is_array());
    BOOST_TEST_REQUIRE(bare.json.as_array().size() == 2u);
    BOOST_TEST(bare.json.as_array()[0].at("id") == json::value(c2));  // newest first
    BOOST_TEST(bare.json.as_array()[1].at("id") == json::value(c1));

    auto pag = b.bapi(verb::get, "/v1/clients?paginated=true&limit=1");
    BOOST_TEST_REQUIRE(pag.status == 200u);
    BOOST_TEST(pag.json.at("total_count") == 2);
    BOOST_TEST_REQUIRE(pag.json.at("data").as_array().size() == 1u);
    BOOST_TEST(pag.json.at("data").as_array()[0].at("id") == json::value(c2));
    auto p2 = b.bapi(verb::get, "/v1/clients?paginated=true&limit=1&offset=1");
    BOOST_TEST(p2.json.at("data").as_array()[0].at("id") == json::value(c1));
    auto past = b.bapi(verb::get, "/v1/clients?paginated=true&offset=2");
    BOOST_TEST(past.json.at("data").as_array().empty());
    BOOST_TEST(past.json.at("total_count") == 2);
    expect_error(b.bapi(verb::get, "/v1/clients?limit=0"), 422, "form_param_value_invalid", "limit");
    expect_error(b.bapi(verb::get, "/v1/clients?offset=-3"), 422, "form_param_value_invalid", "offset");

    auto g = b.bapi(verb::get, "/v1/clients/" + c2);
    BOOST_TEST_REQUIRE(g.status == 200u);
    auto const& c = g.json.as_object();
    BOOST_TEST(c.at("object") == "client");
    BOOST_TEST(c.at("id") == json::value(c2));
    BOOST_TEST(c.at("session_ids").as_array().size() == 1u);
    BOOST_TEST(c.at("session_ids").as_array()[0] == json::value(sid));
    BOOST_TEST_REQUIRE(c.at("sessions").as_array().size() == 1u);
    BOOST_TEST(c.at("sessions").as_array()[0].at("object") == "session");
    BOOST_TEST(c.at("sessions").as_array()[0].at("user_id") == json::value(user));
    BOOST_TEST(c.at("last_active_session_id") == json::value(sid));
    BOOST_TEST(c.at("sign_in_id").is_null());
    BOOST_TEST(c.at("sign_up_id").is_null());
    BOOST_TEST(c.at("created_at").as_int64() > 1'600'000'000'000);
    auto empty = b.bapi(verb::get, "/v1/clients/" + c1);
    BOOST_TEST(empty.json.at("sessions").as_array().empty());
    BOOST_TEST(empty.json.at("last_active_session_id").is_null());
    expect_error(b.bapi(verb::get, "/v1/clients/client_missing"), 404, "resource_not_found");
}

BOOST_FIXTURE_TEST_CASE(clients_verify_checks_the_session_token, bapi_env) {
    // The foreign key of the forgery below, generated before the token is minted: a key generation takes up to a
    // second on a loaded machine, which would eat into the 2 s the leeway check below leaves to real time.
    auto foreign = crypto::signing_key::generate_rsa(2048);
    BOOST_TEST_REQUIRE(foreign.has_value());
    auto const [client, user, sid] = seed_signed_in(s, "verifyclient@example.com");
    std::string jwt = mint(b, sid);

    auto ok = b.bapi(verb::post, "/v1/clients/verify", json::object{{"token", jwt}});
    BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
    BOOST_TEST(ok.json.at("object") == "client");
    BOOST_TEST(ok.json.at("id") == json::value(client));
    BOOST_TEST(ok.json.at("sessions").as_array().size() == 1u);

    expect_error(b.bapi(verb::post, "/v1/clients/verify", json::object{}), 422, "form_param_missing", "token");
    expect_error(b.bapi(verb::post, "/v1/clients/verify", json::object{{"token", 1}}), 422, "form_param_type_invalid",
                 "token");
    expect_error(b.bapi(verb::post, "/v1/clients/verify", json::object{{"token", "garbage"}}), 422,
                 "form_param_value_invalid", "token");
    std::string tampered = jwt;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    expect_error(b.bapi(verb::post, "/v1/clients/verify", json::object{{"token", tampered}}), 422,
                 "form_param_value_invalid", "token");

    // Signed by a foreign key that claims our kid.
    foreign->set_kid(a.keys.active().kid());
    std::string header = R"({"alg":"RS256","kid":")" + a.keys.active().kid() + R"(","typ":"JWT"})";
    std::int64_t now_s = a.now_ms() / 1000;
    std::string payload = R"({"sub":")" + user + R"(","sid":")" + sid + R"(","iat":)" + std::to_string(now_s) +
                          R"(,"nbf":)" + std::to_string(now_s - 10) + R"(,"exp":)" + std::to_string(now_s + 60) + "}";
    auto forged = crypto::sign_rs256(*foreign, header, payload);
    BOOST_TEST_REQUIRE(forged.has_value());
    expect_error(b.bapi(verb::post, "/v1/clients/verify", json::object{{"token", *forged}}), 422,
                 "form_param_value_invalid", "token");

    // Within the 5 s leeway after exp it still verifies; past it, not.
    s.advance(std::chrono::seconds(a.cfg.token_lifetime.count() + 3));
    BOOST_TEST(b.bapi(verb::post, "/v1/clients/verify", json::object{{"token", jwt}}).status == 200u);
    s.advance(std::chrono::seconds(10));
    expect_error(b.bapi(verb::post, "/v1/clients/verify", json::object{{"token", jwt}}), 422,
                 "form_param_value_invalid", "token");

    // The client credential (the __client cookie value) verifies to its client while the client
    // exists.
    std::string credential;
    BOOST_TEST_REQUIRE(a.db.with_write([&](store::write_txn& w) -> store::result<void> {
                               auto rec = w.clients().get(client);
                               if (!rec) return rec.error();
                               credential = server::api::frontend::new_client_credential(**rec);
                               return w.clients().put(**rec);
                           })
                           .has_value());
    auto by_cookie = b.bapi(verb::post, "/v1/clients/verify", json::object{{"token", credential}});
    BOOST_TEST_REQUIRE(by_cookie.status == 200u, by_cookie.body);
    BOOST_TEST(by_cookie.json.at("id") == json::value(client));
    std::string forged_credential = credential;
    forged_credential.back() = forged_credential.back() == 'A' ? 'B' : 'A';
    expect_error(b.bapi(verb::post, "/v1/clients/verify", json::object{{"token", forged_credential}}), 422,
                 "form_param_value_invalid", "token");
    expect_error(b.bapi(verb::post, "/v1/clients/verify",
                        json::object{{"token", "client_gone." + credential.substr(credential.find('.') + 1)}}),
                 404, "resource_not_found");

    // A fresh token for a session that is then revoked no longer verifies.
    std::string fresh = mint(b, sid);
    BOOST_TEST_REQUIRE(b.bapi(verb::post, "/v1/sessions/" + sid + "/revoke").status == 200u);
    expect_error(b.bapi(verb::post, "/v1/clients/verify", json::object{{"token", fresh}}), 422,
                 "form_param_value_invalid", "token");
}

BOOST_FIXTURE_TEST_CASE(handshake_payload_by_nonce, bapi_env) {
    auto put = [&](std::string const& nonce, std::int64_t exp) {
        json::object doc{{"exp", exp}, {"directives", json::array{"__session=abc; Path=/", "__client_uat=1; Path=/"}}};
        auto w = a.db.with_write(
            [&](store::write_txn& t) { return t.meta().put("handshake_nonce:" + nonce, json::serialize(doc)); });
        BOOST_TEST_REQUIRE(w.has_value());
    };
    put("fresh-nonce", a.now_ms() + 60'000);
    put("stale-nonce", a.now_ms() - 1);

    auto r = b.bapi(verb::get, "/v1/clients/handshake_payload?nonce=fresh-nonce");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST_REQUIRE(r.json.at("directives").is_array());
    BOOST_TEST(r.json.at("directives").as_array().size() == 2u);
    BOOST_TEST(r.json.at("directives").as_array()[0] == "__session=abc; Path=/");
    expect_error(b.bapi(verb::get, "/v1/clients/handshake_payload?nonce=fresh-nonce"), 404, "resource_not_found");
    expect_error(b.bapi(verb::get, "/v1/clients/handshake_payload?nonce=stale-nonce"), 404, "resource_not_found");
    expect_error(b.bapi(verb::get, "/v1/clients/handshake_payload?nonce=unknown"), 404, "resource_not_found");
    expect_error(b.bapi(verb::get, "/v1/clients/handshake_payload"), 422, "form_param_missing", "nonce");
    expect_error(b.bapi(verb::get, "/v1/clients/handshake_payload?nonce=" + std::string(300, 'n')), 422,
                 "form_param_value_invalid", "nonce");
}

// ------------------------------------------------------------------------------- identifications

BOOST_AUTO_TEST_CASE(email_addresses_crud) {
    test_server s;
    auto b = bapi_client(s);
    auto u = create_user(b, {{"email_address", json::array{"owner@example.com"}}});
    auto other = create_user(b, {{"email_address", json::array{"someone@example.com"}}});
    std::string uid = str(u.at("id"));
    std::string first = str(u.at("primary_email_address_id"));

    expect_error(b.bapi(verb::post, "/v1/email_addresses", json::object{{"email_address", "x@example.com"}}), 422,
                 "form_param_missing", "user_id");
    expect_error(b.bapi(verb::post, "/v1/email_addresses", json::object{{"user_id", uid}}), 422, "form_param_missing",
                 "email_address");
    expect_error(b.bapi(verb::post, "/v1/email_addresses", json::object{{"user_id", uid}, {"email_address", "nope"}}),
                 422, "form_param_format_invalid", "email_address");
    expect_error(b.bapi(verb::post, "/v1/email_addresses",
                        json::object{{"user_id", uid}, {"email_address", std::string(330, 'a') + "@example.com"}}),
                 422, "form_param_max_length_exceeded", "email_address");
    expect_error(b.bapi(verb::post, "/v1/email_addresses",
                        json::object{{"user_id", uid}, {"email_address", "x@example.com"}, {"verified", "yes"}}),
                 422, "form_param_type_invalid", "verified");
    expect_error(b.bapi(verb::post, "/v1/email_addresses",
                        json::object{{"user_id", "user_missing"}, {"email_address", "x@example.com"}}),
                 404, "resource_not_found");
    expect_error(b.bapi(verb::post, "/v1/email_addresses",
                        json::object{{"user_id", uid}, {"email_address", "SOMEONE@example.com"}}),
                 422, "form_identifier_exists", "email_address");

    // Unverified by default, not primary.
    auto plain =
        b.bapi(verb::post, "/v1/email_addresses", json::object{{"user_id", uid}, {"email_address", "Two@Example.com"}});
    BOOST_TEST_REQUIRE(plain.status == 200u, plain.body);
    BOOST_TEST(plain.json.at("object") == "email_address");
    BOOST_TEST(plain.json.at("email_address") == "two@example.com");
    BOOST_TEST(plain.json.at("linked_to").is_array());
    BOOST_TEST((plain.json.at("verification").is_null() || plain.json.at("verification").at("status") != "verified"));
    std::string two = str(plain.json.at("id"));
    BOOST_TEST(get_user(b, uid).at("primary_email_address_id") == json::value(first));
    BOOST_TEST(get_user(b, uid).at("email_addresses").as_array().size() == 2u);

    // Verified + primary.
    auto prim = b.bapi(
        verb::post, "/v1/email_addresses",
        json::object{{"user_id", uid}, {"email_address", "three@example.com"}, {"verified", true}, {"primary", true}});
    BOOST_TEST_REQUIRE(prim.status == 200u, prim.body);
    BOOST_TEST(prim.json.at("verification").at("status") == "verified");
    std::string three = str(prim.json.at("id"));
    BOOST_TEST(get_user(b, uid).at("primary_email_address_id") == json::value(three));

    // Get / update.
    auto g = b.bapi(verb::get, "/v1/email_addresses/" + two);
    BOOST_TEST_REQUIRE(g.status == 200u);
    BOOST_TEST(g.json.at("id") == json::value(two));
    expect_error(b.bapi(verb::get, "/v1/email_addresses/idn_missing"), 404, "resource_not_found");
    auto upd = b.bapi(verb::patch, "/v1/email_addresses/" + two, json::object{{"verified", true}, {"primary", true}});
    BOOST_TEST_REQUIRE(upd.status == 200u, upd.body);
    BOOST_TEST(upd.json.at("verification").at("status") == "verified");
    BOOST_TEST(get_user(b, uid).at("primary_email_address_id") == json::value(two));
    expect_error(b.bapi(verb::patch, "/v1/email_addresses/" + two, json::object{{"primary", 3}}), 422,
                 "form_param_type_invalid", "primary");
    expect_error(b.bapi(verb::patch, "/v1/email_addresses/idn_missing", json::object{{"verified", true}}), 404,
                 "resource_not_found");
    // A phone id is not an email address.
    auto phone =
        b.bapi(verb::post, "/v1/phone_numbers", json::object{{"user_id", uid}, {"phone_number", "+15555550111"}});
    BOOST_TEST_REQUIRE(phone.status == 200u, phone.body);
    expect_error(b.bapi(verb::get, "/v1/email_addresses/" + str(phone.json.at("id"))), 404, "resource_not_found");

    // Delete the primary: another email becomes primary, and the address is free for others.
    auto del = b.bapi(verb::delete_, "/v1/email_addresses/" + two);
    BOOST_TEST_REQUIRE(del.status == 200u, del.body);
    BOOST_TEST(del.json.at("object") == "email_address");
    BOOST_TEST(del.json.at("id") == json::value(two));
    BOOST_TEST(del.json.at("deleted") == true);
    auto after = get_user(b, uid);
    BOOST_TEST(after.at("email_addresses").as_array().size() == 2u);
    BOOST_TEST(!after.at("primary_email_address_id").is_null());
    BOOST_TEST(after.at("primary_email_address_id") != json::value(two));
    expect_error(b.bapi(verb::get, "/v1/email_addresses/" + two), 404, "resource_not_found");
    expect_error(b.bapi(verb::delete_, "/v1/email_addresses/" + two), 404, "resource_not_found");
    auto reuse = b.bapi(verb::post, "/v1/email_addresses",
                        json::object{{"user_id", str(other.at("id"))}, {"email_address", "two@example.com"}});
    BOOST_TEST(reuse.status == 200u, reuse.body);
}

BOOST_AUTO_TEST_CASE(phone_numbers_crud) {
    test_server s;
    auto b = bapi_client(s);
    auto u = create_user(b, {{"email_address", json::array{"phoneowner@example.com"}}});
    std::string uid = str(u.at("id"));
    BOOST_TEST(u.at("primary_phone_number_id").is_null());

    expect_error(b.bapi(verb::post, "/v1/phone_numbers", json::object{{"user_id", uid}}), 422, "form_param_missing",
                 "phone_number");
    expect_error(b.bapi(verb::post, "/v1/phone_numbers", json::object{{"user_id", uid}, {"phone_number", "555"}}), 422,
                 "form_param_format_invalid", "phone_number");
    expect_error(b.bapi(verb::post, "/v1/phone_numbers", json::object{{"user_id", uid}, {"phone_number", 5550100}}),
                 422, "form_param_type_invalid", "phone_number");
    expect_error(b.bapi(verb::post, "/v1/phone_numbers",
                        json::object{{"user_id", "user_missing"}, {"phone_number", "+15555550100"}}),
                 404, "resource_not_found");

    // The first phone becomes primary even without primary=true.
    auto p1 = b.bapi(verb::post, "/v1/phone_numbers",
                     json::object{{"user_id", uid}, {"phone_number", "+15555550100"}, {"verified", true}});
    BOOST_TEST_REQUIRE(p1.status == 200u, p1.body);
    BOOST_TEST(p1.json.at("object") == "phone_number");
    BOOST_TEST(p1.json.at("phone_number") == "+15555550100");
    BOOST_TEST(p1.json.at("verification").at("status") == "verified");
    BOOST_TEST(p1.json.at("linked_to").is_array());
    std::string id1 = str(p1.json.at("id"));
    BOOST_TEST(get_user(b, uid).at("primary_phone_number_id") == json::value(id1));

    auto p2 = b.bapi(verb::post, "/v1/phone_numbers", json::object{{"user_id", uid}, {"phone_number", "+15555550101"}});
    BOOST_TEST_REQUIRE(p2.status == 200u);
    std::string id2 = str(p2.json.at("id"));
    BOOST_TEST(get_user(b, uid).at("primary_phone_number_id") == json::value(id1));
    expect_error(
        b.bapi(verb::post, "/v1/phone_numbers", json::object{{"user_id", uid}, {"phone_number", "+15555550101"}}), 422,
        "form_identifier_exists", "phone_number");

    auto upd = b.bapi(verb::patch, "/v1/phone_numbers/" + id2, json::object{{"primary", true}, {"verified", true}});
    BOOST_TEST_REQUIRE(upd.status == 200u, upd.body);
    BOOST_TEST(upd.json.at("verification").at("status") == "verified");
    BOOST_TEST(get_user(b, uid).at("primary_phone_number_id") == json::value(id2));
    BOOST_TEST(b.bapi(verb::get, "/v1/phone_numbers/" + id1).json.at("phone_number") == "+15555550100");
    expect_error(b.bapi(verb::get, "/v1/phone_numbers/idn_missing"), 404, "resource_not_found");
    expect_error(b.bapi(verb::patch, "/v1/phone_numbers/idn_missing", json::object{}), 404, "resource_not_found");

    auto del = b.bapi(verb::delete_, "/v1/phone_numbers/" + id2);
    BOOST_TEST_REQUIRE(del.status == 200u);
    BOOST_TEST(del.json.at("object") == "phone_number");
    BOOST_TEST(del.json.at("deleted") == true);
    BOOST_TEST(get_user(b, uid).at("primary_phone_number_id") == json::value(id1));
    BOOST_TEST(b.bapi(verb::delete_, "/v1/phone_numbers/" + id1).status == 200u);
    auto none = get_user(b, uid);
    BOOST_TEST(none.at("primary_phone_number_id").is_null());
    BOOST_TEST(none.at("phone_numbers").as_array().empty());
    expect_error(b.bapi(verb::delete_, "/v1/phone_numbers/" + id1), 404, "resource_not_found");
}

// ------------------------------------------------------------------------------------ JWT
// templates

BOOST_AUTO_TEST_CASE(jwt_templates_crud) {
    test_server s;
    auto b = bapi_client(s);
    auto empty = b.bapi(verb::get, "/v1/jwt_templates");
    BOOST_TEST_REQUIRE(empty.status == 200u);
    BOOST_TEST(empty.json.as_array().empty());

    auto r = b.bapi(verb::post, "/v1/jwt_templates",
                    json::object{{"name", "hasura"}, {"claims", json::object{{"role", "user"}}}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& t = r.json.as_object();
    BOOST_TEST(t.at("object") == "jwt_template");
    BOOST_TEST(t.at("name") == "hasura");
    BOOST_TEST(t.at("claims").at("role") == "user");
    BOOST_TEST(t.at("lifetime") == 60);
    BOOST_TEST(t.at("allowed_clock_skew") == 5);
    BOOST_TEST(t.at("custom_signing_key") == false);
    BOOST_TEST(t.at("signing_algorithm") == "RS256");
    BOOST_TEST(t.at("created_at").as_int64() > 1'600'000'000'000);
    std::string id = str(t.at("id"));

    auto list = b.bapi(verb::get, "/v1/jwt_templates");
    BOOST_TEST_REQUIRE(list.json.as_array().size() == 1u);
    BOOST_TEST(list.json.as_array()[0].at("id") == json::value(id));
    BOOST_TEST(b.bapi(verb::get, "/v1/jwt_templates/" + id).json.at("name") == "hasura");

    auto post = [&](json::object body) { return b.bapi(verb::post, "/v1/jwt_templates", body); };
    expect_error(post({{"name", "hasura"}, {"claims", json::object{}}}), 422, "form_identifier_exists", "name");
    expect_error(post({{"claims", json::object{}}}), 422, "form_param_missing", "name");
    expect_error(post({{"name", "x"}}), 422, "form_param_missing", "claims");
    expect_error(post({{"name", "x"}, {"claims", json::array{1}}}), 422, "form_param_type_invalid", "claims");
    expect_error(post({{"name", 5}, {"claims", json::object{}}}), 422, "form_param_type_invalid", "name");
    expect_error(post({{"name", "x"}, {"claims", json::object{{"sub", "me"}}}}), 422, "form_param_value_invalid",
                 "claims");
    expect_error(post({{"name", "x"}, {"claims", json::object{}}, {"lifetime", 29}}), 422, "form_param_value_invalid",
                 "lifetime");
    expect_error(post({{"name", "x"}, {"claims", json::object{}}, {"lifetime", 315360001}}), 422,
                 "form_param_value_invalid", "lifetime");
    expect_error(post({{"name", "x"}, {"claims", json::object{}}, {"allowed_clock_skew", 301}}), 422,
                 "form_param_value_invalid", "allowed_clock_skew");
    expect_error(post({{"name", "x"}, {"claims", json::object{}}, {"allowed_clock_skew", -1}}), 422,
                 "form_param_value_invalid", "allowed_clock_skew");
    expect_error(post({{"name", "x"}, {"claims", json::object{}}, {"custom_signing_key", true}}), 422,
                 "form_param_value_invalid", "custom_signing_key");
    expect_error(post({{"name", std::string(300, 'n')}, {"claims", json::object{}}}), 422,
                 "form_param_max_length_exceeded", "name");
    BOOST_TEST(b.bapi(verb::get, "/v1/jwt_templates").json.as_array().size() == 1u);

    // jwtTemplates.list() sends paginated=true.
    auto paged = b.bapi(verb::get, "/v1/jwt_templates?paginated=true&limit=1");
    BOOST_TEST_REQUIRE(paged.status == 200u);
    BOOST_TEST(paged.json.at("total_count") == 1);
    BOOST_TEST(paged.json.at("data").as_array().size() == 1u);
    BOOST_TEST(b.bapi(verb::get, "/v1/jwt_templates?paginated=true&offset=1").json.at("data").as_array().empty());
    expect_error(b.bapi(verb::get, "/v1/jwt_templates?limit=0"), 422, "form_param_value_invalid", "limit");

    // Update: partial, name uniqueness, bounds.
    auto second = post({{"name", "second"}, {"claims", json::object{}}, {"lifetime", 300}, {"allowed_clock_skew", 0}});
    BOOST_TEST_REQUIRE(second.status == 200u, second.body);
    BOOST_TEST(second.json.at("lifetime") == 300);
    BOOST_TEST(second.json.at("allowed_clock_skew") == 0);
    s.advance(std::chrono::milliseconds(5));
    auto upd = b.bapi(verb::patch, "/v1/jwt_templates/" + id,
                      json::object{{"name", "hasura2"}, {"claims", json::object{{"k", "v"}}}, {"lifetime", 120}});
    BOOST_TEST_REQUIRE(upd.status == 200u, upd.body);
    BOOST_TEST(upd.json.at("name") == "hasura2");
    BOOST_TEST(json::serialize(upd.json.at("claims")) == R"({"k":"v"})");
    BOOST_TEST(upd.json.at("lifetime") == 120);
    BOOST_TEST(upd.json.at("updated_at").as_int64() > t.at("updated_at").as_int64());
    expect_error(b.bapi(verb::patch, "/v1/jwt_templates/" + id, json::object{{"name", "second"}}), 422,
                 "form_identifier_exists", "name");
    expect_error(b.bapi(verb::patch, "/v1/jwt_templates/" + id, json::object{{"lifetime", 10}}), 422,
                 "form_param_value_invalid", "lifetime");
    expect_error(b.bapi(verb::patch, "/v1/jwt_templates/jtmp_missing", json::object{{"name", "z"}}), 404,
                 "resource_not_found");
    expect_error(b.bapi(verb::get, "/v1/jwt_templates/jtmp_missing"), 404, "resource_not_found");
    // The old name is free again.
    BOOST_TEST(post({{"name", "hasura"}, {"claims", json::object{}}}).status == 200u);

    auto del = b.bapi(verb::delete_, "/v1/jwt_templates/" + id);
    BOOST_TEST_REQUIRE(del.status == 200u);
    BOOST_TEST(del.json.at("object") == "jwt_template");
    BOOST_TEST(del.json.at("id") == json::value(id));
    BOOST_TEST(del.json.at("deleted") == true);
    expect_error(b.bapi(verb::get, "/v1/jwt_templates/" + id), 404, "resource_not_found");
    expect_error(b.bapi(verb::delete_, "/v1/jwt_templates/" + id), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(template_tokens_render_claims) {
    test_server s;
    auto b = bapi_client(s);
    auto u =
        create_user(b, {{"email_address", json::array{"tpl@example.com"}},
                        {"phone_number", json::array{"+15555550142"}},
                        {"username", "tpl_user"},
                        {"first_name", "Tia"},
                        {"last_name", "Plate"},
                        {"external_id", "ext-tpl"},
                        {"public_metadata", json::object{{"plan", "pro"}, {"org", json::object{{"role", "admin"}}}}},
                        {"unsafe_metadata", json::object{{"theme", "dark"}}}});
    std::string uid = str(u.at("id"));
    std::string sid = seed_session(s.app(), seed_client(s.app()), uid);

    json::object claims{
        {"uid", "{{user.id}}"},
        {"email", "{{user.primary_email_address}}"},
        {"phone", "{{user.primary_phone_number}}"},
        {"full", "{{user.full_name}}"},
        {"username", "{{user.username}}"},
        {"ext", "{{user.external_id}}"},
        {"verified", "{{user.email_verified}}"},
        {"meta", "{{user.public_metadata}}"},
        {"role", "{{user.public_metadata.org.role}}"},
        {"missing", "{{user.public_metadata.nope.deeper}}"},
        {"theme", "{{user.unsafe_metadata.theme}}"},
        {"greeting", "Hi {{user.first_name}} ({{user.username}})!"},
        {"actor", "{{session.actor}}"},
        {"nested", json::object{{"list", json::array{"{{user.last_name}}", 7, true}}, {"plain", "text"}}},
        {"number", 42},
    };
    auto t = b.bapi(verb::post, "/v1/jwt_templates",
                    json::object{{"name", "app-tpl"}, {"claims", claims}, {"lifetime", 600}});
    BOOST_TEST_REQUIRE(t.status == 200u, t.body);

    auto r = b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens/app-tpl");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.json.at("object") == "token");
    std::string jwt = str(r.json.at("jwt"));
    auto parts = crypto::parse_jws(jwt);
    BOOST_TEST_REQUIRE(parts.has_value());
    BOOST_TEST(crypto::verify_rs256(s.app().keys.active().get(), *parts).has_value());
    auto p = json::parse(parts->payload_json).as_object();
    BOOST_TEST(p.at("uid") == json::value(uid));
    BOOST_TEST(p.at("email") == "tpl@example.com");
    BOOST_TEST(p.at("phone") == "+15555550142");
    BOOST_TEST(p.at("full") == "Tia Plate");
    BOOST_TEST(p.at("username") == "tpl_user");
    BOOST_TEST(p.at("ext") == "ext-tpl");
    BOOST_TEST(p.at("verified") == true);
    BOOST_TEST(p.at("meta").at("plan") == "pro");
    BOOST_TEST(p.at("role") == "admin");
    BOOST_TEST(p.at("missing").is_null());
    BOOST_TEST(p.at("theme") == "dark");
    BOOST_TEST(p.at("greeting") == "Hi Tia (tpl_user)!");
    BOOST_TEST(p.at("actor").is_null());
    BOOST_TEST(json::serialize(p.at("nested")) == R"({"list":["Plate",7,true],"plain":"text"})");
    BOOST_TEST(p.at("number") == 42);
    // The session claims are latchkey's own; the template sets the lifetime.
    BOOST_TEST(p.at("sub") == json::value(uid));
    BOOST_TEST(p.at("sid") == json::value(sid));
    BOOST_TEST(p.at("iss") == json::value(s.inst().issuer));
    BOOST_TEST(p.at("exp").as_int64() - p.at("iat").as_int64() == 600);
    // expires_in_seconds overrides the template lifetime.
    auto shorter =
        b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens/app-tpl", json::object{{"expires_in_seconds", 45}});
    BOOST_TEST_REQUIRE(shorter.status == 200u, shorter.body);
    auto sp = jwt_payload(str(shorter.json.at("jwt")));
    BOOST_TEST(sp.at("exp").as_int64() - sp.at("iat").as_int64() == 45);

    // Metadata changes show up in the next token.
    BOOST_TEST_REQUIRE(b.bapi(verb::patch, "/v1/users/" + uid + "/metadata",
                              json::object{{"public_metadata", json::object{{"plan", "free"}}}})
                           .status == 200u);
    auto again = jwt_payload(mint(b, sid, "app-tpl"));
    BOOST_TEST(again.at("meta").at("plan") == "free");
    BOOST_TEST(again.at("role") == "admin");
}

// ---------------------------------------------------------------------------------------- instance

BOOST_AUTO_TEST_CASE(instance_object) {
    test_server s([](conf::config& c) { c.allowed_origins = {"http://localhost:3000"}; });
    auto b = bapi_client(s);
    auto r = b.bapi(verb::get, "/v1/instance");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.headers.at("content-type") == "application/json");
    auto const& o = r.json.as_object();
    BOOST_TEST(o.at("object") == "instance");
    BOOST_TEST(o.at("id") == json::value(s.inst().id));
    BOOST_TEST(o.at("environment_type") == "development");
    BOOST_TEST_REQUIRE(o.at("allowed_origins").is_array());
    BOOST_TEST(o.at("allowed_origins").as_array().size() == 1u);
    BOOST_TEST(o.at("allowed_origins").as_array()[0] == "http://localhost:3000");
    BOOST_TEST(o.contains("workspace_id"));  // required by the spec (nullable)

    http_client anon(s.bapi_port());
    BOOST_TEST(anon.request(verb::get, "/v1/instance").status == 401u);
}

BOOST_AUTO_TEST_SUITE_END()
