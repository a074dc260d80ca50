// Id and secret generation: every record id, client credential and one-time code comes from these.
#include "crypto/random.hpp"

#include <benchmark/benchmark.h>

namespace {

namespace crypto = latchkey::crypto;

void BM_new_id(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(crypto::new_id("sess"));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_new_id);
BENCHMARK(BM_new_id)->Threads(2)->UseRealTime();

void BM_random_token_32(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(crypto::random_token(32));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_random_token_32);

void BM_random_digits_6(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(crypto::random_digits(6));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_random_digits_6);

}  // namespace
