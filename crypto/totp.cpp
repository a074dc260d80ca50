#include "crypto/totp.hpp"

#include "crypto/ossl.hpp"

#include <boost/system/system_error.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstring>

namespace latchkey::crypto {

namespace {

constexpr std::string_view base32_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

[[noreturn]] void fail(char const* what) {
    log_openssl_failure(what);
    throw boost::system::system_error(make_error_code(errc::openssl), what);
}

/// One HMAC-SHA-1 context per thread (the MAC fetched once), keyed once per `totp_verify` and re-initialised
/// with the key it holds for each candidate step: a verification is three HMACs and no provider look-up.
class thread_hmac_sha1 {
public:
    thread_hmac_sha1()
        : mac_(::EVP_MAC_fetch(nullptr, "HMAC", nullptr)), ctx_(mac_ ? ::EVP_MAC_CTX_new(mac_) : nullptr) {}
    ~thread_hmac_sha1() {
        ::EVP_MAC_CTX_free(ctx_);
        ::EVP_MAC_free(mac_);
    }
    thread_hmac_sha1(thread_hmac_sha1 const&) = delete;
    thread_hmac_sha1& operator=(thread_hmac_sha1 const&) = delete;

    /// Sets the key for the following `mac` calls.
    void key(std::string_view k) {
        if (ctx_ == nullptr) fail("EVP_MAC_fetch(HMAC)");
        char digest[] = "SHA1";
        std::array<OSSL_PARAM, 2> params{::OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                         ::OSSL_PARAM_construct_end()};
        // A zero-length key must still be a key (not "keep the previous one"): HMAC pads it to a block of zeros.
        static constexpr unsigned char zero = 0;
        auto const* kp = k.empty() ? &zero : reinterpret_cast<unsigned char const*>(k.data());
        if (::EVP_MAC_init(ctx_, kp, k.size(), params.data()) != 1) fail("EVP_MAC_init(HMAC-SHA1)");
    }

    /// HMAC-SHA-1 of the 8-byte big-endian counter under the current key.
    std::array<unsigned char, 20> mac(std::uint64_t counter) {
        std::array<unsigned char, 8> msg{};
        for (std::size_t i = 0; i < 8; ++i) msg[7 - i] = static_cast<unsigned char>(counter >> (8 * i));
        std::array<unsigned char, 20> out{};
        std::size_t len = 0;
        if (::EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1 || ::EVP_MAC_update(ctx_, msg.data(), msg.size()) != 1 ||
            ::EVP_MAC_final(ctx_, out.data(), &len, out.size()) != 1 || len != out.size())
            fail("EVP_MAC(HMAC-SHA1)");
        return out;
    }

private:
    EVP_MAC* mac_;
    EVP_MAC_CTX* ctx_;
};

thread_hmac_sha1& hmac() {
    thread_local thread_hmac_sha1 h;
    return h;
}

std::uint32_t truncate(std::array<unsigned char, 20> const& h, int digits) {
    unsigned const off = h[19] & 0x0fu;
    std::uint32_t const bin = (static_cast<std::uint32_t>(h[off] & 0x7fu) << 24) |
                              (static_cast<std::uint32_t>(h[off + 1]) << 16) |
                              (static_cast<std::uint32_t>(h[off + 2]) << 8) | static_cast<std::uint32_t>(h[off + 3]);
    std::uint32_t mod = 1;
    for (int i = 0; i < digits; ++i) mod *= 10;
    return bin % mod;
}

/// `v` as exactly `digits` decimal characters into `out` (which holds at least `digits`).
void format_code(std::uint32_t v, int digits, char* out) {
    for (int i = digits - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
}

int clamp_digits(int digits) noexcept { return digits < 6 ? 6 : (digits > 8 ? 8 : digits); }

}  // namespace

std::string base32_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    std::uint32_t buf = 0;
    int bits = 0;
    for (char c : bytes) {
        buf = (buf << 8) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 5) {
            out.push_back(base32_alphabet[(buf >> (bits - 5)) & 31u]);
            bits -= 5;
        }
        buf &= (1u << bits) - 1u;
    }
    if (bits > 0) out.push_back(base32_alphabet[(buf << (5 - bits)) & 31u]);
    return out;
}

