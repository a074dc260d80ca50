// BAPI user CRUD on the memory store: create, read, list by filter, update, delete (its sessions revoked), and
// the Clerk-shaped errors of a taken identifier and a missing user.
#include "tests/handler/harness.hpp"

#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::handler_test;

BOOST_AUTO_TEST_SUITE(handler_bapi_users)

BOOST_AUTO_TEST_CASE(create_read_list_update_delete) {
    handler_env env;
    auto created = env.bapi(http::verb::post, "/v1/users",
                            json::object{{"email_address", json::array{"Ada@Example.com"}},
                                         {"username", "ada_l"},
                                         {"first_name", "Ada"},
                                         {"password", "correct horse battery staple"}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    auto const id = str(created.json.at("id"));
    BOOST_TEST(str(created.json.at("object")) == "user");
    BOOST_TEST(str(created.json.at("email_addresses").at(0).at("email_address")) == "ada@example.com");
    BOOST_TEST(created.json.at("password_enabled").as_bool());

    auto got = env.bapi(http::verb::get, "/v1/users/" + id);
    BOOST_TEST_REQUIRE(got.status == 200u, got.body);
    BOOST_TEST(str(got.json.at("username")) == "ada_l");

    auto listed = env.bapi(http::verb::get, "/v1/users?email_address=ADA@example.com");
    BOOST_TEST_REQUIRE(listed.status == 200u, listed.body);
    BOOST_TEST_REQUIRE(listed.json.as_array().size() == 1u);
    BOOST_TEST(str(listed.json.at(0).at("id")) == id);
    auto count = env.bapi(http::verb::get, "/v1/users/count");
    BOOST_TEST(count.json.at("total_count").as_int64() == 1);

    auto patched = env.bapi(http::verb::patch, "/v1/users/" + id, json::object{{"first_name", "Augusta"}});
    BOOST_TEST_REQUIRE(patched.status == 200u, patched.body);
    BOOST_TEST(str(patched.json.at("first_name")) == "Augusta");
    auto stored = env.read([&](store::read_txn& t) { return t.users().get(id); });
    BOOST_TEST_REQUIRE(stored.has_value());
    BOOST_TEST_REQUIRE(stored->has_value());
    BOOST_TEST((*stored)->first_name == "Augusta");

    auto deleted = env.bapi(http::verb::delete_, "/v1/users/" + id);
    BOOST_TEST_REQUIRE(deleted.status == 200u, deleted.body);
    BOOST_TEST(deleted.json.at("deleted").as_bool());
    auto gone = env.bapi(http::verb::get, "/v1/users/" + id);
    BOOST_TEST(gone.status == 404u, gone.body);
    BOOST_TEST(gone.error_code() == "resource_not_found");
    // The address is free again.
    auto owner = env.read([](store::read_txn& t) { return t.users().id_by_email("ada@example.com"); });
    BOOST_TEST(!owner.value().has_value());
}

BOOST_AUTO_TEST_CASE(a_taken_identifier_is_a_clerk_shaped_422) {
    handler_env env;
    auto first = env.bapi(http::verb::post, "/v1/users", json::object{{"email_address", json::array{"x@example.com"}}});
    BOOST_TEST_REQUIRE(first.status == 200u, first.body);
    auto second =
        env.bapi(http::verb::post, "/v1/users", json::object{{"email_address", json::array{"X@example.com"}}});
    BOOST_TEST(second.status == 422u, second.body);
    BOOST_TEST(second.error_code() == "form_identifier_exists");
    BOOST_TEST(second.param_name() == "email_address");
    BOOST_TEST(env.read([](store::read_txn& t) { return t.users().count({}); }).value() == 1u);
}

BOOST_AUTO_TEST_CASE(deleting_a_user_revokes_its_sessions) {
    handler_env env;
    auto u = env.bapi(
        http::verb::post, "/v1/users",
        json::object{{"email_address", json::array{"gone@example.com"}}, {"password", "correct horse battery staple"}});
    BOOST_TEST_REQUIRE(u.status == 200u, u.body);
    auto si = env.fapi(
        "POST", "/v1/client/sign_ins",
        {{"identifier", "gone@example.com"}, {"strategy", "password"}, {"password", "correct horse battery staple"}});
    BOOST_TEST_REQUIRE(si.status == 200u, si.body);
    auto const sid = str(si.response().at("created_session_id"));
    auto deleted = env.bapi(http::verb::delete_, "/v1/users/" + str(u.json.at("id")));
    BOOST_TEST_REQUIRE(deleted.status == 200u, deleted.body);
    auto s = env.read([&](store::read_txn& t) { return t.sessions().get(sid); });
    BOOST_TEST_REQUIRE(s.has_value());
    BOOST_TEST_REQUIRE(s->has_value());
    BOOST_TEST((*s)->status != "active");
    BOOST_TEST(env.app().tokens.find(sid, "", env.app().now_ms() / 1000, 0, 0) == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
