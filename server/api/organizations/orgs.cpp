#include "server/api/organizations/orgs.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "server/api/domain/client_credentials.hpp"
#include "server/api/domain/sessions.hpp"
#include "server/api/domain/waitlist.hpp"
#include "server/api/events.hpp"
#include "server/api/images/images.hpp"
#include "server/api/json_write.hpp"
#include "server/api/views.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace latchkey::server::api::orgs {

namespace json = boost::json;

namespace {

/// Clerk's system permissions and which system role holds them.
struct sys_perm {
    std::string_view key;
    std::string_view name;
    bool member;
};
constexpr sys_perm system_permissions[] = {
    {"org:sys_profile:manage", "Manage organization", false}, {"org:sys_profile:delete", "Delete organization", false},
    {"org:sys_memberships:read", "Read members", true},       {"org:sys_memberships:manage", "Manage members", false},
    {"org:sys_domains:read", "Read domains", false},          {"org:sys_domains:manage", "Manage domains", false},
};

constexpr std::int64_t invitation_ttl_ms = 30LL * 24 * 3600 * 1000;

std::string json_of(std::string_view text) { return text.empty() ? "{}" : std::string(text); }

}  // namespace

api_error not_found() { return make_error(code::resource_not_found); }

std::vector<role_def> roles(app const& a) {
    std::vector<role_def> out;
    role_def admin{std::string(admin_role), "Admin", "Role with elevated permissions", {}, true};
    role_def member{std::string(member_role), "Member", "Role with non-elevated permissions", {}, true};
    for (auto const& p : system_permissions) {
        admin.permissions.emplace_back(p.key);
        if (p.member) member.permissions.emplace_back(p.key);
    }
    out.push_back(std::move(admin));
    out.push_back(std::move(member));
    for (auto const& r : a.cfg.organizations.roles)
        out.push_back(role_def{r.key, r.name, r.description, r.permissions, false});
    return out;
}

std::optional<role_def> find_role(app const& a, std::string_view key) {
    for (auto& r : roles(a))
        if (r.key == key) return std::move(r);
    return std::nullopt;
}

bool has_permission(app const& a, std::string_view role, std::string_view permission) {
    auto r = find_role(a, role);
    if (!r) return false;
    return std::find(r->permissions.begin(), r->permissions.end(), permission) != r->permissions.end();
}

std::string claims_for(app const& a, store::organization_record const& o, store::org_membership_record const& m) {
    // Features in first-seen order, permission names in first-seen order, one bitmask per feature.
    std::vector<std::string> features;
    std::vector<std::string> perms;
    std::vector<std::uint64_t> masks;
    if (auto r = find_role(a, m.role)) {
        for (auto const& p : r->permissions) {
            if (p.starts_with("org:sys_")) continue;  // system permissions are not put in tokens (as Clerk)
            auto const rest = std::string_view(p).substr(4);
            auto const colon = rest.find(':');
            if (colon == std::string_view::npos) continue;
            std::string feature(rest.substr(0, colon));
            std::string perm(rest.substr(colon + 1));
            auto fi = std::find(features.begin(), features.end(), feature) - features.begin();
            if (fi == static_cast<std::ptrdiff_t>(features.size())) {
                features.push_back(feature);
                masks.push_back(0);
            }
            auto pi = std::find(perms.begin(), perms.end(), perm) - perms.begin();
            if (pi == static_cast<std::ptrdiff_t>(perms.size())) perms.push_back(perm);
            if (pi < 64) masks[static_cast<std::size_t>(fi)] |= std::uint64_t{1} << pi;
        }
    }
    std::string out;
    if (!features.empty()) {
        std::string fea;
        for (auto const& f : features) {
            if (!fea.empty()) fea += ',';
            fea += "o:" + f;
        }
        out += ",\"fea\":";
        json_write::string(out, fea);
    }
    out += ",\"o\":{\"id\":";
    json_write::string(out, o.id);
    std::string_view rol = m.role;
    if (rol.starts_with("org:")) rol.remove_prefix(4);
    out += ",\"rol\":";
    json_write::string(out, rol);
    out += ",\"slg\":";
    json_write::string(out, o.slug);
    if (!perms.empty()) {
        std::string per;
        std::string fpm;
        for (auto const& p : perms) {
            if (!per.empty()) per += ',';
            per += p;
        }
        for (auto mk : masks) {
            if (!fpm.empty()) fpm += ',';
            fpm += std::to_string(mk);
        }
        out += ",\"per\":";
        json_write::string(out, per);
        out += ",\"fpm\":";
        json_write::string(out, fpm);
    }
    out += '}';
    return out;
}

