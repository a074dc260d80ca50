#include "crypto/eth.hpp"

#include "crypto/encoding.hpp"
#include "crypto/random.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>

#include <string>

namespace crypto = latchkey::crypto;
namespace eth = latchkey::crypto::eth;

namespace {

std::string hex(std::string_view raw) { return crypto::hex_encode(raw); }

std::string unhex(std::string_view h) {
    auto r = crypto::hex_decode(h);
    BOOST_REQUIRE(r.has_value());
    return *r;
}

std::string openssl_sha3(std::string const& data) {
    unsigned char md[32];
    unsigned int n = 0;
    BOOST_REQUIRE(EVP_Digest(data.data(), data.size(), md, &n, EVP_sha3_256(), nullptr) == 1);
    return {reinterpret_cast<char*>(md), n};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(crypto_eth)

// The published Keccak-256 values (the original Keccak submission's padding, as Ethereum uses it).
BOOST_AUTO_TEST_CASE(keccak256_vectors) {
    std::pair<std::string, std::string> const vectors[] = {
        {"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
        {"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
        {"The quick brown fox jumps over the lazy dog",
         "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"}};
    for (auto const& [in, want] : vectors) BOOST_TEST(hex(eth::keccak256(in)) == want, "keccak256(\"" << in << "\")");
}

// The permutation is the one FIPS 202 uses: with SHA-3's padding it must agree with OpenSSL for every length
// around the 136-byte rate (one block, two, the padding byte alone in a block).
BOOST_AUTO_TEST_CASE(permutation_agrees_with_openssl_sha3) {
    for (std::size_t n = 0; n <= 300; ++n) {
        std::string data(n, '\0');
        if (n != 0) crypto::random_bytes({reinterpret_cast<unsigned char*>(data.data()), n});
        BOOST_TEST(hex(eth::sha3_256(data)) == hex(openssl_sha3(data)), "length " << n);
    }
}

// EIP-191 personal_sign: web3.js's documented example (web3.eth.accounts.sign('Some data', key)).
BOOST_AUTO_TEST_CASE(eip191_personal_sign_vector) {
    BOOST_TEST(hex(eth::personal_message_hash("Some data")) ==
               "1da44b586eb0729ff70a73c326926f6ed5a25f5b056e7f47fbc6e58d86871655");
    BOOST_TEST(hex(eth::personal_message_hash("Hello World")) ==
               "a1de988600a42c4b4ab089b619297c17d53cffae5d5120d82d8a92d0bb3b78f2");
    auto const sig = unhex(
        "b91467e570a6466aa9e9876cbcd013baba02900b8979d43fe208a4a4f339f5fd"
        "6007e74cd82e037b800186422fc2da167c747ef045e5d18a5f5d4300f8e1a0291c");
    auto a = eth::recover_address(eth::personal_message_hash("Some data"), sig);
    BOOST_REQUIRE(a.has_value());
    BOOST_TEST(eth::checksum_address(*a) == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
    // v as 0/1 works too; another message recovers another address; a bad v or a zero r does not recover.
    std::string v01 = sig;
    v01[64] = 1;
    BOOST_TEST((eth::recover_address(eth::personal_message_hash("Some data"), v01).value() == *a));
    auto other = eth::recover_address(eth::personal_message_hash("Some datA"), sig);
    BOOST_TEST((!other.has_value() || *other != *a));
    std::string badv = sig;
    badv[64] = 29;
    BOOST_TEST(!eth::recover_address(eth::personal_message_hash("Some data"), badv).has_value());
    std::string zero_r = sig;
    std::fill(zero_r.begin(), zero_r.begin() + 32, '\0');
    BOOST_TEST(!eth::recover_address(eth::personal_message_hash("Some data"), zero_r).has_value());
    BOOST_TEST(!eth::recover_address(eth::personal_message_hash("Some data"), sig.substr(0, 64)).has_value());
}

// EIP-55's own test addresses.
BOOST_AUTO_TEST_CASE(eip55_checksums) {
    for (std::string const a :
         {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
          "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
        auto raw = eth::parse_address(a);
        BOOST_REQUIRE(raw.has_value());
        BOOST_TEST(eth::checksum_address(*raw) == a);
        std::string lower = a;
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        BOOST_TEST((eth::parse_address(lower).value() == *raw));
    }
    // A wrong checksum, a short address, a non-hex digit.
    BOOST_TEST(!eth::parse_address("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").has_value());
    BOOST_TEST(!eth::parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe").has_value());
    BOOST_TEST(!eth::parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg").has_value());
    BOOST_TEST(!eth::parse_address("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
