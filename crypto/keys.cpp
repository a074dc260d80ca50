#include "crypto/keys.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"

#include <boost/system/system_error.hpp>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cassert>
#include <climits>

namespace latchkey::crypto {

namespace {

// PEM text larger than this is not a key we would ever load.
constexpr std::size_t max_pem_bytes = std::size_t{64} * 1024;

// Refuses to prompt for a passphrase: encrypted PEM simply fails to load.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

[[noreturn]] void throw_openssl(char const* what) {
    log_openssl_failure(what);
    throw boost::system::system_error(make_error_code(errc::openssl), what);
}

bio_ptr read_bio(std::string_view text) {
    return bio_ptr(::BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

/// The key `read` (PEM_read_bio_PrivateKey or PEM_read_bio_PUBKEY) finds in `pem`: errc::invalid_key when there is
/// none (the OpenSSL errors logged under `failure` when given, else dropped: malformed input is not our failure).
template <class Read>
result<evp_pkey_ptr> pem_key(std::string_view pem, Read read, char const* failure) {
    if (pem.empty() || pem.size() > max_pem_bytes) return errc::invalid_key;
    bio_ptr const bio = read_bio(pem);
    if (!bio) {
        log_openssl_failure("BIO_new_mem_buf");
        return errc::openssl;
    }
    evp_pkey_ptr pkey(read(bio.get(), nullptr, &no_passphrase, nullptr));
    if (pkey) return pkey;
    if (failure != nullptr)
        log_openssl_failure(failure);
    else
        ::ERR_clear_error();
    return errc::invalid_key;
}

// The big-endian bytes of one BIGNUM parameter of `pkey`, as unpadded base64url.
result<std::string> bn_param_b64url(EVP_PKEY* pkey, char const* name) {
    BIGNUM* raw = nullptr;
    if (::EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
        log_openssl_failure("EVP_PKEY_get_bn_param");
        return errc::openssl;
    }
    bignum_ptr const bn(raw);
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
    if (::BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data())) != static_cast<int>(bytes.size())) {
        log_openssl_failure("BN_bn2bin");
        return errc::openssl;
    }
    return base64url_encode(bytes);
}

// Checks that `pkey` is an RSA key of an accepted size; returns its size in bits.
result<int> check_rsa(EVP_PKEY* pkey) {
    if (::EVP_PKEY_is_a(pkey, "RSA") != 1) return errc::unsupported_algorithm;
    int const bits = ::EVP_PKEY_get_bits(pkey);
    if (bits < min_rsa_bits || bits > max_rsa_bits) return errc::invalid_key;
    return bits;
}

// "ins_" + 27 base62 characters of the first 20 bytes of SHA-256(SPKI DER).
result<std::string> derive_kid(EVP_PKEY* pkey) {
    int const len = ::i2d_PUBKEY(pkey, nullptr);
    if (len <= 0) {
        log_openssl_failure("i2d_PUBKEY");
        return errc::openssl;
    }
    std::string der(static_cast<std::size_t>(len), '\0');
    auto* p = reinterpret_cast<unsigned char*>(der.data());
    if (::i2d_PUBKEY(pkey, &p) != len) {
        log_openssl_failure("i2d_PUBKEY");
        return errc::openssl;
    }
    return "ins_" + base62_encode(sha256(der).substr(0, 20), 27);
}

void append_json_string(std::string& out, std::string_view s) {
    constexpr std::string_view hex = "0123456789abcdef";
    out += '"';
    for (char const c : s) {
        auto const u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 0x0f];
        } else {
            out += c;
        }
    }
    out += '"';
}

}  // namespace

result<signing_key> signing_key::adopt(evp_pkey_ptr pkey) {
    auto bits = check_rsa(pkey.get());
    if (!bits) return bits.error();
    auto n = bn_param_b64url(pkey.get(), OSSL_PKEY_PARAM_RSA_N);
    if (!n) return n.error();
    auto e = bn_param_b64url(pkey.get(), OSSL_PKEY_PARAM_RSA_E);
    if (!e) return e.error();
    auto kid = derive_kid(pkey.get());
    if (!kid) return kid.error();
    signing_key k;
    k.pkey_ = std::move(pkey);
    k.kid_ = std::move(*kid);
    k.n_ = std::move(*n);
    k.e_ = std::move(*e);
    k.bits_ = *bits;
    return k;
}

