// Fuzz: compact JWS parsing and RS256 verification against a real key.
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "harness.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace {
latchkey::crypto::signing_key const& key() {
    static auto k = latchkey::crypto::signing_key::generate_rsa(2048).value();
    return k;
}
}  // namespace

std::vector<std::string> fuzz_seeds() {
    auto jwt = latchkey::crypto::sign_rs256(key(), R"({"alg":"RS256","typ":"JWT"})", R"({"sub":"user_1","exp":1})");
    return {jwt ? *jwt : std::string{}, "a.b.c", "eyJ.eyJ.", "...", "e30.e30.AAAA"};
}

void fuzz_one(std::string_view in) {
    auto parts = latchkey::crypto::parse_jws(in);
    if (parts) (void)latchkey::crypto::verify_rs256(key().get(), *parts);
}
