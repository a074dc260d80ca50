// RS256: the raw signature (crypto::sign_rs256, 2048-bit key) and the whole session-token mint
// (claims + sign) that POST /v1/client/sessions/{id}/tokens performs. Compare with `openssl speed rsa2048`.
#include "bench_app.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "server/api/domain/tokens.hpp"
#include "server/api/frontend/common.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

namespace crypto = latchkey::crypto;

crypto::signing_key const& key() {
    static crypto::signing_key const k = [] {
        auto r = crypto::signing_key::generate_rsa(2048);
        if (!r) throw std::runtime_error("generate_rsa failed");
        return std::move(*r);
    }();
    return k;
}

void BM_rs256_sign(benchmark::State& state) {
    auto const& k = key();
    std::string const header = R"({"alg":"RS256","kid":")" + k.kid() + R"(","typ":"JWT"})";
    std::string const payload =
        R"({"azp":"http://localhost:3000","exp":1732345738,"fva":[0,-1],"iat":1732345678,)"
        R"("iss":"https://clerk.example.com","nbf":1732345668,"sid":"sess_2pXq1vZ0b8kYc9mN4rT6uW3eLhA",)"
        R"("sts":"active","sub":"user_2pXq1vZ0b8kYc9mN4rT6uW3eLhA","v":2})";
    for (auto _ : state) {
        auto jwt = crypto::sign_rs256(k, header, payload);
        benchmark::DoNotOptimize(jwt);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_rs256_sign)->UseRealTime();
BENCHMARK(BM_rs256_sign)->Threads(2)->UseRealTime();

void BM_rs256_verify(benchmark::State& state) {
    auto const& k = key();
    auto jwt = crypto::sign_rs256(k, R"({"alg":"RS256","typ":"JWT"})", R"({"sub":"user_x"})");
    auto parts = crypto::parse_jws(*jwt);
    for (auto _ : state) {
        auto r = crypto::verify_rs256(k.get(), *parts);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_rs256_verify);

/// Mints the session token of a sample session (edited by `edit`) once per iteration.
template <class Edit>
void mint_loop(benchmark::State& state, Edit edit) {
    latchkey::bench::bench_app env;
    auto& a = env.app();
    auto now = a.now_ms();
    auto s =
        latchkey::bench::sample_session(now, "user_2pXq1vZ0b8kYc9mN4rT6uW3eLhA", "client_2pXq1vZ0b8kYc9mN4rT6uW3eLhA");
    edit(s);
    for (auto _ : state) {
        auto jwt = latchkey::server::api::domain::mint_session_token(a, s, "http://localhost:3000", now);
        if (!jwt) {
            state.SkipWithError("mint_session_token failed");
            break;
        }
        benchmark::DoNotOptimize(jwt->data());
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_session_token_mint(benchmark::State& state) {
    mint_loop(state, [](latchkey::store::session_record&) {});
}
BENCHMARK(BM_session_token_mint);

/// The same mint with an active organization (issue 13): the session carries its `fea`/`o` claims (a custom role
/// with three permissions over two features), spliced into the payload. Compare with BM_session_token_mint in the
/// same run: the claims may cost at most 5 % of mint throughput.
void BM_session_token_mint_active_org(benchmark::State& state) {
    mint_loop(state, [](latchkey::store::session_record& s) {
        // What orgs::claims_for renders for that role (tests/integration/organizations_test.cpp checks it); the
        // claims are computed when the organization is selected or changes, never at mint.
        s.last_active_organization_id = "org_2pXq1vZ0b8kYc9mN4rT6uW3eLhA";
        s.org_claims = R"(,"fea":"o:invoices,o:reports","o":{"id":"org_2pXq1vZ0b8kYc9mN4rT6uW3eLhA","rol":"billing",)"
                       R"("slg":"acme-widgets","per":"read,manage","fpm":"3,1"})";
    });
}
BENCHMARK(BM_session_token_mint_active_org);

}  // namespace
