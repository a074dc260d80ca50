#include "store/waitlist.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

namespace latchkey::store {

namespace {

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

}  // namespace

bool matches(waitlist_entry_record const& r, waitlist_filter const& f) noexcept {
    if (!f.status.empty() && r.status != f.status) return false;
    return f.query.empty() || icontains(r.email_address, f.query) || icontains(r.id, f.query);
}

std::vector<waitlist_entry_record> select(std::vector<waitlist_entry_record> all, waitlist_filter const& f,
                                          std::size_t* total) {
    bool const asc = f.order_by.starts_with('+');
    std::string_view field = f.order_by;
    if (!field.empty() && (field.front() == '+' || field.front() == '-')) field.remove_prefix(1);
    auto key_less = [&](waitlist_entry_record const& a, waitlist_entry_record const& b) {
        if (field == "email_address" && a.email_address != b.email_address) return a.email_address < b.email_address;
        if (field == "invited_at" && a.invited_at != b.invited_at) return a.invited_at < b.invited_at;
        return a.id < b.id;  // creation order, and the tie-break
    };
    std::stable_sort(all.begin(), all.end(),
                     [&](auto const& a, auto const& b) { return asc ? key_less(a, b) : key_less(b, a); });
    if (total) *total = all.size();
    std::vector<waitlist_entry_record> page;
    for (std::size_t i = f.offset; i < all.size() && page.size() < f.limit; ++i) page.push_back(std::move(all[i]));
    return page;
}

}  // namespace latchkey::store
