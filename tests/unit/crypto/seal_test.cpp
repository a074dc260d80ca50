#include "crypto/seal.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace crypto = latchkey::crypto;

BOOST_AUTO_TEST_SUITE(crypto_seal)

BOOST_AUTO_TEST_CASE(round_trip_and_fresh_nonce) {
    auto const key = crypto::seal_key::generate();
    auto const a = crypto::seal(key, "secret bytes", "totp:user_1");
    auto const b = crypto::seal(key, "secret bytes", "totp:user_1");
    BOOST_TEST(a != b);  // a fresh nonce each time
    BOOST_TEST(a.find("secret bytes") == std::string::npos);
    BOOST_TEST(crypto::unseal(key, a, "totp:user_1").value() == "secret bytes");
    BOOST_TEST(crypto::unseal(key, crypto::seal(key, "", "x"), "x").value() == "");
}

BOOST_AUTO_TEST_CASE(wrong_key_aad_or_tampering_do_not_open) {
    auto const key = crypto::seal_key::generate();
    auto const other = crypto::seal_key::generate();
    auto const s = crypto::seal(key, "secret bytes", "totp:user_1");
    BOOST_TEST((crypto::unseal(other, s, "totp:user_1").error() == make_error_code(crypto::errc::bad_signature)));
    BOOST_TEST((crypto::unseal(key, s, "totp:user_2").error() == make_error_code(crypto::errc::bad_signature)));
    for (std::size_t i = 1; i < s.size(); ++i) {
        auto t = s;
        t[i] = static_cast<char>(t[i] ^ 1);
        BOOST_TEST(!crypto::unseal(key, t, "totp:user_1").has_value());
    }
    BOOST_TEST((crypto::unseal(key, "", "x").error() == make_error_code(crypto::errc::invalid_encoding)));
    BOOST_TEST((crypto::unseal(key, s.substr(0, 20), "x").error() == make_error_code(crypto::errc::invalid_encoding)));
}

BOOST_AUTO_TEST_CASE(key_from_bytes) {
    auto const key = crypto::seal_key::generate();
    auto const again = crypto::seal_key::from_bytes(key.bytes());
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(crypto::unseal(*again, crypto::seal(key, "x", ""), "").value() == "x");
    BOOST_TEST((crypto::seal_key::from_bytes("short").error() == make_error_code(crypto::errc::invalid_key)));
}

BOOST_AUTO_TEST_SUITE_END()
