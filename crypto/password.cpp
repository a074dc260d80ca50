#include "crypto/password.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "crypto/random.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <vector>

#include <argon2.h>
#include <crypt.h>
#include <sys/mman.h>

namespace latchkey::crypto {

namespace {

// Work-factor bounds for digests we will verify (and parameters we will hash with).
constexpr std::uint32_t argon2_max_m_kib = 1U << 20;  // 1 GiB
constexpr std::uint32_t argon2_max_t = 64;
constexpr std::uint32_t argon2_max_p = 64;
constexpr std::size_t argon2_max_salt = 1024;
constexpr std::size_t argon2_max_hash = 1024;
constexpr std::uint32_t bcrypt_min_cost = 4;
constexpr std::uint32_t bcrypt_max_cost = 16;
constexpr std::uint32_t pbkdf2_max_iterations = 10'000'000;
constexpr std::size_t pbkdf2_min_hash = 16;
constexpr std::size_t pbkdf2_max_hash = 128;
constexpr std::uint32_t scrypt_max_rounds = 32;
constexpr std::uint32_t scrypt_max_mem_cost = 20;
constexpr std::uint64_t scrypt_max_bytes = std::uint64_t{1} << 30;
constexpr std::size_t scrypt_max_signer_key = 1024;

constexpr std::size_t salt_bytes = 16;
constexpr std::size_t hash_bytes = 32;

enum class hasher_kind {
    argon2id,
    argon2i,
    bcrypt,
    bcrypt_sha256_django,
    pbkdf2_sha256,
    pbkdf2_sha256_django,
    pbkdf2_sha1,
    scrypt_firebase,
    sha256,
    md5,
    md5_phpass,
    phpass,
    pbkdf2_sha512,
    pbkdf2_sha512_hex,
    scrypt_werkzeug,
    sha512_symfony,
    ldap_ssha,
};

constexpr std::array<std::string_view, 17> hasher_names = {
    "argon2id",        "argon2i",
    "bcrypt",          "bcrypt_sha256_django",
    "pbkdf2_sha256",   "pbkdf2_sha256_django",
    "pbkdf2_sha1",     "scrypt_firebase",
    "sha256",          "md5",
    "md5_phpass",      "phpass",
    "pbkdf2_sha512",   "pbkdf2_sha512_hex",
    "scrypt_werkzeug", "sha512_symfony",
    "ldap_ssha",
};

std::optional<hasher_kind> kind_of(std::string_view name) noexcept {
    for (std::size_t i = 0; i < hasher_names.size(); ++i)
        if (hasher_names[i] == name) return static_cast<hasher_kind>(i);
    return std::nullopt;
}

// Wipes a byte buffer when it goes out of scope.
class cleanse_guard {
public:
    explicit cleanse_guard(std::string& s) noexcept : s_(s) {}

    cleanse_guard(cleanse_guard const&) = delete;
    cleanse_guard& operator=(cleanse_guard const&) = delete;
    cleanse_guard(cleanse_guard&&) = delete;
    cleanse_guard& operator=(cleanse_guard&&) = delete;

