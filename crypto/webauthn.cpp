#include "crypto/webauthn.hpp"

#include "crypto/es256.hpp"

#include <cbor.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>
#include <optional>

namespace latchkey::crypto::webauthn {

namespace {

/// One decoded CBOR item (libcbor reference), released on scope exit.
struct item_deleter {
    void operator()(cbor_item_t* p) const noexcept { ::cbor_decref(&p); }
};
using item_ptr = std::unique_ptr<cbor_item_t, item_deleter>;

/// Walks the CBOR item at `pos` without building it: every declared length must fit in what is left (an array
/// of n items needs n more bytes at least, a map 2n), nesting is at most 16 deep, indefinite lengths and reserved
/// values are refused. libcbor allocates a container for its declared size before reading it, so a few bytes
/// claiming a huge array would otherwise cost gigabytes (found by fuzz_webauthn).
bool well_formed(std::string_view b, std::size_t& pos, int depth) {
    if (depth > 16 || pos >= b.size()) return false;
    auto const ib = static_cast<unsigned char>(b[pos++]);
    unsigned const major = ib >> 5U;
    unsigned const info = ib & 0x1fU;
    std::uint64_t n = info;
    if (info >= 24 && info <= 27) {
        std::size_t const len = std::size_t{1} << (info - 24);
        if (b.size() - pos < len) return false;
        n = 0;
        for (std::size_t i = 0; i < len; ++i) n = (n << 8) | static_cast<unsigned char>(b[pos++]);
    } else if (info > 27) {
        return false;
    }
    std::size_t const left = b.size() - pos;
    switch (major) {
        case 2:
        case 3:
            if (n > left) return false;
            pos += static_cast<std::size_t>(n);
            return true;
        case 4:
        case 5: {
            std::uint64_t const items = major == 4 ? n : n * 2;
            if (n > left || items > left) return false;
            for (std::uint64_t i = 0; i < items; ++i)
                if (!well_formed(b, pos, depth + 1)) return false;
            return true;
        }
        case 6:
            return well_formed(b, pos, depth + 1);
        default:  // 0, 1: integers; 7: simple values and floats (their bytes are read above)
            return true;
    }
}

/// Decodes one CBOR item from the front of `bytes`; `consumed` gets its length. Null when malformed.
item_ptr load(std::string_view bytes, std::size_t& consumed) {
    consumed = 0;
    std::size_t end = 0;
    if (bytes.empty() || !well_formed(bytes, end, 0)) return nullptr;
    cbor_load_result res{};
    item_ptr it(::cbor_load(reinterpret_cast<cbor_data>(bytes.data()), bytes.size(), &res));
    if (!it || res.error.code != CBOR_ERR_NONE || res.read == 0 || res.read > bytes.size()) return nullptr;
    consumed = res.read;
    return it;
}

/// A definite string item's contents (libcbor's byte and text strings share the shape), or nothing.
template <auto Isa, auto IsDefinite, auto Handle, auto Length>
std::optional<std::string_view> string_of(cbor_item_t const* it) {
    if (it == nullptr || !Isa(it) || !IsDefinite(it)) return std::nullopt;
    auto const* p = Handle(it);
    std::size_t const n = Length(it);
    if (p == nullptr && n != 0) return std::nullopt;
    return std::string_view(reinterpret_cast<char const*>(p), n);
}

/// A definite byte string's contents, or nothing.
std::optional<std::string_view> bytes_of(cbor_item_t const* it) {
    return string_of<&::cbor_isa_bytestring, &::cbor_bytestring_is_definite, &::cbor_bytestring_handle,
                     &::cbor_bytestring_length>(it);
}

/// A definite text string's contents, or nothing.
std::optional<std::string_view> text_of(cbor_item_t const* it) {
    return string_of<&::cbor_isa_string, &::cbor_string_is_definite, &::cbor_string_handle, &::cbor_string_length>(it);
}

/// An integer in [-2^31, 2^31), or nothing.
std::optional<std::int64_t> int_of(cbor_item_t const* it) {
    if (it == nullptr) return std::nullopt;
    if (::cbor_isa_uint(it)) {
        std::uint64_t const v = ::cbor_get_int(it);
        if (v > 0x7fffffffu) return std::nullopt;
        return static_cast<std::int64_t>(v);
    }
    if (::cbor_isa_negint(it)) {
        std::uint64_t const v = ::cbor_get_int(it);  // the value is -1 - v
        if (v > 0x7fffffffu) return std::nullopt;
        return -1 - static_cast<std::int64_t>(v);
    }
    return std::nullopt;
}

/// The value of a definite map under the key `key` (first match; `read` reads a key item), or null.
template <class Read, class Key>
cbor_item_t* map_value(cbor_item_t* map, Read read, Key const& key) {
    std::size_t const n = ::cbor_map_size(map);
    cbor_pair* pairs = ::cbor_map_handle(map);
    for (std::size_t i = 0; i < n; ++i)
        if (auto k = read(pairs[i].key); k && *k == key) return pairs[i].value;
    return nullptr;
}

/// The value of a definite map under the integer key `key` (first match), or null.
cbor_item_t* map_int(cbor_item_t* map, std::int64_t key) { return map_value(map, int_of, key); }

/// The value of a definite map under the text key `key` (first match), or null.
cbor_item_t* map_text(cbor_item_t* map, std::string_view key) { return map_value(map, text_of, key); }

bool is_map(cbor_item_t const* it) { return it != nullptr && ::cbor_isa_map(it) && ::cbor_map_is_definite(it); }

std::uint32_t be32(std::string_view s, std::size_t at) {
    auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + i])); };
    return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

