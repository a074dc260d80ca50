#include "server/api/domain/tokens.hpp"

#include "crypto/jws.hpp"
#include "server/api/json_write.hpp"
#include "server/api/views.hpp"
#include "server/log.hpp"
#include "server/metrics.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace latchkey::server::api::domain {

namespace json = boost::json;

namespace {

api_result<std::string> sign_with(crypto::signing_key const& key, std::string_view payload_json) {
    auto jwt = crypto::sign_rs256(key, jose_header(key), payload_json);
    if (!jwt) {
        log::error("sign_failed", {{"error", jwt.error().message()}});
        return make_error(code::internal_clerk_error);
    }
    return std::move(*jwt);
}

/// The session claims written straight as text (the hot path: no DOM), in the order the SDKs' fixtures show.
std::string session_payload(app const& a, store::session_record const& s, std::string_view azp, std::int64_t iat,
                            std::int64_t exp, std::int64_t fva1, std::int64_t fva2) {
    std::string payload;
    payload.reserve(320);
    payload += '{';
    if (!s.actor.empty()) {  // issue 14: impersonation — Clerk's `act` claim, the actor object as given
        payload += "\"act\":";
        payload += s.actor;
        payload += ',';
    }
    if (!azp.empty()) {
        payload += "\"azp\":";
        json_write::string(payload, azp);
        payload += ',';
    }
    payload += "\"exp\":" + std::to_string(exp);
    payload += ",\"fva\":[" + std::to_string(fva1) + "," + std::to_string(fva2) + "]";
    payload += ",\"iat\":" + std::to_string(iat);
    payload += ",\"iss\":";
    json_write::string(payload, a.inst.issuer);
    payload += ",\"nbf\":" + std::to_string(iat - 10);
    payload += ",\"sid\":";
    json_write::string(payload, s.id);
    payload += ",\"sts\":\"";
    payload += s.status == "pending" ? "pending" : "active";
    payload += "\",\"sub\":";
    json_write::string(payload, s.user_id);
    payload += s.org_claims;  // the active organization's `fea`/`o` claims, kept on the session (issue 13)
    payload += ",\"v\":2}";
    return payload;
}

}  // namespace

std::string jose_header(crypto::signing_key const& key) {
    std::string header = R"({"alg":"RS256","kid":)";
    json_write::string(header, key.kid());
    header += R"(,"typ":"JWT"})";
    return header;
}

api_result<std::string> sign_jwt(app const& a, std::string_view payload_json) {
    return sign_with(a.keys.active(), payload_json);
}

api_result<std::string> mint_session_token(app& a, store::session_record const& s, std::string_view azp,
                                           std::int64_t now_ms, json::object const* extra, std::int64_t lifetime_s) {
    if (!views::session_live(s, now_ms)) return make_error(code::session_not_active);
    std::int64_t const iat = now_ms / 1000;
    std::int64_t const life = lifetime_s > 0 ? lifetime_s : a.cfg.token_lifetime.count();
    std::int64_t const exp = iat + life;
    std::int64_t const fva1 = s.first_factor_at > 0 ? (now_ms - s.first_factor_at) / 60000 : 0;
    std::int64_t const fva2 = s.second_factor_at > 0 ? (now_ms - s.second_factor_at) / 60000 : -1;

    std::string payload;
    if (extra == nullptr) {
        payload = session_payload(a, s, azp, iat, exp, fva1, fva2);
    } else {
        json::object o = *extra;  // template claims first; the session claims below always win
        if (!azp.empty()) o["azp"] = azp;
        o["exp"] = exp;
        o["iat"] = iat;
        o["iss"] = a.inst.issuer;
        o["nbf"] = iat - 10;
        o["sid"] = s.id;
        o["sub"] = s.user_id;
        if (!s.actor.empty()) o["act"] = views::json_text(s.actor);
        payload = json::serialize(o);
    }
    auto jwt = sign_jwt(a, payload);
    if (jwt && a.metrics != nullptr) a.metrics->token_minted();
    return jwt;
}

api_result<std::string> sign_handshake(app const& a, json::array directives, std::int64_t now_ms) {
    json::object payload;
    payload["handshake"] = std::move(directives);
    payload["iat"] = now_ms / 1000;
    payload["exp"] = now_ms / 1000 + 300;
    return sign_jwt(a, json::serialize(payload));
}

api_result<json::object> verify_jwt(app const& a, std::string_view token, std::int64_t now_ms, std::string_view param) {
    auto invalid = [param](std::string_view why) { return param_error(code::form_param_value_invalid, param, why); };
    auto parts = crypto::parse_jws(token);
    if (!parts) return invalid("The token is not a valid JWT.");
    boost::system::error_code ec;
    auto header = json::parse(parts->header_json, ec);
    if (ec || !header.is_object()) return invalid("The token header is invalid.");
    auto const* alg = header.get_object().if_contains("alg");
    auto const* kid = header.get_object().if_contains("kid");
    if (alg == nullptr || !alg->is_string() || alg->get_string() != "RS256") return invalid("Unsupported algorithm.");
    auto const* key = kid != nullptr && kid->is_string() ? a.keys.find(kid->get_string()) : nullptr;
    if (key == nullptr) return invalid("The token was not signed by this instance.");
    if (!crypto::verify_rs256(key->get(), *parts)) return invalid("The token signature is invalid.");
    auto payload = json::parse(parts->payload_json, ec);
    if (ec || !payload.is_object()) return invalid("The token payload is invalid.");
    auto& claims = payload.get_object();
    std::int64_t const now_s = now_ms / 1000;
    constexpr std::int64_t leeway_s = 5;
    auto const* exp = claims.if_contains("exp");
    if (exp == nullptr || !exp->is_int64() || exp->get_int64() <= now_s - leeway_s)
        return invalid("The token has expired.");
    if (auto const* nbf = claims.if_contains("nbf");
        nbf != nullptr && (!nbf->is_int64() || nbf->get_int64() > now_s + leeway_s))
        return invalid("The token is not valid yet.");
    return std::move(claims);
}

api_result<json::object> verify_session_token(app const& a, std::string_view token, std::int64_t now_ms) {
    auto claims = verify_jwt(a, token, now_ms);
    if (!claims) return claims;
    auto const* sid = claims->if_contains("sid");
    if (sid == nullptr || !sid->is_string() || sid->get_string().empty())
        return param_error(code::form_param_value_invalid, "token", "The token has no session.");
    return claims;
}

}  // namespace latchkey::server::api::domain
