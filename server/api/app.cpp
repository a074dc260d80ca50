#include "server/api/app.hpp"

#include "server/log.hpp"

#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <functional>
#include <unistd.h>

namespace latchkey::server::api {

outbox_sink::outbox_sink(std::string path) : path_(std::move(path)) {}

void outbox_sink::send(message const& m) {
    boost::json::object o;
    o["ts"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
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
    auto& s = pick(session_id);
    std::lock_guard lk(s.mu);
    auto it = s.map.find(std::string(session_id));
    if (it == s.map.end()) return false;
    auto const& t = it->second;
    if (t.exp - now_s < min_remaining_s || t.iat < not_before_s || t.iat > now_s || t.azp != azp) return false;
    out = t;
    return true;
}

void token_cache::put(std::string_view session_id, cached_token t) {
    auto& s = pick(session_id);
    std::lock_guard lk(s.mu);
    s.map.insert_or_assign(std::string(session_id), std::move(t));
}

void token_cache::erase(std::string_view session_id) {
    auto& s = pick(session_id);
    std::lock_guard lk(s.mu);
    s.map.erase(std::string(session_id));
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
