// LMDB through the store seam (store::database): the read txns behind GET /v1/client and token mint, and write txns
// with and without fsync (LATCHKEY_DURABLE), one record per txn and batched (the seeding path).
#include "bench_app.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <random>
#include <vector>

namespace {

namespace store = latchkey::store;
using latchkey::bench::temp_dir;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// A store with `n` users, each with a client and an active session.
struct populated {
    temp_dir dir;
    std::unique_ptr<store::database> db;
    std::vector<std::string> user_ids, session_ids, client_ids;

    populated(std::size_t n, bool durable) {
        store::lmdb::options o;
        o.dir = dir.path() + "/db";
        o.durable = durable;
        o.map_size = 1ull << 32;
        auto d = store::lmdb::open(o);
        if (!d) throw std::runtime_error("open: " + d.error().message());
        db = std::move(*d);
        auto now = now_ms();
        for (std::size_t done = 0; done < n;) {
            std::size_t batch = std::min<std::size_t>(n - done, 5000);
            auto r = db->with_write([&](store::write_txn& w) -> store::result<void> {
                for (std::size_t i = 0; i < batch; ++i) {
                    auto u = latchkey::bench::sample_user(now, "u" + std::to_string(done + i) + "@example.com");
                    store::client_record c;
                    c.id = latchkey::crypto::new_id("client");
                    c.created_at = c.updated_at = now;
                    auto s = latchkey::bench::sample_session(now, u.id, c.id);
                    c.session_ids.push_back(s.id);
                    c.last_active_session_id = s.id;
                    if (auto x = w.users().put(u, nullptr); !x) return x;
                    if (auto x = w.sessions().put(s); !x) return x;
                    if (auto x = w.clients().put(c); !x) return x;
                    user_ids.push_back(u.id);
                    session_ids.push_back(s.id);
                    client_ids.push_back(c.id);
                }
                return {};
            });
            if (!r) throw std::runtime_error("seed: " + r.error().message());
            done += batch;
        }
    }
};

populated& shared_store() {
    static populated p(20000, false);
    return p;
}

/// One read txn per iteration: `read(t, key(i))` for a random i below `n` (the key made outside the txn).
template <class Key, class Read>
void read_random(benchmark::State& state, std::size_t n, unsigned seed, Key key, Read read) {
    auto& p = shared_store();
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> pick(0, n - 1);
    for (auto _ : state) {
        decltype(auto) k = key(pick(rng));
        auto r = p.db->with_read([&](store::read_txn& t) { return read(t, k); });
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_lmdb_read_session(benchmark::State& state) {
    auto& p = shared_store();
    read_random(
        state, p.session_ids.size(), 7, [&](std::size_t i) -> std::string const& { return p.session_ids[i]; },
        [](store::read_txn& t, std::string const& id) { return t.sessions().get(id); });
}
BENCHMARK(BM_lmdb_read_session);
BENCHMARK(BM_lmdb_read_session)->Threads(2)->UseRealTime();

/// What GET /v1/client reads for a signed-in browser: client, its session, the session's user.
void BM_lmdb_read_client_session_user(benchmark::State& state) {
    auto& p = shared_store();
    read_random(
        state, p.client_ids.size(), 11, [&](std::size_t i) -> std::string const& { return p.client_ids[i]; },
        [](store::read_txn& t, std::string const& id) -> store::result<std::size_t> {
            auto c = t.clients().get(id);
            if (!c) return c.error();
            if (!*c) return std::size_t{0};
            std::size_t n = 0;
            for (auto const& sid : (*c)->session_ids) {
                auto s = t.sessions().get(sid);
                if (!s) return s.error();
                if (!*s) continue;
                auto u = t.users().get((*s)->user_id);
                if (!u) return u.error();
                n += *u ? 1 : 0;
            }
            return n;
        });
}
BENCHMARK(BM_lmdb_read_client_session_user);

void BM_lmdb_read_user_by_email(benchmark::State& state) {
    auto& p = shared_store();
    read_random(
        state, p.user_ids.size(), 13, [](std::size_t i) { return "u" + std::to_string(i) + "@example.com"; },
        [](store::read_txn& t, std::string const& email) -> store::result<int> {
            auto id = t.users().id_by_email(email);
            if (!id) return id.error();
            if (!*id) return 0;
            auto u = t.users().get(**id);
            if (!u) return u.error();
            return u->has_value() ? 1 : 0;
        });
}
BENCHMARK(BM_lmdb_read_user_by_email);

/// One write txn per session update (token-mint-free paths like touch/end), fsync on or off.
void write_one_session(benchmark::State& state, bool durable) {
    populated p(1000, durable);
    auto now = now_ms();
    std::size_t i = 0;
    for (auto _ : state) {
        auto r = p.db->with_write([&](store::write_txn& w) -> store::result<void> {
            auto s = w.sessions().get(p.session_ids[i++ % p.session_ids.size()]);
            if (!s) return s.error();
            if (!*s) return {};
            auto rec = **s;
            rec.last_active_at = rec.updated_at = ++now;
            return w.sessions().put(rec);
        });
        if (!r) {
            state.SkipWithError("write failed");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
}
void BM_lmdb_write_session_nosync(benchmark::State& state) { write_one_session(state, false); }
void BM_lmdb_write_session_durable(benchmark::State& state) { write_one_session(state, true); }
BENCHMARK(BM_lmdb_write_session_nosync);
BENCHMARK(BM_lmdb_write_session_durable)->UseRealTime();

/// Bulk insert: `range(0)` new users (with sessions and clients) per write txn, no fsync.
void BM_lmdb_write_batch_user_session_client(benchmark::State& state) {
    populated p(0, false);
    auto now = now_ms();
    auto const batch = static_cast<std::size_t>(state.range(0));
    std::size_t next = 0;
    for (auto _ : state) {
        auto r = p.db->with_write([&](store::write_txn& w) -> store::result<void> {
            for (std::size_t i = 0; i < batch; ++i) {
                auto u = latchkey::bench::sample_user(now, "b" + std::to_string(next++) + "@example.com");
                store::client_record c;
                c.id = latchkey::crypto::new_id("client");
                auto s = latchkey::bench::sample_session(now, u.id, c.id);
                c.session_ids.push_back(s.id);
                if (auto x = w.users().put(u, nullptr); !x) return x;
                if (auto x = w.sessions().put(s); !x) return x;
                if (auto x = w.clients().put(c); !x) return x;
            }
            return {};
        });
        if (!r) {
            state.SkipWithError("write failed");
            break;
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}
BENCHMARK(BM_lmdb_write_batch_user_session_client)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
