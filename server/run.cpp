#include "server/run.hpp"
#include "server/federation/fetch.hpp"

#include "bundles/bundles.hpp"
#include "crypto/ossl.hpp"
#include "crypto/password.hpp"

#include "conf/load.hpp"
#include "crypto/random.hpp"
#include "server/api/app.hpp"
#include "server/api/dispatch.hpp"
#include "server/api/saml/saml.hpp"
#include "server/console/cli.hpp"
#include "server/delivery/worker.hpp"
#include "server/geoip.hpp"
#include "server/http/server.hpp"
#include "server/http/tls.hpp"
#include "server/instance.hpp"
#include "server/log.hpp"
#include "server/metrics.hpp"
#include "server/migrate/import_cli.hpp"
#include "server/users_cli.hpp"
#include "store/lmdb/open.hpp"
#include "store/pg/open.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <functional>
#include <optional>
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
    void transport_error(response& res, transport_failure f, std::string_view detail) override {
        target->transport_error(res, f, detail);
    }
};

std::string endpoint_text(tcp::endpoint const& e) {
    auto addr = e.address().to_string();
    if (e.address().is_v6()) addr = "[" + addr + "]";
    return addr + ":" + std::to_string(e.port());
}

/// JWT templates from the config file are created once (by name); BAPI manages them afterwards. "" or an error.
std::string seed_jwt_templates(api::app& a, conf::config const& c) {
    for (auto const& t : c.jwt_templates) {
        auto& dbr = a.db;
        auto r = dbr.with_write([&](store::write_txn& w) -> store::result<void> {
            auto existing = w.jwt_templates().by_name(t.name);
            if (!existing) return existing.error();
            if (*existing) return {};
            store::jwt_template_record rec;
            rec.id = crypto::new_id("jtmp");
            rec.name = t.name;
            rec.claims = t.claims;
            rec.lifetime = static_cast<std::int32_t>(t.lifetime);
            rec.allowed_clock_skew = static_cast<std::int32_t>(t.allowed_clock_skew);
            rec.created_at = rec.updated_at = a.now_ms();
            return w.jwt_templates().put(rec, nullptr);
        });
        if (!r) return "jwt_templates: cannot store '" + t.name + "': " + r.error().message();
    }
    return {};
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
    std::unique_ptr<store::database> db;  ///< the composition root picks the backend: LMDB
    std::unique_ptr<api::outbox_sink> sink;
    metrics stats;
    federation::curl_fetcher oauth_fetcher;  ///< outbound HTTP to OAuth providers (issue 15)
    std::unique_ptr<api::app> app;
    std::optional<store::job_queue> jobs;
    std::unique_ptr<delivery::history> webhook_history;  ///< recent webhook outcomes (outlives the worker)
    std::unique_ptr<delivery::worker> delivery;          ///< stopped before the store closes (declared after it)
    std::unique_ptr<net::thread_pool> hash_pool;
    unsigned hash_pool_threads = 0;
    std::mutex reload_mu;  ///< one reload at a time
    api::route_table frontend_table;
    api::route_table backend_table;
    std::unique_ptr<api::api_service> fapi;
    std::unique_ptr<api::api_service> bapi;
    bool joined = false;
    // OAuth providers that could not be discovered at start: retried in the background (issue 15).
    std::string discovery_failure;
    std::thread discovery;
    std::mutex discovery_mu;
    std::condition_variable discovery_cv;
    bool discovery_stop = false;
    std::thread metadata_refresh;  ///< SAML IdP metadata by URL, refetched every saml_metadata_refresh (issue 15)
    void stop_discovery() {
        {
            std::lock_guard lk(discovery_mu);
            discovery_stop = true;
        }
        discovery_cv.notify_all();
        if (discovery.joinable()) discovery.join();
        if (metadata_refresh.joinable()) metadata_refresh.join();
    }
};

