#pragma once
// The whole process behind `latchkey serve` and `latchkey keys`, callable from tests (main.cpp only
// forwards argv here).
#include "conf/config.hpp"
#include "server/delivery/worker.hpp"
#include "server/http/types.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace latchkey::server {

namespace api {
struct app;
}
struct instance;
class metrics;

/// The whole server, wired and running: listeners bound, data dir bootstrapped, store open, API built,
/// workers started. Used by `latchkey serve` and by the integration tests (127.0.0.1:0).
class running_server {
public:
    /// Throws std::runtime_error with a message naming the failing setting.
    explicit running_server(conf::config cfg);
    ~running_server();
    running_server(running_server const&) = delete;
    running_server& operator=(running_server const&) = delete;

    tcp::endpoint fapi_endpoint() const;
    tcp::endpoint bapi_endpoint() const;
    api::app& app();
    /// Delivery queue depth and delivered/failed counts (for metrics).
    delivery::stats delivery_stats() const;
    /// The operator metrics (GET /metrics); other modules register their gauges here (metrics::add_gauge).
    metrics& stats();
    instance const& inst() const;
    conf::config const& config() const;

    /// Reloads the TLS files if TLS is on. Returns an error text or "".
    std::string reload_tls();

    struct reload_result {
        std::string error;                 ///< "" = applied; else nothing changed
        std::vector<std::string> ignored;  ///< process settings that changed but keep their running value
    };
    /// SIGHUP: applies `next` (already loaded and validated): the instance settings, the keys and secret keys
    /// re-read from the data dir as a fresh start would, and the TLS files, all or nothing, without dropping a
    /// connection. Process settings (listeners, threads, store, transport limits) keep their running values.
    reload_result reload(conf::config next);
    /// Graceful stop (idempotent); join() waits for it.
    void stop(std::chrono::milliseconds grace);
    void join();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// `latchkey <args...>`; returns the process exit code. 2 = bad configuration.
int run_main(std::vector<std::string> const& args);

}  // namespace latchkey::server
