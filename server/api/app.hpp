#pragma once
// What every handler gets: settings, the store, keys and the few shared in-memory services.
// Handlers are plain synchronous functions of (app&, request_ctx&) that do no I/O beyond LMDB.
#include "conf/config.hpp"
#include "crypto/keys.hpp"
#include "server/instance.hpp"
#include "store/db.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace latchkey::server::api {

/// A message to deliver (one-time codes). The default sink writes it to the log and to
/// <data_dir>/outbox.jsonl; the code itself goes only to the outbox file, never to the log.
struct message {
    std::string channel;  ///< "email" | "sms"
    std::string to;
    std::string kind;     ///< "email_code", "phone_code", "reset_password_email_code", ...
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
};

/// User fragments by user id. A hit requires the stored user to equal the cached inputs field by field
/// (every described member of user_record, recursively), so the cache can never serve a fragment for
/// data that changed — whichever code path changed it and whether or not it bumped updated_at — and needs
/// no invalidation hooks. Bounded: `capacity` entries in total, spread over shards with one mutex each (the
/// I/O threads rarely meet), each shard evicting with the CLOCK (second-chance) policy, an LRU
/// approximation that needs no list splicing on a hit. An entry is ~3-4 KB (the JSON plus the record copy), so
/// the default bound keeps the cache under ~16 MB however many users sign in.
/// The session fields around the fragment (status, fva, token, timestamps) are not cached: they are cheap to
/// write and depend on the clock and the token cache.
class fragment_cache {
public:
    explicit fragment_cache(std::size_t capacity = 4096);

    /// The fragment rendered from a user identical (for rendering) to `u`, or null.
    std::shared_ptr<user_fragment const> get(store::user_record const& u) const;
    /// Caches `json` as rendered from `u` (replacing any older fragment of the user) and returns it.
    std::shared_ptr<user_fragment const> put(store::user_record const& u, std::string json);
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
    store::db& db;
    crypto::keyring const& keys;
    message_sink& sink;
    token_cache tokens{};
    fragment_cache fragments{};
    rate_limiter limiter{};
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
