#include "server/api/federation/federation.hpp"
#include "server/api/federation/oauth2.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/es256.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "server/api/dispatch.hpp"
#include "server/api/domain/mfa.hpp"
#include "server/api/events.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/frontend/identity.hpp"
#include "server/api/txn.hpp"
#include "server/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <functional>

namespace latchkey::server::api::federation {

namespace json = boost::json;

namespace {

constexpr std::int64_t flow_lifetime_ms = std::int64_t{10} * 60 * 1000;

void add_param(std::string& q, std::string_view k, std::string_view v) { add_form_param(q, k, v); }

std::string callback_url(app const& a) { return a.inst.frontend_api + "/v1/oauth_callback"; }

/// Clerk's error object for the verification, from the code name kept in the flow.
/// Every code of the error table, for reading a stored error code back (error_json).
constexpr code every_code[] = {
#define LATCHKEY_X(name, st, msg, long_msg) code::name,
    LATCHKEY_API_ERRORS(LATCHKEY_X)
#undef LATCHKEY_X
};

std::optional<std::string> str_of(json::object const& o, std::string_view k) {
    if (auto const* v = o.if_contains(k); v != nullptr && v->is_string()) return std::string(v->get_string());
    return std::nullopt;
}

/// The identity an ID token proves, once its signature (JWKS), issuer, audience, expiry and nonce check out.
using proven = userinfo_identity;

enum class key_check { verified, no_key, bad_signature };

/// Checks the JWS signature against the key set: the keys of the token's algorithm (RS256: kty RSA; ES256: kty EC,
/// crv P-256) with its kid (any, when the token names none).
key_check check_signature(crypto::jws_parts const& parts, std::string_view alg, std::optional<std::string> const& kid,
                          std::string_view jwks) {
    boost::system::error_code ec;
    auto keys = json::parse(jwks, ec);
    if (ec || !keys.is_object() || !keys.get_object().contains("keys") || !keys.at("keys").is_array())
        return key_check::no_key;
    bool candidate = false;
    for (auto const& k : keys.at("keys").get_array()) {
        if (!k.is_object()) continue;
        auto const& ko = k.get_object();
        if (kid && str_of(ko, "kid").value_or("") != *kid) continue;
        if (auto use = str_of(ko, "use"); use && *use != "sig") continue;
        if (auto kalg = str_of(ko, "alg"); kalg && *kalg != alg) continue;
        auto const kty = str_of(ko, "kty").value_or("");
        if (alg == "RS256" && kty == "RSA") {
            candidate = true;
            auto pub = crypto::public_key::from_jwk(str_of(ko, "n").value_or(""), str_of(ko, "e").value_or(""));
            if (pub && crypto::verify_rs256(pub->get(), parts)) return key_check::verified;
        } else if (alg == "ES256" && kty == "EC" && str_of(ko, "crv").value_or("") == "P-256") {
            candidate = true;
            auto pub = crypto::p256_from_jwk(str_of(ko, "x").value_or(""), str_of(ko, "y").value_or(""));
            if (pub && crypto::verify_es256(pub->get(), parts.signing_input, parts.signature))
                return key_check::verified;
        }
    }
    return candidate ? key_check::bad_signature : key_check::no_key;
}

/// `jwks(refresh)`: the provider's key set (cached; refetched when `refresh`), or null when it cannot be had.
std::optional<proven> verify_id_token(
    conf::oauth_provider const& p, std::string_view id_token,
    std::function<std::optional<std::string>(bool refresh, std::string const& kid)> const& jwks,
    std::optional<std::string_view> nonce, std::int64_t now_s, std::string& why) {
    auto parts = crypto::parse_jws(id_token);
    if (!parts) return why = "id_token malformed", std::nullopt;
    boost::system::error_code ec;
    auto header = json::parse(parts->header_json, ec);
    if (ec || !header.is_object()) return why = "id_token header", std::nullopt;
    auto const alg = str_of(header.get_object(), "alg").value_or("");
    if (alg != "RS256" && alg != "ES256") return why = "id_token alg", std::nullopt;
    auto const kid = str_of(header.get_object(), "kid");
    auto set = jwks(false, kid.value_or(""));
    if (!set) return why = "jwks unavailable", std::nullopt;
    auto checked = check_signature(*parts, alg, kid, *set);
    if (checked == key_check::no_key && kid) {
        // A kid the cached set lacks: the provider may have rotated its keys.
        if (auto fresh = jwks(true, *kid)) checked = check_signature(*parts, alg, kid, *fresh);
    }
    if (checked != key_check::verified)
        return why = checked == key_check::no_key ? "id_token kid unknown" : "id_token signature", std::nullopt;
    auto payload = json::parse(parts->payload_json, ec);
    if (ec || !payload.is_object()) return why = "id_token payload", std::nullopt;
    auto const& c = payload.get_object();
    if (str_of(c, "iss").value_or("") != p.issuer) return why = "id_token iss", std::nullopt;
    bool aud_ok = false;
    if (auto const* aud = c.if_contains("aud")) {
        if (aud->is_string())
            aud_ok = aud->get_string() == p.client_id;
        else if (aud->is_array())
            for (auto const& x : aud->get_array()) aud_ok = aud_ok || (x.is_string() && x.get_string() == p.client_id);
    }
    if (!aud_ok) return why = "id_token aud", std::nullopt;
    auto const* exp = c.if_contains("exp");
    if (exp == nullptr || !exp->is_number() || exp->to_number<double>() + 60 < static_cast<double>(now_s))
        return why = "id_token expired", std::nullopt;
    // A posted token (One Tap, native apps) answers no nonce of ours: nullopt skips the check.
    if (nonce && !crypto::equal_ct(str_of(c, "nonce").value_or(""), *nonce))
        return why = "id_token nonce", std::nullopt;
    auto sub = str_of(c, "sub").value_or("");
    if (sub.empty() || sub.size() > 255) return why = "id_token sub", std::nullopt;
    proven out;
    out.identity.provider = p.strategy;
    out.identity.provider_user_id = sub;
    out.identity.email_address = str_of(c, "email").value_or("");
    out.identity.first_name = str_of(c, "given_name").value_or("");
    out.identity.last_name = str_of(c, "family_name").value_or("");
    out.identity.image_url = str_of(c, "picture").value_or("");
    out.identity.username = str_of(c, "preferred_username").value_or("");
    if (auto const* ev = c.if_contains("email_verified")) out.email_verified = ev->is_bool() && ev->get_bool();
    for (auto* f : {&out.identity.email_address, &out.identity.first_name, &out.identity.last_name,
                    &out.identity.image_url, &out.identity.username})
        if (f->size() > 512) f->clear();
    if (auto e = frontend::normalize_email(out.identity.email_address))
        out.identity.email_address = *e;
    else
        out.identity.email_address.clear(), out.email_verified = false;
    return out;
}

/// An ID token of `p` checked against the key set at `jwks_uri` (cached in the fetcher; refetched once for a kid
/// the cached set lacks). `why` says what failed, for the log.
std::optional<proven> verify_with_jwks(app& a, conf::oauth_provider const& p, std::string const& jwks_uri,
                                       std::string_view id_token, std::optional<std::string_view> nonce,
                                       std::int64_t now_s, std::string& why) {
    auto& cache = a.oauth_fetcher->jwks;
    std::string fetch_failure;
    auto jwks = [&](bool refresh, std::string const& kid) -> std::optional<std::string> {
        auto const now_ms = now_s * 1000;
        if (!refresh) {
            if (auto hit = cache.get(jwks_uri, now_ms)) return hit;
        } else if (!cache.may_refetch_for(jwks_uri, kid, now_ms)) {
            return std::nullopt;
        }
        fetch_request kr;
        kr.url = jwks_uri;
        auto keys = a.oauth_fetcher->fetch(p, kr);
        if (keys.status != 200) {
            fetch_failure = "jwks fetch: " + std::to_string(keys.status) + " " + keys.error;
            return std::nullopt;
        }
        cache.put(jwks_uri, keys.body, now_ms);
        return std::move(keys.body);
    };
    auto out = verify_id_token(p, id_token, jwks, nonce, now_s, why);
    if (!fetch_failure.empty()) why += " (" + fetch_failure + ")";
    return out;
}

}  // namespace

std::optional<userinfo_identity> verify_posted_id_token(app& a, conf::oauth_provider const& p, std::string_view token,
                                                        std::int64_t now_s, std::string& why) {
    auto const ep = endpoints_of(a, p);
    if (a.oauth_fetcher == nullptr || p.issuer.empty() || ep.jwks_uri.empty())
        return why = "provider has no key set", std::nullopt;
    return verify_with_jwks(a, p, ep.jwks_uri, token, std::nullopt, now_s, why);
}

exchange_outcome exchange(app& a, conf::oauth_provider const& p, std::string_view code,
                          store::oauth_flow_record const& flow, std::int64_t now_s) {
    exchange_outcome out;
    auto const ep = endpoints_of(a, p);
    // An OpenID provider proves the identity with its ID token; a plain OAuth 2.0 one (no issuer) through its
    // userinfo endpoint.
    bool const oidc = !p.issuer.empty();
    if (a.oauth_fetcher == nullptr || ep.token_endpoint.empty() ||
        (oidc ? ep.jwks_uri.empty() : ep.userinfo_endpoint.empty())) {
        out.error = std::string(code_name(code::oauth_token_exchange_error));
        return out;
    }
    std::string form;
    add_param(form, "grant_type", "authorization_code");
    add_param(form, "code", code);
    // A redirect flow's code was issued for our callback with our PKCE challenge; a code an app posts
    // (oauth_token_<provider>) was issued to the app, without either.
    if (!flow.code_verifier.empty()) {
        add_param(form, "redirect_uri", callback_url(a));
        add_param(form, "code_verifier", flow.code_verifier);
    }
    auto const answer = token_request(a, p, ep.token_endpoint, std::move(form), oidc ? "id_token" : "access_token",
                                      "oauth_token_exchange");
    if (!answer) {
        out.error = std::string(code_name(code::oauth_token_exchange_error));
        return out;
    }
    out.scopes = str_of(*answer, "scope").value_or("");
    auto const tokens = tokens_from_answer(*answer, now_s * 1000);
    if (!oidc) {
        std::string why;
        auto info = identity_from_userinfo(a, p, tokens.access, why);
        if (!info) {
            log::warn("oauth_userinfo", {{"provider", p.strategy}, {"reason", why}});
            out.error = std::string(code_name(code::oauth_fetch_user_error));
            return out;
        }
        out.who = std::move(*info);
        seal_tokens(a, out.who->identity, tokens);
        return out;
    }
    std::string why;
    // A posted code's ID token answers no nonce of ours (none was asked for).
    auto const nonce = flow.nonce.empty() ? std::nullopt : std::optional<std::string_view>(flow.nonce);
    out.who = verify_with_jwks(a, p, ep.jwks_uri, *str_of(*answer, "id_token"), nonce, now_s, why);
    if (!out.who) {
        log::warn("oauth_id_token", {{"provider", p.strategy}, {"reason", why}});
        out.error = std::string(code_name(code::oauth_fetch_user_error));
    } else {
        seal_tokens(a, out.who->identity, tokens);
    }
    return out;
}

bool same_browser(app& a, request_ctx const& ctx, store::read_txn const& t, std::string const& client_id) {
    auto const* cookie = frontend::find_cookie(a, ctx, "__client");
    if (cookie == nullptr || cookie->empty()) return true;
    auto id = frontend::verify_client_token(a, t, *cookie);
    return !id || *id == client_id;
}

json::object social_settings(app const& a) {
    json::object out;
    for (auto const& p : a.cfg.oauth_providers) {
        // Built-in providers' icons come from Clerk's image host; a custom provider's from its logo_url.
        std::string logo = p.logo_url;
        if (logo.empty() && !p.strategy.starts_with("oauth_custom_"))
            logo = "https://img.clerk.com/static/" + p.strategy.substr(6) + ".svg";
        out[p.strategy] = json::object{{"enabled", true},
                                       {"required", false},
                                       {"authenticatable", true},
                                       {"block_email_subaddresses", false},
                                       {"strategy", p.strategy},
                                       {"not_selectable", false},
                                       {"deprecated", false},
                                       {"name", p.name},
                                       {"logo_url", logo.empty() ? json::value(nullptr) : json::value(logo)}};
    }
    return out;
}

conf::oauth_provider const* find_provider(app const& a, std::string_view strategy) {
    for (auto const& p : a.cfg.oauth_providers)
        if (p.strategy == strategy) return &p;
    return nullptr;
}

namespace {

/// Fetches and checks `p`'s discovery document into `out` (fields already set are kept). @returns "" or why not.
std::string fetch_discovery(conf::oauth_provider const& p, fetcher& f, provider_endpoints& out) {
    std::string url = p.issuer;
    if (!url.empty() && url.back() == '/') url.pop_back();
    url += "/.well-known/openid-configuration";
    auto r = f.fetch(p, {false, url, {}, {}, {}, {}});
    boost::system::error_code ec;
    json::value doc;
    if (r.status == 200) doc = json::parse(r.body, ec);
    if (r.status != 200 || ec || !doc.is_object())
        return p.strategy + ": discovery at " + url + " failed (" + std::to_string(r.status) + " " + r.error + ")";
    auto const& o = doc.get_object();
    if (str_of(o, "issuer").value_or("") != p.issuer)
        return p.strategy + ": the discovery document names another issuer";
    auto fill = [&](std::string& field, std::string_view key) {
        if (field.empty()) field = str_of(o, key).value_or("");
    };
    fill(out.authorization_endpoint, "authorization_endpoint");
    fill(out.token_endpoint, "token_endpoint");
    fill(out.jwks_uri, "jwks_uri");
    fill(out.userinfo_endpoint, "userinfo_endpoint");
    fill(out.revocation_endpoint, "revocation_endpoint");
    if (out.authorization_endpoint.empty() || out.token_endpoint.empty() || out.jwks_uri.empty())
        return p.strategy + ": the discovery document lacks an endpoint";
    return {};
}

provider_endpoints configured(conf::oauth_provider const& p) {
    return {p.authorization_endpoint, p.token_endpoint, p.jwks_uri, p.userinfo_endpoint, p.revocation_endpoint};
}

bool needs_discovery(conf::oauth_provider const& p) {
    return !p.issuer.empty() && (p.authorization_endpoint.empty() || p.token_endpoint.empty() || p.jwks_uri.empty());
}

}  // namespace

std::string discover(conf::config& c, fetcher& f) {
    std::string failures;
    for (auto& p : c.oauth_providers) {
        if (!needs_discovery(p)) continue;
        auto ep = configured(p);
        if (auto bad = fetch_discovery(p, f, ep); !bad.empty()) {
            failures += (failures.empty() ? "" : "; ") + bad;
            continue;
        }
        p.authorization_endpoint = ep.authorization_endpoint;
        p.token_endpoint = ep.token_endpoint;
        p.jwks_uri = ep.jwks_uri;
        p.userinfo_endpoint = ep.userinfo_endpoint;
        p.revocation_endpoint = ep.revocation_endpoint;
    }
    return failures;
}

std::string discover_later(conf::config const& c, fetcher& f) {
    std::string failures;
    for (auto const& p : c.oauth_providers) {
        if (!needs_discovery(p) || f.endpoints.get(p.strategy)) continue;
        auto ep = configured(p);
        if (auto bad = fetch_discovery(p, f, ep); !bad.empty()) {
            failures += (failures.empty() ? "" : "; ") + bad;
            continue;
        }
        f.endpoints.put(p.strategy, std::move(ep));
    }
    return failures;
}

provider_endpoints endpoints_of(app const& a, conf::oauth_provider const& p) {
    if (!needs_discovery(p) || a.oauth_fetcher == nullptr) return configured(p);
    if (auto later = a.oauth_fetcher->endpoints.get(p.strategy)) return *later;
    return {};
}

std::optional<provider_endpoints> endpoint_book::get(std::string const& strategy) const {
    std::lock_guard lk(mu_);
    auto it = entries_.find(strategy);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
}

void endpoint_book::put(std::string const& strategy, provider_endpoints e) {
    std::lock_guard lk(mu_);
    entries_[strategy] = std::move(e);
}

std::optional<std::string> jwks_cache::get(std::string const& uri, std::int64_t now_ms) const {
    std::lock_guard lk(mu_);
    auto it = entries_.find(uri);
    if (it == entries_.end() || now_ms - it->second.fetched_ms >= max_age_ms) return std::nullopt;
    return it->second.body;
}

void jwks_cache::put(std::string const& uri, std::string body, std::int64_t now_ms) {
    std::lock_guard lk(mu_);
    ++stores_;
    if (!entries_.contains(uri) && entries_.size() >= max_entries) {
        auto oldest = std::min_element(entries_.begin(), entries_.end(), [](auto const& x, auto const& y) {
            return x.second.fetched_ms < y.second.fetched_ms;
        });
        entries_.erase(oldest);
    }
    auto& e = entries_[uri];
    e.body = std::move(body);
    e.fetched_ms = now_ms;
}

bool jwks_cache::may_refetch_for(std::string const& uri, std::string const& kid, std::int64_t now_ms) {
    std::lock_guard lk(mu_);
    auto& kids = entries_[uri].kid_refetches;
    if (auto it = kids.find(kid); it != kids.end() && now_ms - it->second < kid_refetch_interval_ms) return false;
    if (kids.size() >= max_kids_remembered) kids.clear();
    kids[kid] = now_ms;
    return true;
}

std::size_t jwks_cache::stores() const {
    std::lock_guard lk(mu_);
    return stores_;
}

std::string identity_key(std::string_view provider, std::string_view subject) {
    std::string in(provider);
    in.push_back('\n');
    in += subject;
    return "idn_oauth_" + crypto::hex_encode(crypto::sha256(in)).substr(0, 40);
}

std::string scope_string(conf::oauth_provider const& p, std::vector<std::string> const& extra) {
    std::vector<std::string> all = p.scopes;
    for (auto const& s : extra)
        if (std::find(all.begin(), all.end(), s) == all.end()) all.push_back(s);
    std::string scope;
    for (auto const& s : all) scope += (scope.empty() ? "" : " ") + s;
    return scope;
}

api_result<void> start(app& a, request_ctx const& ctx, std::string_view strategy, std::string const& attempt_id,
                       store::oauth_flow_record& flow, std::vector<std::string> const& extra_scopes) {
    auto const* p = find_provider(a, strategy);
    if (p == nullptr) return param_error(code::strategy_for_user_invalid, "strategy");
    auto const ep = endpoints_of(a, *p);
    // A provider that was down at start (and is not discovered yet) has no authorization endpoint.
    if (ep.authorization_endpoint.empty()) return param_error(code::oauth_provider_unavailable, "strategy");
    auto back = return_urls_of(a, ctx);
    if (!back) return back.error();
    open_flow(flow, strategy, attempt_id + "." + crypto::random_token(24), *back, ctx.now);
    flow.code_verifier = crypto::random_token(32);
    flow.nonce = crypto::random_token(16);
    std::string q;
    add_param(q, "response_type", "code");
    add_param(q, "client_id", p->client_id);
    add_param(q, "redirect_uri", callback_url(a));
    add_param(q, "scope", scope_string(*p, extra_scopes));
    add_param(q, "state", flow.state);
    if (!p->issuer.empty()) add_param(q, "nonce", flow.nonce);
    add_param(q, "code_challenge", crypto::base64url_encode(crypto::sha256(flow.code_verifier)));
    add_param(q, "code_challenge_method", "S256");
    if (auto hint = frontend::field(ctx, "oidc_login_hint"); hint && !hint->empty()) add_param(q, "login_hint", *hint);
    if (auto prompt = frontend::field(ctx, "oidc_prompt"); prompt && !prompt->empty()) add_param(q, "prompt", *prompt);
    flow.authorize_url =
        ep.authorization_endpoint + (ep.authorization_endpoint.find('?') == std::string::npos ? "?" : "&") + q;
    return {};
}

api_result<return_urls> return_urls_of(app const& a, request_ctx const& ctx) {
    auto raw_redirect = frontend::field(ctx, "redirect_url").value_or("");
    if (raw_redirect.empty()) return param_error(code::form_param_missing, "redirect_url");
    auto redirect = allowed_redirect(a, raw_redirect);
    if (!redirect) return param_error(code::form_param_value_invalid, "redirect_url");
    return_urls out{*redirect, {}};
    if (auto raw = frontend::field(ctx, "action_complete_redirect_url"); raw && !raw->empty()) {
        auto ok = allowed_redirect(a, *raw);
        if (!ok) return param_error(code::form_param_value_invalid, "action_complete_redirect_url");
        out.complete = *ok;
    }
    return out;
}

void open_flow(store::oauth_flow_record& flow, std::string_view strategy, std::string state, return_urls const& back,
               std::int64_t now) {
    flow = {};
    flow.strategy = std::string(strategy);
    flow.state = std::move(state);
    flow.redirect_url = back.redirect;
    flow.action_complete_redirect_url = back.complete;
    flow.verification.status = "unverified";
    flow.verification.strategy = flow.strategy;
    flow.verification.expire_at = now + flow_lifetime_ms;
}

json::value error_json(std::string_view name) {
    if (name.empty()) return nullptr;
    for (auto c : every_code) {
        if (code_name(c) != name) continue;
        return error_object(make_error(c));
    }
    // Not a code of the table (a flow stored by another version): the name stands for itself.
    return json::object{{"code", name}, {"message", name}, {"long_message", name}, {"meta", json::object{}}};
}

json::object verification_object(std::string_view object, std::string_view status, std::string_view strategy,
                                 std::optional<json::value> redirect_url, json::value error, std::int64_t expire_at) {
    json::object o{{"object", object}, {"status", status}, {"strategy", strategy}};
    if (redirect_url) o["external_verification_redirect_url"] = std::move(*redirect_url);
    o["error"] = std::move(error);
    o["expire_at"] = expire_at == 0 ? json::value(nullptr) : json::value(expire_at);
    o["attempts"] = nullptr;
    return o;
}

json::value verification_json(store::oauth_flow_record const& flow, store::verification_record const& v) {
    if (v.status.empty()) return nullptr;
    if (flow.strategy == "google_one_tap")  // the spec's verification_google_one_tap: no redirect
        return verification_object("verification_google_one_tap", v.status, flow.strategy, std::nullopt,
                                   error_json(flow.error), v.expire_at);
    bool const saml = flow.strategy == "enterprise_sso" || flow.strategy == "saml";
    return verification_object(saml ? "verification_saml" : "verification_oauth", v.status, flow.strategy,
                               v.status == "unverified" ? json::value(flow.authorize_url) : json::value(nullptr),
                               error_json(flow.error), v.expire_at);
}

json::object external_account_json(store::external_account_record const& e) {
    auto const null_if_empty = [](std::string const& x) { return x.empty() ? json::value(nullptr) : json::value(x); };
    // A linking round trip that is pending or failed shows on the account (linking.cpp); "" is a proven one.
    auto const status = store::proven(e) ? std::string_view("verified") : std::string_view(e.verification_status);
    return json::object{
        {"object", "external_account"},
        {"id", e.id},
        {"identification_id", e.identification_id},
        {"provider", e.provider},
        {"provider_user_id", e.provider_user_id},
        {"approved_scopes", e.approved_scopes},
        {"email_address", e.email_address},
        {"first_name", e.first_name},
        {"last_name", e.last_name},
        {"avatar_url", e.image_url},
        {"image_url", e.image_url},
        {"username", null_if_empty(e.username)},
        {"phone_number", nullptr},
        {"public_metadata", json::object{}},
        {"label", nullptr},
        {"created_at", e.created_at},
        {"updated_at", e.updated_at},
        {"verification", verification_object("verification_oauth", status, e.provider, json::value(nullptr),
                                             error_json(e.verification_error), e.verification_expire_at)}};
}

bool transfer_to_sign_up(store::sign_in_record const& si, store::sign_up_record& su, std::int64_t now) {
    if (si.oauth.strategy.empty() || si.first_factor.status != "transferable" ||
        si.oauth.identity.provider_user_id.empty())
        return false;
    su.oauth = si.oauth;
    su.oauth.state.clear();
    su.oauth.code_verifier.clear();
    su.oauth.error.clear();
    su.oauth.verification.status = "verified";
    su.oauth.verification.verified_at = now;
    auto const& id = su.oauth.identity;
    if (su.first_name.empty()) su.first_name = id.first_name;
    if (su.last_name.empty()) su.last_name = id.last_name;
    if (!id.email_address.empty() && su.email_address.empty()) {
        su.email_address = id.email_address;
        if (su.oauth.email_verified) {
            su.email_verification = {};
            su.email_verification.status = "verified";
            su.email_verification.strategy = su.oauth.strategy;
            su.email_verification.verified_at = now;
        }
    }
    return true;
}

void attach_to_user(store::sign_up_record const& su, store::user_record& u, std::int64_t now) {
    if (su.oauth.strategy.empty() || su.oauth.verification.status != "verified" ||
        su.oauth.identity.provider_user_id.empty())
        return;
    auto ea = su.oauth.identity;
    ea.id = crypto::new_id("eac");
    ea.identification_id = identity_key(ea.provider, ea.provider_user_id);
    ea.created_at = ea.updated_at = now;
    if (u.image_url.empty()) u.image_url = ea.image_url;
    u.external_accounts.push_back(std::move(ea));
}

round_trip_outcome proven_outcome(request_ctx& ctx, std::optional<userinfo_identity> const& who,
                                  std::string const& scopes) {
    round_trip_outcome rt;
    rt.prove = [who, scopes](store::oauth_flow_record& f) {
        f.identity = who->identity;
        f.identity.approved_scopes = scopes;
        f.email_verified = who->email_verified;
    };
    rt.owner = [](store::write_txn& tx, store::oauth_flow_record const& f,
                  bool sign_in) -> store::result<std::optional<std::string>> {
        auto uid = tx.users().id_by_identification(identity_key(f.identity.provider, f.identity.provider_user_id));
        // A verified provider email links to the account that owns the address (sign-in only).
        if (uid && !*uid && sign_in && f.email_verified && !f.identity.email_address.empty())
            uid = tx.users().id_by_email(f.identity.email_address);
        return uid;
    };
    rt.link = [&](store::user_record& u, store::oauth_flow_record const& f) {
        bool linked = false;
        for (auto& ea : u.external_accounts) {
            if (ea.provider != f.identity.provider || ea.provider_user_id != f.identity.provider_user_id) continue;
            linked = true;
            // The provider's latest tokens replace the kept ones (a refresh token not re-sent stays).
            if (!f.identity.access_token_sealed.empty()) {
                ea.access_token_sealed = f.identity.access_token_sealed;
                if (!f.identity.refresh_token_sealed.empty()) ea.refresh_token_sealed = f.identity.refresh_token_sealed;
                ea.token_expires_at = f.identity.token_expires_at;
                ea.approved_scopes = f.identity.approved_scopes;
                ea.updated_at = ctx.now;
            }
        }
        if (!linked) {
            auto ea = f.identity;
            ea.id = crypto::new_id("eac");
            ea.identification_id = identity_key(ea.provider, ea.provider_user_id);
            ea.created_at = ea.updated_at = ctx.now;
            u.external_accounts.push_back(std::move(ea));
        }
    };
    rt.fill_sign_up = [&](store::sign_up_record& su) {
        store::sign_in_record as_sign_in;
        as_sign_in.oauth = su.oauth;
        as_sign_in.first_factor.status = "transferable";
        transfer_to_sign_up(as_sign_in, su, ctx.now);
    };
    return rt;
}

api_result<reply> oauth_callback(app& a, request_ctx& ctx) {
    auto param = [&](std::string_view k) -> std::string {
        if (auto const* v = ctx.query.find(k)) return *v;
        if (auto const* v = ctx.form.find(k)) return *v;
        return {};
    };
    auto const state = param("state");
    auto const code_param = param("code");
    auto const error_param = param("error");
    auto const dot = state.find('.');
    if (state.size() > 200) return param_error(code::oauth_callback_invalid, "state");
    std::string const attempt_id = dot == std::string::npos ? std::string{} : state.substr(0, dot);
    // A signed-in user linking an account (linking.cpp).
    if (attempt_id.starts_with("user_")) return link_callback(a, ctx, attempt_id, state, code_param, error_param);
    bool const is_sign_in = attempt_id.starts_with("sia_");
    // No attempt named (a missing or garbled state): only the round trip this browser's user started can end here.
    if (!is_sign_in && !attempt_id.starts_with("sua_"))
        return link_callback(a, ctx, {}, state, code_param, error_param);

    // 1. The pending flow the state names (read only; nothing is held across the exchange).
    auto flow =
        txn::read(a, "oauth_flow", [&](store::read_txn& t) -> store::result<std::optional<store::oauth_flow_record>> {
            std::optional<store::oauth_flow_record> f;
            std::string client_id;
            std::string status;
            if (is_sign_in) {
                auto s = t.sign_ins().get(attempt_id);
                if (!s) return s.error();
                if (*s) f = (*s)->oauth, client_id = (*s)->client_id, status = (*s)->first_factor.status;
                if (f) f->verification.expire_at = (*s)->first_factor.expire_at;
            } else {
                auto s = t.sign_ups().get(attempt_id);
                if (!s) return s.error();
                if (*s) f = (*s)->oauth, client_id = (*s)->client_id, status = f->verification.status;
            }
            if (!f || f->state.empty() || !crypto::equal_ct(f->state, state) || status != "unverified" ||
                f->verification.expire_at < ctx.now || !same_browser(a, ctx, t, client_id))
                return std::optional<store::oauth_flow_record>{};
            return f;
        });
    if (!flow) return flow.error();
    if (!*flow) return param_error(code::oauth_callback_invalid, "state");
    auto const* p = find_provider(a, (*flow)->strategy);
    if (p == nullptr) return param_error(code::oauth_callback_invalid, "state");

    // 2. The exchange, outside any txn (this route runs on the pool).
    exchange_outcome out;
    if (!error_param.empty())
        out.error = std::string(code_name(code::oauth_access_denied));
    else if (code_param.empty() || code_param.size() > 2048)
        return param_error(code::form_param_missing, "code");
    else
        out = exchange(a, *p, code_param, **flow, ctx.now / 1000);

    // 3. The outcome, in one write: the state is spent whatever happens (a replayed callback finds nothing).
    std::string location = (*flow)->redirect_url;
    auto rt = proven_outcome(ctx, out.who, out.scopes);
    if (!out.who) rt.error = out.error.empty() ? std::string(code_name(code::oauth_token_exchange_error)) : out.error;
    auto w = txn::write<void>(a, "oauth_callback", txn::on_client_error::commit, [&](store::write_txn& tx) {
        return settle(a, ctx, tx, attempt_id, state, code::oauth_callback_invalid, "state", rt);
    });
    if (!w) return w.error();
    return redirect_see_other(location);
}

}  // namespace latchkey::server::api::federation
