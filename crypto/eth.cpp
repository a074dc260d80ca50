#include "crypto/eth.hpp"

#include "crypto/encoding.hpp"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <array>
#include <cstdint>

namespace latchkey::crypto::eth {

namespace {

// Keccak-f[1600] (FIPS 202 section 3): 24 rounds of theta, rho, pi, chi, iota over 25 64-bit lanes.
constexpr std::array<std::uint64_t, 24> round_constants{
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull, 0x8000000080008000ull, 0x000000000000808bull,
    0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull, 0x000000000000008aull, 0x0000000000000088ull,
    0x0000000080008009ull, 0x000000008000000aull, 0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull,
    0x8000000000008003ull, 0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800aull, 0x800000008000000aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull};
// rho offsets and pi destinations, in the order the pi step walks the lanes starting from lane 1.
constexpr std::array<unsigned, 24> rho{1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                       27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
constexpr std::array<unsigned, 24> pi{10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                      15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

constexpr std::uint64_t rotl(std::uint64_t x, unsigned n) noexcept { return (x << n) | (x >> (64 - n)); }

void keccak_f(std::array<std::uint64_t, 25>& a) noexcept {
    std::array<std::uint64_t, 5> c{};
    for (std::uint64_t const rc : round_constants) {
        for (std::size_t x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (std::size_t x = 0; x < 5; ++x) {
            std::uint64_t const d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
            for (std::size_t y = 0; y < 25; y += 5) a[y + x] ^= d;
        }
        std::uint64_t carry = a[1];
        for (std::size_t i = 0; i < 24; ++i) {
            std::uint64_t const next = a[pi[i]];
            a[pi[i]] = rotl(carry, rho[i]);
            carry = next;
        }
        for (std::size_t y = 0; y < 25; y += 5) {
            for (std::size_t x = 0; x < 5; ++x) c[x] = a[y + x];
            for (std::size_t x = 0; x < 5; ++x) a[y + x] ^= ~c[(x + 1) % 5] & c[(x + 2) % 5];
        }
        a[0] ^= rc;
    }
}

/// The sponge with rate 136 bytes (capacity 512) and 32 bytes out; `domain` is the first padding byte
/// (0x01 for Keccak, 0x06 for SHA3).
std::string sponge256(std::string_view data, unsigned char domain) {
    constexpr std::size_t rate = 136;
    std::array<std::uint64_t, 25> st{};
    auto absorb_byte = [&](std::size_t pos, unsigned char b) {
        st[pos / 8] ^= static_cast<std::uint64_t>(b) << (8 * (pos % 8));
    };
    std::size_t pos = 0;
    for (char ch : data) {
        absorb_byte(pos++, static_cast<unsigned char>(ch));
        if (pos == rate) {
            keccak_f(st);
            pos = 0;
        }
    }
    absorb_byte(pos, domain);
    absorb_byte(rate - 1, 0x80);
    keccak_f(st);
    std::string out(32, '\0');
    for (std::size_t i = 0; i < 32; ++i) out[i] = static_cast<char>((st[i / 8] >> (8 * (i % 8))) & 0xff);
    return out;
}

secp256k1_context const* context() {
    static secp256k1_context* const ctx = ::secp256k1_context_create(SECP256K1_CONTEXT_VERIFY);
    return ctx;
}

}  // namespace

std::string keccak256(std::string_view data) { return sponge256(data, 0x01); }

std::string sha3_256(std::string_view data) { return sponge256(data, 0x06); }

std::string personal_message_hash(std::string_view message) {
    std::string m =
        "\x19"
        "Ethereum Signed Message:\n" +
        std::to_string(message.size());
    m.append(message);
    return keccak256(m);
}

result<std::string> recover_address(std::string_view hash, std::string_view signature) {
    if (hash.size() != 32 || signature.size() != 65) return errc::bad_signature;
    int v = static_cast<unsigned char>(signature[64]);
    if (v >= 27) v -= 27;
    if (v != 0 && v != 1) return errc::bad_signature;
    secp256k1_ecdsa_recoverable_signature sig;
    if (::secp256k1_ecdsa_recoverable_signature_parse_compact(
            context(), &sig, reinterpret_cast<unsigned char const*>(signature.data()), v) != 1)
        return errc::bad_signature;
    secp256k1_pubkey pub;
    if (::secp256k1_ecdsa_recover(context(), &pub, &sig, reinterpret_cast<unsigned char const*>(hash.data())) != 1)
        return errc::bad_signature;
    std::array<unsigned char, 65> raw{};
    std::size_t len = raw.size();
    if (::secp256k1_ec_pubkey_serialize(context(), raw.data(), &len, &pub, SECP256K1_EC_UNCOMPRESSED) != 1 || len != 65)
        return errc::bad_signature;
    return keccak256({reinterpret_cast<char const*>(raw.data()) + 1, 64}).substr(12);
}

std::string checksum_address(std::string_view address20) {
    std::string const hex = hex_encode(address20);  // lowercase
    std::string const h = keccak256(hex);
    std::string out = "0x";
    for (std::size_t i = 0; i < hex.size(); ++i) {
        char ch = hex[i];
        auto const nibble = static_cast<unsigned char>(h[i / 2]) >> (i % 2 == 0 ? 4 : 0) & 0x0f;
        if (ch >= 'a' && ch <= 'f' && nibble >= 8) ch = static_cast<char>(ch - 'a' + 'A');
        out.push_back(ch);
    }
    return out;
}

result<std::string> parse_address(std::string_view text) {
    if (text.size() != 42 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return errc::invalid_encoding;
    std::string_view const digits = text.substr(2);
    bool lower = false, upper = false;
    std::string folded;
    for (char ch : digits) {
        if (ch >= 'a' && ch <= 'f')
            lower = true;
        else if (ch >= 'A' && ch <= 'F')
            upper = true;
        else if (!(ch >= '0' && ch <= '9'))
            return errc::invalid_encoding;
        folded.push_back(ch >= 'A' && ch <= 'F' ? static_cast<char>(ch - 'A' + 'a') : ch);
    }
    auto raw = hex_decode(folded);
    if (!raw || raw->size() != 20) return errc::invalid_encoding;
    if (lower && upper && checksum_address(*raw).substr(2) != digits) return errc::invalid_encoding;
    return raw;
}

}  // namespace latchkey::crypto::eth
