#include "server/migrate/org_import.hpp"

#include "server/api/organizations/orgs.hpp"
#include "server/migrate/bapi_source.hpp"
#include "store/store.hpp"

#include <boost/json/serialize.hpp>

#include <ostream>
#include <set>
#include <string_view>

namespace latchkey::server::migrate {

namespace json = boost::json;

namespace {

/// Records `reason` in `why` and rejects the record.
std::nullopt_t rejected(std::string& why, std::string reason) {
    why = std::move(reason);
    return std::nullopt;
}

json::object const* as_object(json::value const& v) { return v.is_object() ? &v.get_object() : nullptr; }

std::string str(json::object const& o, std::string_view k) {
    auto const* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string{};
}

std::int64_t num(json::object const& o, std::string_view k, std::int64_t fallback = 0) {
    auto const* v = o.if_contains(k);
    if (!v) return fallback;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v->get_uint64());
    return fallback;
}

/// A metadata member: an object (serialised), absent/null ("{}"), or anything else (why is set).
std::string metadata(json::object const& o, std::string_view k, std::string& why) {
    auto const* v = o.if_contains(k);
    if (!v || v->is_null()) return "{}";
    if (!v->is_object()) {
        why = std::string(k) + " is not an object";
        return {};
    }
    return json::serialize(*v);
}

bool id_with_prefix(std::string const& id, std::string_view prefix) {
    if (id.size() <= prefix.size() || id.size() > 128 || !id.starts_with(prefix)) return false;
    for (char c : id)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

/// The object `v` is, with `rec.id` read from it; null, with `why`, when `v` is not an object or the id lacks
/// `prefix` (`what` names the record in the reason).
template <class Record>
json::object const* identified(json::value const& v, std::string_view prefix, std::string_view what, Record& rec,
                               std::string& why) {
    auto const* o = as_object(v);
    if (o == nullptr) {
        why = "not a JSON object";
        return nullptr;
    }
    rec.id = str(*o, "id");
    if (id_with_prefix(rec.id, prefix)) return o;
    why = "invalid " + std::string(what) + " id";
    return nullptr;
}

}  // namespace

std::optional<store::organization_record> organization_from_json(json::value const& v, std::string& why) {
    store::organization_record r;
    auto const* o = identified(v, "org_", "organization", r, why);
    if (!o) return std::nullopt;
    r.name = str(*o, "name");
    if (r.name.empty() || r.name.size() > 256) return rejected(why, "the name is missing or longer than 256 bytes");
    r.slug = str(*o, "slug");
    if (r.slug.empty()) r.slug = api::orgs::slugify(r.name);
    if (!api::orgs::valid_slug(r.slug)) return rejected(why, "invalid slug \"" + r.slug.substr(0, 80) + "\"");
    // Only a logo of the organization's own; the source's placeholder image is not one.
    if (auto const* h = o->if_contains("has_image"); h && h->is_bool() && h->get_bool())
        r.image_url = str(*o, "image_url");
    r.public_metadata = metadata(*o, "public_metadata", why);
    r.private_metadata = metadata(*o, "private_metadata", why);
    if (!why.empty()) return std::nullopt;
    auto const max = num(*o, "max_allowed_memberships");
    r.max_allowed_memberships = max > 0 && max < INT32_MAX ? static_cast<std::int32_t>(max) : 0;
    if (auto const* d = o->if_contains("admin_delete_enabled"); d && d->is_bool())
        r.admin_delete_enabled = d->get_bool();
    r.created_by = str(*o, "created_by");
    r.created_at = num(*o, "created_at");
    r.updated_at = num(*o, "updated_at", r.created_at);
    return r;
}

std::optional<store::org_membership_record> membership_from_json(json::value const& v, std::string const& org_id,
                                                                 std::string& why) {
    store::org_membership_record m;
    auto const* o = identified(v, "orgmem_", "membership", m, why);
    if (!o) return std::nullopt;
    m.organization_id = org_id;
    if (auto const* pud = o->if_contains("public_user_data"); pud && pud->is_object())
        m.user_id = str(pud->get_object(), "user_id");
    if (!id_with_prefix(m.user_id, "user_"))
        return rejected(why, "the membership names no valid public_user_data.user_id");
    m.role = str(*o, "role");
    if (m.role.empty() || m.role.size() > 128) return rejected(why, "the membership has no role");
    m.public_metadata = metadata(*o, "public_metadata", why);
    m.private_metadata = metadata(*o, "private_metadata", why);
    if (!why.empty()) return std::nullopt;
    m.created_at = num(*o, "created_at");
    m.updated_at = num(*o, "updated_at", m.created_at);
    return m;
}

std::optional<store::org_invitation_record> invitation_from_json(json::value const& v, std::string const& org_id,
                                                                 std::int64_t now_ms, std::string& why) {
    store::org_invitation_record i;
    auto const* o = identified(v, "orginv_", "invitation", i, why);
    if (!o) return std::nullopt;
    i.organization_id = org_id;
    i.email_address = str(*o, "email_address");
    for (auto& c : i.email_address) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto const at = i.email_address.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == i.email_address.size() || i.email_address.size() > 320)
        return rejected(why, "invalid email_address");
    i.role = str(*o, "role");
    if (i.role.empty() || i.role.size() > 128) return rejected(why, "the invitation has no role");
    i.status = str(*o, "status");
    if (i.status.empty()) i.status = "pending";
    i.public_metadata = metadata(*o, "public_metadata", why);
    i.private_metadata = metadata(*o, "private_metadata", why);
    if (!why.empty()) return std::nullopt;
    i.created_at = num(*o, "created_at");
    i.updated_at = num(*o, "updated_at", i.created_at);
    // Clerk's invitations last 30 days; a source that does not say gets that from now.
    constexpr std::int64_t thirty_days_ms = 30LL * 24 * 3600 * 1000;
    i.expires_at = num(*o, "expires_at", 0);
    if (i.expires_at <= 0) i.expires_at = std::max(i.created_at, now_ms) + thirty_days_ms;
    return i;
}