    ~cleanse_guard() { ::OPENSSL_cleanse(s_.data(), s_.size()); }

private:
    std::string& s_;
};

unsigned char const* bytes_of(std::string_view s) noexcept { return reinterpret_cast<unsigned char const*>(s.data()); }

// Strict decimal: digits only, no sign, no leading zero (except "0"), at most `max`.
std::optional<std::uint32_t> parse_u32(std::string_view s, std::uint32_t max) noexcept {
    if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
    std::uint32_t v = 0;
    auto const [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v > max) return std::nullopt;
    return v;
}

// Splits on '$' into exactly N fields.
template <std::size_t N>
std::optional<std::array<std::string_view, N>> split_exact(std::string_view s) noexcept {
    std::array<std::string_view, N> out{};
    for (std::size_t i = 0; i < N; ++i) {
        auto const pos = s.find('$');
        if (i + 1 == N) {
            if (pos != std::string_view::npos) return std::nullopt;
            out[i] = s;
        } else {
            if (pos == std::string_view::npos) return std::nullopt;
            out[i] = s.substr(0, pos);
            s.remove_prefix(pos + 1);
        }
    }
    return out;
}

bool is_hex(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

bool is_digits(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Argon2's working memory. Fresh pages cost a page fault each on first touch, so every thread keeps
// one grow-only block for all its hashes instead of a malloc/free (mmap/munmap) per hash. Argon2
// wipes the block itself before handing it back (clear_internal_memory).
//
// The block is its own mapping, 2 MiB aligned and advised MADV_HUGEPAGE (THP is "madvise" on Debian):
// argon2id reads its reference blocks at data-dependent offsets across the whole 19 MiB, so with 4 KiB
// pages they keep missing the TLB. It also keeps the block out of the allocator (tcmalloc in the
// release server). Measured in the server, durable password sign-in, 8 connections, 20 s, alternating
// runs: 48.9/s with an allocator block vs 50.7/s with this mapping. Where the kernel gives no huge
// pages the advice is a no-op.
constexpr std::size_t arena_max_bytes = std::size_t{64} << 20;
constexpr std::size_t huge_page = std::size_t{2} << 20;
constexpr std::align_val_t arena_alignment{64};

class argon2_arena {
public:
    argon2_arena() = default;
    argon2_arena(argon2_arena const&) = delete;
    argon2_arena& operator=(argon2_arena const&) = delete;
    argon2_arena(argon2_arena&&) = delete;
    argon2_arena& operator=(argon2_arena&&) = delete;

    ~argon2_arena() { unmap(); }

    std::uint8_t* acquire(std::size_t bytes) noexcept {
        if (in_use_ || bytes > arena_max_bytes) return nullptr;
        if (size_ < bytes && !map(bytes)) return nullptr;
        in_use_ = true;
        return block_;
    }

    bool owns(std::uint8_t const* p) const noexcept { return p != nullptr && p == block_; }

    void release() noexcept { in_use_ = false; }

private:
    bool map(std::size_t bytes) noexcept {
        unmap();
        std::size_t const size = (bytes + huge_page - 1) / huge_page * huge_page;
        // Over-map by one huge page so the block can start on a 2 MiB boundary; trim both ends.
        std::size_t const span = size + huge_page;
        void* const raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED) return false;
        auto* const base = static_cast<std::uint8_t*>(raw);
        auto const address = reinterpret_cast<std::uintptr_t>(raw);
        std::size_t const lead = (huge_page - address % huge_page) % huge_page;  // to the next 2 MiB boundary
        if (lead > 0) ::munmap(raw, lead);
        if (std::size_t const tail = span - (lead + size); tail > 0) ::munmap(base + lead + size, tail);
        block_ = base + lead;
        size_ = size;
        (void)::madvise(block_, size_, MADV_HUGEPAGE);
        return true;
    }

    void unmap() noexcept {
        if (block_ != nullptr) ::munmap(block_, size_);
        block_ = nullptr;
        size_ = 0;
    }

    std::uint8_t* block_ = nullptr;
    std::size_t size_ = 0;
    bool in_use_ = false;
};

thread_local argon2_arena tl_arena;
/// While a thread holds a hashing slot (see hash_slot), the slot's arena; else the thread's own.
thread_local argon2_arena* tl_slot_arena = nullptr;

argon2_arena& current_arena() noexcept { return tl_slot_arena != nullptr ? *tl_slot_arena : tl_arena; }

// argon2 calls both callbacks on the thread that called argon2_ctx.
int arena_allocate(std::uint8_t** memory, std::size_t bytes) {
    *memory = current_arena().acquire(bytes);
    if (*memory == nullptr)  // busy or too large: a one-off block
        *memory = static_cast<std::uint8_t*>(::operator new(bytes, arena_alignment, std::nothrow));
    return *memory != nullptr ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
}

void arena_deallocate(std::uint8_t* memory, std::size_t /*bytes*/) {
    if (current_arena().owns(memory)) {
        current_arena().release();
    } else {
        ::operator delete(memory, arena_alignment);
    }
}

struct argon2_digest {
    argon2_type type = Argon2_id;
    std::uint32_t version = ARGON2_VERSION_13;
    std::uint32_t m = 0;
    std::uint32_t t = 0;
    std::uint32_t p = 0;
    std::string salt;
    std::string hash;
};

bool argon2_costs_ok(std::uint32_t m, std::uint32_t t, std::uint32_t p) noexcept {
    return p >= 1 && p <= argon2_max_p && t >= 1 && t <= argon2_max_t && m >= 8 * p && m <= argon2_max_m_kib;
}

// PHC: "$argon2id$[v=19$]m=<m>,t=<t>,p=<p>$<salt>$<hash>", unpadded standard base64.
std::optional<argon2_digest> parse_argon2(std::string_view s, argon2_type type) {
    std::string_view const prefix = type == Argon2_id ? "$argon2id$" : "$argon2i$";
    if (!s.starts_with(prefix)) return std::nullopt;
    s.remove_prefix(prefix.size());
    argon2_digest d;
    d.type = type;
    if (s.starts_with("v=")) {
        auto const end = s.find('$');
        if (end == std::string_view::npos) return std::nullopt;
        auto const v = parse_u32(s.substr(2, end - 2), 0xff);
        if (!v || (*v != ARGON2_VERSION_10 && *v != ARGON2_VERSION_13)) return std::nullopt;
        d.version = *v;
        s.remove_prefix(end + 1);
    } else {
        d.version = ARGON2_VERSION_10;  // PHC strings without "v=" predate version 1.3
    }
    auto const f = split_exact<3>(s);
    if (!f) return std::nullopt;
    // m=..,t=..,p=.. in this order.
    std::string_view pv = (*f)[0];
    std::array<std::string_view, 3> kv{};
    for (std::size_t i = 0; i < 3; ++i) {
        auto const comma = pv.find(',');
        if ((i < 2) != (comma != std::string_view::npos)) return std::nullopt;
        kv[i] = pv.substr(0, comma);
        if (comma != std::string_view::npos) pv.remove_prefix(comma + 1);
    }
    if (!kv[0].starts_with("m=") || !kv[1].starts_with("t=") || !kv[2].starts_with("p=")) return std::nullopt;
    auto const m = parse_u32(kv[0].substr(2), UINT32_MAX);
    auto const t = parse_u32(kv[1].substr(2), UINT32_MAX);
    auto const p = parse_u32(kv[2].substr(2), UINT32_MAX);
    if (!m || !t || !p || !argon2_costs_ok(*m, *t, *p)) return std::nullopt;
    d.m = *m;
    d.t = *t;
    d.p = *p;
    std::string_view const salt = (*f)[1];
    std::string_view const hash = (*f)[2];
    if (salt.find('=') != std::string_view::npos || hash.find('=') != std::string_view::npos) return std::nullopt;
    auto salt_raw = base64_decode(salt);
    auto hash_raw = base64_decode(hash);
    if (!salt_raw || !hash_raw || salt_raw->size() < ARGON2_MIN_SALT_LENGTH || salt_raw->size() > argon2_max_salt ||
        hash_raw->size() < ARGON2_MIN_OUTLEN || hash_raw->size() > argon2_max_hash) {
        return std::nullopt;
    }
    d.salt = std::move(*salt_raw);
    d.hash = std::move(*hash_raw);
    return d;
}

result<void> run_argon2(std::string_view password, std::string_view salt, std::span<std::uint8_t> out, std::uint32_t t,
                        std::uint32_t m, std::uint32_t p, std::uint32_t version, argon2_type type) {
    if (password.size() > ARGON2_MAX_PWD_LENGTH) return errc::hash_failed;
    argon2_context ctx{};
    ctx.out = out.data();
    ctx.outlen = static_cast<std::uint32_t>(out.size());
    // argon2 only writes through pwd with ARGON2_FLAG_CLEAR_PASSWORD, which we never set.
    ctx.pwd = const_cast<std::uint8_t*>(reinterpret_cast<std::uint8_t const*>(password.data()));
    ctx.pwdlen = static_cast<std::uint32_t>(password.size());
    ctx.salt = const_cast<std::uint8_t*>(reinterpret_cast<std::uint8_t const*>(salt.data()));
    ctx.saltlen = static_cast<std::uint32_t>(salt.size());
    ctx.t_cost = t;
    ctx.m_cost = m;
    ctx.lanes = p;
    ctx.threads = p;
    ctx.version = version;
    ctx.allocate_cbk = &arena_allocate;
    ctx.free_cbk = &arena_deallocate;
    ctx.flags = ARGON2_DEFAULT_FLAGS;
    int const rc = ::argon2_ctx(&ctx, type);
    // argon2_ctx returns without freeing when a worker thread fails; the arena must not stay busy.
    current_arena().release();
    if (rc != ARGON2_OK) {
        log_line(std::string("argon2_ctx: ") + ::argon2_error_message(rc));
        return errc::hash_failed;
    }
    return {};
}

result<bool> verify_argon2(std::string_view password, std::string_view digest, argon2_type type) {
    auto d = parse_argon2(digest, type);
    if (!d) return errc::invalid_encoding;
    std::string out(d->hash.size(), '\0');
    cleanse_guard const wipe(out);
    auto r = run_argon2(password, d->salt, {reinterpret_cast<std::uint8_t*>(out.data()), out.size()}, d->t, d->m, d->p,
                        d->version, type);
    // result<bool> will not take a bare error_code (it is explicitly convertible to bool).
    if (!r) return {boost::system::in_place_error, r.error()};
    return equal_ct(out, d->hash);
}

bool valid_bcrypt(std::string_view s) noexcept {
    constexpr std::string_view b64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if (s.size() != 60 || s[0] != '$' || s[1] != '2' || (s[2] != 'a' && s[2] != 'b' && s[2] != 'y') || s[3] != '$' ||
        s[6] != '$') {
        return false;
    }
    // The cost is always two digits ("05").
    if (!is_digits(s.substr(4, 2))) return false;
    auto const cost = static_cast<std::uint32_t>((s[4] - '0') * 10 + (s[5] - '0'));
    if (cost < bcrypt_min_cost || cost > bcrypt_max_cost) return false;
    return s.substr(7).find_first_not_of(b64) == std::string_view::npos;
}

result<bool> verify_crypt(std::string_view password, std::string_view setting) {
    // crypt() takes C strings; a password with a NUL could only "match" a truncated one.
    if (password.find('\0') != std::string_view::npos) return false;
    std::string pw(password);
    cleanse_guard const wipe_pw(pw);
    std::string const set(setting);
    auto data = std::make_unique<crypt_data>();  // value-initialised: all zero
    char const* const out = ::crypt_rn(pw.c_str(), set.c_str(), data.get(), sizeof(crypt_data));
    bool const ok = out != nullptr && equal_ct(out, setting);
    ::OPENSSL_cleanse(data.get(), sizeof(crypt_data));
    if (out == nullptr) {
        log_line("crypt_rn failed for a well-formed bcrypt setting");
        return errc::hash_failed;
    }
    return ok;
}

struct pbkdf2_digest {
    EVP_MD const* md = nullptr;
    std::uint32_t iterations = 0;
    std::string salt;
    std::string hash;
};

std::optional<pbkdf2_digest> parse_pbkdf2(std::string_view s, hasher_kind kind) {
    auto const f = split_exact<4>(s);
    if (!f) return std::nullopt;
    std::string_view const prefix = (*f)[0];
    bool prefix_ok = false;
    switch (kind) {
        case hasher_kind::pbkdf2_sha1:
            prefix_ok = prefix == "pbkdf2_sha1";
            break;
        case hasher_kind::pbkdf2_sha512:
            prefix_ok = prefix == "pbkdf2_sha512";
            break;
        // Clerk names the hex variant's digests either way.
        case hasher_kind::pbkdf2_sha512_hex:
            prefix_ok = prefix == "pbkdf2_sha512_hex" || prefix == "pbkdf2_sha512";
            break;
        default:
            prefix_ok = prefix == "pbkdf2_sha256";
            break;
    }
    if (!prefix_ok) return std::nullopt;
    auto const iterations = parse_u32((*f)[1], pbkdf2_max_iterations);
    if (!iterations || *iterations == 0 || (*f)[2].empty()) return std::nullopt;
    pbkdf2_digest d;
    bool const sha512 = kind == hasher_kind::pbkdf2_sha512 || kind == hasher_kind::pbkdf2_sha512_hex;
    d.md = kind == hasher_kind::pbkdf2_sha1 ? ::EVP_sha1() : sha512 ? ::EVP_sha512() : ::EVP_sha256();
    d.iterations = *iterations;
    if (kind == hasher_kind::pbkdf2_sha256) {
        auto salt = base64_decode((*f)[2]);
        if (!salt || salt->empty()) return std::nullopt;
        d.salt = std::move(*salt);
    } else if (kind == hasher_kind::pbkdf2_sha512_hex) {
        auto salt = hex_decode((*f)[2]);
        if (!salt || salt->empty()) return std::nullopt;
        d.salt = std::move(*salt);
    } else {
        d.salt = std::string((*f)[2]);
    }
    bool const hex_hash = kind == hasher_kind::pbkdf2_sha1 || sha512;
    auto hash = hex_hash ? hex_decode((*f)[3]) : base64_decode((*f)[3]);
    if (!hash || hash->size() < pbkdf2_min_hash || hash->size() > pbkdf2_max_hash) return std::nullopt;
    d.hash = std::move(*hash);
    return d;
}

result<bool> verify_pbkdf2(std::string_view password, std::string_view digest, hasher_kind kind) {
    auto d = parse_pbkdf2(digest, kind);
    if (!d) return errc::invalid_encoding;
    if (password.size() > INT_MAX) return errc::hash_failed;
    std::string out(d->hash.size(), '\0');
    cleanse_guard const wipe(out);
    if (::PKCS5_PBKDF2_HMAC(password.empty() ? "" : password.data(), static_cast<int>(password.size()),
                            bytes_of(d->salt), static_cast<int>(d->salt.size()), static_cast<int>(d->iterations), d->md,
                            static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data())) != 1) {
        log_openssl_failure("PKCS5_PBKDF2_HMAC");
        return errc::hash_failed;
    }
    return equal_ct(out, d->hash);
}

struct scrypt_digest {
    std::string hash;
    std::string salt;
    std::string signer_key;
    std::string separator;
    std::uint32_t rounds = 0;
    std::uint32_t mem_cost = 0;
};

std::optional<scrypt_digest> parse_scrypt_firebase(std::string_view s) {
    auto const f = split_exact<6>(s);
    if (!f) return std::nullopt;
    auto hash = base64_decode((*f)[0]);
    auto salt = base64_decode((*f)[1]);
    auto signer = base64_decode((*f)[2]);
    auto separator = base64_decode((*f)[3]);
    auto const rounds = parse_u32((*f)[4], scrypt_max_rounds);
    auto const mem_cost = parse_u32((*f)[5], scrypt_max_mem_cost);
    if (!hash || !salt || !signer || !separator || !rounds || !mem_cost || *rounds == 0 || *mem_cost == 0 ||
        salt->empty() || signer->empty() || signer->size() > scrypt_max_signer_key || hash->size() != signer->size()) {
        return std::nullopt;
    }
    // scrypt needs 128 * r * N bytes for V (plus 128 * r * p for B).
    if (std::uint64_t{128} * *rounds * (std::uint64_t{1} << *mem_cost) > scrypt_max_bytes) return std::nullopt;
    return scrypt_digest{std::move(*hash),      std::move(*salt), std::move(*signer),
                         std::move(*separator), *rounds,          *mem_cost};
}

result<bool> verify_scrypt_firebase(std::string_view password, std::string_view digest) {
    auto d = parse_scrypt_firebase(digest);
    if (!d) return errc::invalid_encoding;
    std::string const salt = d->salt + d->separator;
    std::string key(32, '\0');
    cleanse_guard const wipe_key(key);
    std::uint64_t const n = std::uint64_t{1} << d->mem_cost;
    std::uint64_t const r = d->rounds;
    std::uint64_t const maxmem = 128 * r * (n + 2) + 128 * r + (std::uint64_t{1} << 20);
    if (::EVP_PBE_scrypt(password.empty() ? "" : password.data(), password.size(), bytes_of(salt), salt.size(), n, r, 1,
                         maxmem, reinterpret_cast<unsigned char*>(key.data()), key.size()) != 1) {
        log_openssl_failure("EVP_PBE_scrypt");
        return errc::hash_failed;
    }
    evp_cipher_ctx_ptr const ctx(::EVP_CIPHER_CTX_new());
    std::array<unsigned char, 16> const iv{};
    if (!ctx || ::EVP_EncryptInit_ex(ctx.get(), ::EVP_aes_256_ctr(), nullptr, bytes_of(key), iv.data()) != 1) {
        log_openssl_failure("EVP_EncryptInit_ex(AES-256-CTR)");
        return errc::hash_failed;
    }
    std::string out(d->signer_key.size(), '\0');
    cleanse_guard const wipe_out(out);
    int len = 0;
    int fin = 0;
    if (::EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, bytes_of(d->signer_key),
                            static_cast<int>(d->signer_key.size())) != 1 ||
        ::EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &fin) != 1 ||
        static_cast<std::size_t>(len) + static_cast<std::size_t>(fin) != out.size()) {
        log_openssl_failure("EVP_Encrypt(AES-256-CTR)");
        return errc::hash_failed;
    }
    return equal_ct(out, d->hash);
}