result<signing_key> signing_key::generate_rsa(int bits) {
    if (bits < min_rsa_bits || bits > max_rsa_bits) return errc::invalid_key;
    evp_pkey_ctx_ptr const ctx(::EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    if (!ctx) {
        log_openssl_failure("EVP_PKEY_CTX_new_from_name(RSA)");
        return errc::openssl;
    }
    if (::EVP_PKEY_keygen_init(ctx.get()) != 1 || ::EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1) {
        log_openssl_failure("RSA keygen init");
        return errc::openssl;
    }
    EVP_PKEY* raw = nullptr;
    if (::EVP_PKEY_generate(ctx.get(), &raw) != 1) {
        log_openssl_failure("EVP_PKEY_generate(RSA)");
        return errc::openssl;
    }
    return adopt(evp_pkey_ptr(raw));
}

result<signing_key> signing_key::from_pem(std::string_view private_pem) {
    auto read =
        pem_key(private_pem, &::PEM_read_bio_PrivateKey, "PEM_read_bio_PrivateKey: not an unencrypted private key PEM");
    if (!read) return read.error();
    evp_pkey_ptr pkey = std::move(*read);
    if (auto bits = check_rsa(pkey.get()); !bits) return bits.error();
    evp_pkey_ctx_ptr const ctx(::EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!ctx) {
        log_openssl_failure("EVP_PKEY_CTX_new_from_pkey");
        return errc::openssl;
    }
    if (::EVP_PKEY_pairwise_check(ctx.get()) != 1) {
        log_openssl_failure("EVP_PKEY_pairwise_check: inconsistent RSA key");
        return errc::invalid_key;
    }
    return adopt(std::move(pkey));
}

result<signing_key> signing_key::clone() const {
    if (::EVP_PKEY_up_ref(pkey_.get()) != 1) {
        log_openssl_failure("EVP_PKEY_up_ref");
        return errc::openssl;
    }
    signing_key k;
    k.pkey_.reset(pkey_.get());
    k.kid_ = kid_;
    k.n_ = n_;
    k.e_ = e_;
    k.bits_ = bits_;
    return k;
}

std::string signing_key::private_pem() const {
    // The secure-heap BIO cleanses its buffer when it grows and when it is freed.
    bio_ptr const bio(::BIO_new(::BIO_s_secmem()));
    if (!bio) throw_openssl("BIO_new(secmem)");
    if (::PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw_openssl("PEM_write_bio_PrivateKey");
    char* data = nullptr;
    long const len = BIO_get_mem_data(bio.get(), &data);
    if (len <= 0 || data == nullptr) throw_openssl("BIO_get_mem_data");
    return {data, static_cast<std::size_t>(len)};
}

std::string signing_key::public_pem() const {
    bio_ptr const bio(::BIO_new(::BIO_s_mem()));
    if (!bio) throw_openssl("BIO_new(mem)");
    if (::PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) throw_openssl("PEM_write_bio_PUBKEY");
    char* data = nullptr;
    long const len = BIO_get_mem_data(bio.get(), &data);
    if (len <= 0 || data == nullptr) throw_openssl("BIO_get_mem_data");
    return {data, static_cast<std::size_t>(len)};
}

result<public_key> public_key::adopt(evp_pkey_ptr pkey) {
    if (auto bits = check_rsa(pkey.get()); !bits) return bits.error();
    public_key k;
    k.pkey_ = std::move(pkey);
    return k;
}

result<public_key> public_key::from_pem(std::string_view spki_pem) {
    auto pkey = pem_key(spki_pem, &::PEM_read_bio_PUBKEY, nullptr);
    if (!pkey) return pkey.error();
    return adopt(std::move(*pkey));
}

result<public_key> public_key::from_jwk(std::string_view n_b64url, std::string_view e_b64url) {
    auto n = base64url_decode(n_b64url);
    if (!n) return n.error();
    auto e = base64url_decode(e_b64url);
    if (!e) return e.error();
    // e must be an odd integer > 1 that fits in 64 bits; n is sized by check_rsa below.
    if (e->empty() || e->size() > 8 || (static_cast<unsigned char>(e->back()) & 1U) == 0 || n->empty() ||
        n->size() > static_cast<std::size_t>(max_rsa_bits / 8)) {
        return errc::invalid_key;
    }
    auto pkey = rsa_public_key(*n, *e);
    if (!pkey) return pkey.error();
    return adopt(std::move(*pkey));
}

result<public_key> public_key::from_signing_key(signing_key const& k) {
    if (::EVP_PKEY_up_ref(k.get()) != 1) {
        log_openssl_failure("EVP_PKEY_up_ref");
        return errc::openssl;
    }
    return adopt(evp_pkey_ptr(k.get()));
}

void keyring::add(signing_key k, bool active) {
    std::size_t index = keys_.size();
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        if (keys_[i].kid() == k.kid()) {
            index = i;
            break;
        }
    }
    if (index == keys_.size()) {
        keys_.push_back(std::move(k));
    } else {
        keys_[index] = std::move(k);
    }
    if (active) active_ = index;
}

signing_key const& keyring::active() const {
    assert(has_active());
    return keys_[active_];
}

signing_key const* keyring::find(std::string_view kid) const noexcept {
    for (auto const& k : keys_)
        if (k.kid() == kid) return &k;
    return nullptr;
}

std::vector<signing_key const*> keyring::published() const {
    std::vector<signing_key const*> out;
    out.reserve(keys_.size());
    if (has_active()) out.push_back(&keys_[active_]);
    for (std::size_t i = 0; i < keys_.size(); ++i)
        if (i != active_) out.push_back(&keys_[i]);
    return out;
}

std::string jwks_json(keyring const& ring) {
    std::string out = R"({"keys":[)";
    bool first = true;
    for (signing_key const* k : ring.published()) {
        if (!first) out += ',';
        first = false;
        out += R"({"use":"sig","kty":"RSA","kid":)";
        append_json_string(out, k->kid());
        out += R"(,"alg":"RS256","n":")";
        out += k->n_b64url();
        out += R"(","e":")";
        out += k->e_b64url();
        out += R"("})";
    }
    out += "]}";
    return out;
}

}  // namespace latchkey::crypto
