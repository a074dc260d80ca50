#include "crypto/password.hpp"

#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "tests/common/password_vectors.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace crypto = latchkey::crypto;
using crypto::errc;

namespace {

boost::system::error_code code(errc e) { return crypto::make_error_code(e); }

using latchkey::test::password_vector;

// Published vectors beyond one per hasher (tests/common/password_vectors.hpp), each with its source.
constexpr password_vector more_vectors[] = {
    // phc-winner-argon2 src/test.c (libargon2's own test vectors), password "password", salt
    // "somesalt".
    {"argon2i", "password", "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E"},
    {"argon2i", "password", "$argon2i$m=256,t=2,p=1$c29tZXNhbHQ$/U3YPXYsSb3q9XxHvc0MLxur+GP960kN9j7emXX8zwY"},  // v=16
    {"argon2id", "password", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"},
    {"argon2id", "password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
    // Openwall crypt_blowfish wrapper.c test vectors.
    {"bcrypt", "U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"},
    {"bcrypt", "U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"},
    {"bcrypt", "", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy"},
    {"bcrypt",
     "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are "
     "ignored",
     "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"},
    // The same computation under the $2b$ and $2y$ prefixes (identical for ASCII passwords).
    {"bcrypt", "U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
    {"bcrypt", "U*U", "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
    // RFC 1321 MD5("abc") (the RFC's own test suite).
    {"md5", "abc", "900150983cd24fb0d6963f7d28e17f72"},
};

// Silences the log sink for tests that provoke failures on purpose.
struct quiet_log {
    quiet_log() {
        crypto::set_log_sink([](std::string_view) noexcept {});
    }

    quiet_log(quiet_log const&) = delete;
    quiet_log& operator=(quiet_log const&) = delete;
    quiet_log(quiet_log&&) = delete;
    quiet_log& operator=(quiet_log&&) = delete;

    ~quiet_log() { crypto::set_log_sink(nullptr); }
};

/// Every published vector: one digest per hasher and the others.
std::vector<password_vector> all_vectors() {
    std::vector<password_vector> v(std::begin(latchkey::test::published_digests),
                                   std::end(latchkey::test::published_digests));
    v.insert(v.end(), std::begin(more_vectors), std::end(more_vectors));
    return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(crypto_password)

BOOST_AUTO_TEST_CASE(hash_then_verify) {
    auto digest = crypto::hash_password("correct horse battery staple");
    BOOST_TEST_REQUIRE(digest.has_value());
    BOOST_TEST(digest->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0U);
    // 16-byte salt and 32-byte hash, unpadded base64.
    std::string_view const tail =
        std::string_view(*digest).substr(std::string_view("$argon2id$v=19$m=19456,t=2,p=1$").size());
    auto const dollar = tail.find('$');
    BOOST_TEST_REQUIRE(dollar != std::string_view::npos);
    BOOST_TEST(crypto::base64_decode(tail.substr(0, dollar)).value().size() == 16U);
    BOOST_TEST(crypto::base64_decode(tail.substr(dollar + 1)).value().size() == 32U);
    BOOST_TEST(tail.find('=') == std::string_view::npos);

    BOOST_TEST(crypto::verify_password("correct horse battery staple", *digest).value());
    BOOST_TEST(crypto::verify_password("correct horse battery staple", *digest, "argon2id").value());
    BOOST_TEST(!crypto::verify_password("correct horse battery stapler", *digest).value());
    BOOST_TEST(!crypto::verify_password("", *digest).value());
    BOOST_TEST(!crypto::needs_rehash(*digest));
    BOOST_TEST(crypto::digest_matches_hasher(*digest, "argon2id"));

    auto other = crypto::hash_password("correct horse battery staple");
    BOOST_TEST_REQUIRE(other.has_value());
    BOOST_TEST(*other != *digest);  // fresh salt
}

BOOST_AUTO_TEST_CASE(custom_parameters_are_encoded_and_honoured) {
    crypto::argon2_params const p{1, 64, 2};
    auto digest = crypto::hash_password("pw", p);
    BOOST_TEST_REQUIRE(digest.has_value());
    BOOST_TEST(digest->rfind("$argon2id$v=19$m=64,t=1,p=2$", 0) == 0U);
    BOOST_TEST(crypto::verify_password("pw", *digest).value());
    BOOST_TEST(!crypto::verify_password("pW", *digest).value());
    BOOST_TEST(crypto::needs_rehash(*digest));  // not today's defaults
    BOOST_TEST(!crypto::needs_rehash(*digest, p));
    BOOST_TEST(crypto::needs_rehash(*digest, {2, 64, 2}));
}

BOOST_AUTO_TEST_CASE(hash_rejects_parameters_it_could_not_verify) {
    quiet_log const quiet;
    BOOST_TEST(crypto::hash_password("pw", {0, 64, 1}).error() == code(errc::hash_failed));
    BOOST_TEST(crypto::hash_password("pw", {1, 15, 2}).error() == code(errc::hash_failed));  // m < 8p
    BOOST_TEST(crypto::hash_password("pw", {1, 64, 0}).error() == code(errc::hash_failed));
    BOOST_TEST(crypto::hash_password("pw", {1, (1U << 20) + 1, 1}).error() == code(errc::hash_failed));
}

BOOST_AUTO_TEST_CASE(memory_above_the_reused_buffer_still_works) {
    // 64 MiB + 64 KiB: larger than the per-thread buffer, so a one-off block is used.
    crypto::argon2_params const p{1, 65600, 1};
    auto digest = crypto::hash_password("big", p);
    BOOST_TEST_REQUIRE(digest.has_value());
    BOOST_TEST(crypto::verify_password("big", *digest).value());
}

BOOST_AUTO_TEST_CASE(hashing_from_several_threads) {
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([t, &failures] {
            for (int i = 0; i < 3; ++i) {
                std::string const pw = "pw-" + std::to_string(t) + "-" + std::to_string(i);
                auto d = crypto::hash_password(pw, {1, 256 + 64 * static_cast<std::uint32_t>(i), 1});
                if (!d || !crypto::verify_password(pw, *d).value() || crypto::verify_password(pw + "x", *d).value()) {
                    ++failures;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    BOOST_TEST(failures.load() == 0);
}

BOOST_AUTO_TEST_CASE(published_vectors_verify) {
    for (auto const& v : all_vectors()) {
        BOOST_TEST_CONTEXT(v.hasher << " " << v.digest) {
            BOOST_TEST(crypto::digest_matches_hasher(v.digest, v.hasher));
            auto ok = crypto::verify_password(v.password, v.digest, v.hasher);
            BOOST_TEST_REQUIRE(ok.has_value());
            BOOST_TEST(*ok);
            // Prefixed: bcrypt ignores everything after byte 72, so appending would not change the
            // long vector.
            auto wrong = crypto::verify_password("!" + std::string(v.password), v.digest, v.hasher);
            BOOST_TEST_REQUIRE(wrong.has_value());
            BOOST_TEST(!*wrong);
            BOOST_TEST(crypto::needs_rehash(v.digest));  // none of them is today's argon2id
        }
    }
}

BOOST_AUTO_TEST_CASE(detection_finds_the_hasher) {
    for (auto const& v : all_vectors()) {
        // Clerk's base64-salt pbkdf2_sha256 shares Django's prefix: detection picks Django's
        // layout.
        std::string_view const expected = v.hasher == "pbkdf2_sha256" ? "pbkdf2_sha256_django" : v.hasher;
        BOOST_TEST_CONTEXT(v.digest) {
            BOOST_TEST(crypto::detect_hasher(v.digest) == expected);
            if (v.hasher != "pbkdf2_sha256") {
                auto ok = crypto::verify_password(v.password, v.digest);
                BOOST_TEST_REQUIRE(ok.has_value());
                BOOST_TEST(*ok);
            }
        }
    }
    BOOST_TEST(crypto::detect_hasher("").empty());
    BOOST_TEST(crypto::detect_hasher("5f4dcc3b5aa765d61d8327deb882cf99") == "md5");
    BOOST_TEST(crypto::detect_hasher("$P$984478476IagS59wHZvyQMArzfx58u.") == "phpass");
}

BOOST_AUTO_TEST_CASE(pbkdf2_variants_differ_in_salt_encoding) {
    // The same text read with Django's layout uses the salt "c2FsdA==" verbatim: no match.
    std::string_view const digest =
        "pbkdf2_sha256$1$c2FsdA==$VawEblbjCJ/"
        "sFpHCJUS2BflBhSFt3gRl5oudV8INrLxJypzM8Xm2RZkWZLOdd+8xfHG4RbHjC9UJESBB06GXgw==";
    BOOST_TEST(crypto::verify_password("passwd", digest, "pbkdf2_sha256").value());
    BOOST_TEST(!crypto::verify_password("passwd", digest, "pbkdf2_sha256_django").value());
    BOOST_TEST(!crypto::verify_password("passwd", digest).value());
}

BOOST_AUTO_TEST_CASE(bcrypt_rejects_passwords_with_nul) {
    std::string const pw("U*U\0tail", 8);
    BOOST_TEST(!crypto::verify_password(pw, "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW").value());
}

BOOST_AUTO_TEST_CASE(sha256_hex_is_case_insensitive) {
    BOOST_TEST(crypto::verify_password("password", "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8")
                   .value());
}

BOOST_AUTO_TEST_CASE(supported_hasher_names) {
    for (auto const* name : {"argon2id", "argon2i", "bcrypt", "bcrypt_sha256_django", "pbkdf2_sha256",
                             "pbkdf2_sha256_django", "pbkdf2_sha1", "scrypt_firebase", "sha256"}) {
        BOOST_TEST_CONTEXT(name) { BOOST_TEST(crypto::is_supported_hasher(name)); }
    }
    for (auto const* name : {"", "md5_salted", "bcrypt_peppered", "awscognito", "ARGON2ID", "argon2d"}) {
        BOOST_TEST_CONTEXT(name) { BOOST_TEST(!crypto::is_supported_hasher(name)); }
    }
    BOOST_TEST(crypto::supported_hashers().size() == 17U);
    BOOST_TEST(std::all_of(crypto::supported_hashers().begin(), crypto::supported_hashers().end(),
                           [](std::string_view n) { return crypto::is_supported_hasher(n); }));
}

BOOST_AUTO_TEST_CASE(digest_matches_hasher_rejects_malformed_digests) {
    struct bad {
        std::string_view hasher;
        std::string_view digest;
    };

    constexpr bad cases[] = {
        {"bcrypt",
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/"
         "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
        {"argon2i",
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/"
         "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
        {"argon2id",
         "$argon2id$v=18$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/"
         "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
        {"argon2id",
         "$argon2id$v=19$m=7,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/"
         "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
        {"argon2id",
         "$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$nf65EOgLrQMR/"
         "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
        {"argon2id",
         "$argon2id$v=19$m=256,t=2,p=0$c29tZXNhbHQ$nf65EOgLrQMR/"
         "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
        {"argon2id",
         "$argon2id$v=19$m=0256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/"
         "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
        {"argon2id",
         "$argon2id$v=19$t=2,m=256,p=1$c29tZXNhbHQ$nf65EOgLrQMR/"
         "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
        {"argon2id",
         "$argon2id$v=19$m=2097152,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/"
         "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
        {"argon2id",
         "$argon2id$v=19$m=256,t=2,p=1$c29tZQ$nf65EOgLrQMR/"
         "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},  // 5-byte salt
        {"argon2id",
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ=$nf65EOgLrQMR/"
         "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
        {"argon2id", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$"},
        {"argon2id", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65$extra"},
        {"argon2id",
         "$argon2id$v=19$m=256,t=2,p=1,x=1$c29tZXNhbHQ$nf65EOgLrQMR/"
         "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
        {"bcrypt", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe"},   // 59
                                                                                     // characters
        {"bcrypt", "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},  // buggy-variant
                                                                                     // prefix
        {"bcrypt", "$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},  // cost too
                                                                                     // low
        {"bcrypt", "$2a$17$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},  // cost above
                                                                                     // our bound
        {"bcrypt", "$2a$0x$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
        {"bcrypt", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe!"},
        {"bcrypt_sha256_django", "$2b$04$abcdefghijklmnopqrstuuIvyWZlBcE3WoQXKqRnwrLYJ6nenE0Bq"},
        {"pbkdf2_sha256_django", "pbkdf2_sha256$0$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="},
        {"pbkdf2_sha256_django", "pbkdf2_sha256$010000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="},
        {"pbkdf2_sha256_django", "pbkdf2_sha256$-1$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="},
        {"pbkdf2_sha256_django", "pbkdf2_sha256$10000001$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="},
        {"pbkdf2_sha256_django", "pbkdf2_sha256$10000$$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="},
        {"pbkdf2_sha256_django", "pbkdf2_sha256$10000$seasalt$CWWFdHOWwPnki7Hv"},  // 12-byte hash
        {"pbkdf2_sha256_django", "pbkdf2_sha256$10000$sea$salt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="},
        {"pbkdf2_sha256_django", "pbkdf2_sha1$4096$salt$4b007901b765489abead49d926f721d065a429c1"},
        {"pbkdf2_sha256",
         "pbkdf2_sha256$1$c2FsdA=$VawEblbjCJ/"
         "sFpHCJUS2BflBhSFt3gRl5oudV8INrLxJypzM8Xm2RZkWZLOdd+8xfHG4RbHjC9UJESBB06GXgw="
         "="},
        {"pbkdf2_sha1", "pbkdf2_sha1$4096$salt$4b007901b765489abead49d926f721d065a429cg"},
        {"scrypt_firebase",
         "AAAA$42xEC+ixf3L2lw==$"
         "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZv"
         "pjeJ9WmXA==$Bw==$8$14"},
        {"scrypt_firebase",
         "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/"
         "qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$42xEC+ixf3L2lw==$"
         "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZv"
         "pjeJ9WmXA==$Bw==$8$21"},
        {"scrypt_firebase",
         "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/"
         "qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$42xEC+ixf3L2lw==$"
         "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZv"
         "pjeJ9WmXA==$Bw==$0$14"},
        {"scrypt_firebase",
         "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/"
         "qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$42xEC+ixf3L2lw==$"
         "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZv"
         "pjeJ9WmXA==$Bw==$8"},
        {"scrypt_firebase",
         "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/"
         "qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$$"
         "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZv"
         "pjeJ9WmXA==$Bw==$8$14"},
        {"sha256", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d"},
        {"sha256", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542dz"},
        {"md5", "5f4dcc3b5aa765d61d8327deb882cf9"},
        {"", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"},
    };
    for (auto const& c : cases) {
        BOOST_TEST_CONTEXT(c.hasher << " " << c.digest) {
            BOOST_TEST(!crypto::digest_matches_hasher(c.digest, c.hasher));
        }
    }
}

BOOST_AUTO_TEST_CASE(malformed_digests_never_verify) {
    quiet_log const quiet;
    std::string_view const digests[] = {
        "",
        "$",
        "$$$$$",
        "$argon2id$",
        "$argon2id$v=19$",
        "$argon2id$v=19$m=256,t=2,p=1$$",
        "$argon2id$v=19$m=4294967295,t=4294967295,p=4294967295$c29tZXNhbHQ$nf65EOgLrQMR",
        "$argon2id$v=99999999999999999999$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR",
        "$argon2i$m=256,t=2,p=1$c29tZXNhbHQ$@@@@",
        "$2b$",
        "$2b$05$",
        "$2b$99$x",
        "bcrypt_sha256$",
        "bcrypt_sha256$$2b$04$short",
        "pbkdf2_sha256$",
        "pbkdf2_sha256$1$",
        "pbkdf2_sha1$$$",
        "pbkdf2_sha256$99999999999999999999$salt$AAAAAAAAAAAAAAAAAAAAAA==",
        "a$b$c$d$1$1",
        "$$$$1$1",
        "AAAA$AAAA$AAAA$AAAA$99$99",
        "AAAA$AAAA$AAAA$AAAA$1$0",
        "zz",
        "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d800",
    };
    for (auto const d : digests) {
        BOOST_TEST_CONTEXT("digest \"" << d << "\"") {
            auto detected = crypto::verify_password("password", d);
            BOOST_TEST((detected.has_error() || !*detected));
            for (auto const h : crypto::supported_hashers()) {
                BOOST_TEST_CONTEXT("as " << h) {
                    auto r = crypto::verify_password("password", d, h);
                    BOOST_TEST((r.has_error() || !*r));
                }
            }
        }
    }
    BOOST_TEST(crypto::verify_password("x", "$argon2id$v=19$m=7,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR").error() ==
               code(errc::invalid_encoding));
    BOOST_TEST(crypto::verify_password("x", "$2b$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW").error() ==
               code(errc::invalid_encoding));
    BOOST_TEST(crypto::verify_password("x", "not a digest").error() == code(errc::unsupported_hasher));
    BOOST_TEST(crypto::verify_password("x", "5f4dcc3b5aa765d61d8327deb882cf99", "md5_salted").error() ==
               code(errc::unsupported_hasher));
    BOOST_TEST(crypto::verify_password("x", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "argon2id")
                   .error() == code(errc::invalid_encoding));
}

BOOST_AUTO_TEST_CASE(needs_rehash_for_anything_but_current_argon2id) {
    BOOST_TEST(crypto::needs_rehash(""));
    BOOST_TEST(crypto::needs_rehash("$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
    // Right parameters, but an 8-byte salt.
    BOOST_TEST(
        crypto::needs_rehash("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"));
    // Right parameters, 16-byte salt, 32-byte hash: current.
    BOOST_TEST(
        !crypto::needs_rehash("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
                              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    BOOST_TEST(
        crypto::needs_rehash("$argon2i$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
}

BOOST_AUTO_TEST_CASE(hash_concurrency_cap_holds_across_threads) {
    // The server caps concurrent hashing at its hash-thread count while its pool has one thread more:
    // four threads hashing and verifying at once must never exceed the cap, and lifting it lets them run.
    crypto::argon2_params const cheap{1, 64, 1};
    auto const digest = crypto::hash_password("pw", cheap);
    BOOST_TEST_REQUIRE(digest.has_value());
    auto storm = [&] {
        std::vector<std::thread> ts;
        std::atomic<int> ok{0};
        for (int i = 0; i < 4; ++i)
            ts.emplace_back([&] {
                for (int j = 0; j < 20; ++j) {
                    auto v = crypto::verify_password("pw", *digest);
                    auto h = crypto::hash_password("pw", cheap);
                    if (v && *v && h) ++ok;
                }
            });
        for (auto& t : ts) t.join();
        return ok.load();
    };
    for (unsigned cap : {1u, 2u}) {
        crypto::set_hash_concurrency(cap);
        (void)crypto::hash_concurrency_peak(true);
        BOOST_TEST(storm() == 80);
        auto peak = crypto::hash_concurrency_peak(true);
        BOOST_TEST(peak >= 1u);
        BOOST_TEST(peak <= cap);
    }
    crypto::set_hash_concurrency(0);
    BOOST_TEST(storm() == 80);
}

BOOST_AUTO_TEST_CASE(imported_hashers_are_detected_and_bounded) {
    BOOST_TEST(crypto::detect_hasher("3cb4e732631f47e6eb961f34554b7cde") == "md5");
    BOOST_TEST(crypto::detect_hasher("$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0") == "phpass");
    BOOST_TEST(crypto::detect_hasher("$H$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0") == "md5_phpass");
    BOOST_TEST(crypto::detect_hasher("pbkdf2_sha512$1$s$00") == "pbkdf2_sha512");
    BOOST_TEST(crypto::detect_hasher("pbkdf2_sha512_hex$1$00$00") == "pbkdf2_sha512_hex");
    BOOST_TEST(crypto::detect_hasher("scrypt:1024:8:1$s$00") == "scrypt_werkzeug");
    BOOST_TEST(crypto::detect_hasher("sha512_symfony$1$s$AA==") == "sha512_symfony");
    BOOST_TEST(crypto::detect_hasher("{SSHA}AAAA") == "ldap_ssha");
    for (auto h : {"md5", "md5_phpass", "phpass", "pbkdf2_sha512", "pbkdf2_sha512_hex", "scrypt_werkzeug",
                   "sha512_symfony", "ldap_ssha"})
        BOOST_TEST(crypto::is_supported_hasher(h));
    // Work factors beyond the bounds are malformed, not minutes of hashing.
    BOOST_TEST(!crypto::digest_matches_hasher("$P$ZIQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "phpass"));  // 2^35
    BOOST_TEST(!crypto::digest_matches_hasher("$P$4IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "phpass"));  // 2^2
    BOOST_TEST(!crypto::digest_matches_hasher(
        "scrypt:4194304:8:1$mqHuH7hj$fa5718bc553944d1b824d3638f468cd7b238292d48c57cf5404d4ee5281bd21d",
        "scrypt_werkzeug"));
    BOOST_TEST(!crypto::digest_matches_hasher(
        "scrypt:1000:8:1$mqHuH7hj$fa5718bc553944d1b824d3638f468cd7b238292d48c57cf5404d4ee5281bd21d",
        "scrypt_werkzeug"));  // N not a power of two
    BOOST_TEST(!crypto::digest_matches_hasher("sha512_symfony$2000000$s$AA==", "sha512_symfony"));
    BOOST_TEST(!crypto::digest_matches_hasher("sha512_symfony$5$s{x}$AA==", "sha512_symfony"));
    BOOST_TEST(!crypto::digest_matches_hasher("{SSHA}zjP2mHzNno+xwS5bj3xw1RB/Z5g=", "ldap_ssha"));  // no salt
    BOOST_TEST(!crypto::digest_matches_hasher("3cb4e732631f47e6eb961f34554b7cd", "md5"));
    BOOST_TEST(!crypto::digest_matches_hasher("pbkdf2_sha512$1000$NaCl$zz", "pbkdf2_sha512"));
    BOOST_TEST(!crypto::digest_matches_hasher("pbkdf2_sha512_hex$1000$NaCl$00", "pbkdf2_sha512_hex"));
    // Clerk's documented Werkzeug layout: a leading '$' and a base64 hash.
    auto const raw = crypto::hex_decode(
        "fa5718bc553944d1b824d3638f468cd7b238292d48c57cf5404d4ee5281bd21d89f37c97071d94a5d88969fd6f6101bbdadd3b93760"
        "39d385ce607e7fa789bb8");
    BOOST_TEST_REQUIRE(raw.has_value());
    std::string const clerk_layout = "$scrypt:1024:8:1$mqHuH7hj$" + crypto::base64_encode(*raw);
    BOOST_TEST(crypto::verify_password("correct horse", clerk_layout, "scrypt_werkzeug").value());
    BOOST_TEST(!crypto::verify_password("correct horsf", clerk_layout, "scrypt_werkzeug").value());
}

BOOST_AUTO_TEST_SUITE_END()