// One-shot message digest (MD5, SHA-1, SHA-512) of the concatenation of `parts`.
std::string md_of(EVP_MD const* md, std::initializer_list<std::string_view> parts) {
    evp_md_ctx_ptr const ctx(::EVP_MD_CTX_new());
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned len = 0;
    bool ok = ctx && ::EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1;
    for (auto p : parts) ok = ok && ::EVP_DigestUpdate(ctx.get(), p.data(), p.size()) == 1;
    ok = ok && ::EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1;
    if (!ok) return {};
    std::string r(reinterpret_cast<char const*>(out.data()), len);
    ::OPENSSL_cleanse(out.data(), out.size());
    return r;
}

constexpr std::string_view phpass_itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
// phpass allows 2^7..2^30 MD5 rounds; more than 2^24 (about 3 s) is refused as a stall.
constexpr std::size_t phpass_min_log2 = 7;
constexpr std::size_t phpass_max_log2 = 24;
constexpr std::uint32_t symfony_max_iterations = 1'000'000;
constexpr std::uint64_t werkzeug_max_n = std::uint64_t{1} << 20;
constexpr std::uint32_t werkzeug_max_r = 32;
constexpr std::uint32_t werkzeug_max_p = 16;

// phpass portable hashes: "$P$" (WordPress) or "$H$" (phpBB) + log2 rounds + 8 salt + 22 checksum.
bool valid_phpass(std::string_view s) noexcept {
    if (s.size() != 34 || !(s.starts_with("$P$") || s.starts_with("$H$"))) return false;
    auto const log2 = phpass_itoa64.find(s[3]);
    if (log2 < phpass_min_log2 || log2 > phpass_max_log2) return false;
    return s.substr(4).find_first_not_of(phpass_itoa64) == std::string_view::npos;
}