running_server::running_server(conf::config cfg) : impl_(std::make_unique<impl>()) {
    auto& m = *impl_;
    m.cfg = std::move(cfg);
    // OAuth providers configured by issuer: their endpoints from discovery, before anything serves. One that is
    // down does not stop the start: it is retried in the background, and its sign-ins answer 503 until then.
    m.discovery_failure = api::federation::discover(m.cfg, m.oauth_fetcher);
    auto const& c = m.cfg;
    // The GeoIP database first: a bad path stops the start before any thread, socket or file exists.
    if (!c.geoip_database.empty()) m.geo = std::make_unique<geoip>(c.geoip_database);
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    transport_limits limits;
    limits.header_bytes = c.max_header_bytes;
    limits.body_bytes = c.max_body_bytes;
    limits.upload_body_bytes = c.max_image_bytes + (64u << 10);  // the file and its multipart framing
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
    store::lmdb::options so;
    so.dir = c.data_dir + "/db";
    so.map_size = c.map_size;
    so.durable = c.durable;
    if (!c.postgres_url.empty()) {
        // issue 16: PostgreSQL is the store of record, this node's LMDB its local replica (docs/postgres.md).
        store::pg::options po;
        po.url = c.postgres_url;
        po.local = so;
        po.migrate = c.postgres_migrate;
        po.start_offline = true;  // a replica that has applied commits serves reads and mints while PostgreSQL is down
        std::string why;
        auto pdb = store::pg::open(po, &why);
        if (!pdb) throw std::runtime_error("postgres: cannot open the store: " + why);
        m.db = std::move(*pdb);
    } else {
        auto db = store::lmdb::open(so);
        if (!db) throw std::runtime_error("data_dir: cannot open the store: " + db.error().message());
        m.db = std::move(*db);
    }
    m.sink = std::make_unique<api::outbox_sink>(c.data_dir + "/outbox.jsonl");
    m.app.reset(new api::app{c, m.boot.inst, *m.db, m.boot.keys, *m.sink});
    m.app->geo = m.geo.get();
    m.app->oauth_fetcher = &m.oauth_fetcher;
    auto jobs = store::job_queue::open(*m.db);
    if (!jobs) throw std::runtime_error("data_dir: cannot open the delivery queue: " + jobs.error().message());
    m.jobs.emplace(*jobs);
    m.webhook_history = std::make_unique<delivery::history>(c.data_dir + "/webhook_history.jsonl");
    m.app->webhook_history = m.webhook_history.get();
    m.delivery = std::make_unique<delivery::worker>(m.cfg, *m.jobs, m.webhook_history.get());
    m.app->jobs = &*m.jobs;
    m.app->wake_delivery = [w = m.delivery.get()] { w->wake(); };
    m.app->export_users = [db = m.db.get()](bool csv, std::function<void(std::string_view)> const& sink) {
        return migrate::write_users(*db, csv, false, sink);
    };

    m.app->metrics = &m.stats;
    store::database* const dbp = m.db.get();
    m.stats.add_gauge("latchkey_store_map_used_bytes", "Bytes of the LMDB map in use (up to the last page written).",
                      [dbp] {
                          auto u = dbp->usage();
                          return u ? static_cast<double>(u->used_bytes) : -1.0;
                      });
    m.stats.add_gauge("latchkey_store_map_size_bytes", "The LMDB map size (the store's upper bound).", [dbp] {
        auto u = dbp->usage();
        return u ? static_cast<double>(u->map_size) : -1.0;
    });
    {
        // Each gauge reads only what it shows: the depths one store read, the counters an atomic.
        store::job_queue const* const q = &*m.jobs;
        delivery::worker const* const dw = m.delivery.get();
        m.stats.add_gauge("latchkey_delivery_queue_pending",
                          "Delivery jobs (email, SMS, webhooks) waiting or in flight.", [q] {
                              auto n = q->counts();
                              return n ? static_cast<double>(n->pending) : -1.0;
                          });
        m.stats.add_gauge("latchkey_delivery_queue_dead",
                          "Delivery jobs that ran out of attempts (kept for inspection).", [q] {
                              auto n = q->counts();
                              return n ? static_cast<double>(n->dead) : -1.0;
                          });
        m.stats.add_gauge("latchkey_delivery_succeeded", "Deliveries that succeeded since start.",
                          [dw] { return static_cast<double>(dw->delivered()); });
        m.stats.add_gauge("latchkey_delivery_failed_attempts", "Delivery attempts that failed since start.",
                          [dw] { return static_cast<double>(dw->failed()); });
    }

    if (auto err = seed_jwt_templates(*m.app, c); !err.empty()) throw std::runtime_error(err);

    unsigned hash_threads = c.hash_threads != 0 ? c.hash_threads : std::max(1u, cores > 1 ? cores - 1 : 1u);
    // One thread more than may hash at once: a sign-in's handler also runs its write txn, the durable
    // commit and the session token on the pool (~1.2 ms of CPU plus the fdatasyncs), and the spare thread
    // hashes the next password meanwhile, so the hashing slot only hashes. The slots' argon2 blocks are
    // shared by whichever thread hashes, so they stay warm (crypto/password.cpp). Measured: durable
    // sign-in 45.7/s without the spare thread vs 47.9/s with it (48.9/s with the shared blocks).
    crypto::set_hash_concurrency(hash_threads);
    m.hash_pool_threads = hash_threads + 1;
    m.hash_pool = std::make_unique<net::thread_pool>(m.hash_pool_threads);
    m.frontend_table = api::frontend_routes();
    m.backend_table = api::backend_routes();
    m.fapi = std::make_unique<api::api_service>(*m.app, m.frontend_table, api::api_kind::frontend,
                                                m.hash_pool->get_executor());
    m.bapi = std::make_unique<api::api_service>(*m.app, m.backend_table, api::api_kind::backend,
                                                m.hash_pool->get_executor());
    m.fapi->offload_writes(!c.postgres_url.empty());  // commits wait on PostgreSQL: keep them off the I/O threads
    m.bapi->offload_writes(!c.postgres_url.empty());
    m.fapi_fwd.target = m.fapi.get();
    m.bapi_fwd.target = m.bapi.get();
    // SAML connections configured by metadata URL: fetched once before serving, then every saml_metadata_refresh
    // on the pool (a reload parks the pool's threads between tasks, so the refresh never reads settings mid-swap).
    api::saml_sso::refresh_metadata(*m.app);
    m.server->start();
    m.metadata_refresh = std::thread([&m, every = c.saml_metadata_refresh] {
        for (;;) {
            std::unique_lock lk(m.discovery_mu);
            if (m.discovery_cv.wait_for(lk, every, [&] { return m.discovery_stop; })) return;
            lk.unlock();
            net::post(m.hash_pool->get_executor(), [&m] { api::saml_sso::refresh_metadata(*m.app); });
        }
    });
    if (!m.discovery_failure.empty()) {
        // Its own copy of the providers: a reload may replace m.cfg meanwhile (it keeps the providers).
        m.discovery = std::thread([&m, providers = m.cfg] {
            auto delay = std::chrono::milliseconds(250);
            std::string why = m.discovery_failure;
            for (;;) {
                log::warn("oauth_discovery_failed", {{"error", why}, {"retry_in_ms", std::to_string(delay.count())}});
                std::unique_lock lk(m.discovery_mu);
                if (m.discovery_cv.wait_for(lk, delay, [&] { return m.discovery_stop; })) return;
                lk.unlock();
                why = api::federation::discover_later(providers, m.oauth_fetcher);
                if (why.empty()) {
                    log::info("oauth_discovered", {});
                    return;
                }
                delay = std::min(delay * 2, std::chrono::milliseconds(60'000));
            }
        });
    }
}

running_server::~running_server() {
    stop(std::chrono::milliseconds(0));
    join();
}

tcp::endpoint running_server::fapi_endpoint() const { return impl_->fapi_ep; }
tcp::endpoint running_server::bapi_endpoint() const { return impl_->bapi_ep; }
api::app& running_server::app() { return *impl_->app; }
metrics& running_server::stats() { return impl_->stats; }
instance const& running_server::inst() const { return impl_->boot.inst; }
conf::config const& running_server::config() const { return impl_->cfg; }

delivery::stats running_server::delivery_stats() const { return impl_->delivery->current(); }

std::string running_server::reload_tls() { return impl_->tls ? impl_->tls->reload() : std::string{}; }

running_server::reload_result running_server::reload(conf::config next) {
    auto& m = *impl_;
    std::lock_guard lk(m.reload_mu);
    reload_result out;
    // Process settings are bound at start (sockets, threads, the store's map, the transport's limits): a changed
    // one is reported and keeps its running value.
    auto pin = [&](auto& field, auto const& running, char const* name) {
        if (field != running) {
            out.ignored.emplace_back(name);
            field = running;
        }
    };
    auto const& c = m.cfg;
    pin(next.listen, c.listen, "listen");
    pin(next.backend_listen, c.backend_listen, "backend_listen");
    pin(next.data_dir, c.data_dir, "data_dir");
    pin(next.config_file, c.config_file, "config_file");
    pin(next.frontend_api, c.frontend_api, "frontend_api");
    pin(next.instance_type, c.instance_type, "instance_type");
    pin(next.threads, c.threads, "threads");
    pin(next.hash_threads, c.hash_threads, "hash_threads");
    pin(next.map_size, c.map_size, "map_size");
    pin(next.durable, c.durable, "durable");
    pin(next.tls_cert, c.tls_cert, "tls_cert");
    pin(next.tls_key, c.tls_key, "tls_key");
    pin(next.geoip_database, c.geoip_database, "geoip_database");
    pin(next.max_header_bytes, c.max_header_bytes, "max_header_bytes");
    pin(next.max_body_bytes, c.max_body_bytes, "max_body_bytes");
    pin(next.header_timeout, c.header_timeout, "header_timeout_ms");
    pin(next.idle_timeout, c.idle_timeout, "idle_timeout_ms");
    pin(next.shutdown_grace, c.shutdown_grace, "shutdown_grace_ms");
    pin(next.max_connections, c.max_connections, "max_connections");
    // OAuth providers are discovered at start (and, when down then, in the background by strategy): bound at start.
    auto providers_text = [](conf::config const& x) {
        std::string t;
        for (auto const& p : x.oauth_providers)
            t += p.strategy + '\n' + p.client_id + '\n' + p.client_secret + '\n' + p.issuer + '\n';
        return t;
    };
    if (providers_text(next) != providers_text(c)) out.ignored.emplace_back("oauth_providers");
    next.oauth_providers = c.oauth_providers;
    pin(next.max_image_bytes, c.max_image_bytes, "max_image_bytes");
    // Keys (signing keys in <data_dir>/keys, secret keys) and URLs as a fresh start would derive them; then the
    // TLS files. Any failure leaves everything as it was.
    bootstrap_result boot;
    try {
        boot = bootstrap(next, endpoint_text(m.fapi_ep));
    } catch (std::exception const& e) {
        out.error = std::string("keys: ") + e.what();
        return out;
    }
    if (m.tls) {
        if (auto err = m.tls->reload(); !err.empty()) {
            out.error = "tls: " + err;
            return out;
        }
    }
    // The swap: every I/O and hash-pool thread parks between two tasks, so no handler is reading the settings
    // while they change; connections stay open and their next requests see the new settings.
    bool const swapped = m.server->run_quiesced(
        [&] {
            m.cfg = std::move(next);
            m.boot = std::move(boot);
        },
        {{m.hash_pool->get_executor(), m.hash_pool_threads}});
    if (!swapped) {
        out.error = "the server did not pause (stopping?)";
        return out;
    }
    if (auto err = seed_jwt_templates(*m.app, m.cfg); !err.empty()) out.error = err;
    return out;
}

void running_server::stop(std::chrono::milliseconds grace) { impl_->server->stop(grace); }

void running_server::join() {
    if (impl_->joined) return;
    impl_->server->join();
    impl_->stop_discovery();
    impl_->hash_pool->join();
    impl_->delivery->stop();  // no handler runs any more: nothing new is queued
    impl_->joined = true;
}

namespace {

int serve(conf::config const& cfg, std::vector<std::string> const& args) {
    std::signal(SIGPIPE, SIG_IGN);  // a closed stdout must not kill the server
    // Store and crypto diagnostics (LMDB failures, OpenSSL error queues, argon2/libxcrypt failures) join the one
    // structured log from the start: opening the store and loading the keys may already report some.
    log::adopt_module_diagnostics();
    std::unique_ptr<running_server> srv;
    try {
        srv = std::make_unique<running_server>(cfg);
    } catch (std::exception const& e) {
        log::release_module_diagnostics();
        log::flush();  // what the store or crypto reported on the way
        std::fprintf(stderr, "latchkey: %s\n", e.what());
        return 2;
    }
    log::start();
    log::info("listening", {{"fapi", endpoint_text(srv->fapi_endpoint())},
                            {"bapi", endpoint_text(srv->bapi_endpoint())},
                            {"publishable_key", srv->inst().publishable_key},
                            {"frontend_api", srv->inst().frontend_api},
                            {"proxy_url", srv->inst().proxy_url},
                            {"instance", cfg.instance_type},
                            {"tls", !cfg.tls_cert.empty()},
                            {"version", LATCHKEY_VERSION}});
    log::flush();

    net::io_context signals_ctx;
    net::signal_set signals(signals_ctx, SIGINT, SIGTERM, SIGHUP);
    std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            // The same flags and environment as at start, the config file read again.
            auto next = conf::load(args, conf::process_env());
            if (!next) {
                log::error("reload_refused", {{"error", next.error().what()}});
            } else {
                auto r = srv->reload(std::move(*next));
                if (!r.error.empty()) {
                    log::error("reload_refused", {{"error", r.error}});
                } else {
                    boost::json::array ignored;
                    for (auto const& n : r.ignored) ignored.emplace_back(n);
                    log::info("reloaded", {{"restart_needed_for", std::move(ignored)}});
                }
            }
            log::flush();
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
    log::release_module_diagnostics();
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
        // The key names a host the SDKs cannot reach (a development key for the dev-browser flow, or a FAPI
        // without TLS or behind a path): the apps pass this as proxyUrl (clerk-js, @clerk/react, @clerk/backend).
        if (!boot.inst.proxy_url.empty()) std::printf("proxy_url=%s\n", boot.inst.proxy_url.c_str());
        for (auto const& k : boot.inst.secret_keys) std::printf("secret_key=%s\n", k.c_str());
        return 0;
    } catch (std::exception const& e) {
        std::fprintf(stderr, "latchkey: %s\n", e.what());
        return 2;
    }
}

/// An operator command's arguments from `rest[from]` on: its own options (a value option takes the next argument;
/// a switch stands alone, its value ""), then what `claim` takes (import's SOURCE), the rest config flags.
struct command_args {
    std::vector<std::pair<std::string, std::string>> opts;
    std::vector<std::string> conf_args;
};

command_args split_command_args(std::vector<std::string> const& rest, std::size_t from,
                                bool (*is_value)(std::string const&), bool (*is_switch)(std::string const&),
                                std::function<bool(std::string const&)> const& claim = {}) {
    command_args a;
    for (std::size_t i = from; i < rest.size(); ++i) {
        if (is_value(rest[i]) && i + 1 < rest.size()) {
            a.opts.emplace_back(rest[i], rest[i + 1]);
            ++i;
        } else if (is_switch(rest[i])) {
            a.opts.emplace_back(rest[i], "");
        } else if (!claim || !claim(rest[i])) {
            a.conf_args.push_back(rest[i]);
        }
    }
    return a;
}

bool no_switches(std::string const&) { return false; }

/// The configuration from the config flags `args` and the environment; none (the problem printed) when invalid.
std::optional<conf::config> load_config(std::vector<std::string> const& args) {
    auto c = conf::load(args, conf::process_env());
    if (!c) {
        std::fprintf(stderr, "latchkey: %s\n", c.error().what().c_str());
        return std::nullopt;
    }
    return std::move(*c);
}

}  // namespace

/// `latchkey migrate [config flags]` and `latchkey store copy --from SRC --to DST` (issue 16, store/pg).
static int store_main(std::string const& cmd, std::vector<std::string> rest) {
    if (cmd == "store") {
        if (rest.empty() || rest.front() != "copy") {
            std::fputs("latchkey: store: expected copy --from lmdb:DIR|postgres://... --to lmdb:DIR|postgres://...\n",
                       stderr);
            return 2;
        }
        rest.erase(rest.begin());
        return store::pg::copy_main(rest, std::cout, std::cerr);
    }
    auto cfg = load_config(rest);
    if (!cfg) return 2;
    if (cfg->postgres_url.empty()) {
        std::fputs(
            "latchkey: migrate: no PostgreSQL store configured (store.postgres_url, --postgres-url or "
            "LATCHKEY_POSTGRES_URL)\n",
            stderr);
        return 2;
    }
    std::string why;
    auto v = store::pg::migrate(cfg->postgres_url, &why);
    if (!v) {
        std::fprintf(stderr, "latchkey: migrate: %s\n", why.c_str());
        return 1;
    }
    std::printf("PostgreSQL schema at version %d\n", *v);
    return 0;
}

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
    if (cmd == "users") {
        // latchkey users <create|list|export|import> [users options] [config flags]
        if (rest.empty()) {
            std::fputs("latchkey: users: expected create, list, export or import\n", stderr);
            return 2;
        }
        std::string const sub = rest.front();
        auto const a = split_command_args(rest, 1, &is_users_option, &no_switches);
        auto ucfg = load_config(a.conf_args);
        if (!ucfg) return 2;
        return users_main(*ucfg, sub, a.opts, std::cin, std::cout, std::cerr);
    }
    if (cmd == "console-link" || cmd == "operators" || cmd == "audit") {
        // The admin console (issue 23): latchkey console-link | operators add|list | audit [options] [config flags]
        std::string sub;
        std::size_t i = 0;
        if (cmd == "operators") {
            if (rest.empty()) {
                std::fputs("latchkey: operators: expected add or list\n", stderr);
                return 2;
            }
            sub = rest.front();
            i = 1;
        }
        auto const a = split_command_args(rest, i, &console_cli::is_value_option, &console_cli::is_switch_option);
        auto ccfg = load_config(a.conf_args);
        if (!ccfg) return 2;
        return console_cli::main(*ccfg, cmd, sub, a.opts, std::cout, std::cerr);
    }
    if (cmd == "import" || cmd == "export") {
        // latchkey import SOURCE [options] [config flags] | latchkey export [options] [config flags]
        std::string source;
        auto const a = split_command_args(rest, 0, &migrate::is_value_option, &migrate::is_switch_option,
                                          [&](std::string const& arg) {
                                              if (cmd != "import" || !source.empty() || arg.starts_with("--"))
                                                  return false;
                                              source = arg;
                                              return true;
                                          });
        if (cmd == "import" && source.empty()) {
            std::fputs("latchkey: import: expected SOURCE (a file or a Backend API URL)\n", stderr);
            return 2;
        }
        auto mcfg = load_config(a.conf_args);
        if (!mcfg) return 2;
        return cmd == "import" ? migrate::import_main(*mcfg, source, a.opts, std::cout, std::cerr)
                               : migrate::export_main(*mcfg, a.opts, std::cout, std::cerr);
    }
    if (cmd == "store" || cmd == "migrate") return store_main(cmd, rest);  // issue 16 (store/pg)
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
    bool migrate_first = false;  // serve --migrate: apply pending PostgreSQL schema migrations at start
    if (auto it = std::find(rest.begin(), rest.end(), "--migrate"); cmd == "serve" && it != rest.end()) {
        rest.erase(it);
        migrate_first = true;
    }
    auto cfg = load_config(rest);
    if (!cfg) return 2;
    cfg->postgres_migrate = cfg->postgres_migrate || migrate_first;
    return cmd == "serve" ? serve(*cfg, rest) : keys(*cfg, action, kid);
}

}  // namespace latchkey::server
