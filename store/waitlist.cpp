#include "store/waitlist.hpp"

#include "store/codec.hpp"

#include <algorithm>
#include <new>
#include <utility>

namespace latchkey::store {

namespace {

template <class F>
auto guarded(F&& f) noexcept -> decltype(f()) {
    try {
        return f();
    } catch (std::bad_alloc const&) {
        return make_error_code(boost::system::errc::not_enough_memory);
    }
}

constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool icontains(std::string_view hay, std::string_view needle) noexcept {
    if (needle.size() > hay.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        std::size_t j = 0;
        while (j < needle.size() && ascii_lower(hay[i + j]) == ascii_lower(needle[j])) ++j;
        if (j == needle.size()) return true;
    }
    return false;
}

result<std::optional<waitlist_entry_record>> get_entry(txn const& t, MDB_dbi dbi, std::string_view id) {
    auto v = t.get(dbi, id);
    if (!v) return v.error();
    if (!*v) return std::optional<waitlist_entry_record>{};
    auto r = decode<waitlist_entry_record>(**v);
    if (!r) return r.error();
    return std::optional<waitlist_entry_record>{std::move(*r)};
}

}  // namespace

result<waitlist> waitlist::open(env const& e) noexcept {
    return guarded([&]() -> result<waitlist> {
        auto w = write_txn::begin(e);
        if (!w) return w.error();
        waitlist out;
        auto a = w->open_dbi("waitlist_entries");
        if (!a) return a.error();
        auto b = w->open_dbi("waitlist_by_email");
        if (!b) return b.error();
        out.entries_ = *a;
        out.by_email_ = *b;
        if (auto c = std::move(*w).commit(); !c) return c.error();
        return out;
    });
}

result<void> waitlist::put(write_txn& w, waitlist_entry_record const& r, bool insert) const noexcept {
    return guarded([&]() -> result<void> {
        if (insert) {
            if (auto x = w.put(by_email_, r.email_address, r.id, MDB_NOOVERWRITE); !x) return x.error();
            if (auto x = w.put(entries_, r.id, encode(r), MDB_NOOVERWRITE); !x) return x.error();
            return {};
        }
        return w.put(entries_, r.id, encode(r));
    });
}

result<void> waitlist::remove(write_txn& w, waitlist_entry_record const& r) const noexcept {
    return guarded([&]() -> result<void> {
        auto v = w.get(by_email_, r.email_address);
        if (!v) return v.error();
        if (*v && **v == r.id)
            if (auto x = w.del(by_email_, r.email_address); !x) return x.error();
        return w.del(entries_, r.id);
    });
}

result<std::optional<waitlist_entry_record>> waitlist::get(txn const& t, std::string_view id) const noexcept {
    return guarded([&] { return get_entry(t, entries_, id); });
}

result<std::optional<waitlist_entry_record>> waitlist::by_email(txn const& t, std::string_view email) const noexcept {
    return guarded([&]() -> result<std::optional<waitlist_entry_record>> {
        auto id = t.get(by_email_, email);
        if (!id) return id.error();
        if (!*id) return std::optional<waitlist_entry_record>{};
        return get_entry(t, entries_, std::string(**id));
    });
}

result<std::vector<waitlist_entry_record>> waitlist::list(txn const& t, waitlist_filter const& f,
                                                          std::size_t* total) const noexcept {
    return guarded([&]() -> result<std::vector<waitlist_entry_record>> {
        // A scan of every entry: waitlists are small next to users, and every order but creation needs the
        // whole match set anyway.
        std::vector<waitlist_entry_record> all;
        auto c = cursor::open(t, entries_);
        if (!c) return c.error();
        for (auto e = c->first();; e = c->next()) {
            if (!e) return e.error();
            if (!*e) break;
            auto r = decode<waitlist_entry_record>((*e)->second);
            if (!r) return r.error();
            if (!f.status.empty() && r->status != f.status) continue;
            if (!f.query.empty() && !icontains(r->email_address, f.query) && !icontains(r->id, f.query)) continue;
            all.push_back(std::move(*r));
        }
        bool const asc = f.order_by.starts_with('+');
        std::string_view field = f.order_by;
        if (!field.empty() && (field.front() == '+' || field.front() == '-')) field.remove_prefix(1);
        auto key_less = [&](waitlist_entry_record const& a, waitlist_entry_record const& b) {
            if (field == "email_address" && a.email_address != b.email_address) return a.email_address < b.email_address;
            if (field == "invited_at" && a.invited_at != b.invited_at) return a.invited_at < b.invited_at;
            return a.id < b.id;  // creation order, and the tie-break
        };
        std::stable_sort(all.begin(), all.end(), [&](auto const& a, auto const& b) {
            return asc ? key_less(a, b) : key_less(b, a);
        });
        if (total) *total = all.size();
        std::vector<waitlist_entry_record> page;
        for (std::size_t i = f.offset; i < all.size() && page.size() < f.limit; ++i) page.push_back(std::move(all[i]));
        return page;
    });
}

result<std::size_t> waitlist::count(txn const& t) const noexcept { return t.count(entries_); }

}  // namespace latchkey::store
