#include "crypto/webauthn.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace crypto = latchkey::crypto;
namespace wa = latchkey::crypto::webauthn;

namespace {

std::string b64(std::string_view s) {
    auto d = crypto::base64url_decode(s);
    BOOST_REQUIRE(d.has_value());
    return *d;
}

// Published WebAuthn samples (the py_webauthn test suite: real authenticators against RP "localhost", origin
// http://localhost:5000). An ES256 assertion (counter 78) and an RS256 one (counter 1, user verified), each
// with the credential's COSE key.
constexpr std::string_view es256_auth_data = "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MBAAAATg";
constexpr std::string_view es256_client_data =
    "eyJjaGFsbGVuZ2UiOiJ4aTMwR1BHQUZZUnhWRHBZMXNNMTBEYUx6VlFHNjZudi1fN1JVYXpIMHZJMll2RzhMWWdERW52TjVmWlpOVnV2RUR1TWk5"
    "dGUzVkxxYjQyTjBma0xHQSIsImNsaWVudEV4dGVuc2lvbnMiOnt9LCJoYXNoQWxnb3JpdGhtIjoiU0hBLTI1NiIsIm9yaWdpbiI6Imh0dHA6Ly9s"
    "b2NhbGhvc3Q6NTAwMCIsInR5cGUiOiJ3ZWJhdXRobi5nZXQifQ";
constexpr std::string_view es256_signature =
    "MEUCIGisVZOBapCWbnJJvjelIzwpixxIwkjCCb5aCHafQu68AiEA88v-2pJNNApPFwAKFiNuf82-2hBxYW5kGwVweeoxCwo";
constexpr std::string_view es256_key =
    "pQECAyYgASFYIIeDTe-gN8A-zQclHoRnGFWN8ehM1b7yAsa8I8KIvmplIlgg4nFGT5px8o6gpPZZhO01wdy9crDSA_Ngtkx0vGpvPHI";

constexpr std::string_view rs256_auth_data = "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ";
constexpr std::string_view rs256_client_data =
    "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiaVBtQWkxUHAxWEw2b0FncTNQV1p0WlBuWmExekZVRG9HYmFRMF9LdlZHMWxGMnMz"
    "UnRfM280dVN6Y2N5MHRtY1RJcFRUVDRCVTFULUk0bWFhdm5kalEiLCJvcmlnaW4iOiJodHRwOi8vbG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdp"
    "biI6ZmFsc2V9";
constexpr std::string_view rs256_signature =
    "iOHKX3erU5_OYP_r_9HLZ-CexCE4bQRrxM8WmuoKTDdhAnZSeTP0sjECjvjfeS8MJzN1ArmvV0H0C3yy_FdRFfcpUPZzdZ7bBcmPh1XPdxRwY747"
    "OrIzcTLTFQUPdn1U-izCZtP_78VGw9pCpdMsv4CUzZdJbEcRtQuRS03qUjqDaovoJhOqEBmxJn9Wu8tBi_Qx7A33RbYjlfyLm_EDqimzDZhyiety"
    "op6XUcpKarKqVH0M6mMrM5zTjp8xf3W7odFCadXEJg-ERZqFM0-9Uup6kJNLbr6C5J4NDYmSm3HCSA6lp2iEiMPKU8Ii7QZ61kybXLxsX4w4Dm3f"
    "OLjmDw";
constexpr std::string_view rs256_key =
    "pAEDAzkBACBZAQDfV20epzvQP-HtcdDpX-cGzdOxy73WQEvsU7Dnr9UWJophEfpngouvgnRLXaEUn_d8HGkp_HIx8rrpkx4BVs6X_B6ZjhLlezjI"
    "dJbLbVeb92BaEsmNn1HW2N9Xj2QM8cH-yx28_vCjf82ahQ9gyAr552Bn96G22n8jqFRQKdVpO-f-bvpvaP3IQ9F5LCX7CUaxptgbog1SFO6FI6ob"
    "5SlVVB00lVXsaYg8cIDZxCkkENkGiFPgwEaZ7995SCbiyCpUJbMqToLMgojPkAhWeyktu7TlK6UBWdJMHc3FPAIs0lH_2_2hKS-mGI1uZAFVAfW1"
    "X-mzKL0czUm2P1UlUox7IUMBAAE";

// A registration with fmt "none" from a platform authenticator (a public demo app's log): ES256 credential
// ZO_3bOlamfM_uPn0HXmvbKk_Vb8, counter 0.
constexpr std::string_view none_attestation =
    "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YViYdWbm9oyfp_SiMPVTrcMP6mQbEdhv5vHv15lgmXFgHeldAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "FGTv92zpWpnzP7j59B15r2ypP1W_pQECAyYgASFYINrcfCuBp5q_aT2z4AkwXZTXPAVjbsPgxt7p5n2hI3S3Ilgg3Qfa1Sj7nLMdCX_yOKm606eT"
    "RMqtM_JDyzKkKCnhTqI";

}  // namespace

BOOST_AUTO_TEST_SUITE(crypto_webauthn)

