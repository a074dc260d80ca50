#pragma once
// The delivery worker: takes due jobs from the durable queue (store/queue.hpp) and delivers them — email over
// SMTP, SMS through a Twilio-compatible form API, webhooks as signed POSTs — with libcurl.
//
// Why threads of its own and curl's blocking easy interface rather than Asio with curl's multi interface: the
// I/O threads must never wait on a mail server, and a delivery is slow, rare next to requests and independent of
// the others; a few dedicated threads (delivery.workers), each with one reused easy handle (connection reuse for a
// webhook receiver), are bounded by curl's own connect/total timeouts and keep curl's callbacks out of the
// server's executors. A multi-handle reactor would only pay off for thousands of concurrent deliveries.
//
// The worker never holds a txn across network I/O: it claims due jobs in one short write txn (the claim counts
// the attempt and leases the job), delivers with no txn open, then completes or fails each job in another short
// write txn (exponential backoff with jitter, dead after delivery.max_attempts; the successes of one claimed batch are
// removed in one txn). It sleeps on a condition
// variable until woken (wake(), after an enqueue) or until the next job is due — no polling. On start it resumes
// what the queue holds: jobs that were in flight when the process died are due at once.
#include "conf/config.hpp"
#include "server/delivery/history.hpp"
#include "store/queue.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace latchkey::server::delivery {

/// Counts for operators (the metrics endpoint reads them).
struct stats {
    std::size_t pending = 0;      ///< jobs queued or in flight (from the store)
    std::size_t dead = 0;         ///< jobs out of attempts, kept in the store for inspection
    std::uint64_t delivered = 0;  ///< deliveries that succeeded since start
    std::uint64_t failed = 0;     ///< attempts that failed since start (each retry counts)
};

/// How one delivery went.
struct outcome {
    bool ok = false;
    std::string error;     ///< why not (for the job's last_error and the log; never a secret or a body)
    long http_status = 0;  ///< the receiver's HTTP status (webhooks, SMS), 0 when none came back
};

class worker {
public:
    /// `cfg` and `queue` must outlive the worker. Starts cfg.delivery.workers threads.
    /// With `recent`, each webhook delivery that leaves the queue (delivered, or dead) is recorded there (and
    /// saved after each batch); it must outlive the worker.
    worker(conf::config const& cfg, store::job_queue& queue, history* recent = nullptr);
    ~worker();
    worker(worker const&) = delete;
    worker& operator=(worker const&) = delete;

    /// A job may have been enqueued: look at the queue again. Cheap; callable from any thread, also while the
    /// enqueuing write txn is still open (the claim is a write txn, so LMDB orders it after that commit).
    void wake() noexcept;
    /// Stops the threads (a transfer in progress is cut; its job stays leased and is resumed on the next start).
    void stop() noexcept;
    delivery::stats current() const;
    /// The two counters of current() alone, without the store read its queue depths take.
    std::uint64_t delivered() const noexcept { return delivered_.load(std::memory_order_relaxed); }
    std::uint64_t failed() const noexcept { return failed_.load(std::memory_order_relaxed); }

    /// Delivers one job now (no queue bookkeeping). For the worker threads and tests.
    outcome deliver(store::job_record const& job) const;

private:
    void run();
    conf::config const& cfg_;
    store::job_queue& queue_;
    history* recent_ = nullptr;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> delivered_{0};
    std::atomic<std::uint64_t> failed_{0};
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::uint64_t generation_ = 0;  ///< bumped by wake(): a waiter that saw an older one looks again
    std::vector<std::thread> threads_;
};

/// The lease of a claimed job: longer than any transfer may take.
std::int64_t lease_ms(conf::config const& cfg) noexcept;

}  // namespace latchkey::server::delivery