// ---- views ----

json::object organization_json(store::organization_record const& o, audience who,
                               std::optional<std::size_t> members_count, std::optional<std::size_t> pending) {
    json::object j;
    j["object"] = "organization";
    j["id"] = o.id;
    j["name"] = o.name;
    j["slug"] = o.slug;
    j["image_url"] = o.image_url.empty() ? std::string(views::default_image_url()) : o.image_url;
    j["has_image"] = !o.image_url.empty();
    j["public_metadata"] = views::json_text(o.public_metadata);
    if (who == audience::backend) j["private_metadata"] = views::json_text(o.private_metadata);
    j["max_allowed_memberships"] = o.max_allowed_memberships;
    j["admin_delete_enabled"] = o.admin_delete_enabled;
    if (members_count) j["members_count"] = *members_count;
    if (pending) j["pending_invitations_count"] = *pending;
    j["self_serve_sso_enabled"] = false;
    j["exclusive_membership"] = false;
    if (o.created_by.empty())
        j["created_by"] = nullptr;
    else
        j["created_by"] = o.created_by;
    j["created_at"] = o.created_at;
    j["updated_at"] = o.updated_at;
    return j;
}

json::object public_organization_data(store::organization_record const& o) {
    json::object j;
    j["id"] = o.id;
    j["name"] = o.name;
    j["slug"] = o.slug;
    j["image_url"] = o.image_url.empty() ? std::string(views::default_image_url()) : o.image_url;
    j["has_image"] = !o.image_url.empty();
    return j;
}

json::object membership_json(app const& a, store::org_membership_record const& m, store::organization_record const& o,
                             store::user_record const* u, audience who) {
    json::object j;
    j["object"] = "organization_membership";
    j["id"] = m.id;
    j["organization"] = organization_json(o, who);
    j["public_metadata"] = views::json_text(m.public_metadata);
    if (who == audience::backend) j["private_metadata"] = views::json_text(m.private_metadata);
    j["role"] = m.role;
    auto r = find_role(a, m.role);
    j["role_name"] = r ? r->name : m.role;
    json::array perms;
    if (r)
        for (auto const& p : r->permissions) perms.emplace_back(p);
    j["permissions"] = std::move(perms);
    if (u != nullptr) {
        j["public_user_data"] = views::public_user_data(*u);
    } else {
        json::object pud;
        pud["user_id"] = m.user_id;
        pud["identifier"] = "";
        pud["first_name"] = nullptr;
        pud["last_name"] = nullptr;
        pud["image_url"] = std::string(views::default_image_url());
        pud["has_image"] = false;
        j["public_user_data"] = std::move(pud);
    }
    j["created_at"] = m.created_at;
    j["updated_at"] = m.updated_at;
    return j;
}

json::object invitation_json(app const& a, store::org_invitation_record const& i, store::organization_record const* o,
                             audience who) {
    json::object j;
    j["object"] = "organization_invitation";
    j["id"] = i.id;
    j["email_address"] = i.email_address;
    j["organization_id"] = i.organization_id;
    j["public_metadata"] = views::json_text(i.public_metadata);
    if (who == audience::backend) j["private_metadata"] = views::json_text(i.private_metadata);
    j["role"] = i.role;
    auto r = find_role(a, i.role);
    j["role_name"] = r ? r->name : i.role;
    j["status"] = i.status;
    j["url"] = nullptr;  // the link holds the ticket, which only the email carries
    j["expires_at"] = i.expires_at;
    if (o != nullptr) j["public_organization_data"] = public_organization_data(*o);
    j["created_at"] = i.created_at;
    j["updated_at"] = i.updated_at;
    return j;
}

