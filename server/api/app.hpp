#pragma once
// What every handler gets: settings, the store, keys and the few shared in-memory services.
// Handlers are plain synchronous functions of (app&, request_ctx&) that do no I/O beyond LMDB.
#include "conf/config.hpp"
#include "crypto/keys.hpp"
#include "server/instance.hpp"
#include "store/queue.hpp"
#include "store/store.hpp"

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace latchkey::server {
class geoip;
class metrics;
}  // namespace latchkey::server

namespace latchkey::server::delivery {
class history;
}

namespace latchkey::server::api {
namespace federation {
class fetcher;
}

/// A message to deliver (one-time codes). The default sink writes it to the log and to
/// <data_dir>/outbox.jsonl; the code itself goes only to the outbox file, never to the log.
struct message {
    std::string channel;  ///< "email" | "sms"
    std::string to;
    std::string kind;  ///< "email_code", "phone_code", "reset_password_email_code", ...
    std::string code;
};

class message_sink {
public:
    virtual ~message_sink() = default;
    virtual void send(message const& m) = 0;
};

/// Appends one JSON line per message to a file (mode 0600) and logs that a message went out.
class outbox_sink final : public message_sink {
public:
    explicit outbox_sink(std::string path);
    void send(message const& m) override;

private:
    std::mutex mu_;
    std::string path_;
};

/// A recently minted session token, reused for `last_active_token` so GET /v1/client needs no RSA
/// signature per request. Entries are only reused while fresh and not older than the client's last change.
struct cached_token {
    std::string jwt;
    std::int64_t iat = 0;  ///< seconds
    std::int64_t exp = 0;  ///< seconds
    std::string azp;
};

/// Hashes std::string keys and std::string_view probes alike, so lookups by a view allocate nothing.
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class token_cache {
public:
    /// The cached token for `session_id` if it has at least `min_remaining_s` left, was issued at or after
    /// `not_before_s`, and was minted for `azp`.
    bool get(std::string_view session_id, std::string_view azp, std::int64_t now_s, std::int64_t not_before_s,
             std::int64_t min_remaining_s, cached_token& out) const;
    /// The same, shared instead of copied (the hot GET /v1/client path appends the jwt straight from it).
    std::shared_ptr<cached_token const> find(std::string_view session_id, std::string_view azp, std::int64_t now_s,
                                             std::int64_t not_before_s, std::int64_t min_remaining_s) const;
    std::shared_ptr<cached_token const> put(std::string_view session_id, cached_token t);
    void erase(std::string_view session_id);
    /// Drops every cached token (after a signing-key rotation or retirement: the next mint uses the new key).
    void clear();
    /// True while `t` is still the token cached for `session_id` (not replaced by a newer mint, not erased).
    bool holds(std::string_view session_id, cached_token const* t) const;

private:
    static constexpr std::size_t shards = 16;
    struct shard {
        mutable std::mutex mu;
        std::unordered_map<std::string, std::shared_ptr<cached_token const>, string_hash, std::equal_to<>> map;
    };
    shard& pick(std::string_view id) const;
    mutable shard shards_[shards];
};

/// The part of a FAPI session object that depends on the user alone — `"user":{...},"public_user_data":{...}`
/// — rendered once and spliced into every GET /v1/client (and envelope) while the user stays the same. It is
/// most of a signed-in client's JSON and most of its rendering cost.
struct user_fragment {
    /// The inputs it was rendered from, to validate a hit against the user just read from the store. Holds
    /// no secret: the password digest is reduced to a presence marker and private metadata is dropped (the
    /// frontend view shows neither).
    store::user_record user;
    std::string json;
    /// The clock window the rendering holds for (the user's lockout countdown, views::lockout): outside it the
    /// same record renders differently.
    std::int64_t valid_from_ms = INT64_MIN;
    std::int64_t valid_until_ms = INT64_MAX;
};

/// User fragments by user id. A hit requires the stored user to equal the cached inputs field by field
/// (every described member of user_record, recursively), so the cache can never serve a fragment for
/// data that changed — whichever code path changed it and whether or not it bumped updated_at — and needs
/// no invalidation hooks; and the clock to be inside the fragment's window (the one part of a user view that
/// moves without a write is a lockout's countdown and end). Bounded: `capacity` entries in total, spread over shards
/// with one mutex each (the I/O threads rarely meet), each shard evicting with the CLOCK (second-chance) policy, an LRU
/// approximation that needs no list splicing on a hit. An entry is ~3-4 KB (the JSON plus the record copy), so
/// the default bound keeps the cache under ~16 MB however many users sign in.
/// The session fields around the fragment (status, fva, token, timestamps) are not cached: they are cheap to
/// write and depend on the clock and the token cache.
class fragment_cache {
public:
    explicit fragment_cache(std::size_t capacity = 4096);

    /// The fragment rendered from a user identical (for rendering) to `u`, valid at `now_ms`, or null.
    std::shared_ptr<user_fragment const> get(store::user_record const& u, std::int64_t now_ms) const;
    /// Caches `json` as rendered from `u`, valid in [valid_from_ms, valid_until_ms) (replacing any older
    /// fragment of the user) and returns it.
    std::shared_ptr<user_fragment const> put(store::user_record const& u, std::string json,
                                             std::int64_t valid_from_ms = INT64_MIN,
                                             std::int64_t valid_until_ms = INT64_MAX);
    void erase(std::string_view user_id);
    std::size_t size() const;

