#include "server/api/app.hpp"

#include "server/log.hpp"

#include <boost/describe/members.hpp>
#include <boost/json/serialize.hpp>
#include <boost/mp11/algorithm.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <functional>
#include <type_traits>
#include <utility>

namespace latchkey::server::api {

outbox_sink::outbox_sink(std::string path) : path_(std::move(path)) {}

void outbox_sink::send(message const& m) {
    boost::json::object o;
    o["ts"] = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
    o["channel"] = m.channel;
    o["to"] = m.to;
    o["kind"] = m.kind;
    o["code"] = m.code;
    std::string line = boost::json::serialize(o);
    line.push_back('\n');
    {
        std::lock_guard lk(mu_);
        int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            auto n = ::write(fd, line.data(), line.size());
            (void)n;
            ::close(fd);
        }
    }
    // The log names the delivery, never the code.
    log::info("message_sent", {{"channel", m.channel}, {"kind", m.kind}, {"to", m.to}});
}

token_cache::shard& token_cache::pick(std::string_view id) const {
    return shards_[std::hash<std::string_view>{}(id) % shards];
}

bool token_cache::get(std::string_view session_id, std::string_view azp, std::int64_t now_s, std::int64_t not_before_s,
                      std::int64_t min_remaining_s, cached_token& out) const {
    auto t = find(session_id, azp, now_s, not_before_s, min_remaining_s);
    if (!t) return false;
    out = *t;
    return true;
}

namespace {

/// Sums `count(shard)` over a sharded cache, each shard under its own lock.
template <class Shards, class Count>
std::size_t sum_over_shards(Shards const& shards, Count count) {
    std::size_t n = 0;
    for (auto const& s : shards) {
        std::lock_guard lk(s.mu);
        n += count(s);
    }
    return n;
}

}  // namespace

std::shared_ptr<cached_token const> token_cache::find(std::string_view session_id, std::string_view azp,
                                                      std::int64_t now_s, std::int64_t not_before_s,
                                                      std::int64_t min_remaining_s) const {
    std::shared_ptr<cached_token const> t;
    {
        auto& s = pick(session_id);
        std::lock_guard lk(s.mu);
        auto it = s.map.find(session_id);
        if (it == s.map.end()) return nullptr;
        t = it->second;
    }
    // Entries are immutable (put replaces them): check outside the lock.
    if (t->exp - now_s < min_remaining_s || t->iat < not_before_s || t->iat > now_s || t->azp != azp) return nullptr;
    return t;
}

std::shared_ptr<cached_token const> token_cache::put(std::string_view session_id, cached_token t) {
    auto shared = std::make_shared<cached_token const>(std::move(t));
    std::shared_ptr<cached_token const> old;  // freed after the lock
    auto& s = pick(session_id);
    std::lock_guard lk(s.mu);
    if (auto it = s.map.find(session_id); it != s.map.end())
        old = std::exchange(it->second, shared);
    else
        s.map.emplace(std::string(session_id), shared);
    return shared;
}

bool token_cache::holds(std::string_view session_id, cached_token const* t) const {
    auto& s = pick(session_id);
    std::lock_guard lk(s.mu);
    auto it = s.map.find(session_id);
    return it != s.map.end() && it->second.get() == t;
}

client_cache::client_cache(std::size_t max_bytes) : per_shard_bytes_(std::max<std::size_t>(1, max_bytes / shards)) {}

client_cache::shard& client_cache::pick(std::string_view id) const {
    return shards_[std::hash<std::string_view>{}(id) % shards];
}

std::shared_ptr<rendered_client const> client_cache::get(std::string_view client_id) const {
    auto& s = pick(client_id);
    std::lock_guard lk(s.mu);
    auto it = s.map.find(client_id);
    return it == s.map.end() ? nullptr : it->second;
}

