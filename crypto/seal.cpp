#include "crypto/seal.hpp"

#include "crypto/ossl.hpp"
#include "crypto/random.hpp"

#include <boost/system/system_error.hpp>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <climits>
#include <cstring>

namespace latchkey::crypto {

namespace {

constexpr char format_v1 = 'S';
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;

[[noreturn]] void fail(char const* what) {
    log_openssl_failure(what);
    throw boost::system::system_error(make_error_code(errc::openssl), what);
}

unsigned char const* u8(std::string_view s) noexcept { return reinterpret_cast<unsigned char const*>(s.data()); }

int len(std::size_t n) {
    if (n > static_cast<std::size_t>(INT_MAX / 2)) fail("AES-GCM input too large");
    return static_cast<int>(n);
}

}  // namespace

seal_key seal_key::generate() {
    seal_key k;
    random_bytes(k.key_);
    return k;
}

result<seal_key> seal_key::from_bytes(std::string_view raw) {
    if (raw.size() != size) return errc::invalid_key;
    seal_key k;
    std::memcpy(k.key_.data(), raw.data(), size);
    return k;
}

seal_key::~seal_key() { ::OPENSSL_cleanse(key_.data(), key_.size()); }

std::string seal(seal_key const& key, std::string_view plaintext, std::string_view aad) {
    std::string out(1 + nonce_size + plaintext.size() + tag_size, '\0');
    out[0] = format_v1;
    auto* base = reinterpret_cast<unsigned char*>(out.data());
    random_bytes({base + 1, nonce_size});
    evp_cipher_ctx_ptr ctx(::EVP_CIPHER_CTX_new());
    if (!ctx) fail("EVP_CIPHER_CTX_new");
    int n = 0;
    if (::EVP_EncryptInit_ex(ctx.get(), ::EVP_aes_256_gcm(), nullptr, u8(key.bytes()), base + 1) != 1)
        fail("EVP_EncryptInit_ex(AES-256-GCM)");
    if (!aad.empty() && ::EVP_EncryptUpdate(ctx.get(), nullptr, &n, u8(aad), len(aad.size())) != 1)
        fail("EVP_EncryptUpdate(aad)");
    unsigned char* ct = base + 1 + nonce_size;
    if (!plaintext.empty() && ::EVP_EncryptUpdate(ctx.get(), ct, &n, u8(plaintext), len(plaintext.size())) != 1)
        fail("EVP_EncryptUpdate");
    int fin = 0;
    if (::EVP_EncryptFinal_ex(ctx.get(), ct + plaintext.size(), &fin) != 1) fail("EVP_EncryptFinal_ex");
    if (::EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size), ct + plaintext.size()) != 1)
        fail("EVP_CTRL_GCM_GET_TAG");
    return out;
}

result<std::string> unseal(seal_key const& key, std::string_view sealed, std::string_view aad) {
    if (sealed.size() < 1 + nonce_size + tag_size || sealed[0] != format_v1) return errc::invalid_encoding;
    std::string_view const nonce = sealed.substr(1, nonce_size);
    std::string_view const ct = sealed.substr(1 + nonce_size, sealed.size() - 1 - nonce_size - tag_size);
    std::string tag(sealed.substr(sealed.size() - tag_size));
    evp_cipher_ctx_ptr ctx(::EVP_CIPHER_CTX_new());
    if (!ctx) fail("EVP_CIPHER_CTX_new");
    int n = 0;
    if (::EVP_DecryptInit_ex(ctx.get(), ::EVP_aes_256_gcm(), nullptr, u8(key.bytes()), u8(nonce)) != 1)
        fail("EVP_DecryptInit_ex(AES-256-GCM)");
    if (!aad.empty() && ::EVP_DecryptUpdate(ctx.get(), nullptr, &n, u8(aad), len(aad.size())) != 1)
        fail("EVP_DecryptUpdate(aad)");
    std::string out(ct.size(), '\0');
    if (!ct.empty() &&
        ::EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n, u8(ct), len(ct.size())) != 1)
        fail("EVP_DecryptUpdate");
    if (::EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size), tag.data()) != 1)
        fail("EVP_CTRL_GCM_SET_TAG");
    int fin = 0;
    if (::EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + ct.size(), &fin) != 1) {
        ::ERR_clear_error();
        ::OPENSSL_cleanse(out.data(), out.size());
        return errc::bad_signature;
    }
    return out;
}

}  // namespace latchkey::crypto