    /// True when the frontend views render `a` and `b` identically: every field equal, except that only the
    /// presence of a password digest matters and private metadata not at all.
    static bool same_rendering_inputs(store::user_record const& a, store::user_record const& b);

private:
    static constexpr std::size_t shards = 16;
    struct slot {
        std::string id;
        std::shared_ptr<user_fragment const> fragment;
        bool referenced = false;  ///< CLOCK bit: set on a hit, cleared as the hand passes
    };
    struct shard {
        mutable std::mutex mu;
        std::vector<slot> slots;  ///< at most per_shard_, never shrinks
        std::unordered_map<std::string, std::size_t, string_hash, std::equal_to<>> index;  ///< id -> slot
        std::size_t hand = 0;
    };
    shard& pick(std::string_view id) const;
    std::size_t per_shard_;
    mutable shard shards_[shards];
};

/// A signed-in client's JSON (the `response` of GET /v1/client) with everything it was rendered from that the
/// store snapshot does not capture. The rendering reads only the store (client, sessions, users), the clock,
/// the request's azp and the token cache, so it is reusable exactly while
///   - the store is at the same snapshot (`snapshot`: LMDB's last committed txn id, which any write by any
///     process moves — no invalidation hooks to forget),
///   - the clock has not reached `valid_until_ms` (the next minute of a factor_verification_age, a session's
///     expire_at/abandon_at, the moment its token is due for refresh),
///   - the request's azp is the same, and every token shown is still the one the token cache holds.
/// A client with a sign-in or sign-up in progress is never cached (those objects are rare and clock-bound).
struct rendered_client {
    std::uint64_t snapshot = 0;
    std::string azp;
    std::int64_t valid_until_ms = INT64_MAX;
    std::vector<std::pair<std::string, std::shared_ptr<cached_token const>>> tokens;  ///< session id → token shown
    bool cacheable = true;
    bool signed_in = false;       ///< for __client_uat (0 when no session is live)
    std::int64_t updated_at = 0;  ///< the client's updated_at, for __client_uat
    std::string json;

    /// Lowers valid_until_ms to `t` when earlier.
    void until(std::int64_t t) noexcept {
        if (t < valid_until_ms) valid_until_ms = t;
    }
};

/// Rendered clients by client id (see rendered_client). Callers validate a hit; the cache only bounds memory:
/// about `max_bytes` of JSON in total over shards with one mutex each, a shard emptied when it would overflow
/// (a miss costs one rendering, so a crude bound beats bookkeeping on the hot path).
class client_cache {
public:
    explicit client_cache(std::size_t max_bytes = std::size_t{32} << 20);
    std::shared_ptr<rendered_client const> get(std::string_view client_id) const;
    void put(std::string_view client_id, std::shared_ptr<rendered_client const> r);
    std::size_t size() const;

private:
    static constexpr std::size_t shards = 16;
    struct shard {
        mutable std::mutex mu;
        std::unordered_map<std::string, std::shared_ptr<rendered_client const>, string_hash, std::equal_to<>> map;
        std::size_t bytes = 0;
    };
    shard& pick(std::string_view id) const;
    std::size_t per_shard_bytes_;
    mutable shard shards_[shards];
};

/// Fixed-window counters keyed by string (per-IP, per-identifier). Thread-safe.
class rate_limiter {
public:
    /// Counts one hit on `key`; true when still within `limit` per `window`. `retry_after_s` is set when not.
    bool hit(std::string_view key, std::uint32_t limit, std::chrono::seconds window, std::int64_t now_ms,
             std::int64_t& retry_after_s);

private:
    struct window_state {
        std::int64_t start_ms = 0;
        std::uint32_t count = 0;
    };
    std::mutex mu_;
    std::unordered_map<std::string, window_state> map_;
    std::int64_t last_sweep_ms_ = 0;
};

struct app {
    conf::config const& cfg;
    instance const& inst;
    store::database& db;
    /// The signing keys in force (crypto/live_keyring.hpp): read with one atomic load per mint; replaced by a
    /// rotation or retirement (server/api/console/keys.cpp).
    crypto::live_keyring& keys;
    message_sink& sink;
    token_cache tokens{};
    fragment_cache fragments{};
    client_cache clients{};
    rate_limiter limiter{};
    /// The durable delivery queue (email/SMS in smtp/twilio mode, webhooks), or null (then messages go to the
    /// sink and no webhook is sent). Jobs are enqueued in the write txn of the change that causes them
    /// (server/api/events.hpp).
    store::job_queue const* jobs = nullptr;
    /// Tells the delivery worker to look at the queue (see delivery::worker::wake); may be empty.
    std::function<void()> wake_delivery{};
    /// The GeoIP database (geoip_database), or null when none is configured.
    server::geoip const* geo = nullptr;
    /// The operator metrics (GET /metrics), or null (then nothing is counted).
    server::metrics* metrics = nullptr;
    /// Outbound HTTP to OAuth providers (server/federation/fetch.hpp), or null (then an OAuth callback fails).
    federation::fetcher* oauth_fetcher = nullptr;
    /// The recent webhook deliveries that left the queue (delivered or failed for good), or null (no history).
    delivery::history const* webhook_history = nullptr;
    /// Writes every user of the store in an import format (`csv`: Clerk's Dashboard CSV, else Clerk's CLI JSON), never
    /// with password digests or TOTP secrets, to `sink` piece by piece; returns how many. Handed in by the
    /// composition root (server/migrate's writer, which `latchkey export` uses too), so the API layer never includes
    /// the operator commands. Empty: the console's export answers an internal error.
    std::function<store::result<std::size_t>(bool csv, std::function<void(std::string_view)> const& sink)>
        export_users{};
    /// Test hook: added to the wall clock (integration tests move time forward to expire codes/tokens).
    std::atomic<std::int64_t> clock_offset_ms{0};

    std::int64_t now_ms() const noexcept {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count() +
               clock_offset_ms.load(std::memory_order_relaxed);
    }
};

}  // namespace latchkey::server::api
