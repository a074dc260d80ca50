// FAPI /v1/organizations/* and the user's side (/v1/me/organization_*), as clerk-js 6.40 calls them
// (clerk-wire-2.md §1). The actor is the user of the request's session (`_clerk_session_id`, else the client's
// last active session); every write checks the actor's role for Clerk's system permission in the same txn that
// writes, and every reply piggy-backs the full client (the user's organization_memberships included).
#include "server/api/organizations/domains.hpp"
#include "server/api/organizations/fapi_scope.hpp"
#include "server/api/organizations/handlers.hpp"
#include "server/api/organizations/orgs.hpp"

#include "server/api/events.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/images/images.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <set>

namespace latchkey::server::api::orgs {

namespace json = boost::json;

namespace {

constexpr std::size_t max_name_bytes = 256;

}  // namespace

api_result<actor> load_actor(app& a, request_ctx const& ctx, store::read_txn const& t) {
    auto m = frontend::load_current_user(a, ctx, t);
    if (!m) return m.error();
    return actor{std::move(m->session), std::move(m->user)};
}

std::optional<api_error> enabled(app const& a) {
    if (!a.cfg.organizations.enabled) return make_error(code::organization_not_enabled_in_instance);
    return std::nullopt;
}

api_result<scoped> load_scoped(app& a, request_ctx const& ctx, store::read_txn const& t, std::string_view permission) {
    auto who = load_actor(a, ctx, t);
    if (!who) return who.error();
    auto o = t.organizations().get(ctx.params.get("organization_id"));
    if (!o) return store_error(o.error(), "get_organization");
    if (!*o) return make_error(code::organization_not_found_or_unauthorized);
    auto m = t.organizations().membership((*o)->id, who->user.id);
    if (!m) return store_error(m.error(), "get_organization");
    if (!*m) return make_error(code::organization_not_found_or_unauthorized);
    if (!permission.empty() && !has_permission(a, (*m)->role, permission)) return make_error(code::not_allowed_access);
    return scoped{std::move(*who), std::move(**o), std::move(**m)};
}

json::object page_of(request_ctx const& ctx, json::array all) {
    std::size_t limit = 10;
    std::size_t offset = 0;
    auto num = [](std::string const* s, std::size_t dflt, std::size_t max) {
        if (s == nullptr || s->empty() || s->size() > 9) return dflt;
        std::size_t v = 0;
        for (char ch : *s) {
            if (ch < '0' || ch > '9') return dflt;
            v = v * 10 + static_cast<std::size_t>(ch - '0');
        }
        return std::min(v, max);
    };
    limit = num(ctx.query.find("limit"), 10, 500);
    if (limit == 0) limit = 10;
    offset = num(ctx.query.find("offset"), 0, 1000000);
    return page(std::move(all), {limit, offset});
}

std::vector<std::string> verified_emails(store::user_record const& u) {
    std::vector<std::string> out;
    for (auto const& i : u.identifications)
        if (i.kind == "email_address" && i.verification.status == "verified") out.push_back(i.value);
    return out;
}

namespace {

/// An organization's profile as a create or an update posts it ("" where not given).
struct profile_fields {
    std::string name;
    std::string slug;
};

/// Reads and checks `name` (required on create, at most max_name_bytes) and `slug` (valid_slug when given).
api_result<profile_fields> read_profile(request_ctx const& ctx, bool name_required) {
    profile_fields p;
    auto n = frontend::field(ctx, "name");
    if (n && n->size() > max_name_bytes)
        return param_error(code::form_param_format_invalid, "name", "name is too long.");
    if (n) p.name = *n;
    if (name_required && p.name.empty()) return param_error(code::form_param_missing, "name");
    if (auto s = frontend::field(ctx, "slug"); s && !s->empty()) {
        if (!valid_slug(*s)) return invalid_slug();
        p.slug = *s;
    }
    return p;
}

/// A free slug for `base` (base, base-2, base-3, ...).
store::result<std::string> free_slug(store::read_txn const& t, std::string base) {
    if (base.empty()) base = "organization";
    std::string s = base;
    for (int i = 2; i < 1000; ++i) {
        auto o = t.organizations().by_slug(s);
        if (!o) return o.error();
        if (!*o) return s;
        s = base + "-" + std::to_string(i);
    }
    return s;
}

json::object my_membership_page(app& a, request_ctx const& ctx, store::user_record const& u) {
    // The user JSON already holds them, newest first.
    boost::system::error_code ec;
    json::value v = json::parse(u.organization_memberships, ec);
    json::array all = (!ec && v.is_array()) ? std::move(v.get_array()) : json::array{};
    (void)a;
    return page_of(ctx, std::move(all));
}

std::vector<std::string> emails_of(request_ctx const& ctx) {
    auto v = ctx.form.all("email_address", true);
    std::vector<std::string> out;
    for (auto& e : v)
        if (!e.empty()) out.push_back(std::move(e));
    return out;
}

}  // namespace

// ---- organizations ----

api_result<reply> fapi_create_organization(app& a, request_ctx& ctx) {
    auto fields = read_profile(ctx, true);
    if (!fields) return fields.error();
    return write_and_reply(a, ctx, "create_organization", [&](store::write_txn& w) -> api_result<json::value> {
        auto who = load_actor(a, ctx, w);
        if (!who) return who.error();
        if (!who->user.create_organization_enabled) return make_error(code::not_allowed_access);
        store::organization_record o;
        o.name = fields->name;
        if (!fields->slug.empty() && !a.cfg.organizations.slug_disabled) {
            o.slug = fields->slug;
        } else {
            auto s = free_slug(w, slugify(fields->name));
            if (!s) return store_error(s.error(), "create_organization");
            o.slug = *s;
        }
        auto made = create(a, w, std::move(o), who->user.id, ctx.now);
        if (!made) return made.error();
        return json::value(organization_json(*made, audience::frontend, 1, 0));
    });
}

api_result<reply> fapi_get_organization(app& a, request_ctx& ctx) {
    return read_and_reply(a, ctx, "get_organization", [&](store::read_txn& t) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, t);
        if (!s) return s.error();
        auto n = t.organizations().members_count(s->org.id);
        if (!n) return store_error(n.error(), "get_organization");
        auto invs = t.organizations().invitations_of_org(s->org.id);
        if (!invs) return store_error(invs.error(), "get_organization");
        std::size_t pending = 0;
        for (auto const& i : *invs) pending += (i.status == "pending" && i.expires_at > ctx.now) ? 1 : 0;
        return json::value(organization_json(s->org, audience::frontend, *n, pending));
    });
}

