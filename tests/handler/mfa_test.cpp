// Second factors on the user record (server/api/domain/mfa.hpp) over the memory store: the importer's
// enroll_totp, single-use TOTP codes, sealed secrets and hashed backup codes, and the sign-in gate they raise.
#include "tests/handler/harness.hpp"

#include "crypto/totp.hpp"
#include "server/api/domain/mfa.hpp"

#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::handler_test;
namespace domain = latchkey::server::api::domain;

namespace {

// "12345678901234567890" in base32 (the RFC 6238 seed).
constexpr char const* rfc_secret_b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

api::api_result<void> enroll(handler_env& env, std::string const& id, std::string_view b32) {
    api::api_result<void> out;
    auto r = env.db().with_write([&](store::write_txn& w) -> store::result<void> {
        out = domain::enroll_totp(w, *env.app().inst.seal_key, id, b32, env.app().now_ms());
        if (!out) return store::make_error_code(store::errc::aborted);
        return {};
    });
    (void)r;
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(handler_mfa)

BOOST_AUTO_TEST_CASE(enroll_totp_seals_the_secret_and_gates_sign_in) {
    handler_env env([](conf::config& c) { c.second_factors = {"totp"}; });
    auto const id = create_password_user(env, "totp@example.com");
    BOOST_TEST_REQUIRE(enroll(env, id, rfc_secret_b32).has_value());
    auto u = stored_user(env, id);
    BOOST_TEST(u.totp_enabled);
    BOOST_TEST(u.two_factor_enabled);
    BOOST_TEST(!u.totp_id.empty());
    BOOST_TEST(u.totp_secret_sealed.find("12345678901234567890") == std::string::npos);
    BOOST_TEST(domain::totp_secret(u, *env.app().inst.seal_key).value() == "12345678901234567890");
    // The sealed value is bound to its user: copied into another record it does not open.
    auto other = u;
    other.id = "user_other";
    BOOST_TEST(!domain::totp_secret(other, *env.app().inst.seal_key).has_value());
    // A password alone no longer completes the sign-in.
    auto r = env.fapi("POST", "/v1/client/sign_ins",
                      {{"identifier", "totp@example.com"}, {"strategy", "password"}, {"password", test_password}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(str(r.response().at("status")) == "needs_second_factor");
}

BOOST_AUTO_TEST_CASE(enroll_totp_refuses_bad_secrets_and_unknown_users) {
    handler_env env;
    auto const id = create_password_user(env, "bad@example.com");
    auto r = enroll(env, id, "not base32!");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST((r.error().code == latchkey::server::api::code::form_param_format_invalid));
    BOOST_TEST(r.error().meta.at("param_name").as_string() == "totp_secret");
    BOOST_TEST(!enroll(env, id, "MZXW6").has_value());  // 3 bytes: too short
    auto missing = enroll(env, "user_missing", rfc_secret_b32);
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().status == http::status::not_found);
    BOOST_TEST(!stored_user(env, id).totp_enabled);
}

BOOST_AUTO_TEST_CASE(totp_codes_are_single_use) {
    handler_env env;
    auto const id = create_password_user(env, "once@example.com");
    BOOST_TEST_REQUIRE(enroll(env, id, rfc_secret_b32).has_value());
    auto u = stored_user(env, id);
    auto const& key = *env.app().inst.seal_key;
    auto const now = env.app().now_ms();
    auto const code = crypto::totp("12345678901234567890", now / 1000);
    BOOST_TEST(domain::check_totp(u, key, code, now));
    BOOST_TEST(!domain::check_totp(u, key, code, now));  // replay
    domain::remove_totp(u, now);
    BOOST_TEST(!u.totp_enabled);
    BOOST_TEST(!u.two_factor_enabled);
    BOOST_TEST(!domain::check_totp(u, key, crypto::totp("12345678901234567890", now / 1000 + 30), now));
}

BOOST_AUTO_TEST_CASE(backup_codes_are_hashed_and_single_use) {
    handler_env env;
    auto const id = create_password_user(env, "backup@example.com");
    auto u = stored_user(env, id);
    auto const& ck = env.app().inst.code_key;
    auto codes = domain::create_backup_codes(u, ck, 1);
    BOOST_TEST(codes.size() == domain::backup_code_count);
    BOOST_TEST(u.backup_code_enabled);
    for (auto const& c : codes)
        for (auto const& d : u.backup_code_digests) BOOST_TEST(d.find(c) == std::string::npos);
    std::string upper = codes[3];
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    BOOST_TEST(domain::use_backup_code(u, ck, upper, 2));
    BOOST_TEST(!domain::use_backup_code(u, ck, codes[3], 3));
    BOOST_TEST(!domain::use_backup_code(u, ck, "nonsense", 3));
    BOOST_TEST(u.backup_code_digests.size() == domain::backup_code_count - 1);
    // A new set replaces the old one.
    auto fresh = domain::create_backup_codes(u, ck, 4);
    BOOST_TEST(!domain::use_backup_code(u, ck, codes[0], 5));
    BOOST_TEST(domain::use_backup_code(u, ck, fresh[0], 5));
}

BOOST_AUTO_TEST_SUITE_END()