// phpass's encode64: little-endian groups of 6 bits.
std::string phpass_encode64(std::string_view in) {
    std::string out;
    std::size_t i = 0;
    auto const byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k])); };
    while (i < in.size()) {
        std::uint32_t v = byte(i++);
        out += phpass_itoa64[v & 0x3f];
        if (i < in.size()) v |= byte(i) << 8;
        out += phpass_itoa64[(v >> 6) & 0x3f];
        if (i++ >= in.size()) break;
        if (i < in.size()) v |= byte(i) << 16;
        out += phpass_itoa64[(v >> 12) & 0x3f];
        if (i++ >= in.size()) break;
        out += phpass_itoa64[(v >> 18) & 0x3f];
    }
    return out;
}

result<bool> verify_phpass(std::string_view password, std::string_view digest) {
    if (!valid_phpass(digest)) return errc::invalid_encoding;
    std::size_t count = std::size_t{1} << phpass_itoa64.find(digest[3]);
    std::string hash = md_of(::EVP_md5(), {digest.substr(4, 8), password});
    cleanse_guard const wipe(hash);
    while (count-- > 0 && hash.size() == 16) hash = md_of(::EVP_md5(), {hash, password});
    if (hash.size() != 16) return errc::hash_failed;
    return equal_ct(phpass_encode64(hash), digest.substr(12));
}

