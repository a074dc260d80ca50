#include "crypto/es256.hpp"

#include "crypto/encoding.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <array>
#include <cstddef>

namespace latchkey::crypto {

namespace {

constexpr std::size_t coord_bytes = 32;

using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, ossl_deleter<&::ECDSA_SIG_free>>;

bool is_p256(EVP_PKEY* k) {
    if (::EVP_PKEY_is_a(k, "EC") != 1) return false;
    std::array<char, 64> name{};
    std::size_t len = 0;
    if (::EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, name.data(), name.size(), &len) != 1)
        return false;
    return std::string_view(name.data(), len) == "prime256v1";
}

/// Big-endian, left-padded to 32 bytes.
bool put_coord(BIGNUM const* bn, unsigned char* out) {
    return ::BN_bn2binpad(bn, out, static_cast<int>(coord_bytes)) == static_cast<int>(coord_bytes);
}

}  // namespace

result<evp_pkey_ptr> p256_from_jwk(std::string_view x_b64url, std::string_view y_b64url) {
    auto x = base64url_decode(x_b64url);
    if (!x) return errc::invalid_key;
    auto y = base64url_decode(y_b64url);
    if (!y) return errc::invalid_key;
    return p256_from_point(*x, *y);
}

result<evp_pkey_ptr> p256_from_point(std::string_view x, std::string_view y) {
    if (x.size() != coord_bytes || y.size() != coord_bytes) return errc::invalid_key;
    std::string point;
    point.reserve(1 + 2 * coord_bytes);
    point.push_back('\x04');  // uncompressed
    point += x;
    point += y;
    ossl_param_bld_ptr const bld(::OSSL_PARAM_BLD_new());
    if (!bld || ::OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        ::OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
        log_openssl_failure("OSSL_PARAM_BLD(EC)");
        return errc::openssl;
    }
    auto key = public_key_from_params("EC", bld.get());
    if (!key) return key.error();  // a point off the curve is bad input
    // fromdata does not always check the point: a public-key check does.
    evp_pkey_ctx_ptr const check(::EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
    if (!check || ::EVP_PKEY_public_check(check.get()) != 1) {
        ::ERR_clear_error();
        return errc::invalid_key;
    }
    return key;
}

result<void> verify_es256(EVP_PKEY* pub, std::string_view signing_input, std::string_view signature) {
    if (pub == nullptr) return errc::invalid_key;
    if (!is_p256(pub)) return errc::unsupported_algorithm;
    if (signature.size() != 2 * coord_bytes) return errc::bad_signature;
    auto const* bytes = reinterpret_cast<unsigned char const*>(signature.data());
    bignum_ptr r(::BN_bin2bn(bytes, static_cast<int>(coord_bytes), nullptr));
    bignum_ptr s(::BN_bin2bn(bytes + coord_bytes, static_cast<int>(coord_bytes), nullptr));
    ecdsa_sig_ptr sig(::ECDSA_SIG_new());
    if (!r || !s || !sig || ::ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
        log_openssl_failure("ECDSA_SIG_set0");
        return errc::openssl;
    }
    (void)r.release();  // owned by sig now
    (void)s.release();
    unsigned char* der = nullptr;
    int const der_len = ::i2d_ECDSA_SIG(sig.get(), &der);
    if (der_len <= 0 || der == nullptr) {
        log_openssl_failure("i2d_ECDSA_SIG");
        return errc::openssl;
    }
    evp_md_ctx_ptr const ctx(::EVP_MD_CTX_new());
    int rc = -1;
    if (ctx && ::EVP_DigestVerifyInit(ctx.get(), nullptr, ::EVP_sha256(), nullptr, pub) == 1)
        rc = ::EVP_DigestVerify(ctx.get(), der, static_cast<std::size_t>(der_len),
                                reinterpret_cast<unsigned char const*>(signing_input.data()), signing_input.size());
    ::OPENSSL_free(der);
    if (rc == 1) return {};
    ::ERR_clear_error();
    if (rc == 0) return errc::bad_signature;
    return errc::bad_signature;
}

result<evp_pkey_ptr> generate_p256() {
    evp_pkey_ptr k(::EVP_EC_gen("P-256"));
    if (!k) {
        log_openssl_failure("EVP_EC_gen");
        return errc::openssl;
    }
    return k;
}

result<p256_point> p256_jwk(EVP_PKEY* key) {
    if (key == nullptr || !is_p256(key)) return errc::unsupported_algorithm;
    BIGNUM* x = nullptr;
    BIGNUM* y = nullptr;
    if (::EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
        ::EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1) {
        ::BN_free(x);
        log_openssl_failure("EVP_PKEY_get_bn_param(EC)");
        return errc::openssl;
    }
    bignum_ptr const bx(x), by(y);
    std::array<unsigned char, coord_bytes> bufx{}, bufy{};
    if (!put_coord(bx.get(), bufx.data()) || !put_coord(by.get(), bufy.data())) return errc::invalid_key;
    return p256_point{base64url_encode({reinterpret_cast<char const*>(bufx.data()), bufx.size()}),
                      base64url_encode({reinterpret_cast<char const*>(bufy.data()), bufy.size()})};
}

result<std::string> sign_es256(EVP_PKEY* key, std::string_view header_json, std::string_view payload_json) {
    if (key == nullptr || !is_p256(key)) return errc::unsupported_algorithm;
    std::string out = base64url_encode(header_json);
    out.push_back('.');
    base64url_encode_append(out, payload_json);
    evp_md_ctx_ptr const ctx(::EVP_MD_CTX_new());
    std::size_t der_len = 0;
    if (!ctx || ::EVP_DigestSignInit(ctx.get(), nullptr, ::EVP_sha256(), nullptr, key) != 1 ||
        ::EVP_DigestSign(ctx.get(), nullptr, &der_len, reinterpret_cast<unsigned char const*>(out.data()),
                         out.size()) != 1) {
        log_openssl_failure("EVP_DigestSign(ES256)");
        return errc::openssl;
    }
    std::string der(der_len, '\0');
    if (::EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                         reinterpret_cast<unsigned char const*>(out.data()), out.size()) != 1) {
        log_openssl_failure("EVP_DigestSign(ES256)");
        return errc::openssl;
    }
    auto const* p = reinterpret_cast<unsigned char const*>(der.data());
    ecdsa_sig_ptr const sig(::d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
    if (!sig) {
        log_openssl_failure("d2i_ECDSA_SIG");
        return errc::openssl;
    }
    std::array<unsigned char, 2 * coord_bytes> raw{};
    if (!put_coord(::ECDSA_SIG_get0_r(sig.get()), raw.data()) ||
        !put_coord(::ECDSA_SIG_get0_s(sig.get()), raw.data() + coord_bytes))
        return errc::openssl;
    out.push_back('.');
    base64url_encode_append(out, {reinterpret_cast<char const*>(raw.data()), raw.size()});
    return out;
}

}  // namespace latchkey::crypto
