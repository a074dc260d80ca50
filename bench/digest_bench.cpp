// HMAC-SHA256 as every cookie-authenticated FAPI request pays it (verify_client_token: the __client
// credential's MAC), and what a pre-keyed OpenSSL MAC context would cost instead (EVP_MAC_CTX_dup of a
// context keyed once), for comparison.
#include "crypto/digest.hpp"

#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <string>

namespace {

std::string const key(32, 'k');
std::string const msg = "client:client_2pXq1vZ0b8kYc9mN4rT6uW3eLhA";

void BM_hmac_sha256_crypto(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(latchkey::crypto::hmac_sha256(key, msg));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_hmac_sha256_crypto);

/// The alternative: fetch the MAC and set the key once, then dup the keyed context per message.
void BM_hmac_sha256_prekeyed_ctx(benchmark::State& state) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* base = EVP_MAC_CTX_new(mac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_init(base, reinterpret_cast<unsigned char const*>(key.data()), key.size(), params);
    std::array<unsigned char, 32> out{};
    for (auto _ : state) {
        EVP_MAC_CTX* c = EVP_MAC_CTX_dup(base);
        EVP_MAC_update(c, reinterpret_cast<unsigned char const*>(msg.data()), msg.size());
        std::size_t n = 0;
        EVP_MAC_final(c, out.data(), &n, out.size());
        EVP_MAC_CTX_free(c);
        benchmark::DoNotOptimize(out.data());
    }
    EVP_MAC_CTX_free(base);
    EVP_MAC_free(mac);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_hmac_sha256_prekeyed_ctx);

void BM_sha256_64B(benchmark::State& state) {
    std::string const d(64, 'x');
    for (auto _ : state) benchmark::DoNotOptimize(latchkey::crypto::sha256(d));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_sha256_64B);

}  // namespace
