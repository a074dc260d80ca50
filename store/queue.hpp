#pragma once
// The durable job queue: outgoing email, SMS and webhook deliveries, kept in the store so that a job is written
// in the SAME write txn as the change that causes it (a code's verification record, a user change) and a crash
// loses nothing. At-least-once: a job leaves the queue only after its delivery succeeded (or it is dead).
//
// Tables (opened by job_queue::open, the one place they are registered):
//   jobs      job id -> encoded job_record (pending and dead jobs; dead ones stay for inspection)
//   jobs_due  <next_attempt_at: 8 bytes big-endian unix ms><job id> -> "" (pending jobs only), so the first key
//             is the next job due and a due scan reads only what it takes.
// A worker claims due jobs in one short write txn (attempts + 1, next attempt pushed out by a lease, so a job
// whose worker crashed mid-delivery becomes due again when the lease ends), delivers them with no txn open, then
// completes (deletes) or fails (reschedules with backoff, or marks dead) each in another short write txn.
//
// Lifetimes: functions return values (no views into the map). Thread-safety: like store::db (any thread; each
// txn by one thread at a time).
#include "store/db.hpp"
#include "store/error.hpp"
#include "store/lmdb.hpp"

#include <boost/describe/class.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::store {

/// One queued delivery. Append new members at the end (store/codec.hpp).
struct job_record {
    std::string id;                    ///< time-ordered id (job_...), chosen by the caller
    std::string kind;                  ///< "email" | "sms" | "webhook"
    std::string payload;               ///< kind-specific JSON text
    std::int32_t attempts = 0;         ///< delivery attempts started so far
    std::int64_t next_attempt_at = 0;  ///< unix ms
    std::int64_t created_at = 0;       ///< unix ms
    std::string state = "pending";     ///< "pending" | "dead"
    std::string last_error;            ///< why the last attempt failed (no secrets, no message bodies)
    bool leased = false;               ///< claimed by a worker, delivery in flight
};
BOOST_DESCRIBE_STRUCT(job_record, (), (id, kind, payload, attempts, next_attempt_at, created_at, state, last_error,
                                       leased))

/// Retries: exponential backoff with jitter, bounded.
struct retry_policy {
    std::int32_t max_attempts = 8;         ///< attempts before a job is dead
    std::int64_t base_ms = 1000;           ///< delay after the first failure
    std::int64_t max_ms = 3'600'000;       ///< ceiling of a delay
};

/// The delay before the next attempt after `attempts` (>= 1) attempts failed: d = min(max_ms, base_ms *
/// 2^(attempts-1)), jittered to d/2 + unit * d/2 ("equal jitter"; `unit` in [0, 1), from a random source), so
/// retries of many jobs failing together spread out and never come sooner than half the schedule.
std::int64_t backoff_ms(retry_policy const& p, std::int32_t attempts, double unit) noexcept;

/// Queue depth for operators (metrics read it through the delivery worker).
struct queue_counts {
    std::size_t pending = 0;  ///< jobs waiting or in flight
    std::size_t dead = 0;     ///< jobs that ran out of attempts, kept for inspection
};

class job_queue {
public:
    /// Opens (creating if missing) the queue's tables in `d`'s environment. `d` must outlive the queue.
    static result<job_queue> open(db& d) noexcept;

    /// Adds `j` (state pending, due at j.next_attempt_at) inside the caller's write txn: the job exists exactly
    /// when that txn commits. errc::key_exists when the id is taken, errc::invalid_key for an empty id.
    result<void> enqueue(write_txn& w, job_record const& j) const noexcept;

    /// In its own write txn: takes up to `max` pending jobs due at `now_ms` (oldest due first), counts an attempt
    /// on each and moves its next attempt to now_ms + lease_ms. Returns them as stored after the claim.
    result<std::vector<job_record>> claim(std::int64_t now_ms, std::int64_t lease_ms, std::size_t max) noexcept;
    /// The delivery of job `id` succeeded: removes it (a job already gone is not an error).
    result<void> complete(std::string_view id) noexcept;
    /// The deliveries of `ids` succeeded: removes them all in one write txn (one commit for a worker's batch).
    result<void> complete(std::vector<std::string> const& ids) noexcept;
    /// The attempt on job `id` failed with `error`: reschedules it at `next_at_ms`, or, when `dead`, keeps it in
    /// state dead (out of the due index). A job already gone is not an error.
    result<void> fail(std::string_view id, std::int64_t next_at_ms, bool dead, std::string_view error) noexcept;

    /// At process start (no worker of this process holds a lease yet): every job that was in flight when the last
    /// process stopped is due at `now_ms`. Returns how many. One write txn; reads every job once.
    result<std::size_t> resume(std::int64_t now_ms) noexcept;

    /// When the next pending job is due (unix ms), or empty when none is pending.
    result<std::optional<std::int64_t>> next_due() const noexcept;
    result<std::optional<job_record>> get(txn const& t, std::string_view id) const noexcept;
    /// Every job (pending and dead), oldest first, at most `limit`.
    result<std::vector<job_record>> list(txn const& t, std::size_t limit) const noexcept;
    result<queue_counts> counts() const noexcept;

    job_queue() = default;

private:
    db* db_ = nullptr;
    MDB_dbi jobs_ = 0;
    MDB_dbi due_ = 0;
};

}  // namespace latchkey::store
