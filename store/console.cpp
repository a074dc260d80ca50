// The console repository over a backend's ordered table (org_kv). Keys:
//   o\0<operator id>                 -> operator record
//   n\0<operator name>               -> operator id (unique)
//   l\0<link digest>                 -> console link record
//   s\0<session digest>              -> console session record
//   a\0<16 hex: INT64_MAX - at><id>  -> audit record (key order = newest first)
//   k\0<counter name>\0<16 hex bucket> -> decimal count
#include "store/console.hpp"

#include "store/kv_family.hpp"

#include <charconv>
#include <climits>

namespace latchkey::store {

using kv_family::each_record;
using kv_family::get_rec;
using kv_family::get_via;
using kv_family::invalid;
using kv_family::key;
using kv_family::part_ok;
using kv_family::prefix2;
using kv_family::put_at;
using kv_family::put_uniquely_named;
using kv_family::records_under;
using kv_family::storable;

namespace {

std::string hex16(std::uint64_t v) {
    std::string s(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = "0123456789abcdef"[v & 0xf];
    return s;
}

std::int64_t parse_count(std::string_view v) {
    std::int64_t n = 0;
    std::from_chars(v.data(), v.data() + v.size(), n);
    return n;
}

}  // namespace

result<std::optional<operator_record>> console_view::operator_by_id(std::string_view id) const noexcept {
    return guarded([&] { return get_rec<operator_record>(*kv_, key('o', id)); });
}

result<std::optional<operator_record>> console_view::operator_by_name(std::string_view name) const noexcept {
    return guarded([&] { return get_via<operator_record>(*kv_, key('n', name), 'o'); });
}

result<std::vector<operator_record>> console_view::operators() const noexcept {
    return guarded([&] { return records_under<operator_record>(*kv_, key('o', {})); });
}

result<std::optional<console_link_record>> console_view::link(std::string_view digest) const noexcept {
    return guarded([&] { return get_rec<console_link_record>(*kv_, key('l', digest)); });
}

result<std::optional<console_session_record>> console_view::session(std::string_view digest) const noexcept {
    return guarded([&] { return get_rec<console_session_record>(*kv_, key('s', digest)); });
}

result<std::vector<audit_record>> console_view::audit(std::size_t limit, std::string_view before_id) const noexcept {
    return guarded([&]() -> result<std::vector<audit_record>> {
        std::vector<audit_record> out;
        if (limit == 0) return out;
        bool skipping = !before_id.empty();
        auto r = each_record<audit_record>(*kv_, key('a', {}), [&](audit_record&& a) {
            if (skipping) {
                if (a.id == before_id) skipping = false;
                return true;
            }
            out.push_back(std::move(a));
            return out.size() < limit;
        });
        if (!r) return r.error();
        return out;
    });
}

result<std::vector<std::pair<std::int64_t, std::int64_t>>> console_view::counters(std::string_view name,
                                                                                  std::int64_t from,
                                                                                  std::int64_t to) const noexcept {
    using out_t = std::vector<std::pair<std::int64_t, std::int64_t>>;
    return guarded([&]() -> result<out_t> {
        out_t out;
        if (!part_ok(name) || to <= from) return out;
        auto const prefix = prefix2('k', name);
        // The table is ordered: scan the counter's buckets and stop past `to` (a counter holds one entry per
        // bucket that saw activity, so this reads at most the buckets of the range plus the older ones).
        auto r = kv_->scan(prefix, [&](std::string_view k, std::string_view v) {
            auto const hex = k.substr(prefix.size());
            std::uint64_t b = 0;
            std::from_chars(hex.data(), hex.data() + hex.size(), b, 16);
            auto const bucket = static_cast<std::int64_t>(b);
            if (bucket >= to) return false;
            if (bucket >= from) out.emplace_back(bucket, parse_count(v));
            return true;
        });
        if (!r) return r.error();
        return out;
    });
}

result<void> console_repo::put_operator(operator_record const& o, bool insert) noexcept {
    return guarded([&] { return put_uniquely_named(*w_, 'o', o.id, 'n', o.name, o, insert); });
}

result<void> console_repo::put_link(console_link_record const& l) noexcept {
    return guarded([&] { return put_at(*w_, 'l', l.digest, l); });
}

result<void> console_repo::put_session(console_session_record const& s) noexcept {
    return guarded([&] { return put_at(*w_, 's', s.digest, s); });
}

result<void> console_repo::put_audit(audit_record const& a) noexcept {
    return guarded([&]() -> result<void> {
        if (!part_ok(a.id) || a.at < 0) return invalid();
        auto const k = key('a', hex16(static_cast<std::uint64_t>(INT64_MAX - a.at)) + a.id);
        if (!storable(k)) return invalid();
        return w_->put(k, encode(a), true);
    });
}

result<void> console_repo::bump(std::string_view name, std::int64_t bucket, std::int64_t delta) noexcept {
    return guarded([&]() -> result<void> {
        if (!part_ok(name) || bucket < 0) return invalid();
        auto const k = prefix2('k', name) + hex16(static_cast<std::uint64_t>(bucket));
        if (!storable(k)) return invalid();
        auto v = w_->get(k);
        if (!v) return v.error();
        std::int64_t const n = (*v ? parse_count(**v) : 0) + delta;
        return w_->put(k, std::to_string(n), false);
    });
}

}  // namespace latchkey::store
