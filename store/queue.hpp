#pragma once
// The durable job queue: outgoing email, SMS and webhook deliveries, kept in the store so that a job is written
// in the SAME write txn as the change that causes it (a code's verification record, a user change) and a crash
// loses nothing. At-least-once: a job leaves the queue only after its delivery succeeded (or it is dead).
//
// Backend-neutral: the jobs family of the store seam (store/store.hpp, jobs_repo) holds the records and their
// due index; this class keeps the queue's rules over it. A worker claims due jobs in one short write txn
// (attempts + 1, next attempt pushed out by a lease, so a job whose worker crashed mid-delivery becomes due again
// when the lease ends), delivers them with no txn open, then completes (deletes) or fails (reschedules with
// backoff, or marks dead) each in another short write txn.
//
// Thread-safety: like the database (any thread; each txn by one thread at a time).
#include "store/error.hpp"
#include "store/records.hpp"
#include "store/store.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::store {

/// Retries: exponential backoff with jitter, bounded.
struct retry_policy {
    std::int32_t max_attempts = 8;    ///< attempts before a job is dead
    std::int64_t base_ms = 1000;      ///< delay after the first failure
    std::int64_t max_ms = 3'600'000;  ///< ceiling of a delay
};

/// The delay before the next attempt after `attempts` (>= 1) attempts failed: d = min(max_ms, base_ms *
/// 2^(attempts-1)), jittered to d/2 + unit * d/2 ("equal jitter"; `unit` in [0, 1), from a random source), so
/// retries of many jobs failing together spread out and never come sooner than half the schedule.
std::int64_t backoff_ms(retry_policy const& p, std::int32_t attempts, double unit) noexcept;

class job_queue {
public:
    /// The queue over `d`'s jobs family. `d` must outlive the queue.
    static result<job_queue> open(database& d) noexcept;

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
    /// state dead (never due again). A job already gone is not an error.
    result<void> fail(std::string_view id, std::int64_t next_at_ms, bool dead, std::string_view error) noexcept;

    /// At process start (no worker of this process holds a lease yet): every job that was in flight when the last
    /// process stopped is due at `now_ms`. Returns how many. One write txn; reads every job once.
    result<std::size_t> resume(std::int64_t now_ms) noexcept;

    /// When the next pending job is due (unix ms), or empty when none is pending.
    result<std::optional<std::int64_t>> next_due() const noexcept;
    result<std::optional<job_record>> get(read_txn const& t, std::string_view id) const noexcept;
    /// Every job (pending and dead), oldest first, at most `limit`.
    result<std::vector<job_record>> list(read_txn const& t, std::size_t limit) const noexcept;
    result<queue_counts> counts() const noexcept;

    job_queue() = default;

private:
    database* db_ = nullptr;
};

}  // namespace latchkey::store
