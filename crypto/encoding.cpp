#include "crypto/encoding.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace latchkey::crypto {

namespace {

constexpr std::string_view std_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::uint8_t invalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_decode_table(std::string_view alphabet) {
    std::array<std::uint8_t, 256> t{};
    for (auto& v : t) v = invalid;
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
    return t;
}

constexpr auto std_table = make_decode_table(std_alphabet);
constexpr auto url_table = make_decode_table(url_alphabet);

void encode_append(std::string& out, std::string_view in, std::string_view alphabet, bool pad) {
    auto const* p = reinterpret_cast<unsigned char const*>(in.data());
    std::size_t const n = in.size();
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        std::uint32_t const v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
        out += alphabet[(v >> 18) & 0x3f];
        out += alphabet[(v >> 12) & 0x3f];
        out += alphabet[(v >> 6) & 0x3f];
        out += alphabet[v & 0x3f];
    }
    std::size_t const rest = n - i;
    if (rest == 1) {
        std::uint32_t const v = std::uint32_t{p[i]} << 16;
        out += alphabet[(v >> 18) & 0x3f];
        out += alphabet[(v >> 12) & 0x3f];
        if (pad) out += "==";
    } else if (rest == 2) {
        std::uint32_t const v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8);
        out += alphabet[(v >> 18) & 0x3f];
        out += alphabet[(v >> 12) & 0x3f];
        out += alphabet[(v >> 6) & 0x3f];
        if (pad) out += '=';
    }
}

std::string encode(std::string_view in, std::string_view alphabet, bool pad) {
    std::string out;
    out.reserve(pad ? (in.size() + 2) / 3 * 4 : base64_unpadded_size(in.size()));
    encode_append(out, in, alphabet, pad);
    return out;
}

result<std::string> decode(std::string_view in, std::array<std::uint8_t, 256> const& table) {
    // Padding is optional, but when present it must complete the last quantum exactly.
    std::size_t pads = 0;
    while (pads < in.size() && pads < 3 && in[in.size() - 1 - pads] == '=') ++pads;
    std::string_view const body = in.substr(0, in.size() - pads);
    std::size_t const rest = body.size() % 4;
    if (rest == 1) return errc::invalid_encoding;
    if (pads != 0 && (in.size() % 4 != 0 || pads != 4 - rest)) return errc::invalid_encoding;

    std::string out;
    out.reserve(body.size() / 4 * 3 + (rest == 0 ? 0 : rest - 1));
    std::uint32_t acc = 0;
    std::size_t count = 0;
    for (char const c : body) {
        std::uint8_t const v = table[static_cast<unsigned char>(c)];
        if (v == invalid) return errc::invalid_encoding;
        acc = (acc << 6) | v;
        if (++count == 4) {
            out += static_cast<char>((acc >> 16) & 0xff);
            out += static_cast<char>((acc >> 8) & 0xff);
            out += static_cast<char>(acc & 0xff);
            acc = 0;
            count = 0;
        }
    }
    if (count == 2) {
        if ((acc & 0x0f) != 0) return errc::invalid_encoding;  // non-canonical trailing bits
        out += static_cast<char>((acc >> 4) & 0xff);
    } else if (count == 3) {
        if ((acc & 0x03) != 0) return errc::invalid_encoding;
        out += static_cast<char>((acc >> 10) & 0xff);
        out += static_cast<char>((acc >> 2) & 0xff);
    }
    return out;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) { return encode(bytes, url_alphabet, false); }

void base64url_encode_append(std::string& out, std::string_view bytes) {
    encode_append(out, bytes, url_alphabet, false);
}

result<std::string> base64url_decode(std::string_view text) { return decode(text, url_table); }

std::string base64_encode(std::string_view bytes) { return encode(bytes, std_alphabet, true); }

std::string base64_encode_unpadded(std::string_view bytes) { return encode(bytes, std_alphabet, false); }

result<std::string> base64_decode(std::string_view text) { return decode(text, std_table); }

std::string hex_encode(std::string_view bytes) {
    constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char const c : bytes) {
        auto const b = static_cast<unsigned char>(c);
        out += digits[b >> 4];
        out += digits[b & 0x0f];
    }
    return out;
}

result<std::string> hex_decode(std::string_view text) {
    if (text.size() % 2 != 0) return errc::invalid_encoding;
    std::string out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        int const hi = hex_value(text[i]);
        int const lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) return errc::invalid_encoding;
        out += static_cast<char>((hi << 4) | lo);
    }
    return out;
}

std::string base62_encode(std::string_view bytes, std::size_t width) {
    // Schoolbook long division of the big-endian number by 62, least significant digit first.
    std::vector<std::uint8_t> num(bytes.begin(), bytes.end());
    std::string digits;
    digits.reserve(width);
    std::size_t start = 0;  // index of the first non-zero byte of `num`
    while (true) {
        while (start < num.size() && num[start] == 0) ++start;
        if (start == num.size()) break;
        std::uint32_t rem = 0;
        for (std::size_t i = start; i < num.size(); ++i) {
            std::uint32_t const cur = (rem << 8) | num[i];
            num[i] = static_cast<std::uint8_t>(cur / 62);
            rem = cur % 62;
        }
        digits += base62_alphabet[rem];
    }
    while (digits.size() < width) digits += '0';
    return {digits.rbegin(), digits.rend()};
}

}  // namespace latchkey::crypto
