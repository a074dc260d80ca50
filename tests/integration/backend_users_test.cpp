// BAPI /v1/users*: list/count with filters, ordering and paging; create (plain and imported
// passwords); get, update, delete; ban/unban (ban revokes sessions), lock/unlock; metadata merge vs
// replace; password verification and removal. Over HTTP against the real server, the way
// @clerk/backend calls it.
#include "crypto/random.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>

using namespace latchkey;
using namespace latchkey::test;

namespace {

using verb = http::verb;

std::vector<std::string> ids_of(http_result const& r) {
    std::vector<std::string> out;
    for (auto const& u : r.json.as_array()) out.push_back(str(u.at("id")));
    return out;
}

std::int64_t total_count(http_client& b, std::string const& query) {
    auto r = b.bapi(verb::get, "/v1/users/count" + query);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.json.at("object") == "total_count");
    return r.json.at("total_count").as_int64();
}

/// A client record with one active session for `user_id`, written directly (BAPI has no session
/// creation).
struct seeded {
    std::string client_id, session_id;
};

seeded seed_client_session(test_server& s, std::string const& user_id) {
    auto client_id = seed_client(s.app());
    return {client_id, seed_session(s.app(), client_id, user_id)};
}

constexpr char const* strong = "correct horse battery staple";

}  // namespace

BOOST_AUTO_TEST_SUITE(backend_users)

BOOST_AUTO_TEST_CASE(secret_key_is_required) {
    test_server s;
    http_client b(s.bapi_port());
    expect_error(b.request(verb::get, "/v1/users"), 401, "authorization_header_missing");
    b.secret_key = "sk_test_wrongwrongwrongwrong";
    expect_error(b.bapi(verb::get, "/v1/users"), 401, "clerk_key_invalid");
    expect_error(b.bapi(verb::post, "/v1/users", json::object{{"email_address", json::array{"a@b.co"}}}), 401,
                 "clerk_key_invalid");
    // Nothing was created by the rejected call.
    auto ok = bapi_client(s);
    BOOST_TEST(total_count(ok, "") == 0);
}