// Werkzeug: "scrypt:<N>:<r>:<p>$<salt text>$<hex hash>" (Clerk's docs show a leading '$' and a base64
// hash; both are taken). Bare "scrypt" means Werkzeug's defaults 32768:8:1.
struct werkzeug_digest {
    std::uint64_t n = 32768;
    std::uint32_t r = 8;
    std::uint32_t p = 1;
    std::string salt;
    std::string hash;
};

std::optional<werkzeug_digest> parse_scrypt_werkzeug(std::string_view s) {
    if (s.starts_with('$')) s.remove_prefix(1);
    auto const f = split_exact<3>(s);
    if (!f || (*f)[1].empty()) return std::nullopt;
    werkzeug_digest d;
    std::string_view args = (*f)[0];
    if (args != "scrypt") {
        if (!args.starts_with("scrypt:")) return std::nullopt;
        args.remove_prefix(7);
        auto const c1 = args.find(':');
        auto const c2 = c1 == std::string_view::npos ? c1 : args.find(':', c1 + 1);
        if (c2 == std::string_view::npos) return std::nullopt;
        auto const n = parse_u32(args.substr(0, c1), UINT32_MAX);
        auto const r = parse_u32(args.substr(c1 + 1, c2 - c1 - 1), werkzeug_max_r);
        auto const p = parse_u32(args.substr(c2 + 1), werkzeug_max_p);
        if (!n || !r || !p || *n < 2 || (*n & (*n - 1)) != 0 || *n > werkzeug_max_n || *r == 0 || *p == 0)
            return std::nullopt;
        d.n = *n;
        d.r = *r;
        d.p = *p;
    }
    if (std::uint64_t{128} * d.r * d.n > scrypt_max_bytes) return std::nullopt;
    std::string_view const h = (*f)[2];
    auto hash = (is_hex(h) && h.size() % 2 == 0) ? hex_decode(h) : base64_decode(h);
    if (!hash || hash->size() < pbkdf2_min_hash || hash->size() > pbkdf2_max_hash) return std::nullopt;
    d.salt = std::string((*f)[1]);
    d.hash = std::move(*hash);
    return d;
}

