#pragma once
// A real api::app over a temporary data dir (bootstrap keys, LMDB store, outbox sink), for the
// micro-benchmarks that exercise handlers' building blocks without HTTP. Removed on destruction.
#include "conf/config.hpp"
#include "crypto/random.hpp"
#include "server/api/app.hpp"
#include "server/api/frontend/identity.hpp"
#include "server/instance.hpp"
#include "store/lmdb/open.hpp"
#include "tests/common/sample_records.hpp"

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace latchkey::bench {

/// A temporary directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class temp_dir {
public:
    temp_dir() {
        char const* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/latchkey-bench-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(temp_dir const&) = delete;
    temp_dir& operator=(temp_dir const&) = delete;
    std::string const& path() const noexcept { return path_; }

private:
    std::string path_;
};

/// The server's app, wired as running_server wires it, minus listeners and threads.
class bench_app {
public:
    explicit bench_app(bool durable = false, std::string instance_type = "production",
                       std::function<void(conf::config&)> const& tweak = {}) {
        cfg_.data_dir = dir_.path() + "/data";
        cfg_.durable = durable;
        cfg_.instance_type = std::move(instance_type);
        cfg_.access_log = false;
        if (tweak) tweak(cfg_);
        boot_ = server::bootstrap(cfg_, "127.0.0.1:8080");
        store::lmdb::options so;
        so.dir = cfg_.data_dir + "/db";
        so.durable = durable;
        so.map_size = 1ull << 32;
        auto d = store::lmdb::open(so);
        if (!d) throw std::runtime_error("store open: " + d.error().message());
        db_ = std::move(*d);
        sink_ = std::make_unique<server::api::outbox_sink>(cfg_.data_dir + "/outbox.jsonl");
        app_.reset(new server::api::app{cfg_, boot_.inst, *db_, boot_.keys, *sink_});
    }
    server::api::app& app() noexcept { return *app_; }
    store::database& db() noexcept { return *db_; }
    std::string const& dir() const noexcept { return dir_.path(); }

private:
    temp_dir dir_;
    conf::config cfg_;
    server::bootstrap_result boot_;
    std::unique_ptr<store::database> db_;
    std::unique_ptr<server::api::outbox_sink> sink_;
    std::unique_ptr<server::api::app> app_;
};

/// A user with one verified email, names and small metadata: the typical record a browser renders.
inline store::user_record sample_user(std::int64_t now_ms, std::string_view email, std::string digest = {}) {
    store::user_record u;
    u.id = crypto::new_id("user");
    u.first_name = "Ada";
    u.last_name = "Lovelace";
    u.password_digest = std::move(digest);
    u.public_metadata = R"({"plan":"pro","seats":3})";
    u.created_at = u.updated_at = u.last_active_at = u.last_sign_in_at = now_ms;
    u.password_last_updated_at = now_ms;
    auto e = test::verified_email(crypto::new_id("idn"), std::string(email), now_ms);
    u.primary_email_address_id = e.id;
    u.identifications.push_back(std::move(e));
    return u;
}

/// An active session of `user_id` on `client_id`, expiring in a week.
inline store::session_record sample_session(std::int64_t now_ms, std::string const& user_id,
                                            std::string const& client_id) {
    return test::active_session(now_ms, user_id, client_id);
}

/// A browser signed in to a bench_app: ada@example.com (sample_user), its client and active session, and the
/// client's cookie header value.
struct signed_in_browser {
    store::user_record user;
    store::client_record client;
    store::session_record session;
    std::string cookie;  ///< "__client=..."
};

/// Seeds a signed_in_browser at `now_ms`, straight into `env`'s store.
inline signed_in_browser seed_browser(bench_app& env, std::int64_t now_ms) {
    signed_in_browser b;
    b.user = sample_user(now_ms, "ada@example.com");
    b.client.id = crypto::new_id("client");
    b.client.created_at = b.client.updated_at = now_ms;
    b.session = sample_session(now_ms, b.user.id, b.client.id);
    b.client.session_ids.push_back(b.session.id);
    b.client.last_active_session_id = b.session.id;
    b.cookie = "__client=" + server::api::frontend::new_client_credential(b.client);
    auto r = env.db().with_write([&](store::write_txn& w) -> store::result<void> {
        if (auto x = w.users().put(b.user, nullptr); !x) return x;
        if (auto x = w.sessions().put(b.session); !x) return x;
        return w.clients().put(b.client);
    });
    if (!r) throw std::runtime_error("seed: " + r.error().message());
    return b;
}

}  // namespace latchkey::bench
