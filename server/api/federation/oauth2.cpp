#include "server/api/federation/oauth2.hpp"

#include "crypto/seal.hpp"
#include "server/api/app.hpp"
#include "server/api/frontend/common.hpp"
#include "server/log.hpp"

#include <boost/json/parse.hpp>

#include <charconv>

namespace latchkey::server::api::federation {

namespace json = boost::json;

void add_form_param(std::string& q, std::string_view k, std::string_view v) {
    static constexpr char hex[] = "0123456789ABCDEF";
    auto pct = [&](std::string_view s) {
        for (unsigned char c : s) {
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                c == '.' || c == '~') {
                q.push_back(static_cast<char>(c));
            } else {
                q.push_back('%');
                q.push_back(hex[c >> 4]);
                q.push_back(hex[c & 15]);
            }
        }
    };
    if (!q.empty()) q.push_back('&');
    pct(k);
    q.push_back('=');
    pct(v);
}

namespace {

constexpr std::size_t max_token_bytes = std::size_t{8} * 1024;

std::string str_or(json::object const& o, std::string_view k) {
    if (auto const* v = o.if_contains(k); v != nullptr && v->is_string()) return std::string(v->get_string());
    return {};
}

std::string token_aad(store::external_account_record const& ea, std::string_view which) {
    std::string aad = "oauth_token:";
    aad += ea.provider;
    aad.push_back('\n');
    aad += ea.provider_user_id;
    aad.push_back(':');
    aad += which;
    return aad;
}

std::optional<std::string> open(app const& a, store::external_account_record const& ea, std::string const& sealed,
                                std::string_view which) {
    if (sealed.empty() || !a.inst.seal_key) return std::nullopt;
    auto r = crypto::unseal(*a.inst.seal_key, sealed, token_aad(ea, which));
    if (!r) return std::nullopt;
    return std::move(*r);
}

/// A userinfo member as text: a string as is, an integer as its decimal digits (GitHub's numeric ids).
std::string text_of(json::object const& o, std::string_view k) {
    auto const* v = o.if_contains(k);
    if (v == nullptr) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_int64()) return std::to_string(v->get_int64());
    if (v->is_uint64()) return std::to_string(v->get_uint64());
    return {};
}

bool truthy(json::object const& o, std::string_view k) {
    auto const* v = o.if_contains(k);
    if (v == nullptr) return false;
    if (v->is_bool()) return v->get_bool();
    return v->is_string() && v->get_string() == "true";
}

}  // namespace

provider_tokens tokens_from_answer(json::object const& answer, std::int64_t now_ms) {
    provider_tokens t;
    t.access = str_or(answer, "access_token");
    t.refresh = str_or(answer, "refresh_token");
    t.scope = str_or(answer, "scope");
    if (t.access.size() > max_token_bytes) t.access.clear();
    if (t.refresh.size() > max_token_bytes) t.refresh.clear();
    if (auto const* e = answer.if_contains("expires_in")) {
        std::int64_t secs = 0;
        if (e->is_int64())
            secs = e->get_int64();
        else if (e->is_uint64() && e->get_uint64() < (1ULL << 40))
            secs = static_cast<std::int64_t>(e->get_uint64());
        else if (e->is_string())
            std::from_chars(e->get_string().data(), e->get_string().data() + e->get_string().size(), secs);
        if (secs > 0 && secs < (1LL << 40)) t.expires_at = now_ms + secs * 1000;
    }
    return t;
}

void seal_tokens(app const& a, store::external_account_record& ea, provider_tokens const& t) {
    if (!a.inst.seal_key || t.access.empty()) return;
    ea.access_token_sealed = crypto::seal(*a.inst.seal_key, t.access, token_aad(ea, "access"));
    if (!t.refresh.empty())
        ea.refresh_token_sealed = crypto::seal(*a.inst.seal_key, t.refresh, token_aad(ea, "refresh"));
    ea.token_expires_at = t.expires_at;
    if (!t.scope.empty()) ea.approved_scopes = t.scope;
}

void forget_tokens(store::external_account_record& ea) {
    ea.access_token_sealed.clear();
    ea.refresh_token_sealed.clear();
    ea.token_expires_at = 0;
}

std::optional<std::string> open_access_token(app const& a, store::external_account_record const& ea) {
    return open(a, ea, ea.access_token_sealed, "access");
}

std::optional<std::string> open_refresh_token(app const& a, store::external_account_record const& ea) {
    return open(a, ea, ea.refresh_token_sealed, "refresh");
}

std::optional<json::object> token_request(app& a, conf::oauth_provider const& p, std::string const& endpoint,
                                          std::string form, std::string_view required, std::string_view event) {
    fetch_request r;
    r.post = true;
    r.url = endpoint;
    r.form = std::move(form);
    if (p.client_secret.empty()) {
        add_form_param(r.form, "client_id", p.client_id);
    } else {
        r.basic_user = p.client_id;
        r.basic_password = p.client_secret;
    }
    auto res = a.oauth_fetcher->fetch(p, r);
    boost::system::error_code ec;
    json::value body;
    if (res.status == 200) body = json::parse(res.body, ec);
    if (res.status != 200 || ec || !body.is_object() || str_or(body.get_object(), required).empty()) {
        log::warn(event, {{"provider", p.strategy}, {"status", std::to_string(res.status)}, {"error", res.error}});
        return std::nullopt;
    }
    return std::move(body.get_object());
}

