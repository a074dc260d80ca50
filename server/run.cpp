#include "server/run.hpp"

#include "bundles/bundles.hpp"
#include "crypto/ossl.hpp"
#include "crypto/password.hpp"

#include "conf/load.hpp"
#include "server/api/app.hpp"
#include "server/api/dispatch.hpp"
#include "server/geoip.hpp"
#include "server/http/server.hpp"
#include "server/http/tls.hpp"
#include "server/instance.hpp"
#include "server/log.hpp"
#include "crypto/random.hpp"
#include "store/db.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/serialize.hpp>

#include <csignal>
#include <cstdio>
#include <optional>
#include <iostream>
#include <thread>

#ifndef LATCHKEY_VERSION
#define LATCHKEY_VERSION "0.0.0"
#endif

namespace latchkey::server {

namespace {

/// Lets listeners be bound (to learn port-0 addresses) before the API they serve is built.
class forwarding_service final : public service {
public:
    service* target = nullptr;
    net::awaitable<void> handle(request& req, response& res, connection_info const& ci,
                                std::string_view* static_body = nullptr) override {
        co_await target->handle(req, res, ci, static_body);
    }
    void transport_error(response& res, http::status s, std::string_view c, std::string_view m) override {
        target->transport_error(res, s, c, m);
    }
};

std::string endpoint_text(tcp::endpoint const& e) {
    auto addr = e.address().to_string();
    if (e.address().is_v6()) addr = "[" + addr + "]";
    return addr + ":" + std::to_string(e.port());
}

}  // namespace

struct running_server::impl {
    conf::config cfg;
    std::unique_ptr<http_server> server;
    std::shared_ptr<tls_context> tls;
    std::unique_ptr<geoip> geo;
    forwarding_service fapi_fwd;
    forwarding_service bapi_fwd;
    tcp::endpoint fapi_ep;
    tcp::endpoint bapi_ep;
    bootstrap_result boot;
    std::optional<store::db> db;
    std::unique_ptr<api::outbox_sink> sink;
    std::unique_ptr<api::app> app;
    std::unique_ptr<net::thread_pool> hash_pool;
    api::route_table frontend_table;
    api::route_table backend_table;
    std::unique_ptr<api::api_service> fapi;
    std::unique_ptr<api::api_service> bapi;
    bool joined = false;
};

running_server::running_server(conf::config cfg) : impl_(std::make_unique<impl>()) {
    auto& m = *impl_;
    m.cfg = std::move(cfg);
    auto const& c = m.cfg;
    // The GeoIP database first: a bad path stops the start before any thread, socket or file exists.
    if (!c.geoip_database.empty()) m.geo = std::make_unique<geoip>(c.geoip_database);
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    transport_limits limits;
    limits.header_bytes = c.max_header_bytes;
    limits.body_bytes = c.max_body_bytes;
    limits.header_timeout = c.header_timeout;
    limits.idle_timeout = c.idle_timeout;
    limits.max_connections = c.max_connections;
    m.server = std::make_unique<http_server>(c.threads == 0 ? cores : c.threads, limits);
    if (!c.tls_cert.empty()) m.tls = std::make_shared<tls_context>(c.tls_cert, c.tls_key);
    try {
        auto f = conf::split_host_port(c.listen);
        auto b = conf::split_host_port(c.backend_listen);
        m.fapi_ep = m.server->listen(f->first, f->second, m.fapi_fwd, m.tls);
        m.bapi_ep = m.server->listen(b->first, b->second, m.bapi_fwd, m.tls);
    } catch (std::exception const& e) {
        throw std::runtime_error(std::string("listen: ") + e.what());
    }
    m.boot = bootstrap(c, endpoint_text(m.fapi_ep));
    store::options so;
    so.dir = c.data_dir + "/db";
    so.map_size = c.map_size;
    so.durable = c.durable;
    auto db = store::db::open(so);
    if (!db) throw std::runtime_error("data_dir: cannot open the store: " + db.error().message());
    m.db.emplace(std::move(*db));
    m.sink = std::make_unique<api::outbox_sink>(c.data_dir + "/outbox.jsonl");
    m.app.reset(new api::app{c, m.boot.inst, *m.db, m.boot.keys, *m.sink});
    m.app->geo = m.geo.get();
    auto wl = store::waitlist::open(m.db->environment());
    if (!wl) throw std::runtime_error("data_dir: cannot open the waitlist: " + wl.error().message());
    m.app->waitlist = *wl;

    // JWT templates from the config file are created once (by name); BAPI manages them afterwards.
    for (auto const& t : c.jwt_templates) {
        auto& dbr = *m.db;
        auto r = dbr.with_write([&](store::write_txn& w) -> store::result<void> {
            auto existing = dbr.jwt_template_by_name(w, t.name);
            if (!existing) return existing.error();
            if (*existing) return {};
            store::jwt_template_record rec;
            rec.id = crypto::new_id("jtmp");
            rec.name = t.name;
            rec.claims = t.claims;
            rec.lifetime = static_cast<std::int32_t>(t.lifetime);
            rec.allowed_clock_skew = static_cast<std::int32_t>(t.allowed_clock_skew);
            rec.created_at = rec.updated_at = m.app->now_ms();
            return dbr.put_jwt_template(w, rec, nullptr);
        });
        if (!r) throw std::runtime_error("jwt_templates: cannot store '" + t.name + "': " + r.error().message());
    }

    unsigned hash_threads = c.hash_threads != 0 ? c.hash_threads : std::max(1u, cores > 1 ? cores - 1 : 1u);
    // One thread more than may hash at once: a sign-in's handler also runs its write txn, the durable
    // commit and the session token on the pool (~1.2 ms of CPU plus the fdatasyncs), and the spare thread
    // hashes the next password meanwhile, so the hashing slot only hashes. The slots' argon2 blocks are
    // shared by whichever thread hashes, so they stay warm (crypto/password.cpp). Measured: durable
    // sign-in 45.7/s without the spare thread vs 47.9/s with it (48.9/s with the shared blocks).
    crypto::set_hash_concurrency(hash_threads);
    m.hash_pool = std::make_unique<net::thread_pool>(hash_threads + 1);
    m.frontend_table = api::frontend_routes();
    m.backend_table = api::backend_routes();
    m.fapi = std::make_unique<api::api_service>(*m.app, m.frontend_table, api::api_kind::frontend,
                                                m.hash_pool->get_executor());
    m.bapi = std::make_unique<api::api_service>(*m.app, m.backend_table, api::api_kind::backend,
                                                m.hash_pool->get_executor());
    m.fapi_fwd.target = m.fapi.get();
    m.bapi_fwd.target = m.bapi.get();
    m.server->start();
}

running_server::~running_server() {
    stop(std::chrono::milliseconds(0));
    join();
}

tcp::endpoint running_server::fapi_endpoint() const { return impl_->fapi_ep; }
tcp::endpoint running_server::bapi_endpoint() const { return impl_->bapi_ep; }
api::app& running_server::app() { return *impl_->app; }
instance const& running_server::inst() const { return impl_->boot.inst; }
conf::config const& running_server::config() const { return impl_->cfg; }

std::string running_server::reload_tls() { return impl_->tls ? impl_->tls->reload() : std::string{}; }

void running_server::stop(std::chrono::milliseconds grace) { impl_->server->stop(grace); }

void running_server::join() {
    if (impl_->joined) return;
    impl_->server->join();
    impl_->hash_pool->join();
    impl_->joined = true;
}

namespace {

int serve(conf::config const& cfg) {
    std::signal(SIGPIPE, SIG_IGN);  // a closed stdout must not kill the server
    std::unique_ptr<running_server> srv;
    try {
        srv = std::make_unique<running_server>(cfg);
    } catch (std::exception const& e) {
        std::fprintf(stderr, "latchkey: %s\n", e.what());
        return 2;
    }
    log::start();
    // Crypto diagnostics (OpenSSL error queues, argon2/libxcrypt failures) join the one structured log.
    crypto::set_log_sink([](std::string_view line) noexcept {
        try {
            log::error("crypto", {{"detail", line}});
        } catch (...) {
        }
    });
    log::info("listening", {{"fapi", endpoint_text(srv->fapi_endpoint())},
                            {"bapi", endpoint_text(srv->bapi_endpoint())},
                            {"publishable_key", srv->inst().publishable_key},
                            {"frontend_api", srv->inst().frontend_api},
                            {"instance", cfg.instance_type},
                            {"tls", !cfg.tls_cert.empty()},
                            {"version", LATCHKEY_VERSION}});
    log::flush();

    net::io_context signals_ctx;
    net::signal_set signals(signals_ctx, SIGINT, SIGTERM, SIGHUP);
    std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            auto err = srv->reload_tls();
            if (err.empty())
                log::info("reloaded");
            else
                log::error("tls_reload_failed", {{"error", err}});
            signals.async_wait(on_signal);
            return;
        }
        log::info("stopping", {{"signal", sig}});
        srv->stop(cfg.shutdown_grace);
    };
    signals.async_wait(on_signal);
    std::thread signal_thread([&] { signals_ctx.run(); });
    srv->join();
    signals_ctx.stop();
    signal_thread.join();
    srv.reset();  // closes the store cleanly
    log::info("stopped");
    crypto::set_log_sink(nullptr);
    log::stop();
    return 0;
}