api_result<reply> fapi_update_organization(app& a, request_ctx& ctx) {
    auto fields = read_profile(ctx, false);
    if (!fields) return fields.error();
    return write_and_reply(a, ctx, "update_organization", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_profile:manage");
        if (!s) return s.error();
        auto o = s->org;
        if (!fields->name.empty()) o.name = fields->name;
        if (!fields->slug.empty()) o.slug = fields->slug;
        o.updated_at = std::max(ctx.now, o.updated_at + 1);
        if (auto r = w.organizations().put(o, false); !r) {
            if (r.error() == store::make_error_code(store::errc::key_exists))
                return param_error(code::form_identifier_exists, "slug",
                                   "This slug is already taken by another organization. Please try another.");
            return store_error(r.error(), "update_organization");
        }
        if (auto r = refresh_members(a, w, o.id, ctx.now); !r) return r.error();
        return json::value(organization_json(o, audience::frontend));
    });
}

api_result<reply> fapi_delete_organization(app& a, request_ctx& ctx) {
    return write_and_reply(a, ctx, "delete_organization", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_profile:delete");
        if (!s) return s.error();
        if (!a.cfg.organizations.admin_delete || !s->org.admin_delete_enabled)
            return make_error(code::organization_admin_delete_not_enabled);
        if (auto r = remove(a, w, s->org.id, ctx.now); !r) return r.error();
        auto d = views::deleted_object("organization", s->org.id);
        return json::value(std::move(d));
    });
}

