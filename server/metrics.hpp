#pragma once
// Operator metrics in the Prometheus text format (GET /metrics on the backend listener, secret-key auth).
//
// Requests are counted per route PATTERN from the route tables (never the raw path, so ids and junk paths cannot
// grow the label set) and status class, with a latency histogram per route; unmatched requests share one
// "unmatched" series per API. Counters are relaxed atomics: one fetch_add each on the request path, no lock.
// Gauges are read when scraped: built-in ones (hash-pool depth, store size) and any a module registers with
// add_gauge (the delivery and webhook queues register theirs).
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server {

class metrics {
public:
    /// Latency histogram upper bounds, seconds.
    static constexpr std::array<double, 12> bucket_bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                             0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

    /// Registers one route (before serving; not thread-safe against observe). Returns its slot.
    std::size_t add_route(std::string_view api, std::string_view method, std::string_view pattern);
    /// Counts one request on `slot`: its status class and latency. Thread-safe, lock-free.
    void observe(std::size_t slot, unsigned status, std::chrono::nanoseconds latency) noexcept;

    /// Session tokens signed (FAPI and BAPI).
    void token_minted() noexcept { minted_.fetch_add(1, std::memory_order_relaxed); }
    /// Requests queued for or running on the password-hash pool.
    void hash_pool_enter() noexcept { hash_depth_.fetch_add(1, std::memory_order_relaxed); }
    void hash_pool_leave() noexcept { hash_depth_.fetch_sub(1, std::memory_order_relaxed); }

    /// A gauge read at every scrape: `name` (a valid metric name), `help` (one line), f() its value. Thread-safe;
    /// a gauge lives as long as the metrics object, so f must stay callable that long.
    void add_gauge(std::string name, std::string help, std::function<double()> f);

    /// The whole exposition (text format 0.0.4).
    std::string render() const;

private:
    struct route_slot {
        std::string api, method, pattern;
        std::array<std::atomic<std::uint64_t>, 5> by_class{};                        ///< 1xx..5xx
        std::array<std::atomic<std::uint64_t>, bucket_bounds.size() + 1> buckets{};  ///< last: +Inf
        std::atomic<std::uint64_t> sum_ns{0};
    };
    struct gauge {
        std::string name, help;
        std::function<double()> f;
    };
    std::deque<route_slot> slots_;  ///< a deque: registering never moves the atomics
    std::atomic<std::uint64_t> minted_{0};
    std::atomic<std::int64_t> hash_depth_{0};
    mutable std::mutex gauges_mu_;
    std::vector<gauge> gauges_;
};

}  // namespace latchkey::server
