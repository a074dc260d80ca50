// The organizations repository over a backend's ordered table (org_kv). Keys:
//   o\0<org id>                 -> organization record
//   s\0<slug>                   -> org id (unique)
//   m\0<org id>\0<user id>      -> membership record
//   u\0<user id>\0<org id>      -> "" (memberships by user)
//   i\0<invitation id>          -> invitation record
//   j\0<org id>\0<inv id>       -> "" (invitations by organization)
//   e\0<email>\0<inv id>        -> "" (invitations by address)
//   t\0<ticket digest>          -> invitation id
//   d\0<domain id>              -> domain record
//   g\0<org id>\0<domain id>    -> "" (domains by organization)
//   n\0<name>\0<domain id>      -> "" (domains by name)
//   r\0<request id>             -> membership request record
//   q\0<org id>\0<request id>   -> "" (requests by organization)
//   w\0<user id>\0<request id>  -> "" (requests by user)
#include "store/organizations.hpp"

#include "store/kv_family.hpp"

namespace latchkey::store {

using kv_family::for_each_of;
using kv_family::get_rec;
using kv_family::get_via;
using kv_family::if_stored;
using kv_family::index_parts;
using kv_family::invalid;
using kv_family::key;
using kv_family::key2;
using kv_family::part_ok;
using kv_family::prefix2;
using kv_family::put_indexed;
using kv_family::records_under;
using kv_family::remove_indexed;
using kv_family::storable;
using kv_family::tails;

namespace {
template <class T>
result<std::vector<T>> by_index(org_kv const& kv, std::string const& prefix, char tag) {
    std::vector<T> out;
    auto ids = tails(kv, prefix);
    if (!ids) return ids.error();
    for (auto const& id : *ids) {
        auto x = get_rec<T>(kv, key(tag, id));
        if (!x) return x.error();
        if (*x) out.push_back(std::move(**x));
    }
    return out;
}
/// A domain's index entries: by organization (g) and by name (n).
index_parts<2> domain_indexes(org_domain_record const& d) { return {{{'g', d.organization_id}, {'n', d.name}}}; }
/// A membership request's index entries: by organization (q) and by user (w).
index_parts<2> request_indexes(org_membership_request_record const& q) {
    return {{{'q', q.organization_id}, {'w', q.user_id}}};
}
/// The invitations whose ids are the last part of the index keys under `prefix`.
result<std::vector<org_invitation_record>> invitations_by(org_kv const& kv, std::string const& prefix) {
    return by_index<org_invitation_record>(kv, prefix, 'i');
}
}  // namespace

result<std::optional<organization_record>> organizations_view::get(std::string_view id) const noexcept {
    return guarded([&] { return get_rec<organization_record>(*kv_, key('o', id)); });
}

result<std::optional<organization_record>> organizations_view::by_slug(std::string_view slug) const noexcept {
    return guarded([&] { return get_via<organization_record>(*kv_, key('s', slug), 'o'); });
}

result<std::vector<organization_record>> organizations_view::list() const noexcept {
    return guarded([&] { return records_under<organization_record>(*kv_, key('o', {})); });
}

result<std::optional<org_membership_record>> organizations_view::membership(std::string_view org_id,
                                                                            std::string_view user_id) const noexcept {
    return guarded([&]() -> result<std::optional<org_membership_record>> {
        if (!part_ok(org_id) || !part_ok(user_id)) return std::optional<org_membership_record>{};
        return get_rec<org_membership_record>(*kv_, key2('m', org_id, user_id));
    });
}

result<std::vector<org_membership_record>> organizations_view::memberships_of_org(
    std::string_view org_id) const noexcept {
    return guarded([&]() -> result<std::vector<org_membership_record>> {
        if (!part_ok(org_id)) return std::vector<org_membership_record>{};
        return records_under<org_membership_record>(*kv_, prefix2('m', org_id));
    });
}

result<std::vector<org_membership_record>> organizations_view::memberships_of_user(
    std::string_view user_id) const noexcept {
    return guarded([&]() -> result<std::vector<org_membership_record>> {
        std::vector<org_membership_record> out;
        if (!part_ok(user_id)) return out;
        auto orgs = tails(*kv_, prefix2('u', user_id));
        if (!orgs) return orgs.error();
        for (auto const& o : *orgs) {
            auto m = get_rec<org_membership_record>(*kv_, key2('m', o, user_id));
            if (!m) return m.error();
            if (*m) out.push_back(std::move(**m));
        }
        return out;
    });
}

result<std::size_t> organizations_view::members_count(std::string_view org_id) const noexcept {
    return guarded([&]() -> result<std::size_t> {
        if (!part_ok(org_id)) return std::size_t{0};
        std::size_t n = 0;
        auto r = kv_->scan(prefix2('m', org_id), [&](std::string_view, std::string_view) {
            ++n;
            return true;
        });
        if (!r) return r.error();
        return n;
    });
}

result<std::optional<org_invitation_record>> organizations_view::invitation(std::string_view id) const noexcept {
    return guarded([&] { return get_rec<org_invitation_record>(*kv_, key('i', id)); });
}

result<std::vector<org_invitation_record>> organizations_view::invitations_of_org(
    std::string_view org_id) const noexcept {
    return guarded([&]() -> result<std::vector<org_invitation_record>> {
        if (!part_ok(org_id)) return std::vector<org_invitation_record>{};
        return invitations_by(*kv_, prefix2('j', org_id));
    });
}

result<std::vector<org_invitation_record>> organizations_view::invitations_to(std::string_view email) const noexcept {
    return guarded([&]() -> result<std::vector<org_invitation_record>> {
        if (!part_ok(email)) return std::vector<org_invitation_record>{};
        return invitations_by(*kv_, prefix2('e', email));
    });
}

result<std::optional<org_invitation_record>> organizations_view::invitation_by_ticket(
    std::string_view digest) const noexcept {
    if (digest.empty()) return std::optional<org_invitation_record>{};
    return guarded([&] { return get_via<org_invitation_record>(*kv_, key('t', digest), 'i'); });
}

// ---- writes ----

result<void> organizations_repo::put(organization_record const& o, bool insert) noexcept {
    return guarded([&]() -> result<void> {
        auto const ok = key('o', o.id);
        auto const sk = key('s', o.slug);
        if (!part_ok(o.id) || !part_ok(o.slug) || !storable(ok) || !storable(sk)) return invalid();
        auto old = get_rec<organization_record>(*kv_, ok);
        if (!old) return old.error();
        if (insert && *old) return make_error_code(errc::key_exists);
        if (!*old || (*old)->slug != o.slug) {
            if (auto r = w_->put(sk, o.id, true); !r) return r;
            if (*old)
                if (auto r = w_->del(key('s', (*old)->slug)); !r) return r;
        }
        return w_->put(ok, encode(o), false);
    });
}

result<void> organizations_repo::remove(std::string_view id) noexcept {
    return guarded([&]() -> result<void> {
        return if_stored<organization_record>(*kv_, key('o', id), [&](organization_record const& o) -> result<void> {
            if (auto r = for_each_of(memberships_of_org(id),
                                     [&](auto const& m) { return remove_membership(m.organization_id, m.user_id); });
                !r)
                return r;
            if (auto r = for_each_of(invitations_of_org(id), [&](auto const& i) { return remove_invitation(i.id); });
                !r)
                return r;
            if (auto r = for_each_of(domains_of_org(id), [&](auto const& d) { return remove_domain(d.id); }); !r)
                return r;
            if (auto r = for_each_of(membership_requests_of_org(id),
                                     [&](auto const& q) { return remove_membership_request(q.id); });
                !r)
                return r;
            if (auto r = w_->del(key('s', o.slug)); !r) return r;
            return w_->del(key('o', id));
        });
    });
}

result<void> organizations_repo::put_membership(org_membership_record const& m) noexcept {
    return guarded([&]() -> result<void> {
        auto const mk = key2('m', m.organization_id, m.user_id);
        auto const uk = key2('u', m.user_id, m.organization_id);
        if (!part_ok(m.organization_id) || !part_ok(m.user_id) || !storable(mk) || !storable(uk)) return invalid();
        if (auto r = w_->put(uk, "", false); !r) return r;
        return w_->put(mk, encode(m), false);
    });
}

result<void> organizations_repo::remove_membership(std::string_view org_id, std::string_view user_id) noexcept {
    return guarded([&]() -> result<void> {
        if (!part_ok(org_id) || !part_ok(user_id)) return {};
        auto const mk = key2('m', org_id, user_id);
        auto const uk = key2('u', user_id, org_id);
        if (!storable(mk) || !storable(uk)) return {};
        if (auto r = w_->del(uk); !r) return r;
        return w_->del(mk);
    });
}

result<void> organizations_repo::remove_user_memberships(std::string_view user_id) noexcept {
    return guarded([&]() -> result<void> {
        if (!part_ok(user_id)) return {};
        auto orgs = tails(*kv_, prefix2('u', user_id));
        if (!orgs) return orgs.error();
        for (auto const& o : *orgs)
            if (auto r = remove_membership(o, user_id); !r) return r;
        return for_each_of(membership_requests_of_user(user_id),
                           [&](auto const& q) { return remove_membership_request(q.id); });
    });
}

result<void> organizations_repo::put_invitation(org_invitation_record const& i) noexcept {
    return guarded([&]() -> result<void> {
        auto const ik = key('i', i.id);
        auto const jk = key2('j', i.organization_id, i.id);
        auto const ek = key2('e', i.email_address, i.id);
        if (!part_ok(i.id) || !part_ok(i.organization_id) || !part_ok(i.email_address) || !storable(ik) ||
            !storable(jk) || !storable(ek))
            return invalid();
        auto old = get_rec<org_invitation_record>(*kv_, ik);
        if (!old) return old.error();
        if (*old && (*old)->ticket_digest != i.ticket_digest && !(*old)->ticket_digest.empty())
            if (auto r = w_->del(key('t', (*old)->ticket_digest)); !r) return r;
        if (!i.ticket_digest.empty()) {
            auto const tk = key('t', i.ticket_digest);
            if (!storable(tk)) return invalid();
            if (auto r = w_->put(tk, i.id, false); !r) return r;
        }
        if (auto r = w_->put(jk, "", false); !r) return r;
        if (auto r = w_->put(ek, "", false); !r) return r;
        return w_->put(ik, encode(i), false);
    });
}

result<void> organizations_repo::remove_invitation(std::string_view id) noexcept {
    return guarded([&]() -> result<void> {
        return if_stored<org_invitation_record>(*kv_, key('i', id),
                                                [&](org_invitation_record const& i) -> result<void> {
                                                    if (!i.ticket_digest.empty())
                                                        if (auto r = w_->del(key('t', i.ticket_digest)); !r) return r;
                                                    if (auto r = w_->del(key2('j', i.organization_id, i.id)); !r)
                                                        return r;
                                                    if (auto r = w_->del(key2('e', i.email_address, i.id)); !r)
                                                        return r;
                                                    return w_->del(key('i', id));
                                                });
    });
}

// ---- domains and membership requests ----

result<std::optional<org_domain_record>> organizations_view::domain(std::string_view id) const noexcept {
    return guarded([&] { return get_rec<org_domain_record>(*kv_, key('d', id)); });
}

result<std::vector<org_domain_record>> organizations_view::domains_of_org(std::string_view org_id) const noexcept {
    return guarded([&]() -> result<std::vector<org_domain_record>> {
        if (!part_ok(org_id)) return std::vector<org_domain_record>{};
        return by_index<org_domain_record>(*kv_, prefix2('g', org_id), 'd');
    });
}

result<std::vector<org_domain_record>> organizations_view::domains_named(std::string_view name) const noexcept {
    return guarded([&]() -> result<std::vector<org_domain_record>> {
        if (!part_ok(name)) return std::vector<org_domain_record>{};
        return by_index<org_domain_record>(*kv_, prefix2('n', name), 'd');
    });
}

result<std::optional<org_membership_request_record>> organizations_view::membership_request(
    std::string_view id) const noexcept {
    return guarded([&] { return get_rec<org_membership_request_record>(*kv_, key('r', id)); });
}

result<std::vector<org_membership_request_record>> organizations_view::membership_requests_of_org(
    std::string_view org_id) const noexcept {
    return guarded([&]() -> result<std::vector<org_membership_request_record>> {
        if (!part_ok(org_id)) return std::vector<org_membership_request_record>{};
        return by_index<org_membership_request_record>(*kv_, prefix2('q', org_id), 'r');
    });
}

result<std::vector<org_membership_request_record>> organizations_view::membership_requests_of_user(
    std::string_view user_id) const noexcept {
    return guarded([&]() -> result<std::vector<org_membership_request_record>> {
        if (!part_ok(user_id)) return std::vector<org_membership_request_record>{};
        return by_index<org_membership_request_record>(*kv_, prefix2('w', user_id), 'r');
    });
}

result<void> organizations_repo::put_domain(org_domain_record const& d) noexcept {
    return guarded([&] { return put_indexed(*w_, 'd', d, domain_indexes); });
}

result<void> organizations_repo::remove_domain(std::string_view id) noexcept {
    return guarded([&] { return remove_indexed<org_domain_record>(*w_, 'd', id, domain_indexes); });
}

result<void> organizations_repo::put_membership_request(org_membership_request_record const& q) noexcept {
    return guarded([&] { return put_indexed(*w_, 'r', q, request_indexes); });
}

result<void> organizations_repo::remove_membership_request(std::string_view id) noexcept {
    return guarded([&] { return remove_indexed<org_membership_request_record>(*w_, 'r', id, request_indexes); });
}

}  // namespace latchkey::store