std::optional<provider_tokens> refresh_tokens(app& a, conf::oauth_provider const& p, std::string const& refresh_token,
                                              std::int64_t now_ms) {
    auto const ep = endpoints_of(a, p);
    if (a.oauth_fetcher == nullptr || ep.token_endpoint.empty()) return std::nullopt;
    std::string form;
    add_form_param(form, "grant_type", "refresh_token");
    add_form_param(form, "refresh_token", refresh_token);
    auto answer = token_request(a, p, ep.token_endpoint, std::move(form), "access_token", "oauth_token_refresh");
    if (!answer) return std::nullopt;
    auto t = tokens_from_answer(*answer, now_ms);
    if (t.access.empty()) return std::nullopt;
    if (t.refresh.empty()) t.refresh = refresh_token;
    return t;
}

std::optional<userinfo_identity> map_userinfo(conf::oauth_provider const& p, json::object const& info,
                                              json::value const* emails) {
    bool const github = p.strategy == "oauth_github";
    auto pick = [](std::string const& configured, char const* gh, char const* oidc, bool is_github) {
        return !configured.empty() ? configured : std::string(is_github ? gh : oidc);
    };
    userinfo_identity out;
    auto& id = out.identity;
    id.provider = p.strategy;
    id.provider_user_id = text_of(info, pick(p.map_user_id, "id", "sub", github));
    if (id.provider_user_id.empty() || id.provider_user_id.size() > 255) return std::nullopt;
    id.email_address = text_of(info, pick(p.map_email_address, "email", "email", github));
    id.first_name = text_of(info, pick(p.map_first_name, "", "given_name", github));
    id.last_name = text_of(info, pick(p.map_last_name, "", "family_name", github));
    id.username = text_of(info, pick(p.map_username, "login", "preferred_username", github));
    id.image_url = text_of(info, pick(p.map_image_url, "avatar_url", "picture", github));
    auto const verified_key = pick(p.map_email_verified, "", "email_verified", github);
    out.email_verified = !verified_key.empty() && truthy(info, verified_key);
    if (id.first_name.empty() && id.last_name.empty()) {
        // One display name ("Ada Lovelace"): the first word is the first name, the rest the last name.
        auto const name = text_of(info, pick(p.map_name, "name", "name", github));
        auto const sp = name.find(' ');
        id.first_name = name.substr(0, sp);
        if (sp != std::string::npos) id.last_name = name.substr(sp + 1);
    }
    if (emails != nullptr && emails->is_array()) {
        // GitHub's /user/emails: the primary verified address, else the first verified one. An address the
        // profile names counts as verified only when this list says so.
        std::string chosen;
        bool chosen_primary = false;
        for (auto const& e : emails->get_array()) {
            if (!e.is_object()) continue;
            auto const& eo = e.get_object();
            auto const addr = text_of(eo, "email");
            if (addr.empty() || !truthy(eo, "verified")) continue;
            bool const primary = truthy(eo, "primary");
            if (chosen.empty() || (primary && !chosen_primary)) chosen = addr, chosen_primary = primary;
        }
        if (!chosen.empty()) {
            id.email_address = chosen;
            out.email_verified = true;
        } else {
            out.email_verified = false;
        }
    }
    for (auto* f : {&id.email_address, &id.first_name, &id.last_name, &id.image_url, &id.username})
        if (f->size() > 512) f->clear();
    if (auto e = frontend::normalize_email(id.email_address))
        id.email_address = *e;
    else
        id.email_address.clear(), out.email_verified = false;
    return out;
}

std::optional<userinfo_identity> identity_from_userinfo(app& a, conf::oauth_provider const& p,
                                                        std::string const& access_token, std::string& why) {
    auto const ep = endpoints_of(a, p);
    if (a.oauth_fetcher == nullptr || ep.userinfo_endpoint.empty() || access_token.empty())
        return why = "no userinfo endpoint or access token", std::nullopt;
    auto get_json = [&](std::string const& url, json::value& out) -> bool {
        fetch_request r;
        r.url = url;
        r.bearer = access_token;
        auto res = a.oauth_fetcher->fetch(p, r);
        boost::system::error_code ec;
        if (res.status == 200) out = json::parse(res.body, ec);
        if (res.status != 200 || ec) {
            why = url + ": " + std::to_string(res.status) + " " + res.error;
            return false;
        }
        return true;
    };
    json::value info;
    if (!get_json(ep.userinfo_endpoint, info)) return std::nullopt;
    if (!info.is_object()) return why = "userinfo is not an object", std::nullopt;
    json::value emails;
    if (!p.emails_endpoint.empty()) {
        if (!get_json(p.emails_endpoint, emails)) return std::nullopt;
        if (!emails.is_array()) return why = "emails is not an array", std::nullopt;
    }
    auto out = map_userinfo(p, info.get_object(), p.emails_endpoint.empty() ? nullptr : &emails);
    if (!out) why = "userinfo names no user id";
    return out;
}

}  // namespace latchkey::server::api::federation

namespace latchkey::server::api::federation {

reply redirect_see_other(std::string const& url) {
    reply r;
    r.status = http::status::see_other;
    r.location = url;
    return r;
}

}  // namespace latchkey::server::api::federation