result<evp_pkey_ptr> ec_p256_key(std::string_view x, std::string_view y) { return p256_from_point(x, y); }

result<evp_pkey_ptr> rsa_key(std::string_view n, std::string_view e) {
    // A leading zero byte is allowed (some encoders keep the sign byte); the modulus must be 2048..8192 bits.
    while (!n.empty() && n.front() == '\0') n.remove_prefix(1);
    while (!e.empty() && e.front() == '\0') e.remove_prefix(1);
    if (n.size() < 256 || n.size() > 1024 || e.empty() || e.size() > 8) return errc::invalid_key;
    if ((static_cast<unsigned char>(n.back()) & 1U) == 0) return errc::invalid_key;  // an RSA modulus is odd
    return rsa_public_key(n, e);
}

}  // namespace

result<authenticator_data> parse_authenticator_data(std::string_view bytes) {
    if (bytes.size() < 37) return errc::invalid_encoding;
    authenticator_data d;
    d.rp_id_hash = std::string(bytes.substr(0, 32));
    d.flags = static_cast<std::uint8_t>(bytes[32]);
    d.sign_count = be32(bytes, 33);
    std::string_view rest = bytes.substr(37);
    if ((d.flags & flag_attested) != 0) {
        if (rest.size() < 18) return errc::invalid_encoding;
        d.aaguid = std::string(rest.substr(0, 16));
        std::size_t const len = (static_cast<std::size_t>(static_cast<unsigned char>(rest[16])) << 8) |
                                static_cast<std::size_t>(static_cast<unsigned char>(rest[17]));
        rest.remove_prefix(18);
        if (len == 0 || len > 1023 || rest.size() < len) return errc::invalid_encoding;
        d.credential_id = std::string(rest.substr(0, len));
        rest.remove_prefix(len);
        std::size_t used = 0;
        auto key = load(rest, used);
        if (!key || !is_map(key.get())) return errc::invalid_encoding;
        d.cose_key = std::string(rest.substr(0, used));
        rest.remove_prefix(used);
    }
    if ((d.flags & flag_extensions) != 0) {
        std::size_t used = 0;
        auto ext = load(rest, used);
        if (!ext || !is_map(ext.get())) return errc::invalid_encoding;
        rest.remove_prefix(used);
    }
    if (!rest.empty()) return errc::invalid_encoding;
    return d;
}

