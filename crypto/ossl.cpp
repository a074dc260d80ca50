#include "crypto/ossl.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <exception>

namespace latchkey::crypto {

namespace {

void stderr_sink(std::string_view line) noexcept {
    std::fprintf(stderr, "latchkey.crypto: %.*s\n", static_cast<int>(line.size()), line.data());
}

std::atomic<log_sink> current_sink{&stderr_sink};

}  // namespace

std::string drain_errors(std::string_view what) {
    std::string out(what);
    bool first = true;
    char const* data = nullptr;
    int flags = 0;
    // ERR_get_error_all pops the oldest entry; loop until the queue is empty.
    for (unsigned long e = ::ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags); e != 0;
         e = ::ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
        std::array<char, 256> buf{};
        ::ERR_error_string_n(e, buf.data(), buf.size());
        out += first ? ": " : "; ";
        first = false;
        out += buf.data();
        if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
            out += " (";
            out += data;
            out += ')';
        }
    }
    if (first) out += ": (no OpenSSL error queued)";
    return out;
}

void set_log_sink(log_sink sink) noexcept {
    current_sink.store(sink != nullptr ? sink : &stderr_sink, std::memory_order_release);
}

void log_line(std::string_view line) noexcept { current_sink.load(std::memory_order_acquire)(line); }

void log_openssl_failure(std::string_view what) noexcept {
    try {
        log_line(drain_errors(what));
    } catch (std::exception const&) {
        // Out of memory while formatting: still empty the queue so no stale error is left behind.
        ::ERR_clear_error();
        log_line(what);
    }
}

result<evp_pkey_ptr> public_key_from_params(char const* type, OSSL_PARAM_BLD* bld) {
    ossl_param_ptr const params(::OSSL_PARAM_BLD_to_param(bld));
    evp_pkey_ctx_ptr const ctx(::EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!params || !ctx || ::EVP_PKEY_fromdata_init(ctx.get()) != 1) {
        log_openssl_failure(std::string("EVP_PKEY_fromdata_init(") + type + ")");
        return errc::openssl;
    }
    EVP_PKEY* raw = nullptr;
    if (::EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || raw == nullptr) {
        ::ERR_clear_error();  // the parameters were rejected: bad input, not an OpenSSL failure
        return errc::invalid_key;
    }
    return evp_pkey_ptr(raw);
}

result<evp_pkey_ptr> rsa_public_key(std::string_view n, std::string_view e) {
    auto bignum = [](std::string_view b) {
        return bignum_ptr(
            ::BN_bin2bn(reinterpret_cast<unsigned char const*>(b.data()), static_cast<int>(b.size()), nullptr));
    };
    bignum_ptr const bn_n = bignum(n), bn_e = bignum(e);
    if (!bn_n || !bn_e) {
        log_openssl_failure("BN_bin2bn");
        return errc::openssl;
    }
    if (::BN_is_odd(bn_e.get()) != 1 || ::BN_is_one(bn_e.get()) == 1) return errc::invalid_key;
    ossl_param_bld_ptr const bld(::OSSL_PARAM_BLD_new());
    if (!bld || ::OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        ::OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
        log_openssl_failure("OSSL_PARAM_BLD(RSA)");
        return errc::openssl;
    }
    return public_key_from_params("RSA", bld.get());
}

}  // namespace latchkey::crypto