result<bool> verify_scrypt_werkzeug(std::string_view password, std::string_view digest) {
    auto d = parse_scrypt_werkzeug(digest);
    if (!d) return errc::invalid_encoding;
    std::string out(d->hash.size(), '\0');
    cleanse_guard const wipe(out);
    std::uint64_t const maxmem = 128 * std::uint64_t{d->r} * (d->n + d->p + 2) + (std::uint64_t{1} << 20);
    if (::EVP_PBE_scrypt(password.empty() ? "" : password.data(), password.size(), bytes_of(d->salt), d->salt.size(),
                         d->n, d->r, d->p, maxmem, reinterpret_cast<unsigned char*>(out.data()), out.size()) != 1) {
        log_openssl_failure("EVP_PBE_scrypt");
        return errc::hash_failed;
    }
    return equal_ct(out, d->hash);
}

// Symfony's legacy MessageDigestPasswordEncoder (SHA-512): "sha512_symfony$<iterations>$<salt>$<base64 hash>";
// salted = password "{" salt "}" (just the password when the salt is empty); digest = H(salted), then
// iterations - 1 times digest = H(digest || salted).
struct symfony_digest {
    std::uint32_t iterations = 0;
    std::string salt;
    std::string hash;
};

std::optional<symfony_digest> parse_sha512_symfony(std::string_view s) {
    auto const f = split_exact<4>(s);
    if (!f || (*f)[0] != "sha512_symfony") return std::nullopt;
    auto const iterations = parse_u32((*f)[1], symfony_max_iterations);
    if (!iterations || *iterations == 0 || (*f)[2].find_first_of("{}") != std::string_view::npos) return std::nullopt;
    auto hash = base64_decode((*f)[3]);
    if (!hash || hash->size() != 64) return std::nullopt;
    return symfony_digest{*iterations, std::string((*f)[2]), std::move(*hash)};
}

result<bool> verify_sha512_symfony(std::string_view password, std::string_view digest) {
    auto d = parse_sha512_symfony(digest);
    if (!d) return errc::invalid_encoding;
    std::string salted(password);
    cleanse_guard const wipe_salted(salted);
    if (!d->salt.empty()) salted += "{" + d->salt + "}";
    std::string h = md_of(::EVP_sha512(), {salted});
    cleanse_guard const wipe(h);
    for (std::uint32_t i = 1; i < d->iterations && h.size() == 64; ++i) h = md_of(::EVP_sha512(), {h, salted});
    if (h.size() != 64) return errc::hash_failed;
    return equal_ct(h, d->hash);
}

// RFC 2307 / OpenLDAP "{SSHA}" + base64(SHA-1(password || salt) || salt).
std::optional<std::pair<std::string, std::string>> parse_ldap_ssha(std::string_view s) {
    if (!s.starts_with("{SSHA}")) return std::nullopt;
    auto raw = base64_decode(s.substr(6));
    if (!raw || raw->size() <= 20 || raw->size() > 20 + 64) return std::nullopt;
    return std::pair{raw->substr(0, 20), raw->substr(20)};
}

result<bool> verify_ldap_ssha(std::string_view password, std::string_view digest) {
    auto d = parse_ldap_ssha(digest);
    if (!d) return errc::invalid_encoding;
    std::string h = md_of(::EVP_sha1(), {password, d->second});
    cleanse_guard const wipe(h);
    return h.size() == 20 && equal_ct(h, d->first);
}

