// issue 17: every FAPI write replies with the envelope its own write txn read. For each family of steps — the
// sign-up steps, /v1/me and its identifications, second factors, passkeys and web3 wallets, the client's sessions,
// ticket sign-in and sign-up, reverification, organizations — the store sees exactly one write, nothing after it and a
// bounded number of reads before it (counting_db's txn log), and the client the reply piggy-backs is the one a fresh
// GET /v1/client renders right after (the same bytes: the staged rendering is the old path's).
#include "tests/handler/budget.hpp"

#include "crypto/totp.hpp"
#include "tests/common/webauthn.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <functional>
#include <string>

using namespace latchkey;
using namespace latchkey::handler_test;

namespace {

/// The test-mode address whose code is always 424242 (and to which nothing is sent).
constexpr char const* test_code = "424242";

std::string after(std::string const& text, std::string const& marker) {
    auto const at = text.find(marker);
    BOOST_TEST_REQUIRE(at != std::string::npos, text);
    auto rest = text.substr(at + marker.size());
    return rest.substr(0, rest.find('&'));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(handler_envelope)

BOOST_AUTO_TEST_CASE(sign_up_steps_reply_from_their_write) {
    handler_env env;
    auto created = within_budget(env, 1, 2, [&] {
        return env.fapi("POST", "/v1/client/sign_ups",
                        {{"email_address", "new+clerk_test@example.com"}, {"password", test_password}});
    });
    auto const id = str(created.response().at("id"));
    BOOST_TEST(str(created.json.at("client").at("sign_up").at("id")) == id);
    auto const path = "/v1/client/sign_ups/" + id;
    auto updated = within_budget(env, 1, 1, [&] {
        return env.fapi("PATCH", path, {{"unsafe_metadata", R"({"plan":"pro"})"}});
    });
    BOOST_TEST(updated.response().at("unsafe_metadata").at("plan") == "pro");
    auto prepared = within_budget(env, 1, 1, [&] {
        return env.fapi("POST", path + "/prepare_verification", {{"strategy", "email_code"}});
    });
    BOOST_TEST(str(prepared.response().at("verifications").at("email_address").at("status")) == "unverified");
    auto done = within_budget(env, 1, 1, [&] {
        return env.fapi("POST", path + "/attempt_verification", {{"strategy", "email_code"}, {"code", test_code}});
    });
    BOOST_TEST(str(done.response().at("status")) == "complete");
    auto const sid = str(done.response().at("created_session_id"));
    BOOST_TEST(str(done.json.at("client").at("last_active_session_id")) == sid);
    BOOST_TEST(str(done.json.at("client").at("sessions").at(0).at("id")) == sid);
    BOOST_TEST(done.json.at("client").at("sign_up").is_null());
}

BOOST_AUTO_TEST_CASE(ticket_sign_up_and_sign_in_reply_from_their_write) {
    handler_env env;
    auto inv = env.bapi(http::verb::post, "/v1/invitations", json::object{{"email_address", "invited@example.com"}});
    BOOST_TEST_REQUIRE(inv.status == 200u, inv.body);
    auto const ticket = after(str(inv.json.at("url")), "ticket=");
    auto up = within_budget(env, 1, 3, [&] {
        return env.fapi("POST", "/v1/client/sign_ups",
                        {{"strategy", "ticket"}, {"ticket", ticket}, {"password", test_password}});
    });
    BOOST_TEST(str(up.response().at("status")) == "complete");
    BOOST_TEST(str(up.response().at("email_address")) == "invited@example.com");
    auto const user_id = str(up.response().at("created_user_id"));

    // A sign-in token for that user, redeemed in another browser.
    env.cookies().clear();
    auto tok = env.bapi(http::verb::post, "/v1/sign_in_tokens", json::object{{"user_id", user_id}});
    BOOST_TEST_REQUIRE(tok.status == 200u, tok.body);
    auto in = within_budget(env, 1, 2, [&] {
        return env.fapi("POST", "/v1/client/sign_ins", {{"strategy", "ticket"}, {"ticket", str(tok.json.at("token"))}});
    });
    BOOST_TEST(str(in.response().at("status")) == "complete");
    auto const sid = str(in.response().at("created_session_id"));
    BOOST_TEST(str(in.json.at("client").at("sessions").at(0).at("id")) == sid);
    BOOST_TEST(str(in.json.at("client").at("sessions").at(0).at("user").at("id")) == user_id);
}

BOOST_AUTO_TEST_CASE(me_writes_reply_from_their_write) {
    handler_env env;
    signed_in(env, "me@example.com");
    // Handlers that check their input first read the current user once (require_current_user) before the write.
    auto named = within_budget(env, 1, 2, [&] { return env.fapi("PATCH", "/v1/me", {{"first_name", "Ada"}}); });
    BOOST_TEST(str(named.response().at("first_name")) == "Ada");
    BOOST_TEST(str(named.json.at("client").at("sessions").at(0).at("user").at("first_name")) == "Ada");
    auto meta = within_budget(env, 1, 2, [&] {
        return env.fapi("PATCH", "/v1/me/metadata", {{"unsafe_metadata", R"({"theme":"dark"})"}});
    });
    BOOST_TEST(meta.response().at("unsafe_metadata").at("theme") == "dark");

    auto added = within_budget(env, 1, 2, [&] {
        return env.fapi("POST", "/v1/me/email_addresses", {{"email_address", "second+clerk_test@example.com"}});
    });
    auto const eid = str(added.response().at("id"));
    auto const path = "/v1/me/email_addresses/" + eid;
    within_budget(env, 1, 2, [&] {
        return env.fapi("POST", path + "/prepare_verification", {{"strategy", "email_code"}});
    });
    auto verified = within_budget(env, 1, 2, [&] {
        return env.fapi("POST", path + "/attempt_verification", {{"code", test_code}});
    });
    BOOST_TEST(str(verified.response().at("verification").at("status")) == "verified");
    auto removed = within_budget(env, 1, 2, [&] { return env.fapi("DELETE", path); });
    BOOST_TEST(removed.response().at("deleted") == true);
    auto const emails = removed.json.at("client").at("sessions").at(0).at("user").at("email_addresses").as_array();
    BOOST_TEST(emails.size() == 1u);

    // The password checks read once before the write (argon2 runs outside any txn).
    auto changed = within_budget(env, 1, 3, [&] {
        return env.fapi("POST", "/v1/me/change_password",
                        {{"current_password", test_password}, {"new_password", "another horse battery staple"}});
    });
    BOOST_TEST(changed.response().at("password_enabled") == true);

    // The account's reads: the user and the client in one read (after the client credential's).
    auto me = within_budget(env, 0, 2, [&] { return env.fapi("GET", "/v1/me"); });
    BOOST_TEST(str(me.response().at("first_name")) == "Ada");
    auto const primary = str(me.response().at("primary_email_address_id"));
    within_budget(env, 0, 2, [&] { return env.fapi("GET", "/v1/me/email_addresses/" + primary); });

    auto gone = within_budget(env, 1, 2, [&] { return env.fapi("DELETE", "/v1/me"); });
    BOOST_TEST(gone.response().at("deleted") == true);
    BOOST_TEST(gone.json.at("client").at("sessions").as_array().empty());
}

BOOST_AUTO_TEST_CASE(second_factor_writes_reply_from_their_write) {
    handler_env env([](conf::config& c) { c.second_factors = {"totp", "backup_code"}; });
    signed_in(env, "mfa@example.com");
    auto created = within_budget(env, 1, 2, [&] { return env.fapi("POST", "/v1/me/totp"); });
    auto const secret = crypto::base32_decode(str(created.response().at("secret")));
    BOOST_TEST_REQUIRE(secret.has_value());
    auto const code = crypto::totp(*secret, env.app().now_ms() / 1000);
    auto verified = within_budget(env, 1, 1, [&] {
        return env.fapi("POST", "/v1/me/totp/attempt_verification", {{"code", code}});
    });
    BOOST_TEST(verified.response().at("verified") == true);
    BOOST_TEST(verified.json.at("client").at("sessions").at(0).at("user").at("totp_enabled") == true);
    auto codes = within_budget(env, 1, 2, [&] { return env.fapi("POST", "/v1/me/backup_codes"); });
    BOOST_TEST(codes.response().at("codes").as_array().size() == 10u);
    auto removed = within_budget(env, 1, 1, [&] { return env.fapi("DELETE", "/v1/me/totp"); });
    BOOST_TEST(removed.response().at("deleted") == true);
    BOOST_TEST(removed.json.at("client").at("sessions").at(0).at("user").at("two_factor_enabled") == false);
}

BOOST_AUTO_TEST_CASE(passkey_writes_and_passkey_sign_in_reply_from_their_write) {
    handler_env env([](conf::config& c) {
        c.first_factors = {"password", "email_code", "passkey"};
        c.passkeys.rp_id = "localhost";
        c.allowed_origins = {test::webauthn::webauthn_origin};
    });
    auto const user_id = create_password_user(env, "keys@example.com");
    BOOST_TEST_REQUIRE(password_sign_in(env, "keys@example.com").status == 200u);
    auto pk = within_budget(env, 1, 1, [&] { return env.fapi("POST", "/v1/me/passkeys"); });
    auto const pid = str(pk.response().at("id"));
    test::webauthn::authenticator key(false, "cred-envelope-0001");
    auto const options = str(pk.response().at("verification").at("nonce"));
    auto verified = within_budget(env, 1, 1, [&] {
        return env.fapi(
            "POST", "/v1/me/passkeys/" + pid + "/attempt_verification",
            {{"strategy", "passkey"}, {"public_key_credential", test::webauthn::attestation_json(key, options)}});
    });
    BOOST_TEST(verified.json.at("client").at("sessions").at(0).at("user").at("passkeys").as_array().size() == 1u);
    auto renamed = within_budget(env, 1, 1, [&] {
        return env.fapi("PATCH", "/v1/me/passkeys/" + pid, {{"name", "Laptop"}});
    });
    BOOST_TEST(str(renamed.response().at("name")) == "Laptop");

    // The discoverable sign-in in another browser: the attempt is one write, read from nothing after it.
    env.cookies().clear();
    auto started = within_budget(env, 1, 1, [&] {
        return env.fapi("POST", "/v1/client/sign_ins", {{"strategy", "passkey"}});
    });
    auto const sia = str(started.response().at("id"));
    auto const request = str(started.response().at("first_factor_verification").at("nonce"));
    test::webauthn::ceremony named;
    named.user_handle = user_id;
    auto in = within_budget(env, 1, 1, [&] {
        return env.fapi(
            "POST", "/v1/client/sign_ins/" + sia + "/attempt_first_factor",
            {{"strategy", "passkey"}, {"public_key_credential", test::webauthn::assertion_json(key, request, named)}});
    });
    BOOST_TEST(str(in.response().at("status")) == "complete");
    BOOST_TEST(str(in.json.at("client").at("sessions").at(0).at("user").at("id")) == user_id);

    auto gone = within_budget(env, 1, 1, [&] { return env.fapi("DELETE", "/v1/me/passkeys/" + pid); });
    BOOST_TEST(gone.response().at("deleted") == true);
    BOOST_TEST(gone.json.at("client").at("sessions").at(0).at("user").at("passkeys").as_array().empty());
}

BOOST_AUTO_TEST_CASE(wallet_writes_reply_from_their_write) {
    handler_env env([](conf::config& c) { c.first_factors = {"password", "email_code", "web3_metamask_signature"}; });
    signed_in(env, "wallet@example.com");
    auto wallet = within_budget(env, 1, 1, [&] {
        return env.fapi("POST", "/v1/me/web3_wallets", {{"web3_wallet", "0x52908400098527886e0f7030069857d2e4169ee7"}});
    });
    auto const wid = str(wallet.response().at("id"));
    auto const wallets = wallet.json.at("client").at("sessions").at(0).at("user").at("web3_wallets").as_array();
    BOOST_TEST(wallets.size() == 1u);
    auto prepared = within_budget(env, 1, 1, [&] {
        return env.fapi("POST", "/v1/me/web3_wallets/" + wid + "/prepare_verification",
                        {{"strategy", "web3_metamask_signature"}});
    });
    BOOST_TEST(!str(prepared.response().at("verification").at("message")).empty());
    within_budget(env, 1, 1, [&] { return env.fapi("DELETE", "/v1/me/web3_wallets/" + wid); });
}

BOOST_AUTO_TEST_CASE(session_writes_reply_from_their_write) {
    handler_env env;
    auto const first = signed_in(env, "one@example.com");
    auto touched =
        within_budget(env, 1, 1, [&] { return env.fapi("POST", "/v1/client/sessions/" + first + "/touch"); });
    BOOST_TEST(str(touched.response().at("id")) == first);
    BOOST_TEST(touched.response().at("last_active_token").is_object());
    auto ended = within_budget(env, 1, 1, [&] { return env.fapi("POST", "/v1/client/sessions/" + first + "/end"); });
    BOOST_TEST(str(ended.response().at("status")) == "ended");
    BOOST_TEST(ended.json.at("client").at("last_active_session_id").is_null());

    auto const second = signed_in(env, "two@example.com");
    auto removed =
        within_budget(env, 1, 1, [&] { return env.fapi("POST", "/v1/client/sessions/" + second + "/remove"); });
    BOOST_TEST(str(removed.response().at("status")) == "removed");
    auto third = signed_in(env, "three@example.com");
    auto all = within_budget(env, 1, 1, [&] { return env.fapi("DELETE", "/v1/client/sessions"); });
    BOOST_TEST(all.response() == all.json.at("client").as_object());
    BOOST_TEST(all.response().at("sessions").as_array().empty());
    (void)third;
    auto client = within_budget(env, 1, 1, [&] { return env.fapi("POST", "/v1/client"); });
    BOOST_TEST(str(client.response().at("id")) == str(all.response().at("id")));
}

BOOST_AUTO_TEST_CASE(reverification_steps_reply_from_their_write) {
    handler_env env;
    auto const sid = signed_in(env, "again@example.com");
    auto const path = "/v1/client/sessions/" + sid + "/verify";
    auto started = within_budget(env, 1, 1, [&] { return env.fapi("POST", path, {{"level", "first_factor"}}); });
    BOOST_TEST(str(started.response().at("status")) == "needs_first_factor");
    within_budget(env, 1, 1, [&] {
        return env.fapi("POST", path + "/prepare_first_factor", {{"strategy", "password"}});
    });
    auto done = within_budget(env, 1, 2, [&] {
        return env.fapi("POST", path + "/attempt_first_factor",
                        {{"strategy", "password"}, {"password", test_password}});
    });
    BOOST_TEST(str(done.response().at("status")) == "complete");
    BOOST_TEST(str(done.response().at("session").at("id")) == sid);
    BOOST_TEST(done.response().at("session").at("factor_verification_age").at(0) == 0);
}

BOOST_AUTO_TEST_CASE(organization_writes_reply_from_their_write) {
    handler_env env([](conf::config& c) {
        c.organizations.enabled = true;
        c.organizations.domains_enabled = true;
    });
    auto const member = create_password_user(env, "member@acme.test");
    auto const sid = signed_in(env, "admin@acme.test");
    auto made = within_budget(env, 1, 1, [&] { return env.fapi("POST", "/v1/organizations", {{"name", "Acme"}}); });
    auto const org = str(made.response().at("id"));
    auto const base = "/v1/organizations/" + org;
    auto const memberships =
        made.json.at("client").at("sessions").at(0).at("user").at("organization_memberships").as_array();
    BOOST_TEST_REQUIRE(memberships.size() == 1u);
    BOOST_TEST(str(memberships.at(0).at("organization").at("id")) == org);
    within_budget(env, 1, 1, [&] { return env.fapi("PATCH", base, {{"name", "Acme Inc"}}); });
    within_budget(env, 1, 1, [&] {
        return env.fapi("POST", base + "/memberships", {{"user_id", member}, {"role", "org:member"}});
    });
    within_budget(env, 1, 1, [&] {
        return env.fapi("PATCH", base + "/memberships/" + member, {{"role", "org:admin"}});
    });
    within_budget(env, 1, 1, [&] { return env.fapi("DELETE", base + "/memberships/" + member); });
    auto invited = within_budget(env, 1, 1, [&] {
        return env.fapi("POST", base + "/invitations", {{"email_address", "new@acme.test"}, {"role", "org:member"}});
    });
    within_budget(env, 1, 1, [&] {
        return env.fapi("POST", base + "/invitations/" + str(invited.response().at("id")) + "/revoke");
    });
    within_budget(env, 1, 1, [&] { return env.fapi("POST", base + "/domains", {{"name", "acme.test"}}); });
    within_budget(env, 0, 2, [&] { return env.fapi("GET", base + "/memberships"); });
    auto active = within_budget(env, 1, 1, [&] {
        return env.fapi("POST", "/v1/client/sessions/" + sid + "/touch", {{"active_organization_id", org}});
    });
    BOOST_TEST(str(active.response().at("last_active_organization_id")) == org);
}

BOOST_AUTO_TEST_SUITE_END()