void client_cache::put(std::string_view client_id, std::shared_ptr<rendered_client const> r) {
    std::size_t const bytes = r->json.size() + client_id.size();
    if (bytes > per_shard_bytes_) return;
    std::unordered_map<std::string, std::shared_ptr<rendered_client const>, string_hash, std::equal_to<>> dropped;
    std::shared_ptr<rendered_client const> old;  // both freed after the lock
    auto& s = pick(client_id);
    std::lock_guard lk(s.mu);
    if (auto it = s.map.find(client_id); it != s.map.end()) {
        s.bytes -= it->second->json.size() + it->first.size();
        old = std::exchange(it->second, std::move(r));
    } else {
        if (s.bytes + bytes > per_shard_bytes_) {
            dropped.swap(s.map);
            s.bytes = 0;
        }
        s.map.emplace(std::string(client_id), std::move(r));
    }
    s.bytes += bytes;
}

std::size_t client_cache::size() const {
    return sum_over_shards(shards_, [](shard const& s) { return s.map.size(); });
}

void token_cache::erase(std::string_view session_id) {
    auto& s = pick(session_id);
    std::lock_guard lk(s.mu);
    if (auto it = s.map.find(session_id); it != s.map.end()) s.map.erase(it);
}

void token_cache::clear() {
    for (auto& s : shards_) {
        std::lock_guard lk(s.mu);
        s.map.clear();
    }
}

namespace {

/// Field-by-field equality of described records (recursing into described members and vectors of them):
/// written generically so that a field added to a record later takes part without anyone remembering to.
template <class T>
bool equal_fields(T const& a, T const& b);

template <class T>
bool equal_value(T const& a, T const& b) {
    if constexpr (boost::describe::has_describe_members<T>::value) {
        return equal_fields(a, b);
    } else if constexpr (requires(T const& x) {
                             x.size();
                             x[0];
                             typename T::value_type;
                         } &&
                         !std::is_same_v<T, std::string>) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (!equal_value(a[i], b[i])) return false;
        return true;
    } else {
        return a == b;
    }
}

template <class T>
bool equal_fields(T const& a, T const& b) {
    bool same = true;
    boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_any_access>>(
        [&](auto d) { same = same && equal_value(a.*d.pointer, b.*d.pointer); });
    return same;
}

/// What the cache keeps of a user: everything but the secrets the frontend never shows. Of the password, the
/// sealed TOTP secret and the backup-code digests only their presence (and the number of codes) is kept.
store::user_record rendering_inputs(store::user_record const& u) {
    store::user_record r = u;
    r.password_digest.assign(u.password_digest.empty() ? 0 : 1, '*');
    r.totp_secret_sealed.assign(u.totp_secret_sealed.empty() ? 0 : 1, '*');
    for (auto& d : r.backup_code_digests) d = "*";
    r.private_metadata.clear();
    return r;
}

}  // namespace

bool fragment_cache::same_rendering_inputs(store::user_record const& a, store::user_record const& b) {
    bool same = true;
    boost::mp11::mp_for_each<boost::describe::describe_members<store::user_record, boost::describe::mod_any_access>>(
        [&](auto d) {
            if (!same) return;
            if constexpr (std::is_same_v<std::remove_cvref_t<decltype(a.*d.pointer)>, std::string>) {
                if (d.pointer == &store::user_record::password_digest) {
                    same = a.password_digest.empty() == b.password_digest.empty();
                    return;
                }
                if (d.pointer == &store::user_record::totp_secret_sealed) {
                    same = a.totp_secret_sealed.empty() == b.totp_secret_sealed.empty();
                    return;
                }
                if (d.pointer == &store::user_record::private_metadata) return;
            }
            if constexpr (std::is_same_v<std::remove_cvref_t<decltype(a.*d.pointer)>, std::vector<std::string>>) {
                if (d.pointer == &store::user_record::backup_code_digests) {
                    same = a.backup_code_digests.size() == b.backup_code_digests.size();
                    return;
                }
            }
            same = equal_value(a.*d.pointer, b.*d.pointer);
        });
    return same;
}

fragment_cache::fragment_cache(std::size_t capacity) : per_shard_(std::max<std::size_t>(1, capacity / shards)) {}

