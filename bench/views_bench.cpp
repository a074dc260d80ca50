// Clerk JSON rendering: the user object (FAPI and BAPI audiences), the cached user fragment of a FAPI session
// (miss and hit) and the full FAPI client object that GET /v1/client returns for a signed-in browser (read
// txn + append_client_json, token and user fragment from their caches).
#include "bench_app.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/views.hpp"

#include <benchmark/benchmark.h>
#include <boost/json/serialize.hpp>

#include <chrono>

namespace {

namespace api = latchkey::server::api;
namespace views = latchkey::server::api::views;
namespace store = latchkey::store;
namespace json = boost::json;
using latchkey::bench::bench_app;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Renders once per iteration (`render` returns the text) and counts the bytes.
template <class Render>
void render_loop(benchmark::State& state, Render render) {
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto s = render();
        bytes += s.size();
        benchmark::DoNotOptimize(s.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

store::user_record sample_user() {
    return latchkey::bench::sample_user(now_ms(), "ada@example.com", "$argon2id$v=19$m=19456,t=2,p=1$x$y");
}

void BM_user_json_frontend(benchmark::State& state) {
    auto u = sample_user();
    render_loop(state, [&] {
        return json::serialize(views::user(u, views::audience::frontend, views::lockout_of(u, 0, 100)));
    });
}
BENCHMARK(BM_user_json_frontend);

void BM_user_json_backend(benchmark::State& state) {
    auto u = sample_user();
    render_loop(
        state, [&] { return json::serialize(views::user(u, views::audience::backend, views::lockout_of(u, 0, 100))); });
}
BENCHMARK(BM_user_json_backend);

/// The frontend user view built in a stack arena (what the fragment cache does on a miss).
void BM_user_json_frontend_scratch(benchmark::State& state) {
    auto u = sample_user();
    render_loop(state, [&] {
        views::scratch arena;
        return json::serialize(
            views::user(u, views::audience::frontend, views::lockout_of(u, 0, 100), arena.storage()));
    });
}
BENCHMARK(BM_user_json_frontend_scratch);

/// A fragment-cache miss: "user" + "public_user_data" rendered from scratch.
void BM_user_fragment_render(benchmark::State& state) {
    auto u = sample_user();
    render_loop(state, [&] { return api::frontend::render_user_fragment(u, views::lockout_of(u, 0, 100)); });
}
BENCHMARK(BM_user_fragment_render);

/// A fragment-cache hit: lookup plus the field-by-field check against the user just read.
void BM_user_fragment_hit(benchmark::State& state) {
    latchkey::bench::bench_app env;
    auto& a = env.app();
    auto u = sample_user();
    api::frontend::user_fragment_for(a, u, 0);
    for (auto _ : state) {
        auto f = api::frontend::user_fragment_for(a, u, 0);
        benchmark::DoNotOptimize(f.get());
    }
}
BENCHMARK(BM_user_fragment_hit);

/// A signed-in client (one user, one active session) stored in a fresh app.
struct signed_in {
    bench_app env{};
    latchkey::bench::signed_in_browser b = latchkey::bench::seed_browser(env, now_ms());
    store::client_record const& client = b.client;
};

void BM_client_json_signed_in(benchmark::State& state) {
    signed_in s;
    auto& a = s.env.app();
    latchkey::server::request req;
    std::size_t bytes = 0;
    for (auto _ : state) {
        api::request_ctx ctx(req);
        ctx.now = a.now_ms();
        ctx.client_id = s.client.id;
        ctx.cookie_auth = true;
        auto body = a.db.with_read([&](store::read_txn& r) -> store::result<std::string> {
            auto c = r.clients().get(s.client.id);
            if (!c || !*c) return store::errc::not_found;
            std::string out;
            out.reserve(4096);
            out += R"({"response":)";
            if (!api::frontend::append_client_json(a, ctx, r, **c, out)) return store::errc::corrupted;
            out += R"(,"client":null})";
            return out;
        });
        if (!body) {
            state.SkipWithError("client_json failed");
            break;
        }
        bytes += body->size();
        benchmark::DoNotOptimize(body->data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_client_json_signed_in);

}  // namespace
