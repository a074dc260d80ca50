#pragma once
// A software WebAuthn authenticator for tests (issue 14): one credential on an OpenSSL key (ES256 or RS256), the
// attestation (none, or packed self-attestation) and assertion JSON a browser posts, each part spoilable by a
// ceremony. Shared by the passkey integration tests and the handler tests.
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace latchkey::test::webauthn {

namespace json = boost::json;

/// The origin the ceremonies answer for (the app the browser runs).
inline constexpr char const* webauthn_origin = "http://localhost:3000";

// ---- a minimal CBOR encoder (what an authenticator writes) ----
inline std::string head(unsigned major, std::uint64_t n) {
    std::string out;
    auto const m = static_cast<char>(major << 5);
    if (n < 24) {
        out.push_back(static_cast<char>(m | static_cast<char>(n)));
    } else if (n < 256) {
        out.push_back(static_cast<char>(m | 24));
        out.push_back(static_cast<char>(n));
    } else {
        out.push_back(static_cast<char>(m | 25));
        out.push_back(static_cast<char>(n >> 8));
        out.push_back(static_cast<char>(n & 0xff));
    }
    return out;
}
inline std::string cint(std::int64_t v) {
    return v >= 0 ? head(0, static_cast<std::uint64_t>(v)) : head(1, static_cast<std::uint64_t>(-1 - v));
}
inline std::string cbytes(std::string const& s) { return head(2, s.size()) + s; }
inline std::string ctext(std::string const& s) { return head(3, s.size()) + s; }

inline std::string bn_bytes(EVP_PKEY* k, char const* name) {
    BIGNUM* bn = nullptr;
    BOOST_TEST_REQUIRE(EVP_PKEY_get_bn_param(k, name, &bn) == 1);
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
}

/// A software authenticator holding one credential.
struct authenticator {
    crypto::evp_pkey_ptr key;
    bool rsa = false;
    std::string credential_id;
    std::uint32_t counter = 0;

    explicit authenticator(bool use_rsa, std::string id) : rsa(use_rsa), credential_id(std::move(id)) {
        key.reset(use_rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"));
        BOOST_TEST_REQUIRE(key != nullptr);
    }

    std::string cose() const {
        if (rsa)
            return head(5, 4) + cint(1) + cint(3) + cint(3) + cint(-257) + cint(-1) +
                   cbytes(bn_bytes(key.get(), OSSL_PKEY_PARAM_RSA_N)) + cint(-2) +
                   cbytes(bn_bytes(key.get(), OSSL_PKEY_PARAM_RSA_E));
        unsigned char pub[65];
        std::size_t n = 0;
        BOOST_TEST_REQUIRE(EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &n) ==
                           1);
        BOOST_TEST_REQUIRE(n == 65u);
        std::string const x(reinterpret_cast<char*>(pub + 1), 32), y(reinterpret_cast<char*>(pub + 33), 32);
        return head(5, 5) + cint(1) + cint(2) + cint(3) + cint(-7) + cint(-1) + cint(1) + cint(-2) + cbytes(x) +
               cint(-3) + cbytes(y);
    }

    std::string sign(std::string const& data) const {
        crypto::evp_md_ctx_ptr md(EVP_MD_CTX_new());
        BOOST_TEST_REQUIRE(EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1);
        std::size_t n = 0;
        auto const* p = reinterpret_cast<unsigned char const*>(data.data());
        BOOST_TEST_REQUIRE(EVP_DigestSign(md.get(), nullptr, &n, p, data.size()) == 1);
        std::string sig(n, '\0');
        BOOST_TEST_REQUIRE(EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &n, p, data.size()) ==
                           1);
        sig.resize(n);
        return sig;
    }
};