result<cose_key> parse_cose_key(std::string_view cbor) {
    std::size_t used = 0;
    auto map = load(cbor, used);
    if (!map || !is_map(map.get()) || used != cbor.size()) return errc::invalid_encoding;
    auto const kty = int_of(map_int(map.get(), 1));
    auto const alg = int_of(map_int(map.get(), 3));
    if (!kty || !alg) return errc::invalid_encoding;
    cose_key k;
    if (*kty == 2 && *alg == alg_es256) {
        auto const crv = int_of(map_int(map.get(), -1));
        auto const x = bytes_of(map_int(map.get(), -2));
        auto const y = bytes_of(map_int(map.get(), -3));
        if (!crv || !x || !y) return errc::invalid_encoding;
        if (*crv != 1) return errc::unsupported_algorithm;  // P-256 only
        auto key = ec_p256_key(*x, *y);
        if (!key) return key.error();
        k.key = std::move(*key);
    } else if (*kty == 3 && *alg == alg_rs256) {
        auto const n = bytes_of(map_int(map.get(), -1));
        auto const e = bytes_of(map_int(map.get(), -2));
        if (!n || !e) return errc::invalid_encoding;
        auto key = rsa_key(*n, *e);
        if (!key) return key.error();
        k.key = std::move(*key);
    } else {
        return errc::unsupported_algorithm;
    }
    k.alg = static_cast<std::int32_t>(*alg);
    return k;
}

result<attestation> parse_attestation(std::string_view attestation_object, std::string_view client_data_hash) {
    std::size_t used = 0;
    auto map = load(attestation_object, used);
    if (!map || !is_map(map.get()) || used != attestation_object.size()) return errc::invalid_encoding;
    auto const fmt = text_of(map_text(map.get(), "fmt"));
    auto const raw = bytes_of(map_text(map.get(), "authData"));
    cbor_item_t* stmt = map_text(map.get(), "attStmt");
    if (!fmt || !raw || !is_map(stmt)) return errc::invalid_encoding;
    auto data = parse_authenticator_data(*raw);
    if (!data) return data.error();
    if (data->credential_id.empty()) return errc::invalid_encoding;  // registration must carry a credential
    attestation a;
    a.fmt = std::string(*fmt);
    a.auth_data_raw = std::string(*raw);
    if (a.fmt == "none") {
        if (::cbor_map_size(stmt) != 0) return errc::invalid_encoding;
    } else if (a.fmt == "packed") {
        // Self attestation only: a certificate chain (x5c) would need a trust store we do not keep.
        if (map_text(stmt, "x5c") != nullptr) return errc::unsupported_algorithm;
        auto const alg = int_of(map_text(stmt, "alg"));
        auto const sig = bytes_of(map_text(stmt, "sig"));
        if (!alg || !sig) return errc::invalid_encoding;
        auto key = parse_cose_key(data->cose_key);
        if (!key) return key.error();
        if (*alg != key->alg) return errc::bad_signature;
        if (auto v = verify_signature(*key, *raw, client_data_hash, *sig); !v) return v.error();
    } else {
        return errc::unsupported_algorithm;
    }
    a.auth_data = std::move(*data);
    return a;
}

result<void> verify_signature(cose_key const& key, std::string_view authenticator_data,
                              std::string_view client_data_hash, std::string_view signature) {
    if (!key.key || signature.empty() || signature.size() > 1024) return errc::bad_signature;
    std::string signed_data;
    signed_data.reserve(authenticator_data.size() + client_data_hash.size());
    signed_data.append(authenticator_data);
    signed_data.append(client_data_hash);
    evp_md_ctx_ptr const md(::EVP_MD_CTX_new());
    if (!md || ::EVP_DigestVerifyInit(md.get(), nullptr, ::EVP_sha256(), nullptr, key.key.get()) != 1) {
        log_openssl_failure("EVP_DigestVerifyInit(webauthn)");
        return errc::openssl;
    }
    int const ok =
        ::EVP_DigestVerify(md.get(), reinterpret_cast<unsigned char const*>(signature.data()), signature.size(),
                           reinterpret_cast<unsigned char const*>(signed_data.data()), signed_data.size());
    if (ok != 1) {
        ::ERR_clear_error();  // a malformed DER signature also lands here: the input's fault
        return errc::bad_signature;
    }
    return {};
}

}  // namespace latchkey::crypto::webauthn
