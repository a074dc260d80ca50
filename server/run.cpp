#include "server/run.hpp"

#include "conf/load.hpp"
#include "server/api/app.hpp"
#include "server/api/dispatch.hpp"
#include "server/http/server.hpp"
#include "server/http/tls.hpp"
#include "server/instance.hpp"
#include "server/log.hpp"
#include "store/db.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
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
    net::awaitable<void> handle(request& req, response& res, connection_info const& ci) override {
        co_await target->handle(req, res, ci);
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

int serve(conf::config const& cfg) {
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    transport_limits limits;
    limits.header_bytes = cfg.max_header_bytes;
    limits.body_bytes = cfg.max_body_bytes;
    limits.header_timeout = cfg.header_timeout;
    limits.idle_timeout = cfg.idle_timeout;
    limits.max_connections = cfg.max_connections;
    http_server server(cfg.threads == 0 ? cores : cfg.threads, limits);

    std::shared_ptr<tls_context> tls;
    if (!cfg.tls_cert.empty()) {
        try {
            tls = std::make_shared<tls_context>(cfg.tls_cert, cfg.tls_key);
        } catch (std::exception const& e) {
            std::fprintf(stderr, "latchkey: %s\n", e.what());
            return 2;
        }
    }

    forwarding_service fapi_fwd;
    forwarding_service bapi_fwd;
    tcp::endpoint fapi_ep;
    tcp::endpoint bapi_ep;
    try {
        auto f = conf::split_host_port(cfg.listen);
        auto b = conf::split_host_port(cfg.backend_listen);
        fapi_ep = server.listen(f->first, f->second, fapi_fwd, tls);
        bapi_ep = server.listen(b->first, b->second, bapi_fwd, tls);
    } catch (std::exception const& e) {
        std::fprintf(stderr, "latchkey: listen: %s\n", e.what());
        return 2;
    }

    bootstrap_result boot;
    try {
        boot = bootstrap(cfg, endpoint_text(fapi_ep));
    } catch (std::exception const& e) {
        std::fprintf(stderr, "latchkey: %s\n", e.what());
        return 2;
    }
    store::options so;
    so.dir = cfg.data_dir + "/db";
    so.map_size = cfg.map_size;
    so.durable = cfg.durable;
    auto db = store::db::open(so);
    if (!db) {
        std::fprintf(stderr, "latchkey: data_dir: cannot open the store: %s\n", db.error().message().c_str());
        return 2;
    }
    api::outbox_sink sink(cfg.data_dir + "/outbox.jsonl");
    api::app app{cfg, boot.inst, *db, boot.keys, sink};

    // JWT templates from the config file are created once (by name); BAPI manages them afterwards.
    for (auto const& t : cfg.jwt_templates) {
        auto r = db->with_write([&](store::write_txn& w) -> store::result<void> {
            auto existing = db->jwt_template_by_name(w, t.name);
            if (!existing) return existing.error();
            if (*existing) return {};
            store::jwt_template_record rec;
            rec.id = "jtmp_" + std::to_string(std::hash<std::string>{}(t.name));
            rec.name = t.name;
            rec.claims = t.claims;
            rec.lifetime = static_cast<std::int32_t>(t.lifetime);
            rec.allowed_clock_skew = static_cast<std::int32_t>(t.allowed_clock_skew);
            rec.created_at = rec.updated_at = app.now_ms();
            return db->put_jwt_template(w, rec, nullptr);
        });
        if (!r) {
            std::fprintf(stderr, "latchkey: jwt_templates: cannot store '%s': %s\n", t.name.c_str(),
                         r.error().message().c_str());
            return 2;
        }
    }

    unsigned hash_threads = cfg.hash_threads != 0 ? cfg.hash_threads : std::max(1u, cores > 1 ? cores - 1 : 1u);
    net::thread_pool hash_pool(hash_threads);
    auto frontend_table = api::frontend_routes();
    auto backend_table = api::backend_routes();
    api::api_service fapi(app, frontend_table, api::api_kind::frontend, hash_pool.get_executor());
    api::api_service bapi(app, backend_table, api::api_kind::backend, hash_pool.get_executor());
    fapi_fwd.target = &fapi;
    bapi_fwd.target = &bapi;

    log::start();
    server.start();
    log::info("listening", {{"fapi", endpoint_text(fapi_ep)},
                            {"bapi", endpoint_text(bapi_ep)},
                            {"publishable_key", boot.inst.publishable_key},
                            {"frontend_api", boot.inst.frontend_api},
                            {"instance", cfg.instance_type},
                            {"tls", tls != nullptr},
                            {"version", LATCHKEY_VERSION}});
    log::flush();

    net::io_context signals_ctx;
    net::signal_set signals(signals_ctx, SIGINT, SIGTERM, SIGHUP);
    std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            if (tls) {
                auto err = tls->reload();
                if (err.empty())
                    log::info("tls_reloaded");
                else
                    log::error("tls_reload_failed", {{"error", err}});
            }
            signals.async_wait(on_signal);
            return;
        }
        log::info("stopping", {{"signal", sig}});
        server.stop(cfg.shutdown_grace);
    };
    signals.async_wait(on_signal);
    std::thread signal_thread([&] { signals_ctx.run(); });

    server.join();
    signals_ctx.stop();
    signal_thread.join();
    hash_pool.join();
    log::info("stopped");
    log::stop();
    return 0;
}

int keys(conf::config const& cfg) {
    try {
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
    auto cfg = conf::load(rest, conf::process_env());
    if (!cfg) {
        std::fprintf(stderr, "latchkey: %s\n", cfg.error().what().c_str());
        return 2;
    }
    return cmd == "serve" ? serve(*cfg) : keys(*cfg);
}

}  // namespace latchkey::server