result<bool> verify_md5(std::string_view password, std::string_view digest) {
    auto expected = hex_decode(digest);
    if (digest.size() != 32 || !expected) return errc::invalid_encoding;
    std::string actual = md_of(::EVP_md5(), {password});
    cleanse_guard const wipe(actual);
    return actual.size() == 16 && equal_ct(actual, *expected);
}

bool well_formed(std::string_view digest, hasher_kind kind) {
    switch (kind) {
        case hasher_kind::argon2id:
            return parse_argon2(digest, Argon2_id).has_value();
        case hasher_kind::argon2i:
            return parse_argon2(digest, Argon2_i).has_value();
        case hasher_kind::bcrypt:
            return valid_bcrypt(digest);
        case hasher_kind::bcrypt_sha256_django:
            return digest.starts_with("bcrypt_sha256$") && valid_bcrypt(digest.substr(14));
        case hasher_kind::pbkdf2_sha256:
        case hasher_kind::pbkdf2_sha256_django:
        case hasher_kind::pbkdf2_sha1:
        case hasher_kind::pbkdf2_sha512:
        case hasher_kind::pbkdf2_sha512_hex:
            return parse_pbkdf2(digest, kind).has_value();
        case hasher_kind::scrypt_firebase:
            return parse_scrypt_firebase(digest).has_value();
        case hasher_kind::sha256:
            return digest.size() == 64 && is_hex(digest);
        case hasher_kind::md5:
            return digest.size() == 32 && is_hex(digest);
        case hasher_kind::md5_phpass:
        case hasher_kind::phpass:
            return valid_phpass(digest);
        case hasher_kind::scrypt_werkzeug:
            return parse_scrypt_werkzeug(digest).has_value();
        case hasher_kind::sha512_symfony:
            return parse_sha512_symfony(digest).has_value();
        case hasher_kind::ldap_ssha:
            return parse_ldap_ssha(digest).has_value();
    }
    return false;
}

}  // namespace

namespace {
/// The process-wide cap on concurrent password computations (see set_hash_concurrency).
struct hash_limiter {
    std::mutex mu;
    std::condition_variable cv;
    unsigned limit = 0;  // 0 = unlimited
    unsigned running = 0;
    unsigned peak = 0;
    /// Under a cap, the arenas of the slots (at most `limit`). A hash takes whichever is free, so the
    /// same few blocks stay warm in the caches however many pool threads take turns hashing.
    std::vector<std::unique_ptr<argon2_arena>> free_arenas;
};
hash_limiter& limiter() {
    static hash_limiter l;
    return l;
}

/// Holds one hashing slot for its lifetime.
class hash_slot {
public:
    hash_slot() {
        auto& l = limiter();
        std::unique_lock lk(l.mu);
        l.cv.wait(lk, [&] { return l.limit == 0 || l.running < l.limit; });
        ++l.running;
        l.peak = std::max(l.peak, l.running);
        if (l.limit == 0) return;
        if (l.free_arenas.empty()) {
            arena_ = std::make_unique<argon2_arena>();
        } else {
            arena_ = std::move(l.free_arenas.back());
            l.free_arenas.pop_back();
        }
        tl_slot_arena = arena_.get();
    }
    ~hash_slot() {
        auto& l = limiter();
        tl_slot_arena = nullptr;
        {
            std::lock_guard lk(l.mu);
            --l.running;
            if (arena_ && l.free_arenas.size() < l.limit) l.free_arenas.push_back(std::move(arena_));
        }
        l.cv.notify_one();
    }
    hash_slot(hash_slot const&) = delete;
    hash_slot& operator=(hash_slot const&) = delete;

private:
    std::unique_ptr<argon2_arena> arena_;
};
}  // namespace

void set_hash_concurrency(unsigned n) {
    auto& l = limiter();
    {
        std::lock_guard lk(l.mu);
        l.limit = n;
    }
    l.cv.notify_all();
}

unsigned hash_concurrency_peak(bool reset) {
    auto& l = limiter();
    std::lock_guard lk(l.mu);
    unsigned p = l.peak;
    if (reset) l.peak = l.running;
    return p;
}

result<std::string> hash_password(std::string_view password, argon2_params const& p) {
    hash_slot slot;
    if (!argon2_costs_ok(p.m_cost_kib, p.t_cost, p.parallelism)) {
        log_line("hash_password: argon2 parameters out of range");
        return errc::hash_failed;
    }
    std::array<unsigned char, salt_bytes> salt{};
    random_bytes(salt);
    std::string hash(hash_bytes, '\0');
    cleanse_guard const wipe(hash);
    std::string_view const salt_view(reinterpret_cast<char const*>(salt.data()), salt.size());
    auto r = run_argon2(password, salt_view, {reinterpret_cast<std::uint8_t*>(hash.data()), hash.size()}, p.t_cost,
                        p.m_cost_kib, p.parallelism, ARGON2_VERSION_13, Argon2_id);
    if (!r) return r.error();
    std::string out = "$argon2id$v=19$m=" + std::to_string(p.m_cost_kib) + ",t=" + std::to_string(p.t_cost) +
                      ",p=" + std::to_string(p.parallelism) + "$";
    out += base64_encode_unpadded(salt_view);
    out += '$';
    out += base64_encode_unpadded(hash);
    return out;
}

