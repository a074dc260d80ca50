// latchkey as an OAuth 2.0 / OpenID Connect provider (issue 15): BAPI /v1/oauth_applications and the FAPI
// /oauth/* endpoints, on the real server over sockets.
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
    auto up = b.bapi(verb::patch, "/v1/oauth_applications/" + id, json::object{{"name", "Acme 2"}, {"scopes", "profile"}});
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
    expect_error(b.bapi(verb::post, "/v1/oauth_applications", json::object{{"redirect_uris", json::array{"https://a/cb"}}}),
                 422, "form_param_missing", "name");
    expect_error(b.bapi(verb::post, "/v1/oauth_applications", json::object{{"name", "x"}, {"redirect_uris", json::array{"not a uri"}}}),
                 422, "form_param_format_invalid", "redirect_uris");
    expect_error(b.bapi(verb::post, "/v1/oauth_applications", json::object{{"name", "x"}, {"redirect_uris", json::array{"https://a/cb#frag"}}}),
                 422, "form_param_format_invalid", "redirect_uris");
    expect_error(b.bapi(verb::post, "/v1/oauth_applications", json::object{{"name", "x"}, {"scopes", "profile admin"}}),
                 422, "form_param_value_invalid", "scopes");
    expect_error(b.bapi(verb::post, "/v1/oauth_applications", json::object{{"name", 5}}), 422,
                 "form_param_type_invalid", "name");
    expect_error(b.bapi(verb::post, "/v1/oauth_applications", json::object{{"name", "x"}, {"public", "yes"}}), 422,
                 "form_param_type_invalid", "public");
    BOOST_TEST(b.bapi(verb::get, "/v1/oauth_applications").json.at("total_count").as_int64() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