std::string import_organizations(api::app& a, std::string const& base, std::string const& secret_key, bool dry_run,
                                 org_tally& t, std::ostream& err,
                                 std::function<bool(std::string const&)> const& will_exist) {
    auto problem = [&](std::string id, std::string status, std::string reason) {
        (status == "conflict" ? t.conflicts : status == "warning" ? t.warnings : t.failed)++;
        t.problems.push_back({std::move(id), std::move(status), std::move(reason)});
    };
    // The whole list first: the per-organization lists are paged while no txn is open.
    std::vector<json::value> sources;
    auto listed = fetch_list(
        base, "/v1/organizations?order_by=%2Bcreated_at", secret_key,
        [&](json::value v, std::size_t) { sources.push_back(std::move(v)); }, err);
    if (listed == not_found) {
        err << "the source has no organizations (404): none imported\n";
        return {};
    }
    std::set<std::string> unknown_roles;
    for (auto const& src : sources) {
        std::string why;
        auto org = organization_from_json(src, why);
        if (!org) {
            auto const* o = as_object(src);
            problem(o ? str(*o, "id") : std::string{}, "failed", "organization: " + why);
            continue;
        }
        std::vector<store::org_membership_record> members;
        std::vector<store::org_invitation_record> invitations;
        std::string stopped = fetch_list(
            base, "/v1/organizations/" + org->id + "/memberships", secret_key,
            [&](json::value const& v, std::size_t) {
                std::string w;
                if (auto m = membership_from_json(v, org->id, w)) {
                    members.push_back(std::move(*m));
                } else {
                    auto const* o = as_object(v);
                    problem(o ? str(*o, "id") : std::string{}, "failed", "membership of " + org->id + ": " + w);
                }
            },
            err);
        if (stopped.empty())
            stopped = fetch_list(
                base, "/v1/organizations/" + org->id + "/invitations?status=pending", secret_key,
                [&](json::value const& v, std::size_t) {
                    std::string w;
                    if (auto i = invitation_from_json(v, org->id, a.now_ms(), w)) {
                        if (i->status == "pending") invitations.push_back(std::move(*i));
                    } else {
                        auto const* o = as_object(v);
                        problem(o ? str(*o, "id") : std::string{}, "failed", "invitation of " + org->id + ": " + w);
                    }
                },
                err);
        if (!stopped.empty() && stopped != not_found) {
            problem(org->id, "failed", "the source's lists of this organization: " + stopped + "; not imported");
            continue;
        }
        for (auto const& m : members)
            if (!api::orgs::find_role(a, m.role) && unknown_roles.insert(m.role).second)
                problem(m.id, "warning",
                        "the role " + m.role +
                            " is not defined in the config's organizations.roles: imported as is; "
                            "define it to give its members their permissions");

        // One txn per organization: decisions and writes together, so a re-run finds everything unchanged.
        std::vector<org_problem> found;
        std::size_t n_org = 0, n_mem = 0, n_inv = 0, n_same = 0;
        auto body = [&](store::read_txn const& r, store::write_txn* w) -> store::result<void> {
            found.clear();
            n_org = n_mem = n_inv = n_same = 0;
            auto const now = a.now_ms();
            auto existing = r.organizations().get(org->id);
            if (!existing) return existing.error();
            if (*existing) {
                ++n_same;
            } else {
                auto slug_owner = r.organizations().by_slug(org->slug);
                if (!slug_owner) return slug_owner.error();
                if (*slug_owner) {
                    found.push_back({org->id, "conflict",
                                     "the slug " + org->slug + " belongs to " + (*slug_owner)->id + "; not merged"});
                    return {};
                }
                if (w)
                    if (auto p = w->organizations().put(*org, true); !p) return p.error();
                ++n_org;
            }
            // A record the store holds already is left as it is, counted as the same.
            auto held = [&](auto const& stored) {
                if (stored) ++n_same;
                return stored.has_value();
            };
            std::vector<std::string> touched;
            for (auto const& m : members) {
                auto u = r.users().get(m.user_id);
                if (!u) return u.error();
                if (!*u && !(dry_run && will_exist && will_exist(m.user_id))) {
                    found.push_back(
                        {m.id, "failed", "the member " + m.user_id + " is not in the store (import the users first)"});
                    continue;
                }
                auto had = r.organizations().membership(m.organization_id, m.user_id);
                if (!had) return had.error();
                if (held(*had)) continue;
                if (w)
                    if (auto p = w->organizations().put_membership(m); !p) return p.error();
                touched.push_back(m.user_id);
                ++n_mem;
            }
            for (auto const& i : invitations) {
                auto had = r.organizations().invitation(i.id);
                if (!had) return had.error();
                if (held(*had)) continue;
                if (w)
                    if (auto p = w->organizations().put_invitation(i); !p) return p.error();
                ++n_inv;
            }
            // The members' user JSON (organization_memberships) and live sessions' claims follow, as for any change.
            if (w)
                for (auto const& id : touched)
                    if (auto rr = api::orgs::refresh_user(a, *w, id, now); !rr) return store::errc::aborted;
            return {};
        };
        auto const done = dry_run ? a.db.with_read([&](store::read_txn const& r) { return body(r, nullptr); })
                                  : a.db.with_write([&](store::write_txn& w) { return body(w, &w); });
        if (!done) {
            problem(org->id, "failed", "the store refused the organization: " + done.error().message());
            continue;
        }
        t.organizations += n_org;
        t.memberships += n_mem;
        t.invitations += n_inv;
        t.unchanged += n_same;
        for (auto& f : found) problem(std::move(f.id), std::move(f.status), std::move(f.reason));
    }
    return listed;
}

}  // namespace latchkey::server::migrate