result<std::string> base32_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size() * 5 / 8);
    std::uint32_t buf = 0;
    int bits = 0;
    std::size_t chars = 0;
    bool padding = false;
    for (char c : text) {
        if (c == ' ' || c == '-') continue;
        if (c == '=') {
            padding = true;
            continue;
        }
        if (padding) return errc::invalid_encoding;  // data after padding
        unsigned v = 0;
        if (c >= 'A' && c <= 'Z')
            v = static_cast<unsigned>(c - 'A');
        else if (c >= 'a' && c <= 'z')
            v = static_cast<unsigned>(c - 'a');
        else if (c >= '2' && c <= '7')
            v = static_cast<unsigned>(c - '2') + 26u;
        else
            return errc::invalid_encoding;
        buf = (buf << 5) | v;
        bits += 5;
        ++chars;
        if (bits >= 8) {
            out.push_back(static_cast<char>((buf >> (bits - 8)) & 0xffu));
            bits -= 8;
            buf &= (1u << bits) - 1u;
        }
    }
    auto const tail = chars % 8;
    if (tail == 1 || tail == 3 || tail == 6) return errc::invalid_encoding;
    if (buf != 0) return errc::invalid_encoding;  // non-zero trailing bits
    return out;
}

std::string hotp(std::string_view key, std::uint64_t counter, int digits) {
    digits = clamp_digits(digits);
    auto& h = hmac();
    h.key(key);
    std::string out(static_cast<std::size_t>(digits), '0');
    format_code(truncate(h.mac(counter), digits), digits, out.data());
    return out;
}

std::int64_t totp_step(std::int64_t unix_seconds, std::int64_t period) noexcept {
    if (unix_seconds < 0 || period <= 0) return 0;
    return unix_seconds / period;
}

std::string totp(std::string_view key, std::int64_t unix_seconds, int digits, std::int64_t period) {
    return hotp(key, static_cast<std::uint64_t>(totp_step(unix_seconds, period)), digits);
}

std::optional<std::int64_t> totp_verify(std::string_view key, std::string_view code, std::int64_t unix_seconds,
                                        std::int64_t last_step, int digits, std::int64_t period) {
    digits = clamp_digits(digits);
    if (code.size() != static_cast<std::size_t>(digits)) return std::nullopt;
    for (char c : code)
        if (c < '0' || c > '9') return std::nullopt;
    auto& h = hmac();
    h.key(key);
    std::int64_t const now = totp_step(unix_seconds, period);
    std::optional<std::int64_t> found;
    std::array<char, 8> expect{};
    for (std::int64_t s = now - 1; s <= now + 1; ++s) {
        if (s < 0) continue;
        format_code(truncate(h.mac(static_cast<std::uint64_t>(s)), digits), digits, expect.data());
        bool const eq = equal_ct(code, std::string_view(expect.data(), static_cast<std::size_t>(digits)));
        // The first (earliest) matching step wins; a step already used never does.
        if (eq && s > last_step && !found) found = s;
    }
    return found;
}

std::string totp_uri(std::string_view issuer, std::string_view account, std::string_view key) {
    auto pct = [](std::string_view s) {
        static constexpr char hex[] = "0123456789ABCDEF";
        std::string o;
        for (char c : s) {
            auto const u = static_cast<unsigned char>(c);
            if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' || u == '.' ||
                u == '_' || u == '~' || u == '@') {
                o.push_back(c);
            } else {
                o.push_back('%');
                o.push_back(hex[u >> 4]);
                o.push_back(hex[u & 15u]);
            }
        }
        return o;
    };
    std::string uri = "otpauth://totp/";
    uri += pct(issuer);
    uri += ':';
    uri += pct(account);
    uri += "?secret=";
    uri += base32_encode(key);
    uri += "&issuer=";
    uri += pct(issuer);
    uri += "&algorithm=SHA1&digits=6&period=30";
    return uri;
}

}  // namespace latchkey::crypto
