// TOTP verification (issue 14): the cost a second-factor sign-in adds — three HMAC-SHA-1s (the step and one either
// side) on a per-thread MAC context, plus unsealing the secret (AES-256-GCM) from the user record. Target: < 5 µs.
#include "crypto/seal.hpp"
#include "crypto/totp.hpp"

#include <benchmark/benchmark.h>

#include <string>

namespace {

std::string const secret = "12345678901234567890";
std::int64_t const now_s = 1'765'000'000;

void BM_totp_verify(benchmark::State& state) {
    auto const code = latchkey::crypto::totp(secret, now_s + 30);  // the last of the three steps tried
    for (auto _ : state) benchmark::DoNotOptimize(latchkey::crypto::totp_verify(secret, code, now_s, 0));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_totp_verify);

void BM_totp_unseal_and_verify(benchmark::State& state) {
    auto const key = latchkey::crypto::seal_key::generate();
    auto const sealed = latchkey::crypto::seal(key, secret, "totp:user_1");
    auto const code = latchkey::crypto::totp(secret, now_s + 30);
    for (auto _ : state) {
        auto s = latchkey::crypto::unseal(key, sealed, "totp:user_1");
        benchmark::DoNotOptimize(latchkey::crypto::totp_verify(*s, code, now_s, 0));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_totp_unseal_and_verify);

}  // namespace
