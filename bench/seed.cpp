// latchkey-seed: bulk-loads a data dir's store for the scale benchmarks, bypassing HTTP but not the
// repository (the store seam maintains every index exactly as the handlers do).
//
//   latchkey-seed --data-dir DIR [--users N] [--sessions N] [--batch N] [--password PW] [--no-clients]
//                 [--prefix P] [--identities-out FILE [--identities N]]
//
// User i (0-based) gets the verified primary email "<prefix><i>@example.com" (prefix "seed" by default)
// and the password PW; ONE argon2id digest is computed and shared by every user. Session i belongs to user i % users,
// on its own client (unless --no-clients). Writes go in batches of --batch records per txn without fsync, then the
// store is synced once. Prints one JSON line with counts and timings. Run it while no server has the store open.
//
// --identities-out writes, for N sessions spread over the whole range, a Lua table (bench/load/*.lua read it)
// of { cookie, sid, id, email }: the `__client` credential the server would have set for that session's
// client (made by the server's own code, its digest stored in the client record), the session id, and the user
// id and email.
#include "bench/cli.hpp"
#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "server/api/app.hpp"
#include "server/api/frontend/identity.hpp"
#include "server/instance.hpp"
#include "store/lmdb/open.hpp"
#include "tests/common/sample_records.hpp"

#include <fstream>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace store = latchkey::store;
namespace crypto = latchkey::crypto;
using clock_type = std::chrono::steady_clock;

struct options {
    std::string data_dir;
    std::size_t users = 1'000'000;
    std::size_t sessions = 1'000'000;
    std::size_t batch = 20'000;
    std::string password = "bench-Passw0rd!x";
    bool clients = true;
    std::string prefix = "seed";  ///< emails are <prefix><i>@example.com
    std::string identities_out;
    std::size_t identities = 64;
};

/// One seeded, signed-in browser for the load scripts.
struct identity {
    std::string credential, session_id, user_id, email;
};