// ---- memberships ----

api_result<reply> fapi_list_memberships(app& a, request_ctx& ctx) {
    return read_and_reply(a, ctx, "list_memberships", [&](store::read_txn& t) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, t, "org:sys_memberships:read");
        if (!s) return s.error();
        auto ms = t.organizations().memberships_of_org(s->org.id);
        if (!ms) return store_error(ms.error(), "list_memberships");
        auto roles_wanted = ctx.query.all("role", true);
        std::string query;
        if (auto const* q = ctx.query.find("query")) query = *q;
        std::transform(query.begin(), query.end(), query.begin(), [](unsigned char c) { return std::tolower(c); });
        std::sort(ms->begin(), ms->end(), [](auto const& x, auto const& y) { return x.created_at < y.created_at; });
        json::array all;
        for (auto const& m : *ms) {
            if (!roles_wanted.empty() &&
                std::find(roles_wanted.begin(), roles_wanted.end(), m.role) == roles_wanted.end())
                continue;
            auto u = t.users().get(m.user_id);
            if (!u) return store_error(u.error(), "list_memberships");
            auto j = membership_json(a, m, s->org, *u ? &**u : nullptr, audience::frontend);
            if (!query.empty()) {
                std::string hay = json::serialize(j["public_user_data"]);
                std::transform(hay.begin(), hay.end(), hay.begin(), [](unsigned char c) { return std::tolower(c); });
                if (hay.find(query) == std::string::npos) continue;
            }
            all.push_back(std::move(j));
        }
        return json::value(page_of(ctx, std::move(all)));
    });
}

api_result<reply> fapi_create_membership(app& a, request_ctx& ctx) {
    auto user_id = frontend::field(ctx, "user_id");
    if (!user_id || user_id->empty()) return param_error(code::form_param_missing, "user_id");
    auto role = frontend::field(ctx, "role");
    if (!role || role->empty()) return param_error(code::form_param_missing, "role");
    return write_and_reply(a, ctx, "create_membership", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_memberships:manage");
        if (!s) return s.error();
        auto m = add_member(a, w, s->org, *user_id, *role, ctx.now);
        if (!m) return m.error();
        auto u = w.users().get(*user_id);
        if (!u) return store_error(u.error(), "create_membership");
        return json::value(membership_json(a, *m, s->org, *u ? &**u : nullptr, audience::frontend));
    });
}

namespace {

/// Changes (role) or removes (role == "") the membership of the path's user, with the manage permission (or,
/// for `self`, as the member leaving) and the last-admin rule.
api_result<json::value> change_member(app& a, request_ctx const& ctx, store::write_txn& w, scoped const& s,
                                      std::string_view user_id, std::optional<std::string> const& role) {
    auto m = w.organizations().membership(s.org.id, user_id);
    if (!m) return store_error(m.error(), "change_membership");
    if (!*m) return not_found();
    if (role && !find_role(a, *role))
        return param_error(code::form_param_value_invalid, "role", "role is not a known role.");
    if (!role || *role != admin_role) {
        auto last = is_last_admin(w, s.org.id, user_id);
        if (!last) return last.error();
        if (*last) return make_error(code::organization_minimum_permissions_needed);
    }
    auto u = w.users().get(user_id);
    if (!u) return store_error(u.error(), "change_membership");
    auto rec = **m;
    if (role) {
        rec.role = *role;
        rec.updated_at = std::max(ctx.now, rec.updated_at + 1);
        if (auto r = w.organizations().put_membership(rec); !r) return store_error(r.error(), "change_membership");
    } else {
        if (auto r = w.organizations().remove_membership(s.org.id, user_id); !r)
            return store_error(r.error(), "change_membership");
    }
    if (auto r = refresh_user(a, w, user_id, ctx.now); !r) return r.error();
    auto j = membership_json(a, rec, s.org, *u ? &**u : nullptr, audience::frontend);
    if (auto e = events::emit(a, w, role ? "organizationMembership.updated" : "organizationMembership.deleted",
                              membership_json(a, rec, s.org, *u ? &**u : nullptr, audience::backend));
        !e)
        return store_error(e.error(), "webhook");
    return json::value(std::move(j));
}

}  // namespace

