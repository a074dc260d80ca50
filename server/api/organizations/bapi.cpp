// BAPI /v1/organizations/* as @clerk/backend 3.25's organizations API calls it (clerk-wire-2.md §1 "BAPI"):
// organizations CRUD + list/search/paging, metadata merge/replace, memberships CRUD + list, invitations (create,
// bulk, list, get, revoke). Every change is one store txn.
#include "server/api/organizations/handlers.hpp"
#include "server/api/organizations/orgs.hpp"

#include "server/api/backend/common.hpp"
#include "server/api/domain/identifiers.hpp"
#include "server/api/domain/metadata.hpp"
#include "server/api/events.hpp"
#include "server/api/images/images.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <set>

namespace latchkey::server::api::orgs {

namespace json = boost::json;
using backend::body_bool;
using backend::body_object;
using backend::body_string;
using backend::json_reply;
using backend::paging;
using backend::read_json;
using backend::required_body_string;
using backend::write_json;

namespace {

std::string text_of(json::object const& o) { return json::serialize(o); }

api_result<std::int32_t> max_members_of(request_ctx const& ctx) {
    auto v = backend::body_int_in(ctx, "max_allowed_memberships", 0, 100000,
                                  "max_allowed_memberships must be between 0 and 100000.");
    if (!v) return v.error();
    return *v ? static_cast<std::int32_t>(**v) : -1;
}

api_result<json::value> org_view(store::read_txn const& t, store::organization_record const& o) {
    auto n = t.organizations().members_count(o.id);
    if (!n) return store_error(n.error(), "organization");
    auto invs = t.organizations().invitations_of_org(o.id);
    if (!invs) return store_error(invs.error(), "organization");
    std::size_t pending = 0;
    for (auto const& i : *invs) pending += i.status == "pending" ? 1 : 0;
    return json::value(organization_json(o, audience::backend, *n, pending));
}

}  // namespace

// ---- organizations ----

api_result<reply> bapi_list_organizations(app& a, request_ctx& ctx) {
    auto p = paging(ctx);
    if (!p) return p.error();
    std::string query;
    if (auto const* q = ctx.query.find("query")) query = *q;
    std::transform(query.begin(), query.end(), query.begin(), [](unsigned char c) { return std::tolower(c); });
    auto ids = ctx.query.all("organization_id", true);
    std::string order = "-created_at";
    if (auto const* o = ctx.query.find("order_by"); o && !o->empty()) order = *o;
    std::string_view field = order;
    bool desc = true;
    if (field.front() == '+' || field.front() == '-') {
        desc = field.front() == '-';
        field.remove_prefix(1);
    }
    if (field != "created_at" && field != "name" && field != "members_count")
        return param_error(code::form_param_value_invalid, "order_by",
                           "order_by must be [+|-]created_at, name or members_count.");
    return read_json(a, "list_organizations", [&](store::read_txn& t) -> api_result<json::value> {
        auto all = t.organizations().list();
        if (!all) return store_error(all.error(), "list_organizations");
        struct row {
            store::organization_record o;
            std::size_t members;
        };
        std::vector<row> rows;
        for (auto& o : *all) {
            if (!ids.empty() && std::find(ids.begin(), ids.end(), o.id) == ids.end()) continue;
            if (!query.empty()) {
                std::string hay = o.id + " " + o.name + " " + o.slug;
                std::transform(hay.begin(), hay.end(), hay.begin(), [](unsigned char c) { return std::tolower(c); });
                if (hay.find(query) == std::string::npos) continue;
            }
            auto n = t.organizations().members_count(o.id);
            if (!n) return store_error(n.error(), "list_organizations");
            rows.push_back({std::move(o), *n});
        }
        std::stable_sort(rows.begin(), rows.end(), [&](row const& x, row const& y) {
            if (field == "name") return desc ? x.o.name > y.o.name : x.o.name < y.o.name;
            if (field == "members_count") return desc ? x.members > y.members : x.members < y.members;
            return desc ? x.o.id > y.o.id : x.o.id < y.o.id;  // ids are time-ordered
        });
        json::array out;
        for (auto const& r : rows) out.push_back(organization_json(r.o, audience::backend, r.members));
        return json::value(page(std::move(out), *p));
    });
}

api_result<reply> bapi_create_organization(app& a, request_ctx& ctx) {
    auto name = required_body_string(ctx, "name", 256);
    if (!name) return name.error();
    auto slug = body_string(ctx, "slug", 64);
    if (!slug) return slug.error();
    if (*slug && !(*slug)->empty() && !valid_slug(**slug)) return invalid_slug();
    auto created_by = body_string(ctx, "created_by", 128);
    if (!created_by) return created_by.error();
    auto max = max_members_of(ctx);
    if (!max) return max.error();
    auto pub = body_object(ctx, "public_metadata");
    if (!pub) return pub.error();
    auto priv = body_object(ctx, "private_metadata");
    if (!priv) return priv.error();
    return write_json(a, "create_organization", [&](store::write_txn& w) -> api_result<json::value> {
        store::organization_record o;
        o.name = *name;
        if (*slug && !(*slug)->empty()) {
            o.slug = **slug;
        } else {
            std::string base = slugify(o.name);
            if (base.empty()) base = "organization";
            std::string s = base;
            for (int i = 2;; ++i) {
                auto taken = w.organizations().by_slug(s);
                if (!taken) return store_error(taken.error(), "create_organization");
                if (!*taken || i > 1000) break;
                s = base + "-" + std::to_string(i);
            }
            o.slug = s;
        }
        if (*max >= 0) o.max_allowed_memberships = *max;
        if (*pub) o.public_metadata = text_of(**pub);
        if (*priv) o.private_metadata = text_of(**priv);
        std::string creator = *created_by ? **created_by : std::string{};
        if (!creator.empty()) {
            auto u = w.users().get(creator);
            if (!u) return store_error(u.error(), "create_organization");
            if (!*u) return param_error(code::resource_not_found, "created_by", "No user was found with this id.");
        }
        auto made = create(a, w, std::move(o), creator, ctx.now);
        if (!made) return made.error();
        return org_view(w, *made);
    });
}

api_result<reply> bapi_get_organization(app& a, request_ctx& ctx) {
    return read_json(a, "get_organization", [&](store::read_txn& t) -> api_result<json::value> {
        auto o = path_organization(t, ctx);
        if (!o) return o.error();
        return org_view(t, *o);
    });
}

api_result<reply> bapi_update_organization(app& a, request_ctx& ctx) {
    auto name = body_string(ctx, "name", 256);
    if (!name) return name.error();
    auto slug = body_string(ctx, "slug", 64);
    if (!slug) return slug.error();
    if (*slug && !valid_slug(**slug)) return invalid_slug();
    auto admin_delete = body_bool(ctx, "admin_delete_enabled");
    if (!admin_delete) return admin_delete.error();
    auto max = max_members_of(ctx);
    if (!max) return max.error();
    auto pub = body_object(ctx, "public_metadata");
    if (!pub) return pub.error();
    auto priv = body_object(ctx, "private_metadata");
    if (!priv) return priv.error();
    return write_json(a, "update_organization", [&](store::write_txn& w) -> api_result<json::value> {
        auto o = path_organization(w, ctx);
        if (!o) return o.error();
        if (*name && !(*name)->empty()) o->name = **name;
        if (*slug) o->slug = **slug;
        if (*admin_delete) o->admin_delete_enabled = **admin_delete;
        if (*max >= 0) o->max_allowed_memberships = *max;
        if (*pub) o->public_metadata = text_of(**pub);
        if (*priv) o->private_metadata = text_of(**priv);
        o->updated_at = std::max(ctx.now, o->updated_at + 1);
        if (auto r = w.organizations().put(*o, false); !r) {
            if (r.error() == store::make_error_code(store::errc::key_exists))
                return param_error(code::form_identifier_exists, "slug",
                                   "This slug is already taken by another organization. Please try another.");
            return store_error(r.error(), "update_organization");
        }
        if (auto r = refresh_members(a, w, o->id, ctx.now); !r) return r.error();
        if (auto e = events::emit(a, w, "organization.updated", organization_json(*o, audience::backend)); !e)
            return store_error(e.error(), "webhook");
        return org_view(w, *o);
    });
}

api_result<reply> bapi_delete_organization(app& a, request_ctx& ctx) {
    return write_json(a, "delete_organization", [&](store::write_txn& w) -> api_result<json::value> {
        auto o = path_organization(w, ctx);
        if (!o) return o.error();
        if (auto r = remove(a, w, o->id, ctx.now); !r) return r.error();
        auto d = views::deleted_object("organization", o->id);
        return json::value(std::move(d));
    });
}

namespace {

api_result<reply> write_org_metadata(app& a, request_ctx& ctx, bool merge_patch) {
    auto pub = body_object(ctx, "public_metadata");
    if (!pub) return pub.error();
    auto priv = body_object(ctx, "private_metadata");
    if (!priv) return priv.error();
    return write_json(a, "organization_metadata", [&](store::write_txn& w) -> api_result<json::value> {
        auto o = path_organization(w, ctx);
        if (!o) return o.error();
        auto apply = [&](std::optional<json::object> const& given, std::string& stored) {
            if (!given) return;
            if (!merge_patch) {
                stored = text_of(*given);
                return;
            }
            json::value cur = views::json_text(stored);
            json::object obj = cur.is_object() ? cur.get_object() : json::object{};
            domain::merge_metadata(obj, *given);
            stored = text_of(obj);
        };
        apply(*pub, o->public_metadata);
        apply(*priv, o->private_metadata);
        o->updated_at = std::max(ctx.now, o->updated_at + 1);
        if (auto r = w.organizations().put(*o, false); !r) return store_error(r.error(), "organization_metadata");
        if (auto r = refresh_members(a, w, o->id, ctx.now); !r) return r.error();
        return org_view(w, *o);
    });
}

}  // namespace

api_result<reply> bapi_merge_organization_metadata(app& a, request_ctx& ctx) {
    return write_org_metadata(a, ctx, true);
}

api_result<reply> bapi_replace_organization_metadata(app& a, request_ctx& ctx) {
    return write_org_metadata(a, ctx, false);
}

// ---- memberships ----

api_result<reply> bapi_list_memberships(app& a, request_ctx& ctx) {
    auto p = paging(ctx);
    if (!p) return p.error();
    auto roles_wanted = ctx.query.all("role", true);
    auto users_wanted = ctx.query.all("user_id", true);
    return read_json(a, "list_memberships", [&](store::read_txn& t) -> api_result<json::value> {
        auto o = path_organization(t, ctx);
        if (!o) return o.error();
        auto ms = t.organizations().memberships_of_org(o->id);
        if (!ms) return store_error(ms.error(), "list_memberships");
        std::sort(ms->begin(), ms->end(), [](auto const& x, auto const& y) { return x.created_at > y.created_at; });
        json::array out;
        for (auto const& m : *ms) {
            if (!roles_wanted.empty() &&
                std::find(roles_wanted.begin(), roles_wanted.end(), m.role) == roles_wanted.end())
                continue;
            if (!users_wanted.empty() &&
                std::find(users_wanted.begin(), users_wanted.end(), m.user_id) == users_wanted.end())
                continue;
            auto u = t.users().get(m.user_id);
            if (!u) return store_error(u.error(), "list_memberships");
            out.push_back(membership_json(a, m, *o, *u ? &**u : nullptr, audience::backend));
        }
        return json::value(page(std::move(out), *p));
    });
}

api_result<reply> bapi_create_membership(app& a, request_ctx& ctx) {
    auto user_id = required_body_string(ctx, "user_id", 128);
    if (!user_id) return user_id.error();
    auto role = required_body_string(ctx, "role", 128);
    if (!role) return role.error();
    return write_json(a, "create_membership", [&](store::write_txn& w) -> api_result<json::value> {
        auto o = path_organization(w, ctx);
        if (!o) return o.error();
        auto m = add_member(a, w, *o, *user_id, *role, ctx.now);
        if (!m) return m.error();
        auto u = w.users().get(*user_id);
        if (!u) return store_error(u.error(), "create_membership");
        return json::value(membership_json(a, *m, *o, *u ? &**u : nullptr, audience::backend));
    });
}

namespace {

/// Updates the role or metadata of (or removes) the path's membership; the BAPI may demote the last admin only
/// by removing them (as Clerk: the rule guards the FAPI's members).
api_result<reply> change_membership(app& a, request_ctx& ctx, bool remove_it) {
    auto role = body_string(ctx, "role", 128);
    if (!role) return role.error();
    if (!remove_it && (!*role || (*role)->empty())) return param_error(code::form_param_missing, "role");
    return write_json(a, "change_membership", [&](store::write_txn& w) -> api_result<json::value> {
        auto o = path_organization(w, ctx);
        if (!o) return o.error();
        std::string_view user_id = ctx.params.get("user_id");
        auto m = w.organizations().membership(o->id, user_id);
        if (!m) return store_error(m.error(), "change_membership");
        if (!*m) return not_found();
        auto rec = **m;
        if (remove_it) {
            if (auto r = w.organizations().remove_membership(o->id, user_id); !r)
                return store_error(r.error(), "change_membership");
        } else {
            if (!find_role(a, **role))
                return param_error(code::form_param_value_invalid, "role", "role is not a known role.");
            rec.role = **role;
            rec.updated_at = std::max(ctx.now, rec.updated_at + 1);
            if (auto r = w.organizations().put_membership(rec); !r) return store_error(r.error(), "change_membership");
        }
        if (auto r = refresh_user(a, w, user_id, ctx.now); !r) return r.error();
        auto u = w.users().get(user_id);
        if (!u) return store_error(u.error(), "change_membership");
        auto j = membership_json(a, rec, *o, *u ? &**u : nullptr, audience::backend);
        if (auto e =
                events::emit(a, w, remove_it ? "organizationMembership.deleted" : "organizationMembership.updated", j);
            !e)
            return store_error(e.error(), "webhook");
        return json::value(std::move(j));
    });
}

}  // namespace

api_result<reply> bapi_update_membership(app& a, request_ctx& ctx) { return change_membership(a, ctx, false); }

api_result<reply> bapi_delete_membership(app& a, request_ctx& ctx) { return change_membership(a, ctx, true); }

// ---- invitations ----

api_result<reply> bapi_list_invitations(app& a, request_ctx& ctx) {
    auto p = paging(ctx);
    if (!p) return p.error();
    auto statuses = ctx.query.all("status", true);
    return read_json(a, "list_invitations", [&](store::read_txn& t) -> api_result<json::value> {
        auto o = path_organization(t, ctx);
        if (!o) return o.error();
        auto invs = t.organizations().invitations_of_org(o->id);
        if (!invs) return store_error(invs.error(), "list_invitations");
        json::array out;
        for (auto it = invs->rbegin(); it != invs->rend(); ++it) {
            auto i = *it;
            if (i.status == "pending" && i.expires_at <= ctx.now) i.status = "expired";
            if (!statuses.empty() && std::find(statuses.begin(), statuses.end(), i.status) == statuses.end()) continue;
            out.push_back(invitation_json(a, i, &*o, audience::backend));
        }
        return json::value(page(std::move(out), *p));
    });
}

namespace {

struct invite_input {
    std::string email;
    std::string role;
    std::string inviter;
    std::string redirect_url;
    std::optional<json::object> pub;
    std::optional<json::object> priv;
};

api_result<invite_input> invite_input_of(app const& a, json::object const& body) {
    invite_input in;
    auto str = [&](std::string_view key, std::string& out) -> std::optional<api_error> {
        auto const* v = body.if_contains(key);
        if (v == nullptr || v->is_null()) return std::nullopt;
        if (!v->is_string() || v->get_string().size() > 2048) return param_error(code::form_param_type_invalid, key);
        out = std::string(v->get_string());
        return std::nullopt;
    };
    std::string email;
    if (auto e = str("email_address", email)) return *e;
    if (email.empty()) return param_error(code::form_param_missing, "email_address");
    auto n = domain::normalize_email(email);
    if (!n)
        return param_error(code::form_param_format_invalid, "email_address",
                           "email_address must be a valid email address.");
    in.email = *n;
    if (auto e = str("role", in.role)) return *e;
    if (in.role.empty()) in.role = a.cfg.organizations.default_role;
    if (auto e = str("inviter_user_id", in.inviter)) return *e;
    if (auto e = str("redirect_url", in.redirect_url)) return *e;
    for (auto [key, slot] : {std::pair{"public_metadata", &in.pub}, std::pair{"private_metadata", &in.priv}}) {
        auto const* v = body.if_contains(key);
        if (v == nullptr || v->is_null()) continue;
        if (!v->is_object()) return param_error(code::form_param_type_invalid, key);
        *slot = v->get_object();
    }
    return in;
}

api_result<json::value> create_invitations(app& a, request_ctx const& ctx, store::write_txn& w,
                                           std::vector<invite_input> const& ins) {
    auto o = path_organization(w, ctx);
    if (!o) return o.error();
    json::array out;
    for (auto const& in : ins) {
        if (!in.inviter.empty()) {
            auto u = w.users().get(in.inviter);
            if (!u) return store_error(u.error(), "create_invitation");
            if (!*u) return param_error(code::resource_not_found, "inviter_user_id", "No user was found with this id.");
        }
        auto inv = invite(a, w, *o, in.email, in.role, in.inviter, ctx.now, in.redirect_url);
        if (!inv) return inv.error();
        if (in.pub || in.priv) {
            if (in.pub) inv->public_metadata = text_of(*in.pub);
            if (in.priv) inv->private_metadata = text_of(*in.priv);
            if (auto r = w.organizations().put_invitation(*inv); !r) return store_error(r.error(), "create_invitation");
        }
        out.push_back(invitation_json(a, *inv, &*o, audience::backend));
    }
    return json::value(std::move(out));
}

}  // namespace

api_result<reply> bapi_create_invitation(app& a, request_ctx& ctx) {
    json::object const empty;
    auto in = invite_input_of(a, ctx.body.is_object() ? ctx.body.get_object() : empty);
    if (!in) return in.error();
    auto r = txn::write<json::value>(a, "create_invitation", txn::on_client_error::abort,
                                     [&](store::write_txn& w) { return create_invitations(a, ctx, w, {*in}); });
    if (!r) return r.error();
    return json_reply(r->get_array().at(0));
}

api_result<reply> bapi_create_invitations_bulk(app& a, request_ctx& ctx) {
    if (!ctx.body.is_array() || ctx.body.get_array().empty() || ctx.body.get_array().size() > 50)
        return param_error(code::form_param_value_invalid, "body", "The body must be an array of 1 to 50 invitations.");
    std::vector<invite_input> ins;
    std::set<std::string> seen;
    for (auto const& v : ctx.body.get_array()) {
        if (!v.is_object()) return param_error(code::form_param_type_invalid, "body", "Each item must be an object.");
        auto in = invite_input_of(a, v.get_object());
        if (!in) return in.error();
        if (!seen.insert(in->email).second)
            return param_error(code::form_param_value_invalid, "email_address",
                               "The same email address appears twice in the request.");
        ins.push_back(std::move(*in));
    }
    auto r = txn::write<json::value>(a, "create_invitations", txn::on_client_error::abort,
                                     [&](store::write_txn& w) { return create_invitations(a, ctx, w, ins); });
    if (!r) return r.error();
    return json_reply(*r);
}

api_result<reply> bapi_get_invitation(app& a, request_ctx& ctx) {
    return read_json(a, "get_invitation", [&](store::read_txn& t) -> api_result<json::value> {
        auto o = path_organization(t, ctx);
        if (!o) return o.error();
        auto i = t.organizations().invitation(ctx.params.get("invitation_id"));
        if (!i) return store_error(i.error(), "get_invitation");
        if (!*i || (*i)->organization_id != o->id) return not_found();
        auto inv = **i;
        if (inv.status == "pending" && inv.expires_at <= ctx.now) inv.status = "expired";
        return json::value(invitation_json(a, inv, &*o, audience::backend));
    });
}

api_result<reply> bapi_revoke_invitation(app& a, request_ctx& ctx) {
    return write_json(a, "revoke_invitation", [&](store::write_txn& w) -> api_result<json::value> {
        auto o = path_organization(w, ctx);
        if (!o) return o.error();
        auto i = w.organizations().invitation(ctx.params.get("invitation_id"));
        if (!i) return store_error(i.error(), "revoke_invitation");
        if (!*i || (*i)->organization_id != o->id) return not_found();
        auto inv = **i;
        if (inv.status != "pending")
            return param_error(code::form_param_value_invalid, "invitation_id",
                               "Only a pending invitation can be revoked.");
        inv.status = "revoked";
        inv.updated_at = ctx.now;
        if (auto r = w.organizations().put_invitation(inv); !r) return store_error(r.error(), "revoke_invitation");
        auto j = invitation_json(a, inv, &*o, audience::backend);
        if (auto e = events::emit(a, w, "organizationInvitation.revoked", j); !e)
            return store_error(e.error(), "webhook");
        return json::value(std::move(j));
    });
}

// ---- logo (issue 14): multipart `file` (+ `uploader_user_id`, not needed here); the reply is the organization ----

namespace {

template <class Change>
api_result<reply> change_logo(app& a, request_ctx& ctx, char const* what, Change change) {
    return write_json(a, what, [&](store::write_txn& w) -> api_result<json::value> {
        auto o = path_organization(w, ctx);
        if (!o) return o.error();
        if (auto r = change(w, *o); !r) return r.error();
        o->updated_at = std::max(ctx.now, o->updated_at + 1);
        if (auto r = w.organizations().put(*o, false); !r) return store_error(r.error(), what);
        if (auto r = refresh_members(a, w, o->id, ctx.now); !r) return r.error();
        if (auto e = events::emit(a, w, "organization.updated", organization_json(*o, audience::backend)); !e)
            return store_error(e.error(), "webhook");
        return org_view(w, *o);
    });
}

}  // namespace

api_result<reply> bapi_set_organization_logo(app& a, request_ctx& ctx) {
    auto up = images::read_upload(a, ctx);
    if (!up) return up.error();
    return change_logo(a, ctx, "set_organization_logo", [&](store::write_txn& w, store::organization_record& o) {
        auto r = images::attach(a, ctx, w, o.image_url, o.id, std::move(*up));
        return r ? api_result<void>() : api_result<void>(r.error());
    });
}

api_result<reply> bapi_delete_organization_logo(app& a, request_ctx& ctx) {
    return change_logo(a, ctx, "delete_organization_logo", [&](store::write_txn& w, store::organization_record& o) {
        return images::detach(w, o.image_url, o.id);
    });
}

}  // namespace latchkey::server::api::orgs