BOOST_AUTO_TEST_CASE(es256_assertion_sample_verifies) {
    auto const data = b64(es256_auth_data);
    auto d = wa::parse_authenticator_data(data);
    BOOST_REQUIRE(d.has_value());
    BOOST_TEST((d->rp_id_hash == crypto::sha256("localhost")));
    BOOST_TEST(d->sign_count == 78u);
    BOOST_TEST(d->user_present());
    BOOST_TEST(!d->user_verified());
    BOOST_TEST(d->credential_id.empty());
    auto key = wa::parse_cose_key(b64(es256_key));
    BOOST_REQUIRE(key.has_value());
    BOOST_TEST(key->alg == wa::alg_es256);
    auto const hash = crypto::sha256(b64(es256_client_data));
    BOOST_TEST(wa::verify_signature(*key, data, hash, b64(es256_signature)).has_value());
    // One flipped bit anywhere: refused.
    std::string bad = data;
    bad[36] = static_cast<char>(bad[36] ^ 1);  // the counter
    BOOST_TEST((wa::verify_signature(*key, bad, hash, b64(es256_signature)).error() == crypto::errc::bad_signature));
    std::string sig = b64(es256_signature);
    sig[10] = static_cast<char>(sig[10] ^ 0x40);
    BOOST_TEST((wa::verify_signature(*key, data, hash, sig).error() == crypto::errc::bad_signature));
}

BOOST_AUTO_TEST_CASE(rs256_assertion_sample_verifies) {
    auto const data = b64(rs256_auth_data);
    auto d = wa::parse_authenticator_data(data);
    BOOST_REQUIRE(d.has_value());
    BOOST_TEST(d->sign_count == 1u);
    BOOST_TEST(d->user_verified());
    auto key = wa::parse_cose_key(b64(rs256_key));
    BOOST_REQUIRE(key.has_value());
    BOOST_TEST(key->alg == wa::alg_rs256);
    auto const hash = crypto::sha256(b64(rs256_client_data));
    BOOST_TEST(wa::verify_signature(*key, data, hash, b64(rs256_signature)).has_value());
    // The ES256 key cannot verify the RS256 signature, nor the RS256 key another client data.
    auto other = wa::parse_cose_key(b64(es256_key));
    BOOST_REQUIRE(other.has_value());
    BOOST_TEST(!wa::verify_signature(*other, data, hash, b64(rs256_signature)).has_value());
    BOOST_TEST(!wa::verify_signature(*key, data, crypto::sha256("x"), b64(rs256_signature)).has_value());
}

BOOST_AUTO_TEST_CASE(none_attestation_sample_parses) {
    auto a = wa::parse_attestation(b64(none_attestation), crypto::sha256("any: none has no signature"));
    BOOST_REQUIRE(a.has_value());
    BOOST_TEST(a->fmt == "none");
    BOOST_TEST((a->auth_data.credential_id == b64("ZO_3bOlamfM_uPn0HXmvbKk_Vb8")));
    BOOST_TEST(a->auth_data.sign_count == 0u);
    BOOST_TEST(a->auth_data.user_present());
    BOOST_TEST(a->auth_data.user_verified());
    auto key = wa::parse_cose_key(a->auth_data.cose_key);
    BOOST_REQUIRE(key.has_value());
    BOOST_TEST(key->alg == wa::alg_es256);
}

BOOST_AUTO_TEST_CASE(malformed_inputs_are_refused) {
    auto const att = b64(none_attestation);
    // Every truncation of the attestation object fails cleanly.
    for (std::size_t n = 0; n < att.size(); ++n) BOOST_TEST(!wa::parse_attestation(att.substr(0, n), {}).has_value());
    // A trailing byte after the map.
    BOOST_TEST(!wa::parse_attestation(att + '\0', {}).has_value());
    // Authenticator data: short, and trailing bytes without the extension flag.
    auto const data = b64(es256_auth_data);
    BOOST_TEST(!wa::parse_authenticator_data(data.substr(0, 36)).has_value());
    BOOST_TEST(!wa::parse_authenticator_data(data + "x").has_value());
    // The attested-credential flag without credential data.
    std::string at = data;
    at[32] = static_cast<char>(at[32] | wa::flag_attested);
    BOOST_TEST(!wa::parse_authenticator_data(at).has_value());
    // COSE: not a map; an EC2 key whose point is off the curve; an unsupported algorithm (EdDSA).
    BOOST_TEST(!wa::parse_cose_key("\x01").has_value());
    std::string k = b64(es256_key);
    k[k.size() - 1] = static_cast<char>(k[k.size() - 1] ^ 1);
    BOOST_TEST((wa::parse_cose_key(k).error() == crypto::errc::invalid_key));
    BOOST_TEST((wa::parse_cose_key(b64("pAEBAycgBiFYIMz6_SUFLiDid2Yhlq0YboyJ-CDrIrNpkPUGmJp4D3Dp")).error() ==
                crypto::errc::unsupported_algorithm));
}

// Found by fuzz_webauthn: a few bytes declaring a huge array made libcbor allocate gigabytes before reading it.
// Declared lengths are checked against the input first.
BOOST_AUTO_TEST_CASE(huge_declared_lengths_are_refused_before_decoding) {
    BOOST_TEST(
        !wa::parse_cose_key(
             b64("pQECAyYlIAEhWCCHg03voDfAPs0HJR4mJSABIVggh4NN72plIlgg4nFGT5px8o6gpPZZhO01wdy9crDSA_Ngtkx0vGpvPHI"))
             .has_value());
    BOOST_TEST(!wa::parse_cose_key(std::string("\x9b\xff\xff\xff\xff\xff\xff\xff\xff", 9)).has_value());
    BOOST_TEST(!wa::parse_cose_key(std::string("\xbb\x00\x00\x00\x10\x00\x00\x00\x00", 9)).has_value());
    BOOST_TEST(!wa::parse_cose_key(std::string(40, '\x81') + "\x01").has_value());  // nested 40 deep
}

BOOST_AUTO_TEST_SUITE_END()
