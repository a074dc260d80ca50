#include "store/queue.hpp"

#include "store/codec.hpp"

#include <algorithm>
#include <cmath>
#include <new>
#include <utility>

namespace latchkey::store {

namespace {

/// Runs f, turning an allocation failure into an error (store functions are noexcept).
template <class F>
auto guarded(F&& f) noexcept -> decltype(f()) {
    try {
        return f();
    } catch (std::bad_alloc const&) {
        return make_error_code(boost::system::errc::not_enough_memory);
    }
}

/// jobs_due key: 8 bytes big-endian time (negative times clamp to 0), then the id.
std::string due_key(std::int64_t at_ms, std::string_view id) {
    auto const t = static_cast<std::uint64_t>(std::max<std::int64_t>(0, at_ms));
    std::string k(8, '\0');
    for (int i = 0; i < 8; ++i) k[static_cast<std::size_t>(i)] = static_cast<char>((t >> (56 - 8 * i)) & 0xff);
    k.append(id);
    return k;
}

std::int64_t due_time(std::string_view key) noexcept {
    std::uint64_t t = 0;
    for (std::size_t i = 0; i < 8 && i < key.size(); ++i) t = (t << 8) | static_cast<unsigned char>(key[i]);
    return static_cast<std::int64_t>(t);
}

result<std::optional<job_record>> read_job(txn const& t, MDB_dbi jobs, std::string_view id) {
    auto v = t.get(jobs, id);
    if (!v) return v.error();
    if (!*v) return std::optional<job_record>{};
    auto r = decode<job_record>(**v);
    if (!r) return r.error();
    return std::optional<job_record>{std::move(*r)};
}

}  // namespace

std::int64_t backoff_ms(retry_policy const& p, std::int32_t attempts, double unit) noexcept {
    std::int64_t d = std::max<std::int64_t>(1, p.base_ms);
    for (std::int32_t i = 1; i < attempts && d < p.max_ms; ++i) d *= 2;
    d = std::min(d, std::max<std::int64_t>(1, p.max_ms));
    unit = std::clamp(unit, 0.0, 1.0);
    return d / 2 + static_cast<std::int64_t>(std::floor(unit * static_cast<double>(d - d / 2)));
}

result<job_queue> job_queue::open(db& d) noexcept {
    return guarded([&]() -> result<job_queue> {
        job_queue q;
        q.db_ = &d;
        auto r = d.with_write([&](write_txn& w) -> result<void> {
            auto jobs = w.open_dbi("jobs");
            if (!jobs) return jobs.error();
            auto due = w.open_dbi("jobs_due");
            if (!due) return due.error();
            q.jobs_ = *jobs;
            q.due_ = *due;
            return {};
        });
        if (!r) return r.error();
        return q;
    });
}

result<void> job_queue::enqueue(write_txn& w, job_record const& j) const noexcept {
    return guarded([&]() -> result<void> {
        if (j.id.empty()) return make_error_code(errc::invalid_key);
        job_record rec = j;
        rec.state = "pending";
        if (auto r = w.put(jobs_, rec.id, encode(rec), MDB_NOOVERWRITE); !r) return r;
        return w.put(due_, due_key(rec.next_attempt_at, rec.id), {});
    });
}

result<std::vector<job_record>> job_queue::claim(std::int64_t now_ms, std::int64_t lease_ms, std::size_t max) noexcept {
    return guarded([&]() -> result<std::vector<job_record>> {
        std::vector<job_record> out;
        if (max == 0) return out;
        auto r = db_->with_write([&](write_txn& w) -> result<void> {
            std::vector<std::string> keys;
            {
                auto c = cursor::open(w, due_);
                if (!c) return c.error();
                auto e = c->first();
                while (true) {
                    if (!e) return e.error();
                    if (!*e || due_time((*e)->first) > now_ms || keys.size() >= max) break;
                    keys.emplace_back((*e)->first);
                    e = c->next();
                }
            }
            for (auto const& k : keys) {
                auto j = read_job(w, jobs_, std::string_view(k).substr(8));
                if (!j) return j.error();
                if (auto d = w.del(due_, k); !d) return d;
                if (!*j) continue;  // an index entry without its job: drop it
                job_record rec = std::move(**j);
                rec.attempts += 1;
                rec.next_attempt_at = now_ms + lease_ms;
                rec.leased = true;
                if (auto p = w.put(jobs_, rec.id, encode(rec)); !p) return p;
                if (auto p = w.put(due_, due_key(rec.next_attempt_at, rec.id), {}); !p) return p;
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
    return guarded([&]() -> result<void> {
        return db_->with_write([&](write_txn& w) -> result<void> {
            for (auto const& id : ids) {
                auto j = read_job(w, jobs_, id);
                if (!j) return j.error();
                if (!*j) continue;
                if ((*j)->state == "pending")
                    if (auto d = w.del(due_, due_key((*j)->next_attempt_at, id)); !d) return d;
                if (auto d = w.del(jobs_, id); !d) return d;
            }
            return {};
        });
    });
}

result<void> job_queue::fail(std::string_view id, std::int64_t next_at_ms, bool dead, std::string_view error) noexcept {
    return guarded([&]() -> result<void> {
        return db_->with_write([&](write_txn& w) -> result<void> {
            auto j = read_job(w, jobs_, id);
            if (!j) return j.error();
            if (!*j) return {};
            job_record rec = std::move(**j);
            if (rec.state == "pending")
                if (auto d = w.del(due_, due_key(rec.next_attempt_at, id)); !d) return d;
            rec.last_error = std::string(error.substr(0, 500));
            rec.leased = false;
            if (dead) {
                rec.state = "dead";
            } else {
                rec.state = "pending";
                rec.next_attempt_at = next_at_ms;
                if (auto p = w.put(due_, due_key(rec.next_attempt_at, id), {}); !p) return p;
            }
            return w.put(jobs_, id, encode(rec));
        });
    });
}

result<std::size_t> job_queue::resume(std::int64_t now_ms) noexcept {
    return guarded([&]() -> result<std::size_t> {
        std::size_t n = 0;
        auto r = db_->with_write([&](write_txn& w) -> result<void> {
            std::vector<job_record> leased;
            {
                auto c = cursor::open(w, jobs_);
                if (!c) return c.error();
                for (auto e = c->first();; e = c->next()) {
                    if (!e) return e.error();
                    if (!*e) break;
                    auto j = decode<job_record>((*e)->second);
                    if (!j) return j.error();
                    if (j->leased && j->state == "pending") leased.push_back(std::move(*j));
                }
            }
            for (auto& j : leased) {
                if (auto d = w.del(due_, due_key(j.next_attempt_at, j.id)); !d) return d;
                j.leased = false;
                j.next_attempt_at = now_ms;
                if (auto p = w.put(jobs_, j.id, encode(j)); !p) return p;
                if (auto p = w.put(due_, due_key(j.next_attempt_at, j.id), {}); !p) return p;
            }
            n = leased.size();
            return {};
        });
        if (!r) return r.error();
        return n;
    });
}

result<std::optional<std::int64_t>> job_queue::next_due() const noexcept {
    return guarded([&]() -> result<std::optional<std::int64_t>> {
        return db_->with_read([&](read_txn& t) -> result<std::optional<std::int64_t>> {
            auto c = cursor::open(t, due_);
            if (!c) return c.error();
            auto e = c->first();
            if (!e) return e.error();
            if (!*e) return std::optional<std::int64_t>{};
            return std::optional<std::int64_t>{due_time((*e)->first)};
        });
    });
}

result<std::optional<job_record>> job_queue::get(txn const& t, std::string_view id) const noexcept {
    return guarded([&]() { return read_job(t, jobs_, id); });
}

result<std::vector<job_record>> job_queue::list(txn const& t, std::size_t limit) const noexcept {
    return guarded([&]() -> result<std::vector<job_record>> {
        std::vector<job_record> out;
        auto c = cursor::open(t, jobs_);
        if (!c) return c.error();
        auto e = c->first();
        while (out.size() < limit) {
            if (!e) return e.error();
            if (!*e) break;
            auto r = decode<job_record>((*e)->second);
            if (!r) return r.error();
            out.push_back(std::move(*r));
            e = c->next();
        }
        return out;
    });
}

result<queue_counts> job_queue::counts() const noexcept {
    return db_->with_read([&](read_txn& t) -> result<queue_counts> {
        auto all = t.count(jobs_);
        if (!all) return all.error();
        auto due = t.count(due_);
        if (!due) return due.error();
        queue_counts c;
        c.pending = *due;
        c.dead = *all >= *due ? *all - *due : 0;
        return c;
    });
}

}  // namespace latchkey::store
