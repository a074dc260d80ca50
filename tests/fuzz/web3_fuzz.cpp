// Fuzz: web3 wallet signature input: the signature text as a client sends it (hex), its recovery (libsecp256k1)
// over an EIP-191 message hash, and address parsing (EIP-55 checksum).
#include "crypto/encoding.hpp"
#include "crypto/eth.hpp"
#include "harness.hpp"

#include <cstdint>
#include <string>

namespace eth = latchkey::crypto::eth;

void fuzz_one(std::string_view in) {
    static std::string const hash = eth::personal_message_hash("Some data");
    // As hex text (what the API receives), then as raw bytes.
    std::string_view hex = in;
    if (hex.starts_with("0x")) hex.remove_prefix(2);
    if (auto raw = latchkey::crypto::hex_decode(hex)) (void)eth::recover_address(hash, *raw);
    if (in.size() >= 65) {
        if (auto a = eth::recover_address(hash, in.substr(0, 65))) (void)eth::checksum_address(*a);
        (void)eth::recover_address(in.substr(65, 32), in.substr(0, 65));
    }
    (void)eth::parse_address(in);
    (void)eth::keccak256(in);
}
