// Passkeys over HTTP against the real server (issue 14): registration through /v1/me/passkeys with a software
// authenticator built here (OpenSSL keys: ES256 and RS256; attestation "none" and packed self-attestation),
// sign-in with `strategy: passkey` (the discoverable flow and the identifier-first one), rename and delete, and
// the refusals: a foreign origin, a replayed or expired challenge, another client's sign-in, a bad signature, a
// counter going back, a wrong RP ID, a missing user-verification flag, malformed credentials.
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "tests/common/server_fixture.hpp"
#include "tests/common/webauthn.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <optional>

using namespace latchkey;
using namespace latchkey::test;

namespace {

using namespace latchkey::test::webauthn;

constexpr char const* app_origin = webauthn_origin;

void passkey_instance(conf::config& c) {
    c.first_factors = {"password", "email_code", "passkey"};
    c.passkeys.rp_id = "localhost";
    c.passkeys.timeout_ms = 60'000;
    c.allowed_origins = {app_origin};
}

http_client browser(test_server& s) {
    http_client c(s.fapi_port());
    c.origin = app_origin;
    (void)s;
    return c;
}

/// Registers `a` for the browser's user; returns the passkey id.
std::string register_passkey(http_client& c, authenticator& a, ceremony const& how = {}) {
    auto r = c.fapi("POST", "/v1/me/passkeys");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const id = str(response(r).at("id"));
    auto const nonce = str(response(r).at("verification").at("nonce"));
    auto v = c.fapi("POST", "/v1/me/passkeys/" + id + "/attempt_verification",
                    {{"strategy", "passkey"}, {"public_key_credential", attestation_json(a, nonce, how)}});
    BOOST_TEST_REQUIRE(v.status == 200u, v.body);
    BOOST_TEST(str(response(v).at("verification").at("status")) == "verified");
    return id;
}

/// A discoverable sign-in on a fresh browser: returns it and the request options.
std::pair<std::string, std::string> start_discoverable(http_client& c) {
    auto r = c.fapi("POST", "/v1/client/sign_ins", {{"strategy", "passkey"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& si = response(r);
    BOOST_TEST(str(si.at("status")) == "needs_first_factor");
    return {str(si.at("id")), str(si.at("first_factor_verification").at("nonce"))};
}

http_result attempt(http_client& c, std::string const& sign_in, std::string const& credential) {
    return c.fapi("POST", "/v1/client/sign_ins/" + sign_in + "/attempt_first_factor",
                  {{"strategy", "passkey"}, {"public_key_credential", credential}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(frontend_passkeys)

BOOST_AUTO_TEST_CASE(environment_offers_passkeys_from_the_config) {
    test_server s([](conf::config& c) {
        passkey_instance(c);
        c.passkeys.allow_autofill = true;
        c.passkeys.satisfies_second_factor = false;
    });
    http_client c = browser(s);
    auto r = c.fapi("GET", "/v1/environment");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& us = r.json.at("user_settings");
    auto const& pk = us.at("attributes").at("passkey");
    BOOST_TEST(pk.at("enabled").as_bool());
    BOOST_TEST(pk.at("used_for_first_factor").as_bool());
    BOOST_TEST(str(pk.at("first_factors").as_array().at(0)) == "passkey");
    BOOST_TEST(us.at("passkey_settings").at("allow_autofill").as_bool());
    BOOST_TEST(us.at("passkey_settings").at("show_sign_in_button").as_bool());
    BOOST_TEST(!us.at("passkey_settings").at("satisfies_second_factor").as_bool());

    // Without "passkey" in first_factors: off, and /v1/me/passkeys refuses.
    test_server off;
    http_client o = browser(off);
    sign_in_browser(off, o, "off@example.com");
    auto e = o.fapi("GET", "/v1/environment");
    BOOST_TEST(!e.json.at("user_settings").at("attributes").at("passkey").at("enabled").as_bool());
    expect_error(o.fapi("POST", "/v1/me/passkeys"), 422, "strategy_for_user_invalid");
}

BOOST_AUTO_TEST_CASE(es256_registration_discoverable_sign_in_rename_delete) {
    test_server s(passkey_instance);
    http_client c = browser(s);
    auto who = sign_in_browser(s, c, "ada@example.com");

    auto r = c.fapi("POST", "/v1/me/passkeys");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& p = response(r);
    BOOST_TEST(str(p.at("object")) == "passkey");
    BOOST_TEST(str(p.at("id")).starts_with("idn_"));
    BOOST_TEST(str(p.at("verification").at("status")) == "unverified");
    BOOST_TEST(str(p.at("verification").at("strategy")) == "passkey");
    auto const opts = json::parse(str(p.at("verification").at("nonce"))).as_object();
    BOOST_TEST(str(opts.at("rp").at("id")) == "localhost");
    BOOST_TEST(str(opts.at("user").at("id")) == crypto::base64url_encode(who.user_id));
    BOOST_TEST(str(opts.at("user").at("name")) == "ada@example.com");
    BOOST_TEST(str(opts.at("challenge")).size() == 43u);  // 32 random bytes
    BOOST_TEST(opts.at("pubKeyCredParams").as_array().size() == 2u);
    BOOST_TEST(str(opts.at("authenticatorSelection").at("userVerification")) == "required");
    BOOST_TEST(opts.at("excludeCredentials").as_array().empty());
    // Unverified passkeys are not the user's yet.
    BOOST_TEST(client_session(r, who.session_id).at("user").at("passkeys").as_array().empty());

    authenticator a(false, "cred-es256-ada-0001");
    auto const id = str(p.at("id"));
    auto v = c.fapi("POST", "/v1/me/passkeys/" + id + "/attempt_verification",
                    {{"strategy", "passkey"},
                     {"public_key_credential", attestation_json(a, str(p.at("verification").at("nonce")))}});
    BOOST_TEST_REQUIRE(v.status == 200u, v.body);
    BOOST_TEST(str(response(v).at("verification").at("status")) == "verified");
    BOOST_TEST(!response(v).at("verification").as_object().contains("nonce"));
    auto const listed = client_session(v, who.session_id).at("user").at("passkeys").as_array();
    BOOST_TEST_REQUIRE(listed.size() == 1u);
    BOOST_TEST(str(listed[0].at("id")) == id);
    auto u = load_user(s, who.user_id);
    BOOST_TEST(u->passkeys.at(0).credential_id == crypto::base64url_encode("cred-es256-ada-0001"));
    BOOST_TEST(u->passkeys.at(0).algorithm == -7);
    // The same attestation again: already verified.
    expect_error(c.fapi("POST", "/v1/me/passkeys/" + id + "/attempt_verification",
                        {{"public_key_credential", attestation_json(a, str(p.at("verification").at("nonce")))}}),
                 400, "verification_already_verified");
    // A second registration excludes the first credential; the same authenticator again is refused.
    auto again = c.fapi("POST", "/v1/me/passkeys");
    auto const nonce2 = str(response(again).at("verification").at("nonce"));
    auto const ex = json::parse(nonce2).at("excludeCredentials").as_array();
    BOOST_TEST_REQUIRE(ex.size() == 1u);
    BOOST_TEST(str(ex[0].at("id")) == crypto::base64url_encode("cred-es256-ada-0001"));
    expect_error(c.fapi("POST", "/v1/me/passkeys/" + str(response(again).at("id")) + "/attempt_verification",
                        {{"public_key_credential", attestation_json(a, nonce2)}}),
                 422, "passkey_already_exists");

    // Rename and read back.
    auto renamed = c.fapi("PATCH", "/v1/me/passkeys/" + id, {{"name", "Laptop"}});
    BOOST_TEST_REQUIRE(renamed.status == 200u, renamed.body);
    BOOST_TEST(str(response(renamed).at("name")) == "Laptop");
    BOOST_TEST(str(response(c.fapi("GET", "/v1/me/passkeys/" + id)).at("name")) == "Laptop");
    expect_error(c.fapi("PATCH", "/v1/me/passkeys/idn_nope", {{"name", "x"}}), 404, "resource_not_found");

    // A fresh browser signs in with the passkey, naming no one (discoverable): the credential's userHandle does.
    http_client b = browser(s);
    auto [sia, options] = start_discoverable(b);
    auto const ro = json::parse(options).as_object();
    BOOST_TEST(str(ro.at("rpId")) == "localhost");
    BOOST_TEST(ro.at("allowCredentials").as_array().empty());
    ceremony handle;
    handle.user_handle = who.user_id;
    auto const credential = assertion_json(a, options, handle);
    auto done = attempt(b, sia, credential);
    BOOST_TEST_REQUIRE(done.status == 200u, done.body);
    BOOST_TEST(str(response(done).at("status")) == "complete");
    auto const sess = str(response(done).at("created_session_id"));
    BOOST_TEST(str(client_session(done, sess).at("user").at("id")) == who.user_id);
    u = load_user(s, who.user_id);
    BOOST_TEST(u->passkeys.at(0).sign_count == 1);
    BOOST_TEST(u->passkeys.at(0).last_used_at > 0);

    // The same assertion again: the sign-in is over; on a new sign-in its challenge is not the new one.
    expect_error(attempt(b, sia, credential), 400, "sign_in_not_ready");
    http_client b2 = browser(s);
    auto [sia2, options2] = start_discoverable(b2);
    (void)options2;
    expect_error(attempt(b2, sia2, credential), 422, "passkey_verification_failed");
    // ... and that challenge is spent: the right answer now comes too late.
    expect_error(attempt(b2, sia2, assertion_json(a, options2, handle)), 400, "verification_not_sent");

    // Delete: gone from the user, and it no longer signs anyone in.
    auto d = c.fapi("DELETE", "/v1/me/passkeys/" + id);
    BOOST_TEST_REQUIRE(d.status == 200u, d.body);
    BOOST_TEST(response(d).at("deleted").as_bool());
    auto const after_delete = load_user(s, who.user_id);
    for (auto const& left : after_delete->passkeys) BOOST_TEST(left.id != id);
    BOOST_TEST(client_session(d, who.session_id).at("user").at("passkeys").as_array().empty());
    expect_error(c.fapi("DELETE", "/v1/me/passkeys/" + id), 404, "resource_not_found");
    http_client b3 = browser(s);
    auto [sia3, options3] = start_discoverable(b3);
    expect_error(attempt(b3, sia3, assertion_json(a, options3, handle)), 422, "passkey_not_found");
}

BOOST_AUTO_TEST_CASE(rs256_packed_self_attestation_and_identifier_first_sign_in) {
    test_server s(passkey_instance);
    http_client c = browser(s);
    auto who = sign_in_browser(s, c, "bob@example.com");
    authenticator a(true, "cred-rs256-bob");
    ceremony packed;
    packed.packed = true;
    register_passkey(c, a, packed);
    BOOST_TEST(load_user(s, who.user_id)->passkeys.at(0).algorithm == -257);

    // Identifier first: the passkey is among the factors; prepare allows the user's credential.
    http_client b = browser(s);
    auto r = b.fapi("POST", "/v1/client/sign_ins", {{"identifier", "bob@example.com"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const sia = str(response(r).at("id"));
    bool offered = false;
    for (auto const& f : response(r).at("supported_first_factors").as_array())
        offered = offered || str(f.at("strategy")) == "passkey";
    BOOST_TEST(offered);
    auto prep = b.fapi("POST", "/v1/client/sign_ins/" + sia + "/prepare_first_factor", {{"strategy", "passkey"}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    auto const options = str(response(prep).at("first_factor_verification").at("nonce"));
    auto const allow = json::parse(options).at("allowCredentials").as_array();
    BOOST_TEST_REQUIRE(allow.size() == 1u);
    BOOST_TEST(str(allow[0].at("id")) == crypto::base64url_encode("cred-rs256-bob"));
    auto done = attempt(b, sia, assertion_json(a, options));  // no userHandle: the sign-in knows its user
    BOOST_TEST_REQUIRE(done.status == 200u, done.body);
    BOOST_TEST(str(response(done).at("status")) == "complete");

    // A packed statement whose signature does not verify is refused.
    authenticator forged(false, "cred-forged");
    ceremony bad = packed;
    bad.break_signature = true;
    auto p = c.fapi("POST", "/v1/me/passkeys");
    expect_error(c.fapi("POST", "/v1/me/passkeys/" + str(response(p).at("id")) + "/attempt_verification",
                        {{"public_key_credential",
                          attestation_json(forged, str(response(p).at("verification").at("nonce")), bad)}}),
                 422, "passkey_registration_failed");
}

BOOST_AUTO_TEST_CASE(registration_refusals_spend_the_challenge) {
    test_server s(passkey_instance);
    http_client c = browser(s);
    auto who = sign_in_browser(s, c, "cy@example.com");
    authenticator a(false, "cred-cy");
    auto const try_with = [&](ceremony const& how, unsigned status, std::string const& code_name) {
        auto r = c.fapi("POST", "/v1/me/passkeys");
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        auto const id = str(response(r).at("id"));
        auto const nonce = str(response(r).at("verification").at("nonce"));
        expect_error(c.fapi("POST", "/v1/me/passkeys/" + id + "/attempt_verification",
                            {{"public_key_credential", attestation_json(a, nonce, how)}}),
                     status, code_name);
        // Spent: even the right answer is refused now.
        expect_error(c.fapi("POST", "/v1/me/passkeys/" + id + "/attempt_verification",
                            {{"public_key_credential", attestation_json(a, nonce)}}),
                     400, "verification_failed");
    };
    ceremony foreign;
    foreign.origin = "https://evil.example";
    try_with(foreign, 422, "passkey_registration_failed");
    ceremony rp;
    rp.rp_id = "example.com";
    try_with(rp, 422, "passkey_registration_failed");
    ceremony no_uv;
    no_uv.flags = 0x01;
    try_with(no_uv, 422, "passkey_registration_failed");
    ceremony wrong_type;
    wrong_type.type = "webauthn.get";
    try_with(wrong_type, 422, "passkey_registration_failed");
    ceremony other_challenge;
    other_challenge.challenge = crypto::base64url_encode(std::string(32, 'x'));
    try_with(other_challenge, 422, "passkey_registration_failed");
    BOOST_TEST(load_user(s, who.user_id)->passkeys.size() == 1u);  // only the last, failed registration
    BOOST_TEST(load_user(s, who.user_id)->passkeys.at(0).verification.status == "failed");

    // Malformed credentials: a Clerk-shaped 422 naming the parameter, and the challenge stays usable.
    auto r = c.fapi("POST", "/v1/me/passkeys");
    auto const id = str(response(r).at("id"));
    auto const nonce = str(response(r).at("verification").at("nonce"));
    auto const path = "/v1/me/passkeys/" + id + "/attempt_verification";
    expect_error(c.fapi("POST", path), 422, "form_param_missing", "public_key_credential");
    for (std::string bad : {std::string("not json"), std::string("[]"), std::string(R"({"type":"public-key"})"),
                            std::string(R"({"type":"public-key","rawId":"!!","response":{}})"),
                            std::string(R"({"type":"public-key","rawId":"AAAA","response":{"clientDataJSON":"e30"}})")})
        expect_error(c.fapi("POST", path, {{"public_key_credential", bad}}), 422,
                     "passkey_invalid_public_key_credential", "public_key_credential");
    expect_error(c.fapi("POST", path, {{"strategy", "totp"}, {"public_key_credential", "{}"}}), 422,
                 "form_param_value_invalid", "strategy");
    // Garbage CBOR in an otherwise well-formed credential: refused as a failed registration.
    json::object junk{
        {"type", "public-key"},
        {"rawId", crypto::base64url_encode("cred-cy")},
        {"response", json::object{{"clientDataJSON", crypto::base64url_encode(client_data(
                                                         "webauthn.create", challenge_of(nonce), app_origin))},
                                  {"attestationObject", crypto::base64url_encode("\xa3\x63"
                                                                                 "fmt")}}}};
    expect_error(c.fapi("POST", path, {{"public_key_credential", json::serialize(junk)}}), 422,
                 "passkey_registration_failed");

    // An expired challenge.
    auto late = c.fapi("POST", "/v1/me/passkeys");
    s.advance(std::chrono::milliseconds(61'000));
    expect_error(
        c.fapi("POST", "/v1/me/passkeys/" + str(response(late).at("id")) + "/attempt_verification",
               {{"public_key_credential", attestation_json(a, str(response(late).at("verification").at("nonce")))}}),
        400, "verification_expired");
    // Another user's passkey id is not found; signed out, 401.
    expect_error(c.fapi("GET", "/v1/me/passkeys/idn_unknown"), 404, "resource_not_found");
    http_client anon = browser(s);
    expect_error(anon.fapi("POST", "/v1/me/passkeys"), 401, "authentication_invalid");
}

BOOST_AUTO_TEST_CASE(assertion_refusals) {
    test_server s(passkey_instance);
    http_client c = browser(s);
    auto who = sign_in_browser(s, c, "dee@example.com");
    authenticator a(false, "cred-dee");
    a.counter = 10;
    register_passkey(c, a);
    ceremony handle;
    handle.user_handle = who.user_id;

    auto const refused = [&](ceremony how, std::string const& code_name, unsigned status = 422) {
        http_client b = browser(s);
        auto [sia, options] = start_discoverable(b);
        expect_error(attempt(b, sia, assertion_json(a, options, how)), status, code_name);
        // The challenge is spent whatever the reason.
        expect_error(attempt(b, sia, assertion_json(a, options, handle)), 400, "verification_not_sent");
    };
    ceremony foreign = handle;
    foreign.origin = "http://localhost:4000";
    refused(foreign, "passkey_verification_failed");
    ceremony rp = handle;
    rp.rp_id = "evil.example";
    refused(rp, "passkey_verification_failed");
    ceremony sig = handle;
    sig.break_signature = true;
    refused(sig, "passkey_verification_failed");
    ceremony no_up = handle;
    no_up.flags = 0x04;
    refused(no_up, "passkey_verification_failed");
    ceremony someone_else = handle;
    someone_else.user_handle = "user_nobody";
    refused(someone_else, "passkey_not_found");
    ceremony anonymous;  // no userHandle on a discoverable sign-in: no user to check against
    refused(anonymous, "passkey_not_found");

    // The counter: 10 at registration, each refused attempt above moved the authenticator's own count. Going
    // back below what the server last saw is refused (a cloned authenticator).
    {
        http_client b = browser(s);
        auto [sia, options] = start_discoverable(b);
        auto ok = attempt(b, sia, assertion_json(a, options, handle));
        BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
    }
    auto const seen = load_user(s, who.user_id)->passkeys.at(0).sign_count;
    BOOST_TEST(seen == static_cast<std::int64_t>(a.counter));
    a.counter = 3;
    refused(handle, "passkey_verification_failed");

    // The challenge is bound to the client that started the sign-in: another browser cannot answer it.
    a.counter = 100;
    http_client b = browser(s);
    auto [sia, options] = start_discoverable(b);
    http_client thief = browser(s);
    thief.fapi("POST", "/v1/client");
    expect_error(attempt(thief, sia, assertion_json(a, options, handle)), 404, "resource_not_found");
    // An expired challenge.
    s.advance(std::chrono::milliseconds(61'000));
    expect_error(attempt(b, sia, assertion_json(a, options, handle)), 400, "verification_expired");
    // Malformed credentials, and a strategy the sign-in did not start.
    http_client m = browser(s);
    auto [sia_m, options_m] = start_discoverable(m);
    (void)options_m;
    expect_error(attempt(m, sia_m, "{}"), 422, "passkey_invalid_public_key_credential", "public_key_credential");
    expect_error(m.fapi("POST", "/v1/client/sign_ins/" + sia_m + "/attempt_first_factor", {{"strategy", "passkey"}}),
                 422, "form_param_missing", "public_key_credential");
}

BOOST_AUTO_TEST_SUITE_END()
