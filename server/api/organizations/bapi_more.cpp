// BAPI organization memberships across organizations, membership metadata, roles and permissions (issue 13), as
// @clerk/backend 3.25 calls them:
// - PATCH /v1/organizations/{id}/memberships/{user_id}/metadata (updateOrganizationMembershipMetadata): deep merge.
// - GET /v1/organization_memberships (getInstanceOrganizationMembershipList) and
//   GET /v1/users/{user_id}/organization_memberships (users.getOrganizationMembershipList).
// - /v1/organization_roles and /v1/organization_permissions: the roles are the system roles and the config's
//   custom roles, so they are read here and never written: every write (create, update, delete, assign or remove
//   a permission) answers 403 not_allowed_access, saying the roles come from the instance config.
#include "server/api/organizations/handlers.hpp"
#include "server/api/organizations/orgs.hpp"

#include "server/api/backend/common.hpp"
#include "server/api/domain/metadata.hpp"
#include "server/api/events.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace latchkey::server::api::orgs {

namespace json = boost::json;

namespace {

std::string merged(std::string const& text, json::object const& patch) {
    boost::system::error_code ec;
    auto v = json::parse(text.empty() ? std::string("{}") : text, ec);
    json::object base = (!ec && v.is_object()) ? std::move(v.as_object()) : json::object{};
    domain::merge_metadata(base, patch);
    return json::serialize(base);
}

/// Memberships as the BAPI lists them, newest first unless order_by says otherwise.
api_result<json::value> membership_page(app const& a, store::read_txn const& t,
                                        std::vector<store::org_membership_record> ms, request_ctx const& ctx,
                                        std::pair<std::size_t, std::size_t> p) {
    std::string order = "-created_at";
    if (auto const* o = ctx.query.find("order_by"); o && !o->empty()) order = *o;
    bool const asc = order == "+created_at" || order == "created_at";
    if (!asc && order != "-created_at")
        return param_error(code::form_param_value_invalid, "order_by", "order_by must be [+|-]created_at.");
    std::stable_sort(ms.begin(), ms.end(), [&](auto const& x, auto const& y) {
        return asc ? x.created_at < y.created_at : x.created_at > y.created_at;
    });
    json::array all;
    for (auto const& m : ms) {
        auto o = t.organizations().get(m.organization_id);
        if (!o) return store_error(o.error(), "list_memberships");
        if (!*o) continue;
        auto u = t.users().get(m.user_id);
        if (!u) return store_error(u.error(), "list_memberships");
        all.push_back(membership_json(a, m, **o, *u ? &**u : nullptr, audience::backend));
    }
    return json::value(page(std::move(all), p));
}

std::optional<role_def> role_by_id(app const& a, std::string_view id) {
    for (auto& r : roles(a)) {
        auto j = role_json(r);
        if (j["id"].as_string() == id || r.key == id) return std::move(r);
    }
    return std::nullopt;
}

/// Every permission of the instance's roles, once each, in first-seen order.
json::array all_permissions(app const& a) {
    json::array out;
    std::vector<std::string> seen;
    for (auto const& r : roles(a)) {
        auto j = role_json(r);
        for (auto& p : j["permissions"].as_array()) {
            std::string key(p.as_object().at("key").as_string());
            if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
            seen.push_back(key);
            out.push_back(std::move(p));
        }
    }
    return out;
}

bool matches(json::object const& j, std::string const& query) {
    if (query.empty()) return true;
    for (auto const* k : {"id", "key", "name"}) {
        std::string v(j.at(k).as_string());
        std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
        if (v.find(query) != std::string::npos) return true;
    }
    return false;
}

std::string lower_query(request_ctx const& ctx) {
    std::string q;
    if (auto const* v = ctx.query.find("query")) q = *v;
    std::transform(q.begin(), q.end(), q.begin(), [](unsigned char c) { return std::tolower(c); });
    return q;
}

}  // namespace