api_result<reply> fapi_update_membership(app& a, request_ctx& ctx) {
    auto role = frontend::field(ctx, "role");
    if (!role || role->empty()) return param_error(code::form_param_missing, "role");
    return write_and_reply(a, ctx, "update_membership", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_memberships:manage");
        if (!s) return s.error();
        return change_member(a, ctx, w, *s, ctx.params.get("user_id"), *role);
    });
}

api_result<reply> fapi_delete_membership(app& a, request_ctx& ctx) {
    return write_and_reply(a, ctx, "delete_membership", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_memberships:manage");
        if (!s) return s.error();
        return change_member(a, ctx, w, *s, ctx.params.get("user_id"), std::nullopt);
    });
}

// ---- invitations ----

namespace {

/// The organization's invitations, newest first, filtered by the repeated `status` (or pending only).
api_result<reply> list_invitations(app& a, request_ctx& ctx, bool pending_only) {
    return read_and_reply(a, ctx, "list_invitations", [&](store::read_txn& t) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, t, "org:sys_memberships:manage");
        if (!s) return s.error();
        auto invs = t.organizations().invitations_of_org(s->org.id);
        if (!invs) return store_error(invs.error(), "list_invitations");
        auto statuses = pending_only ? std::vector<std::string>{"pending"} : ctx.query.all("status", true);
        json::array all;
        for (auto it = invs->rbegin(); it != invs->rend(); ++it) {  // newest first
            auto i = *it;
            if (i.status == "pending" && i.expires_at <= ctx.now) i.status = "expired";
            if (!statuses.empty() && std::find(statuses.begin(), statuses.end(), i.status) == statuses.end()) continue;
            all.push_back(invitation_json(a, i, &s->org, audience::frontend));
        }
        return json::value(page_of(ctx, std::move(all)));
    });
}

}  // namespace

api_result<reply> fapi_list_invitations(app& a, request_ctx& ctx) { return list_invitations(a, ctx, false); }

// Deprecated in the FAPI spec (in favour of ?status=pending); no SDK calls it, but apps written against it work.
api_result<reply> fapi_list_pending_invitations(app& a, request_ctx& ctx) { return list_invitations(a, ctx, true); }

namespace {

api_result<std::vector<std::string>> valid_emails(std::vector<std::string> const& in) {
    if (in.empty()) return param_error(code::form_param_missing, "email_address");
    if (in.size() > 50) return param_error(code::form_param_value_invalid, "email_address", "At most 50 addresses.");
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (auto const& e : in) {
        auto n = frontend::normalize_email(e);
        if (!n)
            return param_error(code::form_param_format_invalid, "email_address",
                               "email_address must be a valid email address.");
        if (seen.insert(*n).second) out.push_back(std::move(*n));
    }
    return out;
}

api_result<reply> invite_many(app& a, request_ctx& ctx, bool bulk) {
    auto emails = valid_emails(emails_of(ctx));
    if (!emails) return emails.error();
    if (!bulk && emails->size() != 1)
        return param_error(code::form_param_value_invalid, "email_address", "One email address.");
    auto role = frontend::field(ctx, "role");
    std::string const r = role && !role->empty() ? *role : a.cfg.organizations.default_role;
    return write_and_reply(a, ctx, "create_invitation", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_memberships:manage");
        if (!s) return s.error();
        json::array out;
        for (auto const& e : *emails) {
            auto inv = invite(a, w, s->org, e, r, s->who.user.id, ctx.now);
            if (!inv) return inv.error();
            out.push_back(invitation_json(a, *inv, &s->org, audience::frontend));
        }
        if (bulk) return json::value(std::move(out));
        return std::move(out[0]);
    });
}

}  // namespace

