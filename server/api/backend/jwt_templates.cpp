// BAPI JWT templates: CRUD. Names are unique; claims are a JSON object that may not override the
// session claims latchkey sets itself.
#include "crypto/random.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/backend/handlers.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace latchkey::server::api::backend {

namespace json = boost::json;

namespace {

json::object render(store::jwt_template_record const& t) {
    json::object o;
    o["object"] = "jwt_template";
    o["id"] = t.id;
    o["name"] = t.name;
    o["claims"] = views::json_text(t.claims);
    o["lifetime"] = t.lifetime;
    o["allowed_clock_skew"] = t.allowed_clock_skew;
    o["custom_signing_key"] = t.custom_signing_key;
    o["signing_algorithm"] = t.signing_algorithm;
    o["created_at"] = t.created_at;
    o["updated_at"] = t.updated_at;
    return o;
}

/// Reads name/claims/lifetime/allowed_clock_skew into `t`; `create` requires name and claims.
std::optional<api_error> apply(request_ctx const& ctx, store::jwt_template_record& t, bool create) {
    auto name = body_string(ctx, "name", 128);
    if (!name) return name.error();
    if (*name) {
        if ((*name)->empty()) return param_error(code::form_param_value_invalid, "name");
        for (char c : **name)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
                return param_error(code::form_param_format_invalid, "name",
                                   "Template names may contain letters, digits, '_', '-' and '.'.");
        t.name = **name;
    } else if (create) {
        return param_error(code::form_param_missing, "name");
    }
    auto claims = body_object(ctx, "claims");
    if (!claims) return claims.error();
    if (*claims) {
        for (std::string_view reserved : {"iss", "sub", "sid", "iat", "exp", "nbf", "azp", "jti"})
            if ((*claims)->contains(reserved))
                return param_error(code::form_param_value_invalid, "claims",
                                   "claims may not set the reserved claim '" + std::string(reserved) + "'.");
        t.claims = json::serialize(**claims);
    } else if (create) {
        return param_error(code::form_param_missing, "claims");
    }
    auto lifetime = body_int_in(ctx, "lifetime", 30, 315360000, "lifetime must be between 30 and 315360000 seconds.");
    if (!lifetime) return lifetime.error();
    if (*lifetime) t.lifetime = static_cast<std::int32_t>(**lifetime);
    auto skew = body_int_in(ctx, "allowed_clock_skew", 0, 300, "allowed_clock_skew must be between 0 and 300 seconds.");
    if (!skew) return skew.error();
    if (*skew) t.allowed_clock_skew = static_cast<std::int32_t>(**skew);
    auto custom = body_bool(ctx, "custom_signing_key");
    if (!custom) return custom.error();
    if (custom->value_or(false))
        return param_error(code::form_param_value_invalid, "custom_signing_key",
                           "Templates are signed with the instance key; custom signing keys are not supported.");
    return std::nullopt;
}

}  // namespace

api_result<reply> list_jwt_templates(app& a, request_ctx& ctx) {
    // The spec lists every template as a bare array; @clerk/backend's jwtTemplates.list() sends
    // paginated=true (and limit/offset) and expects {"data":[...],"total_count":N}.
    auto p = paging(ctx);
    if (!p) return p.error();
    bool const paged = paginated(ctx) || ctx.query.has("limit") || ctx.query.has("offset");
    auto list = txn::read(a, "list_jwt_templates", [&](store::read_txn& t) { return t.jwt_templates().list(); });
    if (!list) return list.error();
    json::array out;
    std::size_t const begin = paged ? std::min(p->second, list->size()) : 0;
    std::size_t const end = paged ? std::min(list->size(), begin + p->first) : list->size();
    for (std::size_t i = begin; i < end; ++i) out.push_back(render((*list)[i]));
    if (!paginated(ctx)) return json_reply(out);
    return json_reply(json::object{{"data", std::move(out)}, {"total_count", list->size()}});
}

api_result<reply> create_jwt_template(app& a, request_ctx& ctx) {
    store::jwt_template_record t;
    t.id = crypto::new_id("jtmp");
    t.created_at = t.updated_at = ctx.now;
    if (auto bad = apply(ctx, t, true)) return *bad;
    auto w = txn::write(
        a, "create_jwt_template", txn::on_client_error::abort,
        [&](store::write_txn& tx) { return tx.jwt_templates().put(t, nullptr); }, "name");
    if (!w) return w.error();
    return json_reply(render(t));
}

api_result<reply> get_jwt_template(app& a, request_ctx& ctx) {
    auto t = txn::read(a, "get_jwt_template",
                       [&](store::read_txn& r) { return r.jwt_templates().get(ctx.params.get("template_id")); });
    if (!t) return t.error();
    if (!*t) return not_found();
    return json_reply(render(**t));
}

api_result<reply> update_jwt_template(app& a, request_ctx& ctx) {
    store::jwt_template_record out;
    auto w = txn::write(a, "update_jwt_template", txn::on_client_error::commit,
                        [&](store::write_txn& tx) -> store::result<api_result<void>> {
                            auto t = tx.jwt_templates().get(ctx.params.get("template_id"));
                            if (!t) return t.error();
                            if (!*t) return api_result<void>(not_found());
                            auto before = **t;
                            auto rec = **t;
                            if (auto bad = apply(ctx, rec, false)) return api_result<void>(*bad);
                            rec.updated_at = ctx.now;
                            if (auto r = tx.jwt_templates().put(rec, &before); !r) {
                                if (r.error() == store::make_error_code(store::errc::key_exists))
                                    return api_result<void>(store_error(r.error(), "put_jwt_template", "name"));
                                return r.error();
                            }
                            out = std::move(rec);
                            return api_result<void>();
                        });
    if (!w) return w.error();
    return json_reply(render(out));
}

api_result<reply> delete_jwt_template(app& a, request_ctx& ctx) {
    std::string id(ctx.params.get("template_id"));
    auto w = txn::write(a, "delete_jwt_template", txn::on_client_error::abort,
                        [&](store::write_txn& tx) -> store::result<int> {
                            auto t = tx.jwt_templates().get(id);
                            if (!t) return t.error();
                            if (!*t) return 0;
                            if (auto r = tx.jwt_templates().remove(**t); !r) return r.error();
                            return 1;
                        });
    if (!w) return w.error();
    if (*w == 0) return not_found();
    return deleted_reply("jwt_template", id);
}

}  // namespace latchkey::server::api::backend