fragment_cache::shard& fragment_cache::pick(std::string_view id) const {
    return shards_[std::hash<std::string_view>{}(id) % shards];
}

std::shared_ptr<user_fragment const> fragment_cache::get(store::user_record const& u, std::int64_t now_ms) const {
    std::shared_ptr<user_fragment const> f;
    {
        auto& s = pick(u.id);
        std::lock_guard lk(s.mu);
        auto it = s.index.find(std::string_view(u.id));
        if (it == s.index.end()) return nullptr;
        auto& sl = s.slots[it->second];
        sl.referenced = true;
        f = sl.fragment;
    }
    // Entries are immutable: compare outside the lock.
    if (now_ms < f->valid_from_ms || now_ms >= f->valid_until_ms) return nullptr;
    if (!same_rendering_inputs(f->user, u)) return nullptr;
    return f;
}

std::shared_ptr<user_fragment const> fragment_cache::put(store::user_record const& u, std::string json,
                                                         std::int64_t valid_from_ms, std::int64_t valid_until_ms) {
    auto f = std::make_shared<user_fragment const>(
        user_fragment{rendering_inputs(u), std::move(json), valid_from_ms, valid_until_ms});
    std::shared_ptr<user_fragment const> evicted;  // released after the lock
    auto& s = pick(u.id);
    std::lock_guard lk(s.mu);
    if (auto it = s.index.find(std::string_view(u.id)); it != s.index.end()) {
        auto& sl = s.slots[it->second];
        evicted = std::exchange(sl.fragment, f);
        sl.referenced = true;
        return f;
    }
    std::size_t at = 0;
    if (s.slots.size() < per_shard_) {
        at = s.slots.size();
        s.slots.push_back(slot{u.id, f, false});
    } else {
        // CLOCK: pass over recently used entries once (clearing their bit), evict the first unused one.
        while (s.slots[s.hand].referenced) {
            s.slots[s.hand].referenced = false;
            s.hand = (s.hand + 1) % s.slots.size();
        }
        at = s.hand;
        s.hand = (s.hand + 1) % s.slots.size();
        auto& sl = s.slots[at];
        if (auto old = s.index.find(std::string_view(sl.id)); old != s.index.end()) s.index.erase(old);
        evicted = std::exchange(sl.fragment, f);
        sl.id = u.id;
        sl.referenced = false;
    }
    s.index.emplace(u.id, at);
    return f;
}

void fragment_cache::erase(std::string_view user_id) {
    std::shared_ptr<user_fragment const> evicted;
    auto& s = pick(user_id);
    std::lock_guard lk(s.mu);
    auto it = s.index.find(user_id);
    if (it == s.index.end()) return;
    // The slot stays (vectors never shrink); an empty slot is reused by the next eviction round.
    auto& sl = s.slots[it->second];
    evicted = std::move(sl.fragment);
    sl.id.clear();
    sl.referenced = false;
    s.index.erase(it);
}

std::size_t fragment_cache::size() const {
    return sum_over_shards(shards_, [](shard const& s) { return s.index.size(); });
}

bool rate_limiter::hit(std::string_view key, std::uint32_t limit, std::chrono::seconds window, std::int64_t now_ms,
                       std::int64_t& retry_after_s) {
    std::int64_t const win = window.count() * 1000;
    std::lock_guard lk(mu_);
    if (now_ms - last_sweep_ms_ > 60'000 && map_.size() > 10'000) {
        std::erase_if(map_, [&](auto const& kv) { return now_ms - kv.second.start_ms >= win; });
        last_sweep_ms_ = now_ms;
    }
    auto& st = map_[std::string(key)];
    if (now_ms - st.start_ms >= win) {
        st.start_ms = now_ms;
        st.count = 0;
    }
    if (st.count >= limit) {
        retry_after_s = std::max<std::int64_t>(1, (st.start_ms + win - now_ms + 999) / 1000);
        return false;
    }
    ++st.count;
    return true;
}

}  // namespace latchkey::server::api