result<bool> verify_password(std::string_view password, std::string_view digest, std::string_view hasher) {
    hash_slot slot;
    // Stored imports whose format can't be told from the digest carry their hasher: "<hasher>$$<digest>".
    if (auto sep = digest.find("$$");
        hasher.empty() && sep != std::string_view::npos && sep > 0 && is_supported_hasher(digest.substr(0, sep))) {
        hasher = digest.substr(0, sep);
        digest = digest.substr(sep + 2);
    }
    if (hasher.empty()) hasher = detect_hasher(digest);
    auto const kind = kind_of(hasher);
    if (!kind) return errc::unsupported_hasher;
    switch (*kind) {
        case hasher_kind::argon2id:
            return verify_argon2(password, digest, Argon2_id);
        case hasher_kind::argon2i:
            return verify_argon2(password, digest, Argon2_i);
        case hasher_kind::bcrypt:
            if (!valid_bcrypt(digest)) return errc::invalid_encoding;
            return verify_crypt(password, digest);
        case hasher_kind::bcrypt_sha256_django: {
            if (!well_formed(digest, *kind)) return errc::invalid_encoding;
            // Django: bcrypt over the lower-case hex SHA-256 of the password.
            std::string raw = sha256(password);
            cleanse_guard const wipe_raw(raw);
            std::string pre = hex_encode(raw);
            cleanse_guard const wipe_pre(pre);
            return verify_crypt(pre, digest.substr(14));
        }
        case hasher_kind::pbkdf2_sha256:
        case hasher_kind::pbkdf2_sha256_django:
        case hasher_kind::pbkdf2_sha1:
            return verify_pbkdf2(password, digest, *kind);
        case hasher_kind::scrypt_firebase:
            return verify_scrypt_firebase(password, digest);
        case hasher_kind::sha256: {
            auto expected = hex_decode(digest);
            if (digest.size() != 64 || !expected) return errc::invalid_encoding;
            std::string actual = sha256(password);
            cleanse_guard const wipe(actual);
            return equal_ct(actual, *expected);
        }
        case hasher_kind::md5:
            return verify_md5(password, digest);
        case hasher_kind::md5_phpass:
        case hasher_kind::phpass:
            return verify_phpass(password, digest);
        case hasher_kind::pbkdf2_sha512:
        case hasher_kind::pbkdf2_sha512_hex:
            return verify_pbkdf2(password, digest, *kind);
        case hasher_kind::scrypt_werkzeug:
            return verify_scrypt_werkzeug(password, digest);
        case hasher_kind::sha512_symfony:
            return verify_sha512_symfony(password, digest);
        case hasher_kind::ldap_ssha:
            return verify_ldap_ssha(password, digest);
    }
    return errc::unsupported_hasher;
}

std::span<std::string_view const> supported_hashers() noexcept { return hasher_names; }

bool is_supported_hasher(std::string_view hasher) noexcept { return kind_of(hasher).has_value(); }

std::string_view detect_hasher(std::string_view digest) noexcept {
    if (digest.starts_with("$argon2id$")) return "argon2id";
    if (digest.starts_with("$argon2i$")) return "argon2i";
    if (digest.starts_with("$2a$") || digest.starts_with("$2b$") || digest.starts_with("$2y$")) return "bcrypt";
    if (digest.starts_with("bcrypt_sha256$")) return "bcrypt_sha256_django";
    if (digest.starts_with("pbkdf2_sha256$")) return "pbkdf2_sha256_django";
    if (digest.starts_with("pbkdf2_sha1$")) return "pbkdf2_sha1";
    if (digest.starts_with("pbkdf2_sha512_hex$")) return "pbkdf2_sha512_hex";
    if (digest.starts_with("pbkdf2_sha512$")) return "pbkdf2_sha512";
    if (digest.starts_with("$P$")) return "phpass";
    if (digest.starts_with("$H$")) return "md5_phpass";
    if (digest.starts_with("sha512_symfony$")) return "sha512_symfony";
    if (digest.starts_with("{SSHA}")) return "ldap_ssha";
    if (digest.starts_with("scrypt:") || digest.starts_with("$scrypt:") || digest.starts_with("scrypt$"))
        return "scrypt_werkzeug";
    if (digest.size() == 32 && is_hex(digest)) return "md5";
    if (digest.size() == 64 && is_hex(digest)) return "sha256";
    if (auto const f = split_exact<6>(digest); f && is_digits((*f)[4]) && is_digits((*f)[5])) return "scrypt_firebase";
    return {};
}

bool digest_matches_hasher(std::string_view digest, std::string_view hasher) {
    auto const kind = kind_of(hasher);
    return kind && well_formed(digest, *kind);
}

bool needs_rehash(std::string_view digest, argon2_params const& p) {
    auto const d = parse_argon2(digest, Argon2_id);
    return !d || d->version != ARGON2_VERSION_13 || d->m != p.m_cost_kib || d->t != p.t_cost || d->p != p.parallelism ||
           d->salt.size() != salt_bytes || d->hash.size() != hash_bytes;
}

}  // namespace latchkey::crypto
