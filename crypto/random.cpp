#include "crypto/random.hpp"

#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <mutex>

namespace latchkey::crypto {

void random_bytes(std::span<unsigned char> out) {
    while (!out.empty()) {
        std::size_t const chunk = std::min<std::size_t>(out.size(), INT_MAX);
        if (::RAND_bytes(out.data(), static_cast<int>(chunk)) != 1) {
            log_openssl_failure("RAND_bytes failed; aborting");
            std::abort();
        }
        out = out.subspan(chunk);
    }
}

std::string random_token(std::size_t bytes) {
    std::string raw(bytes, '\0');
    random_bytes({reinterpret_cast<unsigned char*>(raw.data()), raw.size()});
    std::string out = base64url_encode(raw);
    ::OPENSSL_cleanse(raw.data(), raw.size());
    return out;
}

std::string random_digits(std::size_t n) {
    std::string out;
    out.reserve(n);
    std::array<unsigned char, 64> pool{};
    std::size_t used = pool.size();
    while (out.size() < n) {
        if (used == pool.size()) {
            random_bytes(pool);
            used = 0;
        }
        unsigned char const b = pool[used++];
        // 250 = 25 * 10: accepting only [0, 250) makes b % 10 exactly uniform.
        if (b < 250) out += static_cast<char>('0' + b % 10);
    }
    ::OPENSSL_cleanse(pool.data(), pool.size());
    return out;
}

namespace {

/// `<prefix>_` and the base62 of 20 bytes: the 48-bit millisecond stamp (big-endian), then `after_stamp`, then
/// random bytes.
std::string stamped_id(std::string_view prefix, std::uint64_t stamp, std::span<unsigned char const> after_stamp) {
    std::array<unsigned char, 20> payload{};
    for (std::size_t i = 0; i < 6; ++i) payload[i] = static_cast<unsigned char>((stamp >> (8 * (5 - i))) & 0xff);
    std::copy(after_stamp.begin(), after_stamp.end(), payload.begin() + 6);
    random_bytes(std::span(payload).subspan(6 + after_stamp.size()));
    std::string out;
    out.reserve(prefix.size() + 1 + id_body_length);
    out += prefix;
    out += '_';
    out += base62_encode({reinterpret_cast<char const*>(payload.data()), payload.size()}, id_body_length);
    return out;
}

}  // namespace

std::string new_id(std::string_view prefix) {
    auto const now = std::chrono::system_clock::now().time_since_epoch();
    auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
    // Ids from this process are strictly increasing: within one millisecond (or if the clock steps back) the
    // timestamp is held and a 16-bit sequence after it counts up, so creation order is id order even for
    // records made in the same millisecond (list endpoints rely on it).
    static std::mutex mu;
    static std::uint64_t last_ms = 0;
    static std::uint32_t seq = 0;
    std::uint64_t stamp = ms < 0 ? 0 : static_cast<std::uint64_t>(ms);
    std::uint32_t n = 0;
    {
        std::lock_guard lk(mu);
        if (stamp > last_ms) {
            last_ms = stamp;
            seq = 0;
        } else if (++seq > 0xffff) {
            ++last_ms;
            seq = 0;
        }
        stamp = last_ms;
        n = seq;
    }
    std::array<unsigned char, 2> const sequence{static_cast<unsigned char>(n >> 8),
                                                static_cast<unsigned char>(n & 0xff)};
    return stamped_id(prefix, stamp, sequence);
}

std::string new_id(std::string_view prefix, std::uint64_t unix_ms) { return stamped_id(prefix, unix_ms, {}); }

}  // namespace latchkey::crypto