api_result<reply> fapi_create_invitation(app& a, request_ctx& ctx) { return invite_many(a, ctx, false); }

api_result<reply> fapi_create_invitations_bulk(app& a, request_ctx& ctx) { return invite_many(a, ctx, true); }

api_result<reply> fapi_revoke_invitation(app& a, request_ctx& ctx) {
    return write_and_reply(a, ctx, "revoke_invitation", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_memberships:manage");
        if (!s) return s.error();
        auto i = w.organizations().invitation(ctx.params.get("invitation_id"));
        if (!i) return store_error(i.error(), "revoke_invitation");
        if (!*i || (*i)->organization_id != s->org.id) return not_found();
        auto inv = **i;
        if (inv.status == "pending") {
            inv.status = "revoked";
            inv.updated_at = ctx.now;
            if (auto r = w.organizations().put_invitation(inv); !r) return store_error(r.error(), "revoke_invitation");
            if (auto e = events::emit(a, w, "organizationInvitation.revoked",
                                      invitation_json(a, inv, &s->org, audience::backend));
                !e)
                return store_error(e.error(), "webhook");
        }
        return json::value(invitation_json(a, inv, &s->org, audience::frontend));
    });
}

api_result<reply> fapi_list_roles(app& a, request_ctx& ctx) {
    return read_and_reply(a, ctx, "list_roles", [&](store::read_txn& t) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, t, "org:sys_memberships:read");
        if (!s) return s.error();
        json::array all;
        for (auto const& r : roles(a)) all.push_back(role_json(r));
        auto p = page_of(ctx, std::move(all));
        p["has_role_set_migration"] = false;
        return json::value(std::move(p));
    });
}

// ---- the user's side ----

api_result<reply> fapi_my_memberships(app& a, request_ctx& ctx) {
    return read_and_reply(a, ctx, "my_memberships", [&](store::read_txn& t) -> api_result<json::value> {
        auto who = load_actor(a, ctx, t);
        if (!who) return who.error();
        return json::value(my_membership_page(a, ctx, who->user));
    });
}

api_result<reply> fapi_leave_organization(app& a, request_ctx& ctx) {
    return write_and_reply(a, ctx, "leave_organization", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w);
        if (!s) return s.error();
        auto j = change_member(a, ctx, w, *s, s->who.user.id, std::nullopt);
        if (!j) return j.error();
        auto d = views::deleted_object("organization_membership", s->membership.id);
        return json::value(std::move(d));
    });
}

api_result<reply> fapi_my_invitations(app& a, request_ctx& ctx) {
    return read_and_reply(a, ctx, "my_invitations", [&](store::read_txn& t) -> api_result<json::value> {
        auto who = load_actor(a, ctx, t);
        if (!who) return who.error();
        auto statuses = ctx.query.all("status", true);
        json::array all;
        for (auto const& e : verified_emails(who->user)) {
            auto invs = t.organizations().invitations_to(e);
            if (!invs) return store_error(invs.error(), "my_invitations");
            for (auto i : *invs) {
                if (i.status == "pending" && i.expires_at <= ctx.now) i.status = "expired";
                if (!statuses.empty() && std::find(statuses.begin(), statuses.end(), i.status) == statuses.end())
                    continue;
                auto o = t.organizations().get(i.organization_id);
                if (!o) return store_error(o.error(), "my_invitations");
                if (!*o) continue;
                all.push_back(invitation_json(a, i, &**o, audience::frontend));
            }
        }
        // Invitations earned through an organization's verified automatic_invitation domain (always pending).
        if (statuses.empty() || std::find(statuses.begin(), statuses.end(), "pending") != statuses.end()) {
            auto more = domain_invitations_for(a, t, who->user);
            if (!more) return more.error();
            for (auto& j : *more) all.push_back(std::move(j));
        }
        return json::value(page_of(ctx, std::move(all)));
    });
}