BOOST_AUTO_TEST_CASE(create_renders_the_full_user) {
    test_server s;
    auto b = bapi_client(s);
    auto r = b.bapi(verb::post, "/v1/users",
                    json::object{{"email_address", json::array{"Ann@Example.com", "ann2@example.com"}},
                                 {"phone_number", json::array{"+15555550123"}},
                                 {"username", "ann_smith"},
                                 {"first_name", "Ann"},
                                 {"last_name", "Smith"},
                                 {"external_id", "ext-1"},
                                 {"password", strong},
                                 {"public_metadata", json::object{{"plan", "pro"}}},
                                 {"private_metadata", json::object{{"secret", 1}}},
                                 {"unsafe_metadata", json::object{{"theme", "dark"}}}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.headers.at("content-type") == "application/json");
    auto const& u = r.json.as_object();
    BOOST_TEST(u.at("object") == "user");
    BOOST_TEST(str(u.at("id")).starts_with("user_"));
    BOOST_TEST(u.at("username") == "ann_smith");
    BOOST_TEST(u.at("first_name") == "Ann");
    BOOST_TEST(u.at("last_name") == "Smith");
    BOOST_TEST(u.at("external_id") == "ext-1");
    BOOST_TEST(u.at("password_enabled") == true);
    BOOST_TEST(u.at("banned") == false);
    BOOST_TEST(u.at("locked") == false);
    BOOST_TEST(u.at("public_metadata").at("plan") == "pro");
    BOOST_TEST(u.at("private_metadata").at("secret") == 1);
    BOOST_TEST(u.at("unsafe_metadata").at("theme") == "dark");
    for (auto const* k : {"email_addresses", "phone_numbers", "web3_wallets", "external_accounts",
                          "enterprise_accounts", "passkeys", "saml_accounts", "organization_memberships"})
        BOOST_TEST(u.at(k).is_array(), k);
    BOOST_TEST(u.at("created_at").as_int64() > 1'600'000'000'000);  // ms
    BOOST_TEST(u.at("updated_at").as_int64() >= u.at("created_at").as_int64());
    BOOST_TEST(u.at("image_url").is_string());

    auto const& emails = u.at("email_addresses").as_array();
    BOOST_TEST_REQUIRE(emails.size() == 2u);
    BOOST_TEST(emails[0].at("email_address") == "ann@example.com");  // normalized
    BOOST_TEST(emails[0].at("object") == "email_address");
    BOOST_TEST(emails[0].at("linked_to").is_array());
    BOOST_TEST(emails[0].at("verification").at("status") == "verified");
    BOOST_TEST(emails[0].at("verification").at("strategy") == "admin");
    BOOST_TEST(emails[1].at("verification").at("status") == "verified");
    BOOST_TEST(u.at("primary_email_address_id") == emails[0].at("id"));
    auto const& phones = u.at("phone_numbers").as_array();
    BOOST_TEST_REQUIRE(phones.size() == 1u);
    BOOST_TEST(phones[0].at("phone_number") == "+15555550123");
    BOOST_TEST(u.at("primary_phone_number_id") == phones[0].at("id"));

    // GET returns the same user; the password is stored hashed (argon2id), never echoed.
    auto g = b.bapi(verb::get, "/v1/users/" + str(u.at("id")));
    BOOST_TEST_REQUIRE(g.status == 200u);
    BOOST_TEST(g.json.at("id") == u.at("id"));
    BOOST_TEST(g.body.find(strong) == std::string::npos);
    auto rec = s.app().db.with_read([&](store::read_txn& t) { return t.users().get(str(u.at("id"))); });
    BOOST_TEST_REQUIRE((rec && *rec));
    BOOST_TEST((*rec)->password_digest.starts_with("$argon2id$"));
}

BOOST_AUTO_TEST_CASE(create_imports_timestamps_and_states) {
    test_server s;
    auto b = bapi_client(s);
    auto u = create_user(b, {{"email_address", json::array{"old@example.com"}},
                             {"created_at", "2012-10-20T07:15:20.902Z"},
                             {"legal_accepted_at", "2012-10-20T09:15:20+02:00"},
                             {"banned", true},
                             {"locked", true}});
    BOOST_TEST(u.at("created_at").as_int64() == 1350717320902);
    BOOST_TEST(u.at("legal_accepted_at").as_int64() == 1350717320000);
    BOOST_TEST(u.at("banned") == true);
    BOOST_TEST(u.at("locked") == true);
    BOOST_TEST(u.at("lockout_expires_in_seconds").as_int64() == s.app().cfg.protection.lockout.count());
    for (auto const* bad : {"2012-10-20", "2012-13-20T07:15:20Z", "2012-10-20T07:15:20", "yesterday"})
        expect_error(b.bapi(verb::post, "/v1/users",
                            json::object{{"email_address", json::array{"bad@example.com"}}, {"created_at", bad}}),
                     422, "form_param_format_invalid", "created_at");
    expect_error(b.bapi(verb::post, "/v1/users",
                        json::object{{"email_address", json::array{"bad@example.com"}}, {"banned", "no"}}),
                 422, "form_param_type_invalid", "banned");
}

BOOST_AUTO_TEST_CASE(create_rejects_duplicates_with_the_taken_field) {
    test_server s;
    auto b = bapi_client(s);
    create_user(b, json::object{{"email_address", json::array{"taken@example.com"}},
                                {"phone_number", json::array{"+15555550100"}},
                                {"username", "taken_name"},
                                {"external_id", "ext-taken"},
                                {"skip_password_requirement", true}});
    expect_error(b.bapi(verb::post, "/v1/users", json::object{{"email_address", json::array{"TAKEN@example.com"}}}),
                 422, "form_identifier_exists", "email_address");
    expect_error(b.bapi(verb::post, "/v1/users", json::object{{"phone_number", json::array{"+15555550100"}}}), 422,
                 "form_identifier_exists", "phone_number");
    expect_error(b.bapi(verb::post, "/v1/users",
                        json::object{{"email_address", json::array{"new@example.com"}}, {"username", "Taken_Name"}}),
                 422, "form_identifier_exists", "username");
    expect_error(b.bapi(verb::post, "/v1/users",
                        json::object{{"email_address", json::array{"new@example.com"}}, {"external_id", "ext-taken"}}),
                 422, "form_identifier_exists", "external_id");
    // The same address twice in one request.
    expect_error(b.bapi(verb::post, "/v1/users",
                        json::object{{"email_address", json::array{"twice@example.com", "TWICE@example.com"}}}),
                 422, "form_identifier_exists", "email_address");
    // None of the rejected users exists; the free email is still free.
    BOOST_TEST(total_count(b, "") == 1);
    create_user(b, json::object{{"email_address", json::array{"new@example.com"}}});
}

BOOST_AUTO_TEST_CASE(create_rejects_bad_input) {
    test_server s;
    auto b = bapi_client(s);
    auto post = [&](json::object body) { return b.bapi(verb::post, "/v1/users", body); };
    // Not JSON / not an object.
    auto raw = b.request(verb::post, "/v1/users", "{\"email_address\":",
                         {{"Authorization", "Bearer " + s.secret_key()}, {"Content-Type", "application/json"}});
    expect_error(raw, 400, "request_body_invalid");
    raw = b.request(verb::post, "/v1/users", "[1,2]",
                    {{"Authorization", "Bearer " + s.secret_key()}, {"Content-Type", "application/json"}});
    expect_error(raw, 400, "request_body_invalid");
    // Wrong types name the field.
    expect_error(post({{"email_address", 5}}), 422, "form_param_type_invalid", "email_address");
    expect_error(post({{"email_address", json::array{"a@b.co", 7}}}), 422, "form_param_type_invalid", "email_address");
    expect_error(post({{"email_address", json::array{"a@b.co"}}, {"first_name", 12}}), 422, "form_param_type_invalid",
                 "first_name");
    expect_error(post({{"email_address", json::array{"a@b.co"}}, {"public_metadata", json::array{1}}}), 422,
                 "form_param_type_invalid", "public_metadata");
    expect_error(post({{"email_address", json::array{"a@b.co"}}, {"skip_password_checks", "maybe"}}), 422,
                 "form_param_type_invalid", "skip_password_checks");
    // Formats and lengths.
    expect_error(post({{"email_address", json::array{"not-an-email"}}}), 422, "form_param_format_invalid",
                 "email_address");
    expect_error(post({{"phone_number", json::array{"12"}}}), 422, "form_param_format_invalid", "phone_number");
    expect_error(post({{"email_address", json::array{std::string(320, 'a') + "@example.com"}}}), 422,
                 "form_param_max_length_exceeded", "email_address");
    expect_error(post({{"email_address", json::array{"a@b.co"}}, {"first_name", std::string(300, 'x')}}), 422,
                 "form_param_max_length_exceeded", "first_name");
    expect_error(post({{"username", "abc"}}), 422, "form_username_invalid_length", "username");
    expect_error(post({{"username", std::string(65, 'a')}}), 422, "form_param_max_length_exceeded", "username");
    expect_error(post({{"username", "bad name!"}}), 422, "form_username_invalid_character", "username");
    json::object big;  // each string within the per-field cap, the object over 8 KiB
    big["blob1"] = std::string(5000, 'x');
    big["blob2"] = std::string(5000, 'y');
    expect_error(post({{"email_address", json::array{"a@b.co"}}, {"public_metadata", big}}), 422,
                 "form_param_max_length_exceeded", "public_metadata");
    // No identifier at all.
    expect_error(post({{"first_name", "Nobody"}}), 422, "form_param_missing");
    // Password policy unless skipped.
    expect_error(post({{"email_address", json::array{"a@b.co"}}, {"password", "short"}}), 422,
                 "form_password_length_too_short", "password");
    expect_error(post({{"email_address", json::array{"a@b.co"}}, {"password", "password"}}), 422, "form_password_pwned",
                 "password");
    BOOST_TEST(total_count(b, "") == 0);
    auto u = create_user(
        b, {{"email_address", json::array{"a@b.co"}}, {"password", "short"}, {"skip_password_checks", true}});
    BOOST_TEST(u.at("password_enabled") == true);
}

BOOST_AUTO_TEST_CASE(imported_password_digests_verify) {
    test_server s;
    auto b = bapi_client(s);

    struct imported {
        char const* hasher;
        char const* digest;
        char const* password;
    };

    imported const cases[] = {
        {"bcrypt", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
        {"argon2id", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         "password"},
        {"argon2i", "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8", "password"},
        {"pbkdf2_sha256",
         "pbkdf2_sha256$1$c2FsdA==$VawEblbjCJ/"
         "sFpHCJUS2BflBhSFt3gRl5oudV8INrLxJypzM8Xm2RZkWZLOdd+8xfHG4RbHjC9UJESBB06GXgw==",
         "passwd"},
        {"scrypt_firebase",
         "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/"
         "qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$42xEC+ixf3L2lw==$"
         "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$"
         "Bw==$8$14",
         "user1password"},
    };
    int n = 0;
    for (auto const& c : cases) {
        auto u = create_user(b, {{"email_address", json::array{"imported" + std::to_string(n++) + "@example.com"}},
                                 {"password_digest", c.digest},
                                 {"password_hasher", c.hasher}});
        BOOST_TEST(u.at("password_enabled") == true, c.hasher);
        std::string path = "/v1/users/" + str(u.at("id")) + "/verify_password";
        auto ok = b.bapi(verb::post, path, json::object{{"password", c.password}});
        BOOST_TEST(ok.status == 200u, c.hasher << ": " << ok.body);
        BOOST_TEST(ok.json.at("verified") == true, c.hasher);
        expect_error(b.bapi(verb::post, path, json::object{{"password", std::string(c.password) + "x"}}), 422,
                     "form_password_incorrect", "password");
    }
    // Unsupported hasher, digest that does not match its hasher, digest without hasher.
    expect_error(b.bapi(verb::post, "/v1/users",
                        json::object{{"email_address", json::array{"x@example.com"}},
                                     {"password_digest", "5f4dcc3b5aa765d61d8327deb882cf99"},
                                     {"password_hasher", "crc32"}}),
                 422, "form_param_value_invalid", "password_hasher");
    expect_error(b.bapi(verb::post, "/v1/users",
                        json::object{{"email_address", json::array{"x@example.com"}},
                                     {"password_digest", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR"},
                                     {"password_hasher", "bcrypt"}}),
                 422, "form_param_format_invalid", "password_digest");
    expect_error(
        b.bapi(verb::post, "/v1/users",
               json::object{{"email_address", json::array{"x@example.com"}},
                            {"password_digest", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"}}),
        422, "form_param_missing", "password_hasher");
    BOOST_TEST(total_count(b, "?email_address=x@example.com") == 0);
}

BOOST_AUTO_TEST_CASE(verify_and_remove_password) {
    test_server s;
    auto b = bapi_client(s);
    auto u = create_user(b, {{"email_address", json::array{"pw@example.com"}}, {"password", strong}});
    std::string id = str(u.at("id"));
    auto ok = b.bapi(verb::post, "/v1/users/" + id + "/verify_password", json::object{{"password", strong}});
    BOOST_TEST(ok.status == 200u);
    BOOST_TEST(ok.json.at("verified") == true);
    expect_error(b.bapi(verb::post, "/v1/users/" + id + "/verify_password", json::object{{"password", "nope nope"}}),
                 422, "form_password_incorrect", "password");
    expect_error(b.bapi(verb::post, "/v1/users/" + id + "/verify_password", json::object{}), 422, "form_param_missing",
                 "password");
    expect_error(b.bapi(verb::post, "/v1/users/" + id + "/verify_password", json::object{{"password", 5}}), 422,
                 "form_param_type_invalid", "password");
    expect_error(b.bapi(verb::post, "/v1/users/user_nope/verify_password", json::object{{"password", strong}}), 404,
                 "resource_not_found");

    auto removed = b.bapi(verb::post, "/v1/users/" + id + "/remove_password");
    BOOST_TEST_REQUIRE(removed.status == 200u, removed.body);
    BOOST_TEST(removed.json.at("object") == "user");
    BOOST_TEST(removed.json.at("password_enabled") == false);
    expect_error(b.bapi(verb::post, "/v1/users/" + id + "/verify_password", json::object{{"password", strong}}), 422,
                 "password_not_set");

    // A new password through PATCH hashes again and verifies; sign_out_of_other_sessions revokes
    // sessions.
    auto held = seed_client_session(s, id);
    auto upd = b.bapi(verb::patch, "/v1/users/" + id,
                      json::object{{"password", "another long passphrase"}, {"sign_out_of_other_sessions", true}});
    BOOST_TEST_REQUIRE(upd.status == 200u, upd.body);
    BOOST_TEST(upd.json.at("password_enabled") == true);
    BOOST_TEST(b.bapi(verb::post, "/v1/users/" + id + "/verify_password",
                      json::object{{"password", "another long passphrase"}})
                   .status == 200u);
    BOOST_TEST(b.bapi(verb::get, "/v1/sessions/" + held.session_id).json.at("status") == "revoked");
    expect_error(b.bapi(verb::patch, "/v1/users/" + id, json::object{{"password", "short"}}), 422,
                 "form_password_length_too_short", "password");
}

BOOST_AUTO_TEST_CASE(list_orders_pages_and_filters) {
    test_server s;
    auto b = bapi_client(s);
    std::vector<std::string> ids;
    char const* firsts[] = {"Carol", "alice", "Bob"};
    for (int i = 0; i < 3; ++i) {
        auto u = create_user(b, {{"email_address", json::array{"user" + std::to_string(i) + "@example.com"}},
                                 {"phone_number", json::array{"+1555555010" + std::to_string(i)}},
                                 {"username", "user_" + std::to_string(i)},
                                 {"external_id", "ext-" + std::to_string(i)},
                                 {"first_name", firsts[i]}});
        ids.push_back(str(u.at("id")));
        s.advance(std::chrono::milliseconds(5));  // distinct created_at
    }

    // Default: bare array, newest first.
    auto all = b.bapi(verb::get, "/v1/users");
    BOOST_TEST_REQUIRE(all.status == 200u);
    BOOST_TEST_REQUIRE(all.json.is_array());
    BOOST_TEST(ids_of(all) == (std::vector<std::string>{ids[2], ids[1], ids[0]}));
    BOOST_TEST(all.json.as_array()[0].at("object") == "user");
    BOOST_TEST(all.json.as_array()[0].at("private_metadata").is_object());

    auto asc = b.bapi(verb::get, "/v1/users?order_by=%2Bcreated_at");
    BOOST_TEST(ids_of(asc) == (std::vector<std::string>{ids[0], ids[1], ids[2]}));
    auto asc_raw = b.bapi(verb::get, "/v1/users?order_by=+created_at");  // '+' unencoded = space
    BOOST_TEST(ids_of(asc_raw) == (std::vector<std::string>{ids[0], ids[1], ids[2]}));
    auto unsigned_asc = b.bapi(verb::get, "/v1/users?order_by=created_at");  // no sign: '+' implied
    BOOST_TEST(ids_of(unsigned_asc) == (std::vector<std::string>{ids[0], ids[1], ids[2]}));
    auto desc = b.bapi(verb::get, "/v1/users?order_by=-created_at");
    BOOST_TEST(ids_of(desc) == (std::vector<std::string>{ids[2], ids[1], ids[0]}));
    auto by_name = b.bapi(verb::get, "/v1/users?order_by=%2Bfirst_name");
    BOOST_TEST_REQUIRE(by_name.status == 200u);
    BOOST_TEST(ids_of(by_name).size() == 3u);
    auto by_name_desc = b.bapi(verb::get, "/v1/users?order_by=-first_name");
    auto rev = ids_of(by_name);
    std::reverse(rev.begin(), rev.end());
    BOOST_TEST(ids_of(by_name_desc) == rev);

    // Paging edges.
    auto one = b.bapi(verb::get, "/v1/users?limit=1&order_by=%2Bcreated_at");
    BOOST_TEST(ids_of(one) == std::vector<std::string>{ids[0]});
    auto second = b.bapi(verb::get, "/v1/users?limit=1&offset=1&order_by=%2Bcreated_at");
    BOOST_TEST(ids_of(second) == std::vector<std::string>{ids[1]});
    auto past = b.bapi(verb::get, "/v1/users?offset=3");
    BOOST_TEST_REQUIRE(past.status == 200u);
    BOOST_TEST(past.json.as_array().empty());
    BOOST_TEST(b.bapi(verb::get, "/v1/users?limit=500").status == 200u);
    for (auto const& [target, param] : std::vector<std::pair<std::string, std::string>>{
             {"/v1/users?limit=0", "limit"},
             {"/v1/users?limit=501", "limit"},
             {"/v1/users?limit=ten", "limit"},
             {"/v1/users?offset=-1", "offset"},
             {"/v1/users?order_by=password", "order_by"},
             {"/v1/users/count?order_by=%2Bnope", "order_by"},
         })
        expect_error(b.bapi(verb::get, target), 422, "form_param_value_invalid", param);

    // Filters: repeated keys and comma-split values OR together; different filters AND.
    auto by_email = b.bapi(verb::get, "/v1/users?email_address=user0@example.com&email_address=USER2@example.com");
    auto email_ids = ids_of(by_email);
    BOOST_TEST(std::set<std::string>(email_ids.begin(), email_ids.end()) == (std::set<std::string>{ids[0], ids[2]}));
    auto split = b.bapi(verb::get, "/v1/users?email_address=user0@example.com,user1@example.com");
    BOOST_TEST(ids_of(split).size() == 2u);
    BOOST_TEST(total_count(b, "?email_address=user0@example.com,user1@example.com") == 2);
    BOOST_TEST(ids_of(b.bapi(verb::get, "/v1/users?user_id=" + ids[1])) == std::vector<std::string>{ids[1]});
    BOOST_TEST(ids_of(b.bapi(verb::get, "/v1/users?phone_number=%2B15555550101")) == std::vector<std::string>{ids[1]});
    BOOST_TEST(ids_of(b.bapi(verb::get, "/v1/users?username=user_2")) == std::vector<std::string>{ids[2]});
    BOOST_TEST(ids_of(b.bapi(verb::get, "/v1/users?external_id=ext-0")) == std::vector<std::string>{ids[0]});
    BOOST_TEST(ids_of(b.bapi(verb::get, "/v1/users?user_id=" + ids[1] + "&username=user_2")).empty());
    BOOST_TEST(ids_of(b.bapi(verb::get, "/v1/users?query=bob")) == std::vector<std::string>{ids[2]});
    BOOST_TEST(ids_of(b.bapi(verb::get, "/v1/users?email_address=nobody@example.com")).empty());

    BOOST_TEST(total_count(b, "") == 3);
    BOOST_TEST(total_count(b, "?limit=1") == 3);  // count ignores paging
    BOOST_TEST(total_count(b, "?query=example.com") == 3);
    BOOST_TEST(total_count(b, "?username=user_1&username=user_2") == 2);
    BOOST_TEST(total_count(b, "?external_id=nope") == 0);
}

BOOST_AUTO_TEST_CASE(get_update_delete) {
    test_server s;
    auto b = bapi_client(s);
    expect_error(b.bapi(verb::get, "/v1/users/user_missing"), 404, "resource_not_found");
    expect_error(b.bapi(verb::patch, "/v1/users/user_missing", json::object{{"first_name", "x"}}), 404,
                 "resource_not_found");
    expect_error(b.bapi(verb::delete_, "/v1/users/user_missing"), 404, "resource_not_found");
    expect_error(b.bapi(verb::patch, "/v1/users/user_missing", json::object{{"password", "short"}}), 404,
                 "resource_not_found");

    auto u = create_user(b, {{"email_address", json::array{"first@example.com", "second@example.com"}},
                             {"username", "updatable"},
                             {"public_metadata", json::object{{"a", 1}, {"keep", json::object{{"x", 1}}}}}});
    auto other = create_user(b, {{"email_address", json::array{"other@example.com"}}, {"username", "other_user"}});
    std::string id = str(u.at("id"));
    std::string second_email = str(u.at("email_addresses").as_array()[1].at("id"));
    std::string other_email = str(other.at("email_addresses").as_array()[0].at("id"));

    s.advance(std::chrono::milliseconds(5));
    auto r = b.bapi(verb::patch, "/v1/users/" + id,
                    json::object{{"first_name", "Dana"},
                                 {"primary_email_address_id", second_email},
                                 {"public_metadata", json::object{{"b", 2}}}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.json.at("first_name") == "Dana");
    BOOST_TEST(r.json.at("username") == "updatable");  // untouched
    BOOST_TEST(r.json.at("primary_email_address_id") == json::value(second_email));
    // PATCH /users/{id} replaces a metadata object.
    BOOST_TEST(json::serialize(r.json.at("public_metadata")) == R"({"b":2})");
    BOOST_TEST(r.json.at("updated_at").as_int64() > u.at("updated_at").as_int64());

    expect_error(b.bapi(verb::patch, "/v1/users/" + id, json::object{{"primary_email_address_id", other_email}}), 422,
                 "form_param_value_invalid", "primary_email_address_id");
    expect_error(b.bapi(verb::patch, "/v1/users/" + id, json::object{{"username", "other_user"}}), 422,
                 "form_identifier_exists", "username");
    expect_error(b.bapi(verb::patch, "/v1/users/" + id, json::object{{"last_name", json::array{}}}), 422,
                 "form_param_type_invalid", "last_name");
    auto raw = b.request(verb::patch, "/v1/users/" + id, "{oops",
                         {{"Authorization", "Bearer " + s.secret_key()}, {"Content-Type", "application/json"}});
    expect_error(raw, 400, "request_body_invalid");
    // The failed updates changed nothing.
    auto g = b.bapi(verb::get, "/v1/users/" + id);
    BOOST_TEST(g.json.at("username") == "updatable");
    BOOST_TEST(g.json.at("primary_email_address_id") == json::value(second_email));

    auto d = b.bapi(verb::delete_, "/v1/users/" + id);
    BOOST_TEST_REQUIRE(d.status == 200u, d.body);
    BOOST_TEST(d.json.at("object") == "user");
    BOOST_TEST(d.json.at("id") == json::value(id));
    BOOST_TEST(d.json.at("deleted") == true);
    expect_error(b.bapi(verb::get, "/v1/users/" + id), 404, "resource_not_found");
    expect_error(b.bapi(verb::delete_, "/v1/users/" + id), 404, "resource_not_found");
    // Its identifiers are free again.
    create_user(b, {{"email_address", json::array{"first@example.com"}}, {"username", "updatable"}});
}

BOOST_AUTO_TEST_CASE(metadata_merges_and_null_deletes) {
    test_server s;
    auto b = bapi_client(s);
    auto u = create_user(b, {{"email_address", json::array{"meta@example.com"}},
                             {"public_metadata", json::object{{"a", 1}, {"nested", json::object{{"x", 1}, {"y", 2}}}}},
                             {"private_metadata", json::object{{"p", true}}}});
    std::string path = "/v1/users/" + str(u.at("id")) + "/metadata";
    auto r = b.bapi(
        verb::patch, path,
        json::object{{"public_metadata", json::object{{"b", 2}, {"nested", json::object{{"y", nullptr}, {"z", 3}}}}},
                     {"unsafe_metadata", json::object{{"u", "v"}}}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& pub = r.json.at("public_metadata").as_object();
    BOOST_TEST(pub.at("a") == 1);
    BOOST_TEST(pub.at("b") == 2);
    BOOST_TEST(pub.at("nested").at("x") == 1);
    BOOST_TEST(!pub.at("nested").as_object().contains("y"));
    BOOST_TEST(pub.at("nested").at("z") == 3);
    BOOST_TEST(r.json.at("private_metadata").at("p") == true);  // untouched
    BOOST_TEST(r.json.at("unsafe_metadata").at("u") == "v");

    auto del = b.bapi(verb::patch, path, json::object{{"public_metadata", json::object{{"a", nullptr}}}});
    BOOST_TEST(!del.json.at("public_metadata").as_object().contains("a"));
    BOOST_TEST(del.json.at("public_metadata").as_object().contains("b"));

    expect_error(b.bapi(verb::patch, path, json::object{{"public_metadata", "[1]"}}), 422, "form_param_type_invalid",
                 "public_metadata");
    expect_error(b.bapi(verb::patch, path, json::object{{"private_metadata", 3}}), 422, "form_param_type_invalid",
                 "private_metadata");
    expect_error(b.bapi(verb::patch, "/v1/users/user_nope/metadata", json::object{{"public_metadata", json::object{}}}),
                 404, "resource_not_found");
    // Growing past 8 KiB through merges is refused.
    json::object chunk;
    chunk["k1"] = std::string(5000, 'a');
    BOOST_TEST(b.bapi(verb::patch, path, json::object{{"private_metadata", chunk}}).status == 200u);
    json::object chunk2;
    chunk2["k2"] = std::string(5000, 'b');
    expect_error(b.bapi(verb::patch, path, json::object{{"private_metadata", chunk2}}), 422,
                 "form_param_max_length_exceeded", "private_metadata");
}

BOOST_AUTO_TEST_CASE(put_metadata_replaces_each_given_object) {
    // users.replaceUserMetadata() and users.updateUser(id, {publicMetadata...}) send PUT
    // /users/{id}/metadata.
    test_server s;
    auto b = bapi_client(s);
    auto u = create_user(b, {{"email_address", json::array{"putmeta@example.com"}},
                             {"public_metadata", json::object{{"a", 1}, {"n", json::object{{"x", 1}}}}},
                             {"private_metadata", json::object{{"p", 1}}},
                             {"unsafe_metadata", json::object{{"u", 1}}}});
    std::string path = "/v1/users/" + str(u.at("id")) + "/metadata";
    auto r = b.bapi(verb::put, path,
                    json::object{{"public_metadata", json::object{{"n", json::object{{"y", 2}}}}},
                                 {"private_metadata", json::object{}}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.json.at("object") == "user");
    BOOST_TEST(json::serialize(r.json.at("public_metadata")) == R"({"n":{"y":2}})");  // replaced, not merged
    BOOST_TEST(r.json.at("private_metadata").as_object().empty());                    // {} clears
    BOOST_TEST(r.json.at("unsafe_metadata").at("u") == 1);                            // omitted: kept
    expect_error(b.bapi(verb::put, path, json::object{{"public_metadata", 7}}), 422, "form_param_type_invalid",
                 "public_metadata");
    expect_error(b.bapi(verb::put, "/v1/users/user_nope/metadata", json::object{{"public_metadata", json::object{}}}),
                 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(ban_revokes_sessions_and_unban_restores_access) {
    test_server s;
    auto b = bapi_client(s);
    auto u = create_user(b, {{"email_address", json::array{"banned@example.com"}}, {"password", strong}});
    std::string id = str(u.at("id"));
    auto one = seed_client_session(s, id);
    auto two = seed_client_session(s, id);
    auto other_user = create_user(b, {{"email_address", json::array{"bystander@example.com"}}});
    auto three = seed_client_session(s, str(other_user.at("id")));

    auto r = b.bapi(verb::post, "/v1/users/" + id + "/ban");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.json.at("object") == "user");
    BOOST_TEST(r.json.at("banned") == true);
    for (auto const& sid : {one.session_id, two.session_id}) {
        auto sr = b.bapi(verb::get, "/v1/sessions/" + sid);
        BOOST_TEST_REQUIRE(sr.status == 200u);
        BOOST_TEST(sr.json.at("status") == "revoked");
        // No token can be minted for a revoked session.
        BOOST_TEST(b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens").status != 200u);
    }
    BOOST_TEST(b.bapi(verb::get, "/v1/sessions/" + three.session_id).json.at("status") == "active");
    BOOST_TEST(b.bapi(verb::get, "/v1/users/" + id).json.at("banned") == true);

    auto un = b.bapi(verb::post, "/v1/users/" + id + "/unban");
    BOOST_TEST_REQUIRE(un.status == 200u);
    BOOST_TEST(un.json.at("banned") == false);
    expect_error(b.bapi(verb::post, "/v1/users/user_nope/ban"), 404, "resource_not_found");
    expect_error(b.bapi(verb::post, "/v1/users/user_nope/unban"), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(lock_and_unlock) {
    test_server s;
    auto b = bapi_client(s);
    auto u = create_user(b, {{"email_address", json::array{"lock@example.com"}}});
    std::string id = str(u.at("id"));
    auto r = b.bapi(verb::post, "/v1/users/" + id + "/lock");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.json.at("locked") == true);
    BOOST_TEST(r.json.at("lockout_expires_in_seconds").as_int64() > 0);
    auto rec = s.app().db.with_read([&](store::read_txn& t) { return t.users().get(id); });
    BOOST_TEST_REQUIRE((rec && *rec));
    BOOST_TEST((*rec)->locked);
    BOOST_TEST((*rec)->lockout_expires_at > s.app().now_ms());
    auto un = b.bapi(verb::post, "/v1/users/" + id + "/unlock");
    BOOST_TEST_REQUIRE(un.status == 200u);
    BOOST_TEST(un.json.at("locked") == false);
    BOOST_TEST(un.json.at("lockout_expires_in_seconds").is_null());
    expect_error(b.bapi(verb::post, "/v1/users/user_nope/lock"), 404, "resource_not_found");
    expect_error(b.bapi(verb::post, "/v1/users/user_nope/unlock"), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(an_explicit_lock_ends_with_the_lockout_duration) {
    test_server s([](conf::config& c) { c.protection.lockout = std::chrono::seconds(60); });
    auto b = bapi_client(s);
    auto u = create_user(b, json::object{{"email_address", json::array{"expiring@example.com"}},
                                         {"password", "correct horse battery staple"}});
    std::string const id = str(u.at("id"));
    BOOST_TEST_REQUIRE(b.bapi(http::verb::post, "/v1/users/" + id + "/lock").status == 200u);
    http_client c(s.fapi_port());
    auto sign_in = [&] {
        return c.fapi("POST", "/v1/client/sign_ins",
                      {{"identifier", "expiring@example.com"},
                       {"strategy", "password"},
                       {"password", "correct horse battery staple"}});
    };
    expect_error(sign_in(), 403, "user_locked");
    s.advance(std::chrono::seconds(61));
    auto after = b.bapi(http::verb::get, "/v1/users/" + id);
    BOOST_TEST(after.json.at("locked") == false);
    BOOST_TEST(after.json.at("lockout_expires_in_seconds").is_null());
    auto ok = sign_in();
    BOOST_TEST(ok.status == 200u, ok.body);
}

BOOST_AUTO_TEST_SUITE_END()
