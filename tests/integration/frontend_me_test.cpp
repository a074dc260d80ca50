// FAPI /v1/me*: the signed-in user's profile, metadata, password, self-deletion, sessions, email addresses
// and phone numbers, over HTTP against the real server.
#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::test;

namespace {

constexpr char const* password = "correct horse battery staple";

/// The session ids in the piggy-backed client.
std::vector<std::string> client_session_ids(http_result const& r) {
    std::vector<std::string> out;
    auto const& c = r.json.at("client");
    if (!c.is_object()) return out;
    for (auto const& s : c.at("sessions").as_array()) out.push_back(str(s.at("id")));
    return out;
}

bool mint_ok(http_client& c, std::string const& session_id) {
    return c.fapi("POST", "/v1/client/sessions/" + session_id + "/tokens").status == 200u;
}

/// Adds an email address to the current user and verifies it with the code from the outbox.
std::string add_verified_email(test_server& s, http_client& c, std::string const& email) {
    auto created = c.fapi("POST", "/v1/me/email_addresses", {{"email_address", email}});
    BOOST_TEST_REQUIRE(created.status == 200u);
    std::string id = str(created.json.at("response").at("id"));
    auto prep = c.fapi("POST", "/v1/me/email_addresses/" + id + "/prepare_verification", {{"strategy", "email_code"}});
    BOOST_TEST_REQUIRE(prep.status == 200u);
    auto code = s.last_code(email);
    BOOST_TEST_REQUIRE(code.size() == 6u);
    auto att = c.fapi("POST", "/v1/me/email_addresses/" + id + "/attempt_verification", {{"code", code}});
    BOOST_TEST_REQUIRE(att.status == 200u);
    return id;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(frontend_me)

BOOST_FIXTURE_TEST_CASE(requires_a_live_session, fapi_env) {
    // No client at all.
    for (auto const& [m, p] :
         std::vector<std::pair<std::string, std::string>>{{"GET", "/v1/me"},
                                                          {"PATCH", "/v1/me"},
                                                          {"GET", "/v1/me/sessions"},
                                                          {"GET", "/v1/me/sessions/active"},
                                                          {"GET", "/v1/me/email_addresses"},
                                                          {"POST", "/v1/me/phone_numbers"},
                                                          {"POST", "/v1/me/sessions/sess_x/revoke"},
                                                          {"POST", "/v1/me/change_password"}}) {
        auto r = c.fapi(m, p);
        BOOST_TEST(r.status == 401u, m << " " << p);
        BOOST_TEST(r.error_code() == "authentication_invalid", m << " " << p);
    }
    // A client without a session.
    BOOST_TEST_REQUIRE(c.fapi("POST", "/v1/client").status == 200u);
    BOOST_TEST(c.fapi("GET", "/v1/me").status == 401u);

    // A signed-in client whose session was ended.
    auto [d, who] = browser(s, "ended@example.com");
    BOOST_TEST(d.fapi("GET", "/v1/me").status == 200u);
    BOOST_TEST_REQUIRE(d.fapi("POST", "/v1/client/sessions/" + who.session_id + "/end").status == 200u);
    auto r = d.fapi("GET", "/v1/me");
    expect_error(r, 401, "authentication_invalid");
}

BOOST_AUTO_TEST_CASE(get_me_and_session_selection) {
    test_server s;
    auto [c, who] = browser(s, "Ann@Example.com");
    auto r = c.fapi("GET", "/v1/me");
    BOOST_TEST_REQUIRE(r.status == 200u);
    auto const& u = r.json.at("response");
    BOOST_TEST(str(u.at("object")) == "user");
    BOOST_TEST(str(u.at("id")) == who.user_id);
    BOOST_TEST(u.at("email_addresses").as_array().size() == 1u);
    BOOST_TEST(u.at("password_enabled").as_bool());
    BOOST_TEST(!u.as_object().contains("private_metadata"));
    BOOST_TEST(r.json.at("client").is_object());

    // Explicit _clerk_session_id: this client's live session works; someone else's or a dead one is 401 and is
    // not silently replaced by the last active session.
    BOOST_TEST(c.fapi("GET", "/v1/me?_clerk_session_id=" + who.session_id).status == 200u);
    auto [other, bob] = browser(s, "bob@example.com");
    auto foreign = c.fapi("GET", "/v1/me?_clerk_session_id=" + bob.session_id);
    expect_error(foreign, 401, "authentication_invalid");
    BOOST_TEST(c.fapi("GET", "/v1/me?_clerk_session_id=sess_nope").status == 401u);

    // Multi-session: a second user on the same client is selected by _clerk_session_id.
    auto carol_id = seed_user(s.app(), "carol@example.com");
    auto carol_sess = seed_session(s.app(), who.client_id, carol_id);
    BOOST_TEST(str(c.fapi("GET", "/v1/me").json.at("response").at("id")) == carol_id);  // last active
    auto ann = c.fapi("GET", "/v1/me?_clerk_session_id=" + who.session_id);
    BOOST_TEST(str(ann.json.at("response").at("id")) == who.user_id);
    (void)carol_sess;
}

BOOST_AUTO_TEST_CASE(update_me_profile_and_metadata) {
    test_server s;
    auto [c, who] = browser(s, "dana@example.com");
    auto r = c.fapi("PATCH", "/v1/me",
                    {{"first_name", "Dana"}, {"last_name", "Scully"}, {"unsafe_metadata", R"({"theme":"dark"})"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("first_name")) == "Dana");
    BOOST_TEST(str(r.json.at("response").at("last_name")) == "Scully");
    BOOST_TEST(str(r.json.at("response").at("unsafe_metadata").at("theme")) == "dark");
    // The piggy-backed client carries the updated user.
    auto const& sessions = r.json.at("client").at("sessions").as_array();
    BOOST_TEST_REQUIRE(sessions.size() == 1u);
    BOOST_TEST(str(sessions[0].at("user").at("first_name")) == "Dana");
    auto stored = load_user(s, who.user_id);
    BOOST_TEST(stored->first_name == "Dana");
    BOOST_TEST(stored->unsafe_metadata == R"({"theme":"dark"})");

    // Clearing a name (clerk-js sends null as an empty value).
    r = c.fapi("PATCH", "/v1/me", {{"last_name", ""}});
    BOOST_TEST(r.json.at("response").at("last_name").is_null());
    BOOST_TEST(str(r.json.at("response").at("first_name")) == "Dana");

    // Bad input is 422 naming the parameter, and changes nothing.
    r = c.fapi("PATCH", "/v1/me", {{"first_name", "X"}, {"unsafe_metadata", "[1,2]"}});
    expect_error(r, 422, "form_param_format_invalid", "unsafe_metadata");
    r = c.fapi("PATCH", "/v1/me", {{"unsafe_metadata", "{not json"}});
    BOOST_TEST(r.param_name() == "unsafe_metadata");
    r = c.fapi("PATCH", "/v1/me", {{"first_name", std::string(257, 'a')}});
    BOOST_TEST(r.status == 422u);
    BOOST_TEST(r.param_name() == "first_name");
    r = c.fapi("PATCH", "/v1/me", {{"primary_web3_wallet_id", "w3w_1"}});
    BOOST_TEST(r.param_name() == "primary_web3_wallet_id");
    BOOST_TEST(load_user(s, who.user_id)->first_name == "Dana");
}

BOOST_AUTO_TEST_CASE(update_me_username_rules) {
    test_server s([](conf::config& c) { c.username = {true, false, true, false}; });
    auto [c, who] = browser(s, "erin@example.com");
    auto r = c.fapi("PATCH", "/v1/me", {{"username", "abc"}});
    expect_error(r, 422, "form_username_invalid_length", "username");
    r = c.fapi("PATCH", "/v1/me", {{"username", std::string(65, 'a')}});
    BOOST_TEST(r.error_code() == "form_username_invalid_length");
    r = c.fapi("PATCH", "/v1/me", {{"username", "erin smith"}});
    BOOST_TEST(r.error_code() == "form_username_invalid_character");
    BOOST_TEST(r.param_name() == "username");
    r = c.fapi("PATCH", "/v1/me", {{"username", "erin_99-x"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("username")) == "erin_99-x");

    // Another user cannot take it, in any letter case.
    http_client other(s.fapi_port());
    sign_in_browser(s, other, "frank@example.com");
    r = other.fapi("PATCH", "/v1/me", {{"username", "ERIN_99-X"}, {"first_name", "Frank"}});
    expect_error(r, 422, "form_identifier_exists", "username");
    BOOST_TEST(other.fapi("GET", "/v1/me").json.at("response").at("first_name").is_null());  // rolled back
    BOOST_TEST(load_user(s, who.user_id)->username == "erin_99-x");

    // Disabled usernames are refused.
    test_server s2;
    http_client c2(s2.fapi_port());
    sign_in_browser(s2, c2, "gus@example.com");
    r = c2.fapi("PATCH", "/v1/me", {{"username", "gus_gus"}});
    BOOST_TEST(r.status == 422u);
    BOOST_TEST(r.param_name() == "username");
}

BOOST_AUTO_TEST_CASE(metadata_patch_deep_merges) {
    test_server s;
    auto [c, who] = browser(s, "hal@example.com");
    auto r = c.fapi("PATCH", "/v1/me", {{"unsafe_metadata", R"({"a":1,"b":{"c":2},"keep":true})"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    r = c.fapi("PATCH", "/v1/me/metadata", {{"unsafe_metadata", R"({"a":null,"b":{"d":3},"e":"x"})"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    auto const& md = r.json.at("response").at("unsafe_metadata").as_object();
    BOOST_TEST(!md.contains("a"));
    BOOST_TEST(md.at("b").at("c").as_int64() == 2);
    BOOST_TEST(md.at("b").at("d").as_int64() == 3);
    BOOST_TEST(str(md.at("e")) == "x");
    BOOST_TEST(md.at("keep").as_bool());
    BOOST_TEST(json::parse(load_user(s, who.user_id)->unsafe_metadata) == json::value(md));

    r = c.fapi("PATCH", "/v1/me/metadata");
    expect_error(r, 422, "form_param_missing", "unsafe_metadata");
    r = c.fapi("PATCH", "/v1/me/metadata", {{"unsafe_metadata", "\"str\""}});
    BOOST_TEST(r.param_name() == "unsafe_metadata");
    // Over 8 KiB in total is refused.
    std::string big = R"({"blob":")" + std::string(7000, 'x') + "\"}";
    BOOST_TEST(c.fapi("PATCH", "/v1/me/metadata", {{"unsafe_metadata", big}}).status == 200u);
    std::string big2 = R"({"blob2":")" + std::string(7000, 'y') + "\"}";
    r = c.fapi("PATCH", "/v1/me/metadata", {{"unsafe_metadata", big2}});
    expect_error(r, 422, "form_param_max_length_exceeded");
}

BOOST_AUTO_TEST_CASE(delete_me_removes_user_and_sessions) {
    test_server s;
    auto [c, who] = browser(s, "ivy@example.com");
    http_client phone(s.fapi_port());
    auto second = sign_in_browser_as(s, phone, who.user_id);

    // Not allowed when the user may not delete itself.
    edit_user(s, who.user_id, [](store::user_record& u) { u.delete_self_enabled = false; });
    auto r = c.fapi("DELETE", "/v1/me");
    expect_error(r, 403, "delete_self_disabled");
    BOOST_TEST(load_user(s, who.user_id).has_value());

    edit_user(s, who.user_id, [](store::user_record& u) { u.delete_self_enabled = true; });
    r = c.fapi("DELETE", "/v1/me");
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("object")) == "user");
    BOOST_TEST(str(r.json.at("response").at("id")) == who.user_id);
    BOOST_TEST(r.json.at("response").at("deleted").as_bool());
    BOOST_TEST(r.json.at("client").at("sessions").as_array().empty());
    BOOST_TEST(r.json.at("client").at("last_active_session_id").is_null());
    BOOST_TEST(!load_user(s, who.user_id).has_value());
    BOOST_TEST(load_session(s, who.session_id)->status == "removed");
    BOOST_TEST(load_session(s, second.session_id)->status == "removed");
    BOOST_TEST(c.fapi("GET", "/v1/me").status == 401u);
    BOOST_TEST(!mint_ok(phone, second.session_id));
}

BOOST_AUTO_TEST_CASE(me_tokens_need_a_known_service) {
    test_server s;
    auto [c, who] = browser(s, "jack@example.com");
    auto r = c.fapi("POST", "/v1/me/tokens");
    expect_error(r, 422, "form_param_missing", "service");
    r = c.fapi("POST", "/v1/me/tokens", {{"service", "firebase"}});
    BOOST_TEST(r.status == 422u);
    BOOST_TEST(r.param_name() == "service");

    // A service that names a JWT template mints that template's token for the current session, bare.
    auto& a = s.app();
    store::jwt_template_record tpl;
    tpl.id = crypto::new_id("jtmp");
    tpl.name = "supabase";
    tpl.claims = R"({"role":"authenticated"})";
    tpl.created_at = tpl.updated_at = a.now_ms();
    BOOST_TEST_REQUIRE(
        a.db.with_write([&](store::write_txn& w) { return w.jwt_templates().put(tpl, nullptr); }).has_value());
    r = c.fapi("POST", "/v1/me/tokens", {{"service", "supabase"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at("object")) == "token");
    auto claims = jwt_payload(str(r.json.at("jwt")));
    BOOST_TEST(str(claims.at("sub")) == who.user_id);
    BOOST_TEST(str(claims.at("sid")) == who.session_id);
    BOOST_TEST(str(claims.at("role")) == "authenticated");
}

BOOST_AUTO_TEST_CASE(change_password) {
    test_server s;
    auto [c, who] = browser(s, "kate@example.com");
    http_client laptop(s.fapi_port());
    auto other = sign_in_browser_as(s, laptop, who.user_id);

    auto r = c.fapi("POST", "/v1/me/change_password", {{"current_password", password}});
    BOOST_TEST(r.status == 422u);
    BOOST_TEST(r.param_name() == "new_password");
    r = c.fapi("POST", "/v1/me/change_password", {{"new_password", "a brand new passphrase"}});
    expect_error(r, 422, "form_param_missing", "current_password");
    r = c.fapi("POST", "/v1/me/change_password",
               {{"current_password", "wrong password here"}, {"new_password", "a brand new passphrase"}});
    expect_error(r, 422, "form_password_incorrect", "current_password");
    r = c.fapi("POST", "/v1/me/change_password", {{"current_password", password}, {"new_password", "short"}});
    expect_error(r, 422, "form_password_length_too_short", "new_password");
    r = c.fapi("POST", "/v1/me/change_password", {{"current_password", password}, {"new_password", "password123"}});
    BOOST_TEST(r.error_code() == "form_password_pwned");
    BOOST_TEST(r.param_name() == "new_password");
    r = c.fapi("POST", "/v1/me/change_password",
               {{"current_password", password},
                {"new_password", "a brand new passphrase"},
                {"sign_out_of_other_sessions", "maybe"}});
    BOOST_TEST(r.param_name() == "sign_out_of_other_sessions");
    auto before = load_user(s, who.user_id)->password_digest;
    BOOST_TEST(crypto::verify_password(password, before).value());

    // Success without signing out elsewhere.
    r = c.fapi("POST", "/v1/me/change_password",
               {{"current_password", password}, {"new_password", "a brand new passphrase"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("id")) == who.user_id);
    BOOST_TEST(r.json.at("response").at("password_enabled").as_bool());
    BOOST_TEST(r.json.at("response").at("password_last_updated_at").is_int64());
    auto u = load_user(s, who.user_id);
    BOOST_TEST(crypto::verify_password("a brand new passphrase", u->password_digest).value());
    BOOST_TEST(!crypto::verify_password(password, u->password_digest).value());
    BOOST_TEST(mint_ok(laptop, other.session_id));

    // The old password no longer counts as current.
    r = c.fapi("POST", "/v1/me/change_password",
               {{"current_password", password}, {"new_password", "third pass phrase"}});
    BOOST_TEST(r.error_code() == "form_password_incorrect");

    // sign_out_of_other_sessions revokes the other device but keeps this one.
    r = c.fapi("POST", "/v1/me/change_password",
               {{"current_password", "a brand new passphrase"},
                {"new_password", "third pass phrase"},
                {"sign_out_of_other_sessions", "true"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(load_session(s, other.session_id)->status == "revoked");
    BOOST_TEST(load_session(s, who.session_id)->status == "active");
    auto minted = laptop.fapi("POST", "/v1/client/sessions/" + other.session_id + "/tokens");
    BOOST_TEST(minted.status == 401u);
    BOOST_TEST(mint_ok(c, who.session_id));
    BOOST_TEST(client_session_ids(r) == std::vector<std::string>{who.session_id});
}

BOOST_AUTO_TEST_CASE(change_password_without_a_current_one) {
    test_server s;
    http_client c(s.fapi_port());
    auto who = sign_in_browser(s, c, "liam@example.com", "");
    auto r = c.fapi("POST", "/v1/me/change_password", {{"new_password", "first pass phrase"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(r.json.at("response").at("password_enabled").as_bool());
    BOOST_TEST(crypto::verify_password("first pass phrase", load_user(s, who.user_id)->password_digest).value());
}

BOOST_AUTO_TEST_CASE(remove_password) {
    {
        // Instances that require a password never let it go.
        test_server s;
        http_client c(s.fapi_port());
        sign_in_browser(s, c, "mia@example.com");
        auto r = c.fapi("POST", "/v1/me/remove_password", {{"current_password", password}});
        expect_error(r, 422, "cannot_remove_last_identification");
    }
    test_server s([](conf::config& c) { c.password.required = false; });
    auto [c, who] = browser(s, "ned@example.com");
    auto r = c.fapi("POST", "/v1/me/remove_password");
    BOOST_TEST(r.status == 422u);
    BOOST_TEST(r.param_name() == "current_password");
    r = c.fapi("POST", "/v1/me/remove_password", {{"current_password", "not my password"}});
    expect_error(r, 422, "form_password_incorrect", "current_password");
    BOOST_TEST(!load_user(s, who.user_id)->password_digest.empty());

    r = c.fapi("POST", "/v1/me/remove_password", {{"current_password", password}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(!r.json.at("response").at("password_enabled").as_bool());
    BOOST_TEST(load_user(s, who.user_id)->password_digest.empty());
    r = c.fapi("POST", "/v1/me/remove_password", {{"current_password", password}});
    expect_error(r, 422, "password_not_set");

    // Without email codes as a first factor, the password is the only way in and stays.
    test_server s3([](conf::config& cfg) {
        cfg.password.required = false;
        cfg.first_factors = {"password"};
    });
    http_client c3(s3.fapi_port());
    auto who3 = sign_in_browser(s3, c3, "olga@example.com");
    r = c3.fapi("POST", "/v1/me/remove_password", {{"current_password", password}});
    expect_error(r, 422, "cannot_remove_last_identification");
    BOOST_TEST(!load_user(s3, who3.user_id)->password_digest.empty());
}

BOOST_AUTO_TEST_CASE(sessions_list_active_and_revoke) {
    test_server s;
    auto [c, who] = browser(s, "pam@example.com");
    http_client tablet(s.fapi_port());
    auto other = sign_in_browser_as(s, tablet, who.user_id);
    auto [stranger, quinn] = browser(s, "quinn@example.com");

    auto r = c.fapi("GET", "/v1/me/sessions");
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST_REQUIRE(r.json.is_array());  // bare array (Server.Sessions)
    BOOST_TEST(r.json.as_array().size() == 2u);
    for (auto const& sj : r.json.as_array()) {
        BOOST_TEST(str(sj.at("object")) == "session");
        BOOST_TEST(str(sj.at("status")) == "active");
        BOOST_TEST(str(sj.at("user").at("id")) == who.user_id);
        BOOST_TEST(sj.at("last_active_token").is_null());  // other devices' tokens never leak
        BOOST_TEST(sj.at("factor_verification_age").as_array().size() == 2u);
    }

    r = c.fapi("GET", "/v1/me/sessions/active");
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST_REQUIRE(r.json.is_array());  // clerk-js maps the bare payload
    BOOST_TEST(r.json.as_array().size() == 2u);
    for (auto const& sj : r.json.as_array()) {
        auto const& act = sj.at("latest_activity");
        BOOST_TEST(str(act.at("object")) == "session_activity");
        BOOST_TEST(!str(act.at("id")).empty());
        BOOST_TEST(act.at("is_mobile").as_bool() == false);
    }

    // Someone else's session, or an unknown one, is not found.
    r = c.fapi("POST", "/v1/me/sessions/" + quinn.session_id + "/revoke");
    expect_error(r, 404, "resource_not_found");
    BOOST_TEST(load_session(s, quinn.session_id)->status == "active");
    BOOST_TEST(c.fapi("POST", "/v1/me/sessions/sess_missing/revoke").status == 404u);

    // Revoking the tablet's session.
    BOOST_TEST(mint_ok(tablet, other.session_id));
    r = c.fapi("POST", "/v1/me/sessions/" + other.session_id + "/revoke");
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("id")) == other.session_id);
    BOOST_TEST(str(r.json.at("response").at("status")) == "revoked");
    BOOST_TEST(r.json.at("response").at("last_active_token").is_null());
    BOOST_TEST(client_session_ids(r) == std::vector<std::string>{who.session_id});
    BOOST_TEST(load_session(s, other.session_id)->status == "revoked");
    auto minted = tablet.fapi("POST", "/v1/client/sessions/" + other.session_id + "/tokens");
    BOOST_TEST(minted.status == 401u);
    BOOST_TEST(tablet.fapi("GET", "/v1/me").status == 401u);

    BOOST_TEST(c.fapi("GET", "/v1/me/sessions/active").json.as_array().size() == 1u);
    r = c.fapi("GET", "/v1/me/sessions");
    BOOST_TEST(r.json.as_array().size() == 2u);
    bool saw_revoked = false;
    for (auto const& sj : r.json.as_array())
        if (str(sj.at("id")) == other.session_id) saw_revoked = str(sj.at("status")) == "revoked";
    BOOST_TEST(saw_revoked);
}

BOOST_AUTO_TEST_CASE(email_addresses_lifecycle) {
    test_server s;
    auto [c, who] = browser(s, "rita@example.com");
    http_client stranger(s.fapi_port());
    sign_in_browser(s, stranger, "sam@example.com");
    auto const first_id = load_user(s, who.user_id)->primary_email_address_id;

    // Create: validation and uniqueness.
    auto r = c.fapi("POST", "/v1/me/email_addresses");
    expect_error(r, 422, "form_param_missing", "email_address");
    r = c.fapi("POST", "/v1/me/email_addresses", {{"email_address", "not-an-email"}});
    BOOST_TEST(r.error_code() == "form_param_format_invalid");
    BOOST_TEST(r.param_name() == "email_address");
    r = c.fapi("POST", "/v1/me/email_addresses", {{"email_address", "SAM@example.com"}});
    expect_error(r, 422, "form_identifier_exists", "email_address");
    r = c.fapi("POST", "/v1/me/email_addresses", {{"email_address", "rita@example.com"}});
    BOOST_TEST(r.error_code() == "form_identifier_exists");

    r = c.fapi("POST", "/v1/me/email_addresses", {{"email_address", " Rita.Work@Example.COM "}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    auto const& created = r.json.at("response");
    std::string const work_id = str(created.at("id"));
    BOOST_TEST(work_id.starts_with("idn_"));
    BOOST_TEST(str(created.at("object")) == "email_address");
    BOOST_TEST(str(created.at("email_address")) == "rita.work@example.com");
    BOOST_TEST(created.at("linked_to").as_array().empty());
    BOOST_TEST(!created.at("reserved").as_bool());
    BOOST_TEST(created.at("verification").is_null());
    BOOST_TEST(r.json.at("client").at("sessions").as_array()[0].at("user").at("email_addresses").as_array().size() ==
               2u);

    // List (bare array) and get.
    r = c.fapi("GET", "/v1/me/email_addresses");
    BOOST_TEST_REQUIRE(r.json.is_array());
    BOOST_TEST(r.json.as_array().size() == 2u);
    r = c.fapi("GET", "/v1/me/email_addresses/" + work_id);
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("email_address")) == "rita.work@example.com");
    auto foreign_id = load_user(s, seed_user(s.app(), "tom@example.com"))->primary_email_address_id;
    BOOST_TEST(c.fapi("GET", "/v1/me/email_addresses/" + foreign_id).status == 404u);
    BOOST_TEST(c.fapi("DELETE", "/v1/me/email_addresses/" + foreign_id).status == 404u);
    BOOST_TEST(
        c.fapi("POST", "/v1/me/email_addresses/" + foreign_id + "/prepare_verification", {{"strategy", "email_code"}})
            .status == 404u);

    // A primary must be verified.
    r = c.fapi("PATCH", "/v1/me", {{"primary_email_address_id", work_id}});
    BOOST_TEST(r.status == 422u);
    BOOST_TEST(r.param_name() == "primary_email_address_id");
    r = c.fapi("PATCH", "/v1/me", {{"primary_email_address_id", foreign_id}});
    BOOST_TEST(r.param_name() == "primary_email_address_id");

    // Verification.
    r = c.fapi("POST", "/v1/me/email_addresses/" + work_id + "/prepare_verification");
    BOOST_TEST(r.param_name() == "strategy");
    r = c.fapi("POST", "/v1/me/email_addresses/" + work_id + "/prepare_verification", {{"strategy", "email_link"}});
    BOOST_TEST(r.status == 422u);
    BOOST_TEST(r.param_name() == "strategy");
    r = c.fapi("POST", "/v1/me/email_addresses/" + work_id + "/attempt_verification", {{"code", "123456"}});
    BOOST_TEST(r.error_code() == "verification_not_sent");
    r = c.fapi("POST", "/v1/me/email_addresses/" + work_id + "/prepare_verification", {{"strategy", "email_code"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("verification").at("status")) == "unverified");
    BOOST_TEST(str(r.json.at("response").at("verification").at("strategy")) == "email_code");
    auto code = s.last_code("rita.work@example.com");
    BOOST_TEST_REQUIRE(code.size() == 6u);
    std::string wrong = code == "000000" ? "111111" : "000000";
    r = c.fapi("POST", "/v1/me/email_addresses/" + work_id + "/attempt_verification", {{"code", wrong}});
    expect_error(r, 422, "form_code_incorrect", "code");
    // The failed attempt was recorded.
    r = c.fapi("GET", "/v1/me/email_addresses/" + work_id);
    BOOST_TEST(r.json.at("response").at("verification").at("attempts").as_int64() == 1);
    r = c.fapi("POST", "/v1/me/email_addresses/" + work_id + "/attempt_verification");
    BOOST_TEST(r.param_name() == "code");
    r = c.fapi("POST", "/v1/me/email_addresses/" + work_id + "/attempt_verification", {{"code", code}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("verification").at("status")) == "verified");
    r = c.fapi("POST", "/v1/me/email_addresses/" + work_id + "/prepare_verification", {{"strategy", "email_code"}});
    BOOST_TEST(r.error_code() == "verification_already_verified");

    // Now it can become primary.
    r = c.fapi("PATCH", "/v1/me", {{"primary_email_address_id", work_id}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("primary_email_address_id")) == work_id);

    // Deleting the primary hands primary to the other verified address.
    r = c.fapi("DELETE", "/v1/me/email_addresses/" + work_id);
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("object")) == "email_address");
    BOOST_TEST(str(r.json.at("response").at("id")) == work_id);
    BOOST_TEST(r.json.at("response").at("deleted").as_bool());
    auto u = load_user(s, who.user_id);
    BOOST_TEST(u->identifications.size() == 1u);
    BOOST_TEST(u->primary_email_address_id == first_id);
    // The freed address can be taken by someone else.
    BOOST_TEST(stranger.fapi("POST", "/v1/me/email_addresses", {{"email_address", "rita.work@example.com"}}).status ==
               200u);

    // The last verified email (required by the instance) cannot go.
    r = c.fapi("DELETE", "/v1/me/email_addresses/" + first_id);
    expect_error(r, 422, "cannot_remove_last_identification");
    BOOST_TEST(load_user(s, who.user_id)->identifications.size() == 1u);

    // An unverified extra address can always go.
    r = c.fapi("POST", "/v1/me/email_addresses", {{"email_address", "rita.spare@example.com"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(c.fapi("DELETE", "/v1/me/email_addresses/" + str(r.json.at("response").at("id"))).status == 200u);
}

BOOST_AUTO_TEST_CASE(attempt_makes_first_verified_email_primary) {
    test_server s([](conf::config& c) { c.email_address.required = false; });
    auto [c, who] = browser(s, "uma@example.com");
    edit_user(s, who.user_id, [](store::user_record& u) {
        u.identifications.clear();
        u.primary_email_address_id.clear();
        u.username = "uma_user";
    });
    auto id = add_verified_email(s, c, "uma@example.org");
    BOOST_TEST(load_user(s, who.user_id)->primary_email_address_id == id);
}

BOOST_AUTO_TEST_CASE(phone_numbers_lifecycle) {
    test_server s([](conf::config& c) {
        c.phone_number = {true, false, true, false};
        c.first_factors.push_back("phone_code");
    });
    auto [c, who] = browser(s, "vic@example.com");
    http_client stranger(s.fapi_port());
    sign_in_browser(s, stranger, "wes@example.com");

    auto r = c.fapi("POST", "/v1/me/phone_numbers");
    BOOST_TEST(r.status == 422u);
    BOOST_TEST(r.param_name() == "phone_number");
    r = c.fapi("POST", "/v1/me/phone_numbers", {{"phone_number", "call me"}});
    BOOST_TEST(r.error_code() == "form_param_format_invalid");
    BOOST_TEST(r.param_name() == "phone_number");
    r = c.fapi("POST", "/v1/me/phone_numbers",
               {{"phone_number", "+14155552671"}, {"reserved_for_second_factor", "true"}});
    BOOST_TEST(r.status == 422u);
    BOOST_TEST(r.param_name() == "reserved_for_second_factor");

    r = c.fapi("POST", "/v1/me/phone_numbers", {{"phone_number", "+1 (415) 555-2671"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    std::string const phone_id = str(r.json.at("response").at("id"));
    BOOST_TEST(str(r.json.at("response").at("object")) == "phone_number");
    BOOST_TEST(str(r.json.at("response").at("phone_number")) == "+14155552671");
    BOOST_TEST(!r.json.at("response").at("reserved_for_second_factor").as_bool());
    // An unverified number owns nothing: someone else may claim it too (issue 20: a squatter's unverified
    // claim must not block the real owner). The first to verify it takes it from the others (below).
    r = stranger.fapi("POST", "/v1/me/phone_numbers", {{"phone_number", "+14155552671"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);

    r = c.fapi("GET", "/v1/me/phone_numbers");
    BOOST_TEST_REQUIRE(r.json.is_array());
    BOOST_TEST(r.json.as_array().size() == 1u);
    BOOST_TEST(c.fapi("GET", "/v1/me/phone_numbers/" + phone_id).status == 200u);
    BOOST_TEST(stranger.fapi("GET", "/v1/me/phone_numbers/" + phone_id).status == 404u);
    BOOST_TEST(
        stranger.fapi("PATCH", "/v1/me/phone_numbers/" + phone_id, {{"default_second_factor", "false"}}).status ==
        404u);
    // An email id is not a phone number id.
    auto email_id = load_user(s, who.user_id)->primary_email_address_id;
    BOOST_TEST(c.fapi("GET", "/v1/me/phone_numbers/" + email_id).status == 404u);

    // PATCH: booleans are checked; second-factor flags need SMS as a second factor.
    r = c.fapi("PATCH", "/v1/me/phone_numbers/" + phone_id, {{"reserved_for_second_factor", "maybe"}});
    expect_error(r, 422, "form_param_type_invalid", "reserved_for_second_factor");
    r = c.fapi("PATCH", "/v1/me/phone_numbers/" + phone_id, {{"default_second_factor", "true"}});
    BOOST_TEST(r.status == 422u);
    BOOST_TEST(r.param_name() == "default_second_factor");
    r = c.fapi("PATCH", "/v1/me/phone_numbers/" + phone_id, {{"reserved_for_second_factor", "false"}});
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("id")) == phone_id);

    // Verify by SMS code; the first verified number becomes primary.
    r = c.fapi("POST", "/v1/me/phone_numbers/" + phone_id + "/prepare_verification", {{"strategy", "email_code"}});
    BOOST_TEST(r.param_name() == "strategy");
    r = c.fapi("POST", "/v1/me/phone_numbers/" + phone_id + "/prepare_verification", {{"strategy", "phone_code"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    auto code = s.last_code("+14155552671");
    BOOST_TEST_REQUIRE(code.size() == 6u);
    bool sms = false;
    for (auto const& m : s.outbox())
        if (str(m.at("to")) == "+14155552671") sms = str(m.at("channel")) == "sms";
    BOOST_TEST(sms);
    r = c.fapi("POST", "/v1/me/phone_numbers/" + phone_id + "/attempt_verification", {{"code", code}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("verification").at("status")) == "verified");
    auto u = load_user(s, who.user_id);
    BOOST_TEST(u->primary_phone_number_id == phone_id);
    BOOST_TEST(str(c.fapi("GET", "/v1/me").json.at("response").at("primary_phone_number_id")) == phone_id);
    // Verified, it is c's alone: the stranger's unverified claim is gone and cannot come back.
    BOOST_TEST(stranger.fapi("GET", "/v1/me/phone_numbers").json.as_array().empty());
    r = stranger.fapi("POST", "/v1/me/phone_numbers", {{"phone_number", "+14155552671"}});
    BOOST_TEST(r.error_code() == "form_identifier_exists");
    BOOST_TEST(r.param_name() == "phone_number");

    // Delete: the primary phone is cleared (phones are optional here).
    r = c.fapi("DELETE", "/v1/me/phone_numbers/" + phone_id);
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(str(r.json.at("response").at("object")) == "phone_number");
    BOOST_TEST(r.json.at("response").at("deleted").as_bool());
    u = load_user(s, who.user_id);
    BOOST_TEST(u->primary_phone_number_id.empty());
    BOOST_TEST(c.fapi("GET", "/v1/me/phone_numbers").json.as_array().empty());
    BOOST_TEST(c.fapi("DELETE", "/v1/me/phone_numbers/" + phone_id).status == 404u);
}

BOOST_AUTO_TEST_CASE(phone_numbers_disabled) {
    test_server s;
    http_client c(s.fapi_port());
    sign_in_browser(s, c, "xena@example.com");
    auto r = c.fapi("POST", "/v1/me/phone_numbers", {{"phone_number", "+14155552671"}});
    BOOST_TEST(r.status == 422u);
    BOOST_TEST(r.param_name() == "phone_number");
}

BOOST_AUTO_TEST_CASE(deleting_last_sign_in_method_is_refused) {
    // Email optional, no password required, usernames usable with a password.
    test_server s([](conf::config& c) {
        c.email_address.required = false;
        c.password.required = false;
        c.username = {true, false, true, false};
    });
    http_client c(s.fapi_port());
    auto who = sign_in_browser(s, c, "yan@example.com", "");
    auto id = load_user(s, who.user_id)->primary_email_address_id;
    // The only verified email is the only way in (by email code).
    auto r = c.fapi("DELETE", "/v1/me/email_addresses/" + id);
    expect_error(r, 422, "cannot_remove_last_identification");
    // A username alone is no way in without a password.
    BOOST_TEST_REQUIRE(c.fapi("PATCH", "/v1/me", {{"username", "yan_user"}}).status == 200u);
    r = c.fapi("DELETE", "/v1/me/email_addresses/" + id);
    BOOST_TEST(r.error_code() == "cannot_remove_last_identification");
    // Username + password is: now the email may go.
    BOOST_TEST_REQUIRE(c.fapi("POST", "/v1/me/change_password", {{"new_password", "yan's pass phrase"}}).status ==
                       200u);
    r = c.fapi("DELETE", "/v1/me/email_addresses/" + id);
    BOOST_TEST(r.status == 200u);
    auto u = load_user(s, who.user_id);
    BOOST_TEST(u->identifications.empty());
    BOOST_TEST(u->primary_email_address_id.empty());
    BOOST_TEST(c.fapi("GET", "/v1/me").json.at("response").at("primary_email_address_id").is_null());
}

BOOST_AUTO_TEST_CASE(create_paths_with_trailing_slash) {
    // clerk-js creates identifications on the collection path with a trailing slash
    // (`new EmailAddress(..., '/me/email_addresses/').create()`).
    test_server s([](conf::config& c) { c.phone_number = {true, false, true, false}; });
    auto [c, who] = browser(s, "zoe@example.com");
    auto r = c.fapi("POST", "/v1/me/email_addresses/", {{"email_address", "zoe.two@example.com"}});
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.json.at("response").at("email_address") == "zoe.two@example.com");
    r = c.fapi("POST", "/v1/me/phone_numbers/", {{"phone_number", "+14155552671"}});
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(load_user(s, who.user_id)->identifications.size() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
