#include "crypto/totp.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace crypto = latchkey::crypto;

BOOST_AUTO_TEST_SUITE(crypto_totp)

// RFC 6238 appendix B (the SHA-1 rows): the 20-byte ASCII seed, 8 digits, a 30-second step.
BOOST_AUTO_TEST_CASE(rfc6238_appendix_b_sha1_vectors) {
    std::string const seed = "12345678901234567890";
    BOOST_TEST(crypto::totp(seed, 59, 8) == "94287082");
    BOOST_TEST(crypto::totp(seed, 1111111109, 8) == "07081804");
    BOOST_TEST(crypto::totp(seed, 1111111111, 8) == "14050471");
    BOOST_TEST(crypto::totp(seed, 1234567890, 8) == "89005924");
    BOOST_TEST(crypto::totp(seed, 2000000000, 8) == "69279037");
    BOOST_TEST(crypto::totp(seed, 20000000000, 8) == "65353130");
    // The 6-digit code is the low six digits of the same truncation.
    BOOST_TEST(crypto::totp(seed, 59) == "287082");
    BOOST_TEST(crypto::totp(seed, 1111111109) == "081804");
}

// RFC 4226 appendix D: HOTP values for counters 0..9.
BOOST_AUTO_TEST_CASE(rfc4226_appendix_d_hotp_vectors) {
    std::string const seed = "12345678901234567890";
    std::vector<std::string> const want{"755224", "287082", "359152", "969429", "338314",
                                        "254676", "287922", "162583", "399871", "520489"};
    for (std::uint64_t c = 0; c < want.size(); ++c) BOOST_TEST(crypto::hotp(seed, c) == want[c]);
}

// RFC 4648 §10 test vectors (unpadded), and tolerant decoding of what users type.
BOOST_AUTO_TEST_CASE(base32_rfc4648_vectors) {
    std::pair<std::string, std::string> const vectors[] = {{"", ""},
                                                           {"f", "MY"},
                                                           {"fo", "MZXQ"},
                                                           {"foo", "MZXW6"},
                                                           {"foob", "MZXW6YQ"},
                                                           {"fooba", "MZXW6YTB"},
                                                           {"foobar", "MZXW6YTBOI"}};
    for (auto const& [plain, encoded] : vectors) {
        BOOST_TEST(crypto::base32_encode(plain) == encoded);
        auto d = crypto::base32_decode(crypto::base32_encode(plain));
        BOOST_REQUIRE(d.has_value());
        BOOST_TEST(*d == plain);
    }
    BOOST_TEST(crypto::base32_decode("MZXW6YQ=").value() == "foob");
    BOOST_TEST(crypto::base32_decode("mzxw 6ytb-oi").value() == "foobar");
    BOOST_TEST(!crypto::base32_decode("MZXW1").has_value());  // '1' is not base32
    BOOST_TEST(!crypto::base32_decode("M").has_value());      // not whole bytes
    BOOST_TEST(!crypto::base32_decode("MZX").has_value());    // not whole bytes
    BOOST_TEST(!crypto::base32_decode("MZ").has_value());     // non-zero trailing bits
    BOOST_TEST(!crypto::base32_decode("MY=A").has_value());   // data after padding
}

BOOST_AUTO_TEST_CASE(verify_accepts_one_step_either_side_once) {
    std::string const key = "12345678901234567890";
    std::int64_t const t = 1111111111;  // step 37037037
    std::int64_t const step = t / 30;
    BOOST_TEST(crypto::totp_step(t) == step);
    auto const now = crypto::totp(key, t);
    auto const before = crypto::totp(key, t - 30);
    auto const after = crypto::totp(key, t + 30);
    auto const far = crypto::totp(key, t + 60);
    BOOST_TEST(crypto::totp_verify(key, now, t, 0).value() == step);
    BOOST_TEST(crypto::totp_verify(key, before, t, 0).value() == step - 1);
    BOOST_TEST(crypto::totp_verify(key, after, t, 0).value() == step + 1);
    BOOST_TEST(!crypto::totp_verify(key, far, t, 0).has_value());
    // Single use: once step is recorded as used, its code and earlier ones are refused.
    BOOST_TEST(!crypto::totp_verify(key, now, t, step).has_value());
    BOOST_TEST(!crypto::totp_verify(key, before, t, step).has_value());
    BOOST_TEST(crypto::totp_verify(key, after, t, step).value() == step + 1);
    // Malformed codes match nothing.
    BOOST_TEST(!crypto::totp_verify(key, "", t, 0).has_value());
    BOOST_TEST(!crypto::totp_verify(key, now.substr(0, 5), t, 0).has_value());
    BOOST_TEST(!crypto::totp_verify(key, now + "0", t, 0).has_value());
    BOOST_TEST(!crypto::totp_verify(key, "12345a", t, 0).has_value());
    // Another key's code is refused.
    std::string const other = "another key 12345678";
    if (crypto::totp(other, t) != now && crypto::totp(other, t - 30) != now && crypto::totp(other, t + 30) != now)
        BOOST_TEST(!crypto::totp_verify(other, now, t, 0).has_value());
}

BOOST_AUTO_TEST_CASE(otpauth_uri_names_issuer_account_and_secret) {
    auto uri = crypto::totp_uri("My App", "ada@example.com", "foobar");
    BOOST_TEST(uri ==
               "otpauth://totp/My%20App:ada@example.com?secret=MZXW6YTBOI&issuer=My%20App&algorithm=SHA1&digits=6"
               "&period=30");
}

BOOST_AUTO_TEST_SUITE_END()