api_result<reply> fapi_accept_my_invitation(app& a, request_ctx& ctx) {
    return write_and_reply(a, ctx, "accept_invitation", [&](store::write_txn& w) -> api_result<json::value> {
        auto who = load_actor(a, ctx, w);
        if (!who) return who.error();
        auto i = w.organizations().invitation(ctx.params.get("invitation_id"));
        if (!i) return store_error(i.error(), "accept_invitation");
        if (!*i) {
            auto by_domain = accept_domain_invitation(a, w, who->user, ctx.params.get("invitation_id"), ctx.now);
            if (!by_domain) return by_domain.error();
            if (*by_domain) return json::value(std::move(**by_domain));
            return not_found();
        }
        auto const mine = verified_emails(who->user);
        if (!*i || std::find(mine.begin(), mine.end(), (*i)->email_address) == mine.end()) return not_found();
        auto inv = **i;
        if (auto r = accept_invitation(a, w, inv, who->user.id, ctx.now); !r) return r.error();
        auto o = w.organizations().get(inv.organization_id);
        if (!o) return store_error(o.error(), "accept_invitation");
        inv.status = "accepted";
        inv.updated_at = ctx.now;
        return json::value(invitation_json(a, inv, *o ? &**o : nullptr, audience::frontend));
    });
}

// ---- logo (issue 14): multipart `file`, permission org:sys_profile:manage; the reply is the organization ----

api_result<reply> fapi_set_organization_logo(app& a, request_ctx& ctx) {
    if (auto e = enabled(a)) return *e;
    auto up = images::read_upload(a, ctx);
    if (!up) {
        // A signed-out or unauthorised caller hears that first, not what was wrong with the file.
        auto who = txn::read<scoped>(
            a, "org_logo", [&](store::read_txn& t) { return load_scoped(a, ctx, t, "org:sys_profile:manage"); });
        if (!who) return who.error();
        return up.error();
    }
    return write_and_reply(a, ctx, "set_organization_logo", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_profile:manage");
        if (!s) return s.error();
        auto o = s->org;
        if (auto r = images::attach(a, ctx, w, o.image_url, o.id, std::move(*up)); !r) return r.error();
        o.updated_at = std::max(ctx.now, o.updated_at + 1);
        if (auto r = w.organizations().put(o, false); !r) return store_error(r.error(), "set_organization_logo");
        if (auto r = refresh_members(a, w, o.id, ctx.now); !r) return r.error();
        if (auto e = events::emit(a, w, "organization.updated", organization_json(o, audience::backend)); !e)
            return store_error(e.error(), "webhook");
        return json::value(organization_json(o, audience::frontend));
    });
}

api_result<reply> fapi_delete_organization_logo(app& a, request_ctx& ctx) {
    return write_and_reply(a, ctx, "delete_organization_logo", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_profile:manage");
        if (!s) return s.error();
        auto o = s->org;
        if (o.image_url.empty()) return make_error(code::resource_not_found);
        std::string id(images::id_in(o.image_url));
        if (id.empty()) id = o.id;
        if (auto r = images::detach(w, o.image_url, o.id); !r) return r.error();
        o.updated_at = std::max(ctx.now, o.updated_at + 1);
        if (auto r = w.organizations().put(o, false); !r) return store_error(r.error(), "delete_organization_logo");
        if (auto r = refresh_members(a, w, o.id, ctx.now); !r) return r.error();
        if (auto e = events::emit(a, w, "organization.updated", organization_json(o, audience::backend)); !e)
            return store_error(e.error(), "webhook");
        auto d = views::deleted_object("image", id);
        return json::value(std::move(d));
    });
}

}  // namespace latchkey::server::api::orgs