json::object role_json(role_def const& r) {
    json::object j;
    j["object"] = "role";
    j["id"] = "role_" + r.key.substr(r.key.find(':') + 1);
    j["key"] = r.key;
    j["name"] = r.name;
    j["description"] = r.description;
    json::array perms;
    for (auto const& p : r.permissions) {
        json::object pj;
        pj["object"] = "permission";
        pj["id"] = "perm_" + p.substr(4);
        pj["key"] = p;
        std::string name = p;
        for (auto const& s : system_permissions)
            if (s.key == p) name = std::string(s.name);
        pj["name"] = name;
        pj["description"] = "";
        pj["type"] = p.starts_with("org:sys_") ? "system" : "user";
        pj["created_at"] = 0;
        pj["updated_at"] = 0;
        perms.push_back(std::move(pj));
    }
    j["permissions"] = std::move(perms);
    j["is_creator_eligible"] = true;
    j["created_at"] = 0;
    j["updated_at"] = 0;
    return j;
}

json::object page(json::array all, std::pair<std::size_t, std::size_t> limit_offset) {
    auto const [limit, offset] = limit_offset;
    json::object o;
    std::size_t const total = all.size();
    json::array data;
    for (std::size_t i = offset; i < total && data.size() < limit; ++i) data.push_back(std::move(all[i]));
    o["data"] = std::move(data);
    o["total_count"] = total;
    return o;
}

// ---- denormalised state ----

api_result<void> refresh_user(app& a, store::write_txn& w, std::string_view user_id, std::int64_t now) {
    auto u = w.users().get(user_id);
    if (!u) return store_error(u.error(), "org_refresh_user");
    if (!*u) return {};
    auto ms = w.organizations().memberships_of_user(user_id);
    if (!ms) return store_error(ms.error(), "org_refresh_user");
    // Newest membership first (as Clerk lists them).
    std::sort(ms->begin(), ms->end(), [](auto const& x, auto const& y) { return x.created_at > y.created_at; });
    json::array arr;
    std::vector<std::pair<store::org_membership_record, store::organization_record>> by_org;
    for (auto const& m : *ms) {
        auto o = w.organizations().get(m.organization_id);
        if (!o) return store_error(o.error(), "org_refresh_user");
        if (!*o) continue;
        arr.push_back(membership_json(a, m, **o, &**u, audience::frontend));
        by_org.emplace_back(m, std::move(**o));
    }
    std::string text = json::serialize(arr);
    if (text != (*u)->organization_memberships) {
        store::user_record const previous = **u;
        (*u)->organization_memberships = std::move(text);
        (*u)->updated_at = std::max(now, previous.updated_at + 1);
        if (auto r = w.users().put(**u, &previous); !r) return store_error(r.error(), "org_refresh_user");
    }
    // The org claims of the user's live sessions.
    auto ss = w.sessions().of_user(user_id);
    if (!ss) return store_error(ss.error(), "org_refresh_user");
    std::vector<std::string> dropped;
    for (auto& s : *ss) {
        if (!views::session_live(s, now)) continue;
        std::string claims;
        bool member = false;
        for (auto const& [m, o] : by_org)
            if (m.organization_id == s.last_active_organization_id) {
                claims = claims_for(a, o, m);
                member = true;
            }
        bool changed = claims != s.org_claims;
        if (!member && !s.last_active_organization_id.empty()) {  // left or removed: back to the personal account
            s.last_active_organization_id.clear();
            changed = true;
        }
        if (!changed) continue;
        s.org_claims = std::move(claims);
        s.updated_at = std::max(now, s.updated_at + 1);
        if (auto r = w.sessions().put(s); !r) return store_error(r.error(), "org_refresh_sessions");
        dropped.push_back(s.id);
    }
    if (!dropped.empty()) domain::drop_tokens_after_commit(a, w, std::move(dropped));
    return {};
}