api_result<reply> bapi_merge_membership_metadata(app& a, request_ctx& ctx) {
    auto pub = backend::body_object(ctx, "public_metadata");
    if (!pub) return pub.error();
    auto priv = backend::body_object(ctx, "private_metadata");
    if (!priv) return priv.error();
    auto r = txn::write<json::value>(a, "membership_metadata", txn::on_client_error::abort,
                                     [&](store::write_txn& w) -> api_result<json::value> {
                                         auto o = w.organizations().get(ctx.params.get("organization_id"));
                                         if (!o) return store_error(o.error(), "membership_metadata");
                                         if (!*o) return not_found();
                                         auto m = w.organizations().membership((*o)->id, ctx.params.get("user_id"));
                                         if (!m) return store_error(m.error(), "membership_metadata");
                                         if (!*m) return not_found();
                                         auto rec = **m;
                                         if (*pub) rec.public_metadata = merged(rec.public_metadata, **pub);
                                         if (*priv) rec.private_metadata = merged(rec.private_metadata, **priv);
                                         rec.updated_at = std::max(ctx.now, rec.updated_at + 1);
                                         if (auto p = w.organizations().put_membership(rec); !p)
                                             return store_error(p.error(), "membership_metadata");
                                         if (auto x = refresh_user(a, w, rec.user_id, ctx.now); !x) return x.error();
                                         auto u = w.users().get(rec.user_id);
                                         if (!u) return store_error(u.error(), "membership_metadata");
                                         auto j = membership_json(a, rec, **o, *u ? &**u : nullptr, audience::backend);
                                         if (auto e = events::emit(a, w, "organizationMembership.updated", j); !e)
                                             return store_error(e.error(), "webhook");
                                         return json::value(std::move(j));
                                     });
    if (!r) return r.error();
    return backend::json_reply(*r);
}

api_result<reply> bapi_list_all_memberships(app& a, request_ctx& ctx) {
    auto p = backend::paging(ctx);
    if (!p) return p.error();
    return backend::read_json(a, "list_all_memberships", [&](store::read_txn& t) -> api_result<json::value> {
        auto orgs = t.organizations().list();
        if (!orgs) return store_error(orgs.error(), "list_all_memberships");
        std::vector<store::org_membership_record> ms;
        for (auto const& o : *orgs) {
            auto of = t.organizations().memberships_of_org(o.id);
            if (!of) return store_error(of.error(), "list_all_memberships");
            for (auto& m : *of) ms.push_back(std::move(m));
        }
        return membership_page(a, t, std::move(ms), ctx, *p);
    });
}

api_result<reply> bapi_user_memberships(app& a, request_ctx& ctx) {
    auto p = backend::paging(ctx);
    if (!p) return p.error();
    return backend::read_json(a, "user_memberships", [&](store::read_txn& t) -> api_result<json::value> {
        auto const id = ctx.params.get("user_id");
        auto u = t.users().get(id);
        if (!u) return store_error(u.error(), "user_memberships");
        if (!*u) return not_found();
        auto ms = t.organizations().memberships_of_user(id);
        if (!ms) return store_error(ms.error(), "user_memberships");
        return membership_page(a, t, std::move(*ms), ctx, *p);
    });
}

api_result<reply> bapi_list_roles(app& a, request_ctx& ctx) {
    auto p = backend::paging(ctx);
    if (!p) return p.error();
    auto const q = lower_query(ctx);
    json::array all;
    for (auto const& r : roles(a)) {
        auto j = role_json(r);
        if (matches(j, q)) all.push_back(std::move(j));
    }
    return backend::json_reply(json::value(page(std::move(all), *p)));
}

api_result<reply> bapi_get_role(app& a, request_ctx& ctx) {
    auto r = role_by_id(a, ctx.params.get("role_id"));
    if (!r) return not_found();
    return backend::json_reply(json::value(role_json(*r)));
}

api_result<reply> bapi_write_role(app& a, request_ctx& ctx) {
    // The path's role must exist for its own routes (404 first), then every write is refused.
    if (auto id = ctx.params.get("role_id"); !id.empty() && !role_by_id(a, id)) return not_found();
    auto e = make_error(code::not_allowed_access);
    e.long_message = "Organization roles and permissions come from the instance config and are read-only here.";
    return e;
}

api_result<reply> bapi_list_permissions(app& a, request_ctx& ctx) {
    auto p = backend::paging(ctx);
    if (!p) return p.error();
    auto const q = lower_query(ctx);
    json::array all;
    for (auto& j : all_permissions(a))
        if (matches(j.as_object(), q)) all.push_back(std::move(j));
    return backend::json_reply(json::value(page(std::move(all), *p)));
}

api_result<reply> bapi_get_permission(app& a, request_ctx& ctx) {
    auto const id = ctx.params.get("permission_id");
    for (auto& j : all_permissions(a))
        if (j.as_object().at("id").as_string() == id || j.as_object().at("key").as_string() == id)
            return backend::json_reply(j);
    return not_found();
}

}  // namespace latchkey::server::api::orgs
