#include "crypto/digest.hpp"

#include "crypto/error.hpp"
#include "crypto/ossl.hpp"

#include <boost/system/system_error.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <climits>

namespace latchkey::crypto {

namespace {

[[noreturn]] void fail(char const* what) {
    log_openssl_failure(what);
    throw boost::system::system_error(make_error_code(errc::openssl), what);
}

std::string digest(std::string_view data, EVP_MD const* md, char const* what) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    if (::EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1)
        fail(what);
    return {reinterpret_cast<char const*>(out.data()), len};
}

}  // namespace

std::string sha256(std::string_view data) {
    return digest(data, ::EVP_sha256(), "EVP_Digest(SHA-256)");
}

std::string sha1(std::string_view data) {
    return digest(data, ::EVP_sha1(), "EVP_Digest(SHA-1)");
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    if (key.size() > INT_MAX) {
        throw boost::system::system_error(make_error_code(errc::invalid_key), "HMAC key too long");
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    if (::HMAC(
            ::EVP_sha256(),
            key.data(),
            static_cast<int>(key.size()),
            reinterpret_cast<unsigned char const*>(data.data()),
            data.size(),
            out.data(),
            &len
        ) == nullptr) {
        fail("HMAC(SHA-256)");
    }
    return {reinterpret_cast<char const*>(out.data()), len};
}

}  // namespace latchkey::crypto