int keys(conf::config const& cfg, std::string const& rotate_or_retire, std::string const& kid) {
    try {
        if (rotate_or_retire == "rotate") {
            std::printf("new_kid=%s\n", rotate_signing_key(cfg.data_dir).c_str());
        } else if (rotate_or_retire == "retire") {
            retire_signing_key(cfg.data_dir, kid);
            std::printf("retired_kid=%s\n", kid.c_str());
        }
        auto f = conf::split_host_port(cfg.listen);
        auto boot = bootstrap(cfg, f->first + ":" + std::to_string(f->second));
        std::printf("frontend_api=%s\npublishable_key=%s\n", boot.inst.frontend_api.c_str(),
                    boot.inst.publishable_key.c_str());
        for (auto const& k : boot.inst.secret_keys) std::printf("secret_key=%s\n", k.c_str());
        return 0;
    } catch (std::exception const& e) {
        std::fprintf(stderr, "latchkey: %s\n", e.what());
        return 2;
    }
}

}  // namespace

int run_main(std::vector<std::string> const& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::fputs(conf::usage().c_str(), stdout);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version" || args[0] == "version") {
        std::printf("latchkey %s\n", LATCHKEY_VERSION);
        for (auto const& p : bundles::packages())  // served by the FAPI under /npm/
            std::printf("%.*s %.*s\n", static_cast<int>(p.name.size()), p.name.data(),
                        static_cast<int>(p.version.size()), p.version.data());
        return 0;
    }
    std::string const& cmd = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    for (auto const& a : rest)
        if (a == "--help" || a == "-h") {
            std::fputs(conf::usage().c_str(), stdout);
            return 0;
        }
    if (cmd != "serve" && cmd != "keys") {
        std::fprintf(stderr, "latchkey: unknown command '%s' (see --help)\n", cmd.c_str());
        return 2;
    }
    // `keys --rotate` / `keys --retire KID` are key-management actions, not settings.
    std::string action;
    std::string kid;
    if (cmd == "keys") {
        for (std::size_t i = 0; i < rest.size(); ++i) {
            if (rest[i] == "--rotate") {
                action = "rotate";
                rest.erase(rest.begin() + static_cast<long>(i--));
            } else if (rest[i] == "--retire" && i + 1 < rest.size()) {
                action = "retire";
                kid = rest[i + 1];
                rest.erase(rest.begin() + static_cast<long>(i), rest.begin() + static_cast<long>(i) + 2);
                --i;
            }
        }
    }
    auto cfg = conf::load(rest, conf::process_env());
    if (!cfg) {
        std::fprintf(stderr, "latchkey: %s\n", cfg.error().what().c_str());
        return 2;
    }
    return cmd == "serve" ? serve(*cfg) : keys(*cfg, action, kid);
}

}  // namespace latchkey::server
