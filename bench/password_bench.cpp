// Password hashing (argon2id, the server's default parameters) on 1 and 2 threads: the ceiling for
// password sign-in is the verify rate on the cores given to hashing (bench/load/run.sh reads these).
#include "crypto/password.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

namespace crypto = latchkey::crypto;

std::string const& digest() {
    static std::string const d = [] {
        auto r = crypto::hash_password("correct horse battery staple");
        if (!r) throw std::runtime_error("hash_password failed");
        return *r;
    }();
    return d;
}

void BM_password_hash(benchmark::State& state) {
    for (auto _ : state) {
        auto r = crypto::hash_password("correct horse battery staple");
        if (!r) {
            state.SkipWithError("hash failed");
            break;
        }
        benchmark::DoNotOptimize(r->data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_password_hash)->Threads(1)->Threads(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_password_verify(benchmark::State& state) {
    auto const& d = digest();
    for (auto _ : state) {
        auto r = crypto::verify_password("correct horse battery staple", d);
        if (!r || !*r) {
            state.SkipWithError("verify failed");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_password_verify)->Threads(1)->Threads(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
