#pragma once
// Password digests made by real implementations of every hasher latchkey verifies (what an import from Clerk or
// another system brings), each with how it was made: the importer's integration test imports them all, the
// crypto unit test verifies them (with more vectors of its own).
#include <string_view>

namespace latchkey::test {

struct password_vector {
    std::string_view hasher;
    std::string_view password;
    std::string_view digest;
};

/// One digest per hasher.
inline constexpr password_vector published_digests[] = {
    // python3 -c 'import hashlib; print(hashlib.md5(b"correct horse").hexdigest())'
    {"md5", "correct horse", "3cb4e732631f47e6eb961f34554b7cde"},
    // Openwall phpass 0.3 test.php, HashPassword("test12345") with portable hashes (WordPress "$P$").
    {"phpass", "test12345", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"},
    // The same portable hash as phpBB3 writes it ("$H$").
    {"md5_phpass", "test12345", "$H$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"},
    // python3 hashlib.pbkdf2_hmac("sha512", b"correct horse", b"NaCl", 1000).hex()
    {"pbkdf2_sha512", "correct horse",
     "pbkdf2_sha512$1000$NaCl$cc5d115d3ce48c34058b84416af0f7afc22402968e17446bd88016b0d551bca43c9eda0423c04b6266512f1d"
     "1bcb97ed396210a047412a3e64411323e73b507c"},
    // The same with the salt bytes 00112233445566778899aabbccddeeff, hex-encoded.
    {"pbkdf2_sha512_hex", "correct horse",
     "pbkdf2_sha512_hex$1000$00112233445566778899aabbccddeeff$06a400b959401730879119b8d50a15ffa38c8b9d746a1f413e795a28"
     "8d6f91f39a9ec0bd5403cfab99b3ad439f2df0ac4aa7d0817219c49389729c38bd359c8d"},
    // Werkzeug 3: generate_password_hash("correct horse", method="scrypt:1024:8:1", salt_length=8)
    {"scrypt_werkzeug", "correct horse",
     "scrypt:1024:8:1$mqHuH7hj$fa5718bc553944d1b824d3638f468cd7b238292d48c57cf5404d4ee5281bd21d89f37c97071d94a5d88969f"
     "d6f6101bbdadd3b9376039d385ce607e7fa789bb8"},
    // Symfony MessageDigestPasswordEncoder('sha512', true, 5000) with salt "pepper", via python3 hashlib.
    {"sha512_symfony", "correct horse",
     "sha512_symfony$5000$pepper$/"
     "ZgiblsqN0o1L3iDuN7IB8VoDGcLqX8G7lRwQ5DsIav36Mds6hOZGKOyZRgVtxsgx5i0FNwLi7QL3OalHkT3sQ=="},
    // OpenLDAP {SSHA}: python3 base64(hashlib.sha1(b"correct horse" + b"ab\x01\xfe").digest() + b"ab\x01\xfe")
    {"ldap_ssha", "correct horse", "{SSHA}zjP2mHzNno+xwS5bj3xw1RB/Z5hhYgH+"},
    // FIPS 180 SHA-256("password").
    {"sha256", "password", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"},
    // Openwall crypt_blowfish wrapper.c.
    {"bcrypt", "U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
    // Django BCryptSHA256PasswordHasher layout (bcrypt over hex(sha256(password))).
    {"bcrypt_sha256_django", "correct horse",
     "bcrypt_sha256$$2b$04$abcdefghijklmnopqrstuuIvyWZlBcE3WoQXKqRnwrLYJ6nenE0Bq"},
    // Django's own test vector (tests/auth_tests/test_hashers.py).
    {"pbkdf2_sha256_django", "l\xc3\xa8tmein",
     "pbkdf2_sha256$10000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="},
    // RFC 7914 §11 PBKDF2-HMAC-SHA256 (P="passwd", S="salt", c=1) in Clerk's base64-salt layout.
    {"pbkdf2_sha256", "passwd",
     "pbkdf2_sha256$1$c2FsdA==$VawEblbjCJ/"
     "sFpHCJUS2BflBhSFt3gRl5oudV8INrLxJypzM8Xm2RZkWZLOdd+8xfHG4RbHjC9UJESBB06GXgw=="},
    // RFC 6070 PBKDF2-HMAC-SHA1.
    {"pbkdf2_sha1", "password", "pbkdf2_sha1$4096$salt$4b007901b765489abead49d926f721d065a429c1"},
    // firebase/scrypt README sample in Clerk's layout.
    {"scrypt_firebase", "user1password",
     "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$42xEC+ixf3L2lw==$"
     "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$Bw==$8$14"},
    // phc-winner-argon2 src/test.c vectors (password "password", salt "somesalt").
    {"argon2i", "password", "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8"},
    {"argon2id", "password", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
};

}  // namespace latchkey::test
