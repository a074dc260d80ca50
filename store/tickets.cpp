// The tickets repository over a backend's ordered table (org_kv); keys in store/tickets.hpp.
#include "store/tickets.hpp"

#include "store/kv_family.hpp"

namespace latchkey::store {

using kv_family::key;
using kv_family::key2;
using kv_family::part_ok;
using kv_family::storable;
using kv_family::tails;

namespace {

result<std::optional<ticket_record>> get_rec(org_kv const& kv, std::string_view id) {
    if (!part_ok(id)) return std::optional<ticket_record>{};
    return kv_family::get_rec<ticket_record>(kv, key('r', id));
}

/// The records whose ids are the last part of the index keys under `prefix`.
result<std::vector<ticket_record>> records_by(org_kv const& kv, std::string const& prefix) {
    auto ids = tails(kv, prefix);
    if (!ids) return ids.error();
    std::vector<ticket_record> out;
    out.reserve(ids->size());
    for (auto const& id : *ids) {
        auto t = get_rec(kv, id);
        if (!t) return t.error();
        if (*t) out.push_back(std::move(**t));
    }
    return out;
}

}  // namespace

result<std::optional<ticket_record>> tickets_view::get(std::string_view id) const noexcept {
    return guarded([&] { return get_rec(*kv_, id); });
}

result<std::vector<ticket_record>> tickets_view::list(std::string_view kind) const noexcept {
    return guarded([&]() -> result<std::vector<ticket_record>> {
        if (!part_ok(kind)) return std::vector<ticket_record>{};
        return records_by(*kv_, key2('k', kind, {}));
    });
}

result<std::vector<ticket_record>> tickets_view::invitations_to(std::string_view email) const noexcept {
    return guarded([&]() -> result<std::vector<ticket_record>> {
        if (!part_ok(email)) return std::vector<ticket_record>{};
        return records_by(*kv_, key2('e', email, {}));
    });
}

result<void> tickets_repo::put(ticket_record const& t) noexcept {
    return guarded([&]() -> result<void> {
        auto const rk = key('r', t.id);
        auto const kk = key2('k', t.kind, t.id);
        if (!part_ok(t.id) || !part_ok(t.kind) || !storable(rk) || !storable(kk))
            return make_error_code(errc::invalid_key);
        if (!t.email_address.empty()) {
            auto const ek = key2('e', t.email_address, t.id);
            if (!part_ok(t.email_address) || !storable(ek)) return make_error_code(errc::invalid_key);
            if (auto r = w_->put(ek, {}, false); !r) return r;
        }
        if (auto r = w_->put(kk, {}, false); !r) return r;
        return w_->put(rk, encode(t), false);
    });
}

result<void> tickets_repo::remove(std::string_view id) noexcept {
    return guarded([&]() -> result<void> {
        auto t = get_rec(*kv_, id);
        if (!t) return t.error();
        if (!*t) return {};
        if (!(*t)->email_address.empty())
            if (auto r = w_->del(key2('e', (*t)->email_address, id)); !r) return r;
        if (auto r = w_->del(key2('k', (*t)->kind, id)); !r) return r;
        return w_->del(key('r', id));
    });
}

}  // namespace latchkey::store