options parse(int argc, char** argv) {
    latchkey::bench::cli c("latchkey-seed",
                           "--data-dir DIR [--users N] [--sessions N] [--batch N] [--password PW] [--no-clients] "
                           "[--prefix P] [--identities-out FILE [--identities N]]",
                           argc, argv);
    options o;
    for (auto a = c.flag(); !a.empty(); a = c.flag()) {
        if (a == "--data-dir")
            o.data_dir = c.value();
        else if (a == "--users")
            o.users = c.number();
        else if (a == "--sessions")
            o.sessions = c.number();
        else if (a == "--batch")
            o.batch = c.number();
        else if (a == "--password")
            o.password = c.value();
        else if (a == "--no-clients")
            o.clients = false;
        else if (a == "--identities-out")
            o.identities_out = c.value();
        else if (a == "--prefix")
            o.prefix = c.value();
        else if (a == "--identities")
            o.identities = c.number();
        else
            c.usage("unknown argument");
    }
    if (o.data_dir.empty()) c.usage("--data-dir is required");
    if (o.batch == 0) c.usage("--batch must be > 0");
    if (o.sessions > 0 && o.users == 0) c.usage("sessions need users");
    if (!o.identities_out.empty() && (!o.clients || o.sessions == 0))
        c.usage("--identities-out needs sessions with clients");
    return o;
}

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int main(int argc, char** argv) {
    auto o = parse(argc, argv);
    auto t0 = clock_type::now();

    auto digest = crypto::hash_password(o.password);
    if (!digest) {
        std::fprintf(stderr, "latchkey-seed: hash_password failed\n");
        return 1;
    }

    store::lmdb::options so;
    so.dir = o.data_dir + "/db";
    so.durable = false;
    auto opened = store::lmdb::open(so);
    if (!opened) {
        std::fprintf(stderr, "latchkey-seed: cannot open the store: %s\n", opened.error().message().c_str());
        return 1;
    }
    auto& db = **opened;
    auto const now = wall_ms();
    auto const base = now - static_cast<std::int64_t>(o.users);  // one ms apart: time-ordered ids

    // The user ids are needed again for the sessions; keep them (27+5 bytes each).
    std::vector<std::string> user_ids;
    user_ids.reserve(o.users);

    auto write_batches = [&](std::size_t total, auto&& put_one) -> bool {
        std::size_t batches = 0;
        for (std::size_t done = 0; done < total;) {
            std::size_t n = std::min(o.batch, total - done);
            auto r = db.with_write([&](store::write_txn& w) -> store::result<void> {
                for (std::size_t i = done; i < done + n; ++i)
                    if (auto x = put_one(w, i); !x) return x;
                return {};
            });
            if (!r) {
                std::fprintf(stderr, "latchkey-seed: write failed at %zu: %s\n", done, r.error().message().c_str());
                return false;
            }
            done += n;
            if (++batches % 10 == 0 || done == total) std::fprintf(stderr, "  %zu/%zu\n", done, total);
        }
        return true;
    };

    auto t_users = clock_type::now();
    bool ok = write_batches(o.users, [&](store::write_txn& w, std::size_t i) -> store::result<void> {
        auto ts = base + static_cast<std::int64_t>(i);
        store::user_record u;
        u.id = crypto::new_id("user", static_cast<std::uint64_t>(ts));
        u.first_name = "Seed";
        u.last_name = "User" + std::to_string(i);
        u.password_digest = *digest;
        u.password_last_updated_at = u.created_at = u.updated_at = ts;
        auto e = latchkey::test::verified_email(crypto::new_id("idn", static_cast<std::uint64_t>(ts)),
                                                o.prefix + std::to_string(i) + "@example.com", ts);
        u.primary_email_address_id = e.id;
        u.identifications.push_back(std::move(e));
        user_ids.push_back(u.id);
        return w.users().put(u, nullptr);
    });
    if (!ok) return 1;
    double users_s = seconds_since(t_users);

    std::vector<identity> picked;
    std::size_t const stride = std::max<std::size_t>(1, o.sessions / std::max<std::size_t>(1, o.identities));
    auto t_sessions = clock_type::now();
    ok = write_batches(o.sessions, [&](store::write_txn& w, std::size_t i) -> store::result<void> {
        auto s = latchkey::test::active_session(now, user_ids[i % user_ids.size()], {});
        if (o.clients) {
            store::client_record c;
            c.id = crypto::new_id("client");
            c.created_at = c.updated_at = now;
            c.session_ids.push_back(s.id);
            c.last_active_session_id = s.id;
            s.client_id = c.id;
            bool const pick = !o.identities_out.empty() && i % stride == 0 && picked.size() < o.identities;
            // Only the picked clients get a credential (the server's own format): the others are never used.
            std::string credential = pick ? latchkey::server::api::frontend::new_client_credential(c) : std::string{};
            if (auto x = w.clients().put(c); !x) return x;
            if (pick) {
                auto ui = i % user_ids.size();
                picked.push_back({credential, s.id, s.user_id, o.prefix + std::to_string(ui) + "@example.com"});
            }
        }
        return w.sessions().put(s);
    });
    if (!ok) return 1;
    double sessions_s = seconds_since(t_sessions);

    // MDB_NOSYNC commits: make the whole store durable once.
    auto t_sync = clock_type::now();
    if (auto r = db.sync(); !r) {
        std::fprintf(stderr, "latchkey-seed: sync failed: %s\n", r.error().message().c_str());
        return 1;
    }
    double sync_s = seconds_since(t_sync);

    if (!o.identities_out.empty()) {
        // The credentials were made by the server's own code (new_client_credential) as the clients were written.
        std::ofstream f(o.identities_out, std::ios::trunc);
        f << "return {\n";
        for (auto const& p : picked)
            f << "  { cookie = \"" << p.credential << "\", sid = \"" << p.session_id << "\", id = \"" << p.user_id
              << "\", email = \"" << p.email << "\" },\n";
        f << "}\n";
        if (!f) {
            std::fprintf(stderr, "latchkey-seed: cannot write %s\n", o.identities_out.c_str());
            return 1;
        }
    }

    std::printf(
        "{\"event\":\"seeded\",\"users\":%zu,\"sessions\":%zu,\"clients\":%zu,\"batch\":%zu,"
        "\"users_s\":%.3f,\"sessions_s\":%.3f,\"sync_s\":%.3f,\"total_s\":%.3f}\n",
        o.users, o.sessions, o.clients ? o.sessions : 0, o.batch, users_s, sessions_s, sync_s, seconds_since(t0));
    return 0;
}