api_result<void> refresh_members(app& a, store::write_txn& w, std::string_view org_id, std::int64_t now) {
    auto ms = w.organizations().memberships_of_org(org_id);
    if (!ms) return store_error(ms.error(), "org_refresh_members");
    for (auto const& m : *ms)
        if (auto r = refresh_user(a, w, m.user_id, now); !r) return r;
    return {};
}

// ---- rules ----

std::string slugify(std::string_view name) {
    std::string s;
    bool dash = false;
    for (unsigned char ch : name) {
        if (std::isalnum(ch) != 0 && ch < 0x80) {
            if (dash && !s.empty()) s += '-';
            dash = false;
            s += static_cast<char>(std::tolower(ch));
        } else {
            dash = true;
        }
        if (s.size() >= 48) break;
    }
    return s;
}

bool valid_slug(std::string_view slug) {
    if (slug.empty() || slug.size() > 64) return false;
    return std::all_of(slug.begin(), slug.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    });
}

api_error invalid_slug() {
    return param_error(code::form_param_format_invalid, "slug",
                       "slug may contain only lowercase letters, digits, '-' and '_'.");
}

api_result<store::organization_record> create(app& a, store::write_txn& w, store::organization_record o,
                                              std::string_view creator, std::int64_t now) {
    o.id = crypto::new_id("org", static_cast<std::uint64_t>(now));
    o.created_by = std::string(creator);
    o.created_at = o.updated_at = now;
    if (auto r = w.organizations().put(o, true); !r) {
        if (r.error() == store::make_error_code(store::errc::key_exists))
            return param_error(code::form_identifier_exists, "slug",
                               "This slug is already taken by another organization. Please try another.");
        return store_error(r.error(), "create_organization");
    }
    if (!creator.empty()) {
        auto m = add_member(a, w, o, creator, a.cfg.organizations.creator_role, now);
        if (!m) return m.error();
    }
    if (auto e = events::emit(a, w, "organization.created", organization_json(o, audience::backend)); !e)
        return store_error(e.error(), "webhook");
    return o;
}

api_result<store::org_membership_record> add_member(app& a, store::write_txn& w, store::organization_record const& o,
                                                    std::string_view user_id, std::string_view role, std::int64_t now) {
    if (!find_role(a, role)) return param_error(code::form_param_value_invalid, "role", "role is not a known role.");
    auto u = w.users().get(user_id);
    if (!u) return store_error(u.error(), "add_member");
    if (!*u) return param_error(code::resource_not_found, "user_id", "No user was found with this id.");
    auto existing = w.organizations().membership(o.id, user_id);
    if (!existing) return store_error(existing.error(), "add_member");
    if (*existing) return make_error(code::already_a_member_in_organization);
    std::uint32_t const max = o.max_allowed_memberships > 0 ? static_cast<std::uint32_t>(o.max_allowed_memberships)
                                                            : a.cfg.organizations.max_allowed_memberships;
    if (max > 0) {
        auto n = w.organizations().members_count(o.id);
        if (!n) return store_error(n.error(), "add_member");
        if (*n >= max) return make_error(code::organization_membership_quota_exceeded);
    }
    store::org_membership_record m;
    m.id = crypto::new_id("orgmem", static_cast<std::uint64_t>(now));
    m.organization_id = o.id;
    m.user_id = std::string(user_id);
    m.role = std::string(role);
    m.created_at = m.updated_at = now;
    if (auto r = w.organizations().put_membership(m); !r) return store_error(r.error(), "add_member");
    if (auto r = refresh_user(a, w, user_id, now); !r) return r.error();
    if (auto e =
            events::emit(a, w, "organizationMembership.created", membership_json(a, m, o, &**u, audience::backend));
        !e)
        return store_error(e.error(), "webhook");
    return m;
}