/// What a ceremony answers with; each member can be spoiled by a test.
struct ceremony {
    std::string origin = webauthn_origin;
    std::string rp_id = "localhost";
    std::string type;                      ///< "" = the right one
    std::optional<std::string> challenge;  ///< nothing = the one in the options
    std::uint8_t flags = 0x01 | 0x04;      ///< UP | UV
    bool packed = false;                   ///< registration: packed self-attestation instead of none
    bool break_signature = false;
    std::optional<std::string> user_handle;  ///< assertion; nothing = none
};

inline std::string challenge_of(std::string const& options) {
    return std::string(json::parse(options).at("challenge").as_string());
}

inline std::string client_data(std::string const& type, std::string const& challenge, std::string const& origin) {
    json::object o{{"type", type}, {"challenge", challenge}, {"origin", origin}, {"crossOrigin", false}};
    return json::serialize(o);
}

inline std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
            static_cast<char>(v & 0xff)};
}

/// The PublicKeyCredential JSON of `a` around `response` (what the browser posts).
inline std::string credential_json(authenticator const& a, json::object response) {
    json::object o{{"id", crypto::base64url_encode(a.credential_id)},
                   {"rawId", crypto::base64url_encode(a.credential_id)},
                   {"type", "public-key"},
                   {"authenticatorAttachment", "platform"},
                   {"response", std::move(response)}};
    return json::serialize(o);
}

/// navigator.credentials.create() answering `options` (PublicKeyCredentialCreationOptionsJSON text).
inline std::string attestation_json(authenticator& a, std::string const& options, ceremony const& c = {}) {
    auto const cd =
        client_data(c.type.empty() ? "webauthn.create" : c.type, c.challenge.value_or(challenge_of(options)), c.origin);
    std::string auth = crypto::sha256(c.rp_id);
    auth.push_back(static_cast<char>(c.flags | 0x40));
    auth += be32(a.counter);
    auth += std::string(16, '\0');
    auth.push_back(static_cast<char>(a.credential_id.size() >> 8));
    auth.push_back(static_cast<char>(a.credential_id.size() & 0xff));
    auth += a.credential_id;
    auth += a.cose();
    std::string att;
    if (c.packed) {
        std::string sig = a.sign(auth + crypto::sha256(cd));
        if (c.break_signature) sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 1);
        att = head(5, 3) + ctext("fmt") + ctext("packed") + ctext("attStmt") + head(5, 2) + ctext("alg") +
              cint(a.rsa ? -257 : -7) + ctext("sig") + cbytes(sig) + ctext("authData") + cbytes(auth);
    } else {
        att = head(5, 3) + ctext("fmt") + ctext("none") + ctext("attStmt") + head(5, 0) + ctext("authData") +
              cbytes(auth);
    }
    json::object r{{"clientDataJSON", crypto::base64url_encode(cd)},
                   {"attestationObject", crypto::base64url_encode(att)},
                   {"transports", json::array{"internal"}}};
    return credential_json(a, std::move(r));
}

/// navigator.credentials.get() answering `options` (PublicKeyCredentialRequestOptionsJSON text); the counter
/// moves by one first.
inline std::string assertion_json(authenticator& a, std::string const& options, ceremony const& c = {}) {
    ++a.counter;
    auto const cd =
        client_data(c.type.empty() ? "webauthn.get" : c.type, c.challenge.value_or(challenge_of(options)), c.origin);
    std::string auth = crypto::sha256(c.rp_id);
    auth.push_back(static_cast<char>(c.flags));
    auth += be32(a.counter);
    std::string sig = a.sign(auth + crypto::sha256(cd));
    if (c.break_signature) sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 1);
    json::object r{{"clientDataJSON", crypto::base64url_encode(cd)},
                   {"authenticatorData", crypto::base64url_encode(auth)},
                   {"signature", crypto::base64url_encode(sig)}};
    r["userHandle"] = c.user_handle ? json::value(crypto::base64url_encode(*c.user_handle)) : json::value(nullptr);
    return credential_json(a, std::move(r));
}

}  // namespace latchkey::test::webauthn
