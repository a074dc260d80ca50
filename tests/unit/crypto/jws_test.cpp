#include "crypto/jws.hpp"

#include "crypto/encoding.hpp"
#include "tests/unit/crypto/test_keys.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace crypto = latchkey::crypto;
namespace test = latchkey::crypto::test;
using crypto::errc;

namespace {

boost::system::error_code code(errc e) { return crypto::make_error_code(e); }

// RFC 7515 Appendix A.2.
constexpr std::string_view a2_header = R"({"alg":"RS256"})";
constexpr std::string_view a2_payload =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
constexpr std::string_view a2_compact =
    "eyJhbGciOiJSUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q"
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
    "O8W2Fp5jujG"
    "bds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_"
    "nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0G"
    "arZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-"
    "eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgG"
    "Y9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

constexpr std::string_view session_header = R"({"alg":"RS256","kid":"ins_test","typ":"JWT"})";
constexpr std::string_view session_payload =
    R"({"sub":"user_2abc","sid":"sess_2abc","iat":1700000000,"nbf":1699999990,"exp":1700000060})";

// Independent check with raw EVP calls (not through verify_rs256).
bool evp_verifies(EVP_PKEY* key, std::string_view input, std::string_view sig) {
    crypto::evp_md_ctx_ptr const ctx(::EVP_MD_CTX_new());
    BOOST_TEST_REQUIRE(ctx != nullptr);
    BOOST_TEST_REQUIRE(::EVP_DigestVerifyInit(ctx.get(), nullptr, ::EVP_sha256(), nullptr, key) == 1);
    int const rc = ::EVP_DigestVerify(ctx.get(), reinterpret_cast<unsigned char const*>(sig.data()), sig.size(),
                                      reinterpret_cast<unsigned char const*>(input.data()), input.size());
    ::ERR_clear_error();
    return rc == 1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(crypto_jws)

BOOST_AUTO_TEST_CASE(rfc7515_a2_known_answer) {
    auto jws = crypto::sign_rs256(test::rfc_key(), a2_header, a2_payload);
    BOOST_TEST_REQUIRE(jws.has_value());
    BOOST_TEST(*jws == a2_compact);
}

BOOST_AUTO_TEST_CASE(rfc7515_a2_parses_and_verifies_with_the_jwk) {
    auto parts = crypto::parse_jws(a2_compact);
    BOOST_TEST_REQUIRE(parts.has_value());
    BOOST_TEST(parts->header_json == a2_header);
    BOOST_TEST(parts->payload_json == a2_payload);
    BOOST_TEST(parts->signing_input == a2_compact.substr(0, a2_compact.rfind('.')));
    BOOST_TEST(parts->signature.size() == 256U);
    auto pub = crypto::public_key::from_jwk(test::rfc7515_a2_n, "AQAB");
    BOOST_TEST_REQUIRE(pub.has_value());
    BOOST_TEST(!crypto::verify_rs256(pub->get(), *parts).has_error());
}

BOOST_AUTO_TEST_CASE(sign_is_deterministic_and_verifies_independently) {
    auto const& k = test::generated_key();
    auto first = crypto::sign_rs256(k, session_header, session_payload);
    auto second = crypto::sign_rs256(k, session_header, session_payload);
    BOOST_TEST_REQUIRE((first && second));
    BOOST_TEST(*first == *second);  // PKCS#1 v1.5 has no randomness

    auto parts = crypto::parse_jws(*first);
    BOOST_TEST_REQUIRE(parts.has_value());
    BOOST_TEST(parts->header_json == session_header);
    BOOST_TEST(parts->payload_json == session_payload);
    BOOST_TEST(evp_verifies(k.get(), parts->signing_input, parts->signature));
    BOOST_TEST(!crypto::verify_rs256(k.get(), *parts).has_error());

    // Through the JWKS parameters, as a relying party would.
    auto pub = crypto::public_key::from_jwk(k.n_b64url(), k.e_b64url());
    BOOST_TEST_REQUIRE(pub.has_value());
    BOOST_TEST(!crypto::verify_rs256(pub->get(), *parts).has_error());
}

BOOST_AUTO_TEST_CASE(tampering_is_detected) {
    auto const& k = test::generated_key();
    auto jws = crypto::sign_rs256(k, session_header, session_payload);
    BOOST_TEST_REQUIRE(jws.has_value());
    auto parts = crypto::parse_jws(*jws);
    BOOST_TEST_REQUIRE(parts.has_value());

    // Another payload under the original header and signature.
    std::string forged = crypto::base64url_encode(session_header) + "." +
                         crypto::base64url_encode(R"({"sub":"user_admin"})") + jws->substr(jws->rfind('.'));
    auto forged_parts = crypto::parse_jws(forged);
    BOOST_TEST_REQUIRE(forged_parts.has_value());
    BOOST_TEST(crypto::verify_rs256(k.get(), *forged_parts).error() == code(errc::bad_signature));

    auto flipped = *parts;
    flipped.signature[100] = static_cast<char>(flipped.signature[100] ^ 0x01);
    BOOST_TEST(crypto::verify_rs256(k.get(), flipped).error() == code(errc::bad_signature));

    auto input = *parts;
    input.signing_input.back() = input.signing_input.back() == 'A' ? 'B' : 'A';
    BOOST_TEST(crypto::verify_rs256(k.get(), input).error() == code(errc::bad_signature));

    auto truncated = *parts;
    truncated.signature.pop_back();
    BOOST_TEST(crypto::verify_rs256(k.get(), truncated).error() == code(errc::bad_signature));

    BOOST_TEST(crypto::verify_rs256(test::other_generated_key().get(), *parts).error() == code(errc::bad_signature));
    BOOST_TEST(::ERR_peek_error() == 0UL);  // mismatches leave no stale OpenSSL errors
}

BOOST_AUTO_TEST_CASE(verify_rejects_missing_and_non_rsa_keys) {
    auto parts = crypto::parse_jws(a2_compact);
    BOOST_TEST_REQUIRE(parts.has_value());
    BOOST_TEST(crypto::verify_rs256(nullptr, *parts).error() == code(errc::invalid_key));

    crypto::bio_ptr const bio(::BIO_new_mem_buf(test::ec_p256_pem.data(), static_cast<int>(test::ec_p256_pem.size())));
    crypto::evp_pkey_ptr const ec(::PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    BOOST_TEST_REQUIRE(ec != nullptr);
    BOOST_TEST(crypto::verify_rs256(ec.get(), *parts).error() == code(errc::unsupported_algorithm));
}

BOOST_AUTO_TEST_CASE(parse_jws_is_strict) {
    std::string const oversized = "e30." + std::string(crypto::max_jws_bytes, 'A') + ".AAAA";
    std::string_view const bad[] = {
        "",
        "e30.e30",             // 2 parts
        "e30.e30.AAAA.AAAA",   // 4 parts
        ".e30.AAAA",           // empty header
        "e30..AAAA",           // empty payload
        "e30.e30.",            // empty signature
        "e30.e30.AAAA=",       // padding
        "e30.e3+.AAAA",        // standard-alphabet character
        "e30.e3 0.AAAA",       // whitespace
        "e30.e30.AAAAA",       // 4k + 1 characters
        "e31.e30.AAAA",        // non-canonical trailing bits
        "e30.e30.AA\xc3\xa9",  // non-ASCII
        oversized,
    };
    for (auto const s : bad) {
        BOOST_TEST_CONTEXT("token \"" << s.substr(0, 40) << "\"") {
            auto r = crypto::parse_jws(s);
            BOOST_TEST_REQUIRE(r.has_error());
            BOOST_TEST(r.error() == code(errc::invalid_token));
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_jws_accepts_exactly_the_maximum_size) {
    std::string const prefix = "e30.";
    std::string const suffix = ".AAAA";
    std::size_t payload_chars = crypto::max_jws_bytes - prefix.size() - suffix.size();
    BOOST_TEST_REQUIRE(payload_chars % 4 != 1U);
    std::string token = prefix + std::string(payload_chars, 'A') + suffix;
    BOOST_TEST(token.size() == crypto::max_jws_bytes);
    BOOST_TEST(crypto::parse_jws(token).has_value());
}

BOOST_AUTO_TEST_CASE(large_payloads_sign_and_verify) {
    std::string payload = R"({"sub":"user_x","pad":")" + std::string(8000, 'x') + "\"}";
    auto jws = crypto::sign_rs256(test::generated_key(), session_header, payload);
    BOOST_TEST_REQUIRE(jws.has_value());
    auto parts = crypto::parse_jws(*jws);
    BOOST_TEST_REQUIRE(parts.has_value());
    BOOST_TEST(parts->payload_json == payload);
    BOOST_TEST(!crypto::verify_rs256(test::generated_key().get(), *parts).has_error());
}

BOOST_AUTO_TEST_CASE(one_key_signs_from_many_threads) {
    auto const& k = test::generated_key();
    auto const expected = crypto::sign_rs256(k, session_header, session_payload);
    BOOST_TEST_REQUIRE(expected.has_value());
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                auto jws = crypto::sign_rs256(k, session_header, session_payload);
                auto parts = jws ? crypto::parse_jws(*jws) : crypto::result<crypto::jws_parts>(errc::openssl);
                if (!jws || *jws != *expected || !parts || crypto::verify_rs256(k.get(), *parts).has_error())
                    ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    BOOST_TEST(failures.load() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