api_result<bool> is_last_admin(store::read_txn const& t, std::string_view org_id, std::string_view user_id) {
    auto ms = t.organizations().memberships_of_org(org_id);
    if (!ms) return store_error(ms.error(), "last_admin");
    bool target_admin = false;
    std::size_t admins = 0;
    for (auto const& m : *ms) {
        if (m.role != admin_role) continue;
        ++admins;
        if (m.user_id == user_id) target_admin = true;
    }
    return target_admin && admins == 1;
}

api_result<void> remove(app& a, store::write_txn& w, std::string_view org_id, std::int64_t now) {
    auto o = w.organizations().get(org_id);
    if (!o) return store_error(o.error(), "delete_organization");
    if (!*o) return not_found();
    auto ms = w.organizations().memberships_of_org(org_id);
    if (!ms) return store_error(ms.error(), "delete_organization");
    if (auto r = w.organizations().remove(org_id); !r) return store_error(r.error(), "delete_organization");
    if (auto r = images::detach(w, (*o)->image_url, (*o)->id); !r) return r;  // issue 14: the logo, same txn
    for (auto const& m : *ms)
        if (auto r = refresh_user(a, w, m.user_id, now); !r) return r;
    auto d = views::deleted_object("organization", org_id);
    if (auto e = events::emit(a, w, "organization.deleted", d); !e) return store_error(e.error(), "webhook");
    return {};
}

api_result<void> forget_user(store::write_txn& w, std::string_view user_id) {
    if (auto r = w.organizations().remove_user_memberships(user_id); !r) return store_error(r.error(), "forget_user");
    return {};
}

api_result<store::org_invitation_record> invite(app& a, store::write_txn& w, store::organization_record const& o,
                                                std::string const& email, std::string_view role,
                                                std::string_view inviter, std::int64_t now,
                                                std::string_view redirect_url) {
    if (!find_role(a, role)) return param_error(code::form_param_value_invalid, "role", "role is not a known role.");
    // Already a member?
    auto owner = w.users().id_by_email(email);
    if (!owner) return store_error(owner.error(), "invite");
    if (*owner) {
        auto m = w.organizations().membership(o.id, **owner);
        if (!m) return store_error(m.error(), "invite");
        if (*m) {
            auto e = make_error(code::already_a_member_in_organization);
            e.long_message = email + " is already a member of the organization.";
            e.meta["param_name"] = "email_address";
            return e;
        }
    }
    auto existing = w.organizations().invitations_to(email);
    if (!existing) return store_error(existing.error(), "invite");
    for (auto const& i : *existing)
        if (i.organization_id == o.id && i.status == "pending" && i.expires_at > now) {
            auto e = make_error(code::duplicate_record);
            e.meta["email_addresses"] = json::array{json::string(email)};
            e.meta["param_name"] = "email_address";
            return e;
        }
    store::org_invitation_record inv;
    inv.id = crypto::new_id("orginv", static_cast<std::uint64_t>(now));
    std::string const secret = crypto::random_token(32);
    std::string const ticket = inv.id + "." + secret;
    inv.organization_id = o.id;
    inv.email_address = email;
    inv.role = std::string(role);
    inv.status = "pending";
    inv.ticket_digest = domain::secret_digest_hex(secret);
    inv.inviter_user_id = std::string(inviter);
    inv.redirect_url = std::string(redirect_url);
    inv.expires_at = now + invitation_ttl_ms;
    inv.created_at = inv.updated_at = now;
    if (auto r = w.organizations().put_invitation(inv); !r) return store_error(r.error(), "invite");
    message m;
    m.channel = "email";
    m.to = email;
    m.kind = "organization_invitation";
    m.code = domain::ticket_url(a, ticket, redirect_url);
    if (auto x = events::send_invitation(a, w, m, now); !x) return store_error(x.error(), "invite");
    if (auto e = events::emit(a, w, "organizationInvitation.created", invitation_json(a, inv, &o, audience::backend));
        !e)
        return store_error(e.error(), "webhook");
    return inv;
}

