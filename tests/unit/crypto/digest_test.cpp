#include "crypto/digest.hpp"

#include "crypto/encoding.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <thread>

namespace crypto = latchkey::crypto;
using crypto::hex_encode;

BOOST_AUTO_TEST_SUITE(crypto_digest)

BOOST_AUTO_TEST_CASE(sha256_fips_180_vectors) {
    BOOST_TEST(hex_encode(crypto::sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    BOOST_TEST(hex_encode(crypto::sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    BOOST_TEST(hex_encode(crypto::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

BOOST_AUTO_TEST_CASE(sha1_fips_180_vector) {
    BOOST_TEST(hex_encode(crypto::sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
}

BOOST_AUTO_TEST_CASE(hmac_sha256_rfc4231_vectors) {
    // Test case 1: 20-byte key of 0x0b.
    BOOST_TEST(hex_encode(crypto::hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    // Test case 2: a key shorter than the output.
    BOOST_TEST(hex_encode(crypto::hmac_sha256("Jefe", "what do ya want for nothing?")) ==
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Test case 6: a key longer than the block size is hashed first.
    BOOST_TEST(hex_encode(crypto::hmac_sha256(std::string(131, '\xaa'),
                                              "Test Using Larger Than Block-Size Key - Hash Key First")) ==
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

BOOST_AUTO_TEST_CASE(hmac_sha256_reuses_a_key_only_when_it_is_the_same_key) {
    // hmac_sha256 keeps the last key's context per thread: repeating a key, alternating keys, keys that
    // share a prefix and the empty key must all give the RFC answers, on this thread and on another.
    auto check = [] {
        std::string const jefe = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        std::string const tc1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
        std::string const empty = "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";
        bool ok = true;
        for (int i = 0; i < 3; ++i) {
            ok = ok && hex_encode(crypto::hmac_sha256("Jefe", "what do ya want for nothing?")) == jefe;
            ok = ok && hex_encode(crypto::hmac_sha256("Jefe", "what do ya want for nothing?")) == jefe;
            ok = ok && hex_encode(crypto::hmac_sha256(std::string(20, '\x0b'), "Hi There")) == tc1;
            ok = ok && hex_encode(crypto::hmac_sha256("", "")) == empty;
            ok = ok && hex_encode(crypto::hmac_sha256("Jef", "what do ya want for nothing?")) != jefe;
        }
        return ok;
    };
    BOOST_TEST(check());
    bool other = false;
    std::thread([&] { other = check(); }).join();
    BOOST_TEST(other);
}

BOOST_AUTO_TEST_SUITE_END()
