#pragma once
// The recent history of webhook deliveries that left the queue (issue 23): a delivery that succeeded is removed
// from the durable queue (store/queue.hpp) — one out of attempts stays there as dead, listed from there — so this
// keeps the last `per_endpoint` successful deliveries of each endpoint with attempts, the receiver's HTTP status
// and times, for the console and GET /v1/webhook_deliveries. Per process: with the shared PostgreSQL store each
// node lists the deliveries its own worker made.
//
// Persisted in <data_dir>/webhook_history.jsonl (mode 0600, rewritten atomically by the delivery worker after each
// batch, read at start), never in a handler: handlers read the copy in memory. No payload body is kept, only
// what identifies a delivery (event type, svix msg_id, URL).
#include "store/records.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server::delivery {

struct history_entry {
    std::string id;          ///< the job id (job_...)
    std::string url;         ///< the endpoint
    std::string event_type;  ///< user.created, ...
    std::string msg_id;      ///< svix-id
    std::string status;      ///< "delivered"
    std::int32_t attempts = 0;
    std::int32_t response_code = 0;  ///< the receiver's last HTTP status (0: no answer)
    std::string last_error;          ///< why the last attempt failed ("" when delivered)
    std::int64_t created_at = 0;     ///< when the event was queued (unix ms)
    std::int64_t delivered_at = 0;   ///< when it left the queue (unix ms)
};

/// A webhook delivery as GET /v1/webhook_deliveries and the console show it (delivered, from this history, or still
/// in the queue), and as the history file keeps it (one JSON line each): {object, id, url, event_type, msg_id,
/// status, attempts, response_code, last_error, next_attempt_at, created_at, delivered_at}, response_code,
/// next_attempt_at (when a delivery still queued is tried next) and delivered_at null when 0.
boost::json::object entry_json(history_entry const& e, std::int64_t next_attempt_at = 0);

/// The entry of a webhook job with `status`: its id, attempts, last error and creation time, and the url, event type
/// and svix msg_id its payload names (never the payload's body); no response or times beyond creation yet.
history_entry webhook_entry(store::job_record const& job, std::string status);

class history {
public:
    /// Loads `file` when it exists (a damaged line is skipped); an empty `file` keeps the history in memory only.
    explicit history(std::string file, std::size_t per_endpoint = 100);

    /// Adds an outcome (dropping the endpoint's oldest beyond the bound). Thread-safe; writes nothing.
    void record(history_entry e);
    /// Writes the file when something was recorded since the last save (tmp + rename). Thread-safe.
    void save();

    /// Newest first, at most `limit`; `url` and `status` filter exactly when non-empty. Thread-safe.
    std::vector<history_entry> list(std::string_view url, std::string_view status, std::size_t limit) const;

private:
    std::string file_;
    std::size_t per_endpoint_;
    mutable std::mutex mu_;
    std::map<std::string, std::deque<history_entry>, std::less<>> by_url_;  ///< oldest first
    bool dirty_ = false;
};

}  // namespace latchkey::server::delivery