api_result<void> accept_invitation(app& a, store::write_txn& w, store::org_invitation_record inv,
                                   std::string_view user_id, std::int64_t now) {
    if (inv.status != "pending" || inv.expires_at <= now)
        return param_error(code::form_param_value_invalid, "invitation", "This invitation is no longer valid.");
    auto o = w.organizations().get(inv.organization_id);
    if (!o) return store_error(o.error(), "accept_invitation");
    if (!*o) return not_found();
    auto existing = w.organizations().membership(inv.organization_id, user_id);
    if (!existing) return store_error(existing.error(), "accept_invitation");
    if (!*existing) {
        auto m = add_member(a, w, **o, user_id, inv.role, now);
        if (!m) return m.error();
    }
    inv.status = "accepted";
    inv.updated_at = now;
    if (auto r = w.organizations().put_invitation(inv); !r) return store_error(r.error(), "accept_invitation");
    if (auto e =
            events::emit(a, w, "organizationInvitation.accepted", invitation_json(a, inv, &**o, audience::backend));
        !e)
        return store_error(e.error(), "webhook");
    return {};
}

api_result<std::string> claims_in(app const& a, store::read_txn const& t, std::string_view user_id,
                                  std::string_view org_id) {
    if (org_id.empty()) return std::string{};
    auto o = t.organizations().get(org_id);
    if (!o) return store_error(o.error(), "select_organization");
    if (!*o) {  // clerk-js also passes a slug
        o = t.organizations().by_slug(org_id);
        if (!o) return store_error(o.error(), "select_organization");
    }
    if (!*o) return make_error(code::organization_not_found_or_unauthorized);
    auto m = t.organizations().membership((*o)->id, user_id);
    if (!m) return store_error(m.error(), "select_organization");
    if (!*m) return make_error(code::organization_not_found_or_unauthorized);
    return claims_for(a, **o, **m);
}

api_result<bool> select_organization(app const& a, store::read_txn const& t, store::session_record& s,
                                     std::string_view org_id) {
    auto c = claims_in(a, t, s.user_id, org_id);
    if (!c) return c.error();
    std::string id(org_id);
    if (!org_id.empty() && !org_id.starts_with("org_")) {  // a slug: store the id
        auto o = t.organizations().by_slug(org_id);
        if (!o) return store_error(o.error(), "select_organization");
        if (*o) id = (*o)->id;
    }
    bool const changed = id != s.last_active_organization_id || *c != s.org_claims;
    s.last_active_organization_id = std::move(id);
    s.org_claims = std::move(*c);
    return changed;
}

api_result<void> join_by_invitation(app& a, store::write_txn& w, std::string_view invitation_id,
                                    std::string_view user_id, std::int64_t now) {
    auto i = w.organizations().invitation(invitation_id);
    if (!i) return store_error(i.error(), "join_by_invitation");
    if (!*i) return param_error(code::form_param_value_invalid, "ticket", "The invitation ticket is invalid or used.");
    return accept_invitation(a, w, std::move(**i), user_id, now);
}

bool is_org_ticket(std::string_view ticket) { return ticket.starts_with("orginv_"); }

api_result<store::org_invitation_record> invitation_for_ticket(store::read_txn const& t, std::string_view ticket,
                                                               std::int64_t now) {
    auto p = domain::split_ticket(ticket);
    if (!p) return domain::invalid_ticket();
    auto i = t.organizations().invitation(p->id);
    if (!i) return store_error(i.error(), "org_ticket");
    if (!*i || (*i)->status != "pending" || (*i)->expires_at <= now ||
        !crypto::equal_ct(p->digest, (*i)->ticket_digest))
        return domain::invalid_ticket();
    return std::move(**i);
}

api_result<store::organization_record> path_organization(store::read_txn const& t, request_ctx const& ctx) {
    auto const id_or_slug = ctx.params.get("organization_id");
    auto o = t.organizations().get(id_or_slug);
    if (!o) return store_error(o.error(), "get_organization");
    if (!*o) {
        o = t.organizations().by_slug(id_or_slug);
        if (!o) return store_error(o.error(), "get_organization");
    }
    if (!*o) return make_error(code::resource_not_found);
    return std::move(**o);
}

}  // namespace latchkey::server::api::orgs
