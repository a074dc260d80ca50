#include "store/queue.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <utility>

namespace latchkey::store {

std::int64_t backoff_ms(retry_policy const& p, std::int32_t attempts, double unit) noexcept {
    std::int64_t d = std::max<std::int64_t>(1, p.base_ms);
    for (std::int32_t i = 1; i < attempts && d < p.max_ms; ++i) d *= 2;
    d = std::min(d, std::max<std::int64_t>(1, p.max_ms));
    unit = std::clamp(unit, 0.0, 1.0);
    std::int64_t const half = d / 2;  // whole milliseconds: the jitter spreads over [half, d)
    return half + static_cast<std::int64_t>(std::floor(unit * static_cast<double>(d - half)));
}

result<job_queue> job_queue::open(database& d) noexcept {
    job_queue q;
    q.db_ = &d;
    return q;
}

result<void> job_queue::enqueue(write_txn& w, job_record const& j) const noexcept {
    return guarded([&]() -> result<void> {
        if (j.id.empty()) return make_error_code(errc::invalid_key);
        job_record rec = j;
        rec.state = "pending";
        return w.jobs().put(rec, true);
    });
}

result<std::vector<job_record>> job_queue::claim(std::int64_t now_ms, std::int64_t lease_ms, std::size_t max) noexcept {
    return guarded([&]() -> result<std::vector<job_record>> {
        std::vector<job_record> out;
        if (max == 0) return out;
        auto r = db_->with_write([&](write_txn& w) -> result<void> {
            auto due = w.jobs().due(now_ms, max);
            if (!due) return due.error();
            for (auto& rec : *due) {
                rec.attempts += 1;
                rec.next_attempt_at = now_ms + lease_ms;
                rec.leased = true;
                if (auto p = w.jobs().put(rec, false); !p) return p;
                out.push_back(std::move(rec));
            }
            return {};
        });
        if (!r) return r.error();
        return out;
    });
}

result<void> job_queue::complete(std::string_view id) noexcept {
    return guarded([&]() { return complete(std::vector<std::string>{std::string(id)}); });
}

result<void> job_queue::complete(std::vector<std::string> const& ids) noexcept {
    return db_->with_write([&](write_txn& w) -> result<void> {
        for (auto const& id : ids)
            if (auto r = w.jobs().remove(id); !r) return r;
        return {};
    });
}

result<void> job_queue::fail(std::string_view id, std::int64_t next_at_ms, bool dead, std::string_view error) noexcept {
    return guarded([&]() -> result<void> {
        return db_->with_write([&](write_txn& w) -> result<void> {
            auto j = w.jobs().get(id);
            if (!j) return j.error();
            if (!*j) return {};
            job_record rec = std::move(**j);
            rec.last_error = std::string(error.substr(0, 500));
            rec.leased = false;
            if (dead) {
                rec.state = "dead";
            } else {
                rec.state = "pending";
                rec.next_attempt_at = next_at_ms;
            }
            return w.jobs().put(rec, false);
        });
    });
}

result<std::size_t> job_queue::resume(std::int64_t now_ms) noexcept {
    return guarded([&]() -> result<std::size_t> {
        std::size_t n = 0;
        auto r = db_->with_write([&](write_txn& w) -> result<void> {
            auto all = w.jobs().list(std::numeric_limits<std::size_t>::max());
            if (!all) return all.error();
            for (auto& j : *all) {
                if (!j.leased || j.state != "pending") continue;
                j.leased = false;
                j.next_attempt_at = now_ms;
                if (auto p = w.jobs().put(j, false); !p) return p;
                ++n;
            }
            return {};
        });
        if (!r) return r.error();
        return n;
    });
}

result<std::optional<std::int64_t>> job_queue::next_due() const noexcept {
    return db_->with_read([&](read_txn& t) { return t.jobs().next_due(); });
}

result<std::optional<job_record>> job_queue::get(read_txn const& t, std::string_view id) const noexcept {
    return t.jobs().get(id);
}

result<std::vector<job_record>> job_queue::list(read_txn const& t, std::size_t limit) const noexcept {
    return t.jobs().list(limit);
}

result<queue_counts> job_queue::counts() const noexcept {
    return db_->with_read([&](read_txn& t) { return t.jobs().counts(); });
}

}  // namespace latchkey::store
