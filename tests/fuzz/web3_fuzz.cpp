// Fuzz: web3 wallet signature input: the signature text as a client sends it (hex), its recovery (libsecp256k1)
// over an EIP-191 message hash, and address parsing (EIP-55 checksum).
#include "crypto/encoding.hpp"
#include "crypto/eth.hpp"
#include "harness.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace eth = latchkey::crypto::eth;

std::vector<std::string> fuzz_seeds() {
    return {
        "0xb91467e570a6466aa9e9876cbcd013baba02900b8979d43fe208a4a4f339f5fd6007e74cd82e037b800186422fc2da167c747ef045e5"
        "d18a5f5d4300f8e1a0291c",
        "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        std::string(65, '\xff'),
        std::string(65, '\0'),
    };
}

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
