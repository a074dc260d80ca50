// BAPI OAuth applications: CRUD and rotate_secret. The client secret is shown once (create, rotate) and stored
// as its SHA-256 digest only; public clients have none and must use PKCE.
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "server/api/app.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/oauth/handlers.hpp"
#include "server/api/txn.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <set>

namespace latchkey::server::api::oauth {

namespace json = boost::json;
using backend::body_bool;
using backend::body_string;
using backend::body_strings;
using backend::json_reply;
using backend::not_found;

std::string digest_hex(std::string_view secret) { return crypto::hex_encode(crypto::sha256(secret)); }

namespace {

json::object render(app const& a, store::oauth_app_record const& o) {
    auto const& fapi = a.inst.frontend_api;
    json::object j;
    j["object"] = "oauth_application";
    j["id"] = o.id;
    j["instance_id"] = a.inst.id;
    j["name"] = o.name;
    j["client_id"] = o.client_id;
    j["client_uri"] = o.client_uri.empty() ? json::value(nullptr) : json::value(o.client_uri);
    j["client_image_url"] = o.client_image_url.empty() ? json::value(nullptr) : json::value(o.client_image_url);
    j["dynamically_registered"] = o.dynamically_registered;
    j["consent_screen_enabled"] = o.consent_screen_enabled;
    j["pkce_required"] = o.pkce_required || o.is_public;
    j["public"] = o.is_public;
    j["scopes"] = o.scopes;
    json::array uris;
    for (auto const& u : o.redirect_uris) uris.emplace_back(u);
    j["redirect_uris"] = std::move(uris);
    j["callback_url"] = o.redirect_uris.empty() ? std::string() : o.redirect_uris.front();
    j["authorize_url"] = fapi + "/oauth/authorize";
    j["token_fetch_url"] = fapi + "/oauth/token";
    j["user_info_url"] = fapi + "/oauth/userinfo";
    j["discovery_url"] = fapi + "/.well-known/openid-configuration";
    j["token_introspection_url"] = fapi + "/oauth/token_info";
    j["created_at"] = o.created_at;
    j["updated_at"] = o.updated_at;
    return j;
}

bool known_scope(std::string_view s) {
    static constexpr std::string_view all[] = {"openid",          "profile",          "email",
                                               "public_metadata", "private_metadata", "offline_access"};
    return std::find(std::begin(all), std::end(all), s) != std::end(all);
}

/// A space-separated scope list: the known scopes in order, repeats dropped; or the first unknown one.
struct scope_list {
    std::string scopes;
    std::optional<std::string> unknown;
};

scope_list normalize_scopes(std::string_view rest) {
    scope_list out;
    std::set<std::string, std::less<>> seen;
    while (!rest.empty()) {
        auto const sp = rest.find(' ');
        auto const s = rest.substr(0, sp);
        rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
        if (s.empty()) continue;
        if (!known_scope(s)) return out.unknown = std::string(s), out;
        if (!seen.insert(std::string(s)).second) continue;
        if (!out.scopes.empty()) out.scopes += ' ';
        out.scopes += s;
    }
    return out;
}

/// A redirect URI: absolute, with a scheme, no fragment, at most 1024 bytes. Any scheme (myapp://) is allowed.
bool valid_redirect_uri(std::string_view u) {
    if (u.empty() || u.size() > 1024 || u.find('#') != std::string_view::npos) return false;
    auto const colon = u.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 >= u.size()) return false;
    for (std::size_t i = 0; i < colon; ++i) {
        char const c = u[i];
        bool const ok = std::isalpha(static_cast<unsigned char>(c)) ||
                        (i > 0 && (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'));
        if (!ok) return false;
    }
    for (char c : u)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
    return true;
}

/// Reads the writable members into `o`; `create` requires name.
std::optional<api_error> apply(request_ctx const& ctx, store::oauth_app_record& o, bool create) {
    auto name = body_string(ctx, "name", 256);
    if (!name) return name.error();
    if (*name) {
        if ((*name)->empty()) return param_error(code::form_param_value_invalid, "name");
        o.name = **name;
    } else if (create) {
        return param_error(code::form_param_missing, "name");
    }
    auto uris = body_strings(ctx, "redirect_uris");
    if (!uris) return uris.error();
    auto callback = body_string(ctx, "callback_url", 1024);  // deprecated single URI
    if (!callback) return callback.error();
    if (*uris || (*callback && !(*callback)->empty())) {
        std::vector<std::string> list = *uris ? **uris : std::vector<std::string>{};
        if (!*uris) list.push_back(**callback);
        if (list.size() > 20)
            return param_error(code::form_param_value_invalid, "redirect_uris", "At most 20 redirect URIs.");
        for (auto const& u : list)
            if (!valid_redirect_uri(u))
                return param_error(code::form_param_format_invalid, "redirect_uris",
                                   "Each redirect URI must be an absolute URI without a fragment.");
        o.redirect_uris = std::move(list);
    }
    auto scopes = body_string(ctx, "scopes", 1024);
    if (!scopes) return scopes.error();
    if (*scopes) {
        auto norm = normalize_scopes(**scopes);
        if (norm.unknown)
            return param_error(code::form_param_value_invalid, "scopes",
                               "Unknown scope '" + *norm.unknown +
                                   "'; scopes are openid, profile, email, public_metadata, private_metadata "
                                   "and offline_access.");
        o.scopes = std::move(norm.scopes);
    }
    for (auto [key, member] : {std::pair{"consent_screen_enabled", &store::oauth_app_record::consent_screen_enabled},
                               std::pair{"pkce_required", &store::oauth_app_record::pkce_required}}) {
        auto b = body_bool(ctx, key);
        if (!b) return b.error();
        if (*b) o.*member = **b;
    }
    if (create) {
        auto pub = body_bool(ctx, "public");
        if (!pub) return pub.error();
        o.is_public = pub->value_or(false);
    }
    auto client_uri = body_string(ctx, "client_uri", 1024);
    if (!client_uri) return client_uri.error();
    if (*client_uri) o.client_uri = **client_uri;
    return std::nullopt;
}

/// A fresh client secret; stores its digest in `o` and returns it (shown once).
std::string new_secret(store::oauth_app_record& o) {
    std::string secret = "lk_oas_" + crypto::random_token(32);
    o.secret_digest = digest_hex(secret);
    return secret;
}

}  // namespace

api_result<reply> list_applications(app& a, request_ctx& ctx) {
    auto p = backend::paging(ctx);
    if (!p) return p.error();
    std::string const query = ctx.query.has("name_query") ? *ctx.query.find("name_query") : std::string();
    bool const ascending = ctx.query.has("order_by") && *ctx.query.find("order_by") == "+created_at";
    auto list = txn::read(a, "list_oauth_applications", [&](store::read_txn& t) { return t.oauth().apps(); });
    if (!list) return list.error();
    std::vector<store::oauth_app_record const*> hits;
    auto lower = [](std::string s) {
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    std::string const q = lower(query);
    for (auto const& o : *list)
        if (q.empty() || lower(o.name).find(q) != std::string::npos || o.client_id == query) hits.push_back(&o);
    if (!ascending) std::reverse(hits.begin(), hits.end());  // ids are time-ordered: newest first by default
    json::array out;
    std::size_t const begin = std::min(p->second, hits.size());
    std::size_t const end = std::min(hits.size(), begin + p->first);
    for (std::size_t i = begin; i < end; ++i) out.push_back(render(a, *hits[i]));
    return json_reply(json::object{{"data", std::move(out)}, {"total_count", hits.size()}});
}

api_result<reply> create_application(app& a, request_ctx& ctx) {
    store::oauth_app_record o;
    o.id = crypto::new_id("oa");
    o.client_id = crypto::random_token(12);
    o.created_at = o.updated_at = ctx.now;
    if (auto bad = apply(ctx, o, true)) return *bad;
    std::string secret;
    if (!o.is_public) secret = new_secret(o);
    auto w = txn::write(a, "create_oauth_application", txn::on_client_error::abort,
                        [&](store::write_txn& tx) { return tx.oauth().put_app(o, true); });
    if (!w) return w.error();
    auto j = render(a, o);
    if (!o.is_public) j["client_secret"] = secret;
    return json_reply(j);
}

api_result<reply> get_application(app& a, request_ctx& ctx) {
    auto o = txn::read(a, "get_oauth_application",
                       [&](store::read_txn& t) { return t.oauth().app(ctx.params.get("oauth_application_id")); });
    if (!o) return o.error();
    if (!*o) return not_found();
    return json_reply(render(a, **o));
}

namespace {

/// Loads the application, lets `change` edit it (an api_error aborts), stores it and renders it.
template <class F>
api_result<reply> modify(app& a, request_ctx& ctx, char const* what, F&& change) {
    store::oauth_app_record out;
    std::string secret;
    auto w =
        txn::write(a, what, txn::on_client_error::abort, [&](store::write_txn& tx) -> store::result<api_result<void>> {
            auto o = tx.oauth().app(ctx.params.get("oauth_application_id"));
            if (!o) return o.error();
            if (!*o) return api_result<void>(not_found());
            auto rec = **o;
            if (auto bad = change(rec, secret)) return api_result<void>(*bad);
            rec.updated_at = ctx.now;
            if (auto r = tx.oauth().put_app(rec, false); !r) return r.error();
            out = std::move(rec);
            return api_result<void>();
        });
    if (!w) return w.error();
    auto j = render(a, out);
    if (!secret.empty()) j["client_secret"] = secret;
    return json_reply(j);
}

}  // namespace

api_result<reply> update_application(app& a, request_ctx& ctx) {
    return modify(a, ctx, "update_oauth_application",
                  [&](store::oauth_app_record& o, std::string&) { return apply(ctx, o, false); });
}

api_result<reply> rotate_secret(app& a, request_ctx& ctx) {
    return modify(a, ctx, "rotate_oauth_application_secret",
                  [&](store::oauth_app_record& o, std::string& secret) -> std::optional<api_error> {
                      if (o.is_public)
                          return param_error(code::form_param_value_invalid, "client_secret",
                                             "A public OAuth application has no client secret.");
                      secret = new_secret(o);
                      return std::nullopt;
                  });
}

api_result<reply> delete_application(app& a, request_ctx& ctx) {
    std::string id(ctx.params.get("oauth_application_id"));
    auto w = txn::write(a, "delete_oauth_application", txn::on_client_error::abort,
                        [&](store::write_txn& tx) -> store::result<int> {
                            auto o = tx.oauth().app(id);
                            if (!o) return o.error();
                            if (!*o) return 0;
                            if (auto r = tx.oauth().remove_app(id); !r) return r.error();
                            return 1;
                        });
    if (!w) return w.error();
    if (*w == 0) return not_found();
    return backend::deleted_reply("oauth_application", id);
}

// ---- POST /oauth/register: RFC 7591 dynamic client registration (issue 15) ----
// Off unless `oauth_dynamic_client_registration` (then 422 dynamic_client_registration_disabled, Clerk's answer
// for an instance without the feature). A registered client always shows the consent screen and never needs
// PKCE unless it is public; RFC 7591 errors are {error, error_description} with 400.

namespace {

reply registration_error(std::string_view error, std::string_view description) {
    return reply{http::status::bad_request,
                 json::serialize(json::object{{"error", error}, {"error_description", description}}),
                 {}};
}

std::optional<std::string> member_string(json::object const& o, std::string_view k, std::size_t max, bool& bad) {
    auto const* v = o.if_contains(k);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_string() || v->get_string().size() > max) {
        bad = true;
        return std::nullopt;
    }
    return std::string(v->get_string());
}

}  // namespace

api_result<reply> register_client(app& a, request_ctx& ctx) {
    if (!a.cfg.oauth_dynamic_client_registration) return make_error(code::dynamic_client_registration_disabled);
    if (!ctx.body.is_object())
        return registration_error("invalid_client_metadata", "The body must be a JSON object of client metadata.");
    auto const& body = ctx.body.get_object();
    store::oauth_app_record o;
    o.id = crypto::new_id("oa");
    o.client_id = crypto::random_token(12);
    o.created_at = o.updated_at = ctx.now;
    o.dynamically_registered = true;
    o.consent_screen_enabled = true;

    auto const* uris = body.if_contains("redirect_uris");
    if (uris == nullptr || !uris->is_array() || uris->get_array().empty() || uris->get_array().size() > 20)
        return registration_error("invalid_redirect_uri", "redirect_uris must list 1 to 20 redirect URIs.");
    for (auto const& u : uris->get_array()) {
        if (!u.is_string() || !valid_redirect_uri(u.get_string()))
            return registration_error("invalid_redirect_uri",
                                      "Each redirect URI must be an absolute URI without a fragment.");
        o.redirect_uris.emplace_back(u.get_string());
    }
    bool bad = false;
    auto method = member_string(body, "token_endpoint_auth_method", 64, bad).value_or("client_secret_basic");
    if (method != "client_secret_basic" && method != "client_secret_post" && method != "none")
        return registration_error(
            "invalid_client_metadata",
            "token_endpoint_auth_method must be client_secret_basic, client_secret_post or none.");
    o.is_public = method == "none";
    auto const name = member_string(body, "client_name", 256, bad);
    auto const client_uri = member_string(body, "client_uri", 1024, bad);
    auto const logo_uri = member_string(body, "logo_uri", 1024, bad);
    auto const scope = member_string(body, "scope", 1024, bad);
    if (bad)
        return registration_error("invalid_client_metadata", "A client metadata member is not a string or too long.");
    o.name = name && !name->empty() ? *name : o.client_id;
    if (client_uri) o.client_uri = *client_uri;
    if (logo_uri) o.client_image_url = *logo_uri;
    if (scope) {
        auto norm = normalize_scopes(*scope);
        if (norm.unknown)
            return registration_error("invalid_client_metadata", "Unknown scope '" + *norm.unknown + "'.");
        if (!norm.scopes.empty()) o.scopes = std::move(norm.scopes);
    }
    if (auto const* g = body.if_contains("grant_types"); g != nullptr && g->is_array())
        for (auto const& x : g->get_array())
            if (!x.is_string() || (x.get_string() != "authorization_code" && x.get_string() != "refresh_token"))
                return registration_error("invalid_client_metadata",
                                          "grant_types may name authorization_code and refresh_token only.");
    if (auto const* r = body.if_contains("response_types"); r != nullptr && r->is_array())
        for (auto const& x : r->get_array())
            if (!x.is_string() || x.get_string() != "code")
                return registration_error("invalid_client_metadata", "response_types may name code only.");
    std::string secret;
    if (!o.is_public) secret = new_secret(o);
    auto w = txn::write(a, "register_oauth_client", txn::on_client_error::abort,
                        [&](store::write_txn& tx) { return tx.oauth().put_app(o, true); });
    if (!w) return w.error();
    json::object j;
    j["client_id"] = o.client_id;
    if (!o.is_public) {
        j["client_secret"] = secret;
        j["client_secret_expires_at"] = 0;
    }
    j["client_id_issued_at"] = ctx.now / 1000;
    json::array list;
    for (auto const& u : o.redirect_uris) list.emplace_back(u);
    j["redirect_uris"] = std::move(list);
    j["token_endpoint_auth_method"] = method;
    j["grant_types"] = json::array{"authorization_code", "refresh_token"};
    j["response_types"] = json::array{"code"};
    j["client_name"] = o.name;
    if (!o.client_uri.empty()) j["client_uri"] = o.client_uri;
    if (!o.client_image_url.empty()) j["logo_uri"] = o.client_image_url;
    j["scope"] = o.scopes;
    return reply{http::status::created, json::serialize(j), {}};
}

}  // namespace latchkey::server::api::oauth
