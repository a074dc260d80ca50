#include "server/api/domain/passkeys.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "crypto/webauthn.hpp"
#include "server/api/dispatch.hpp"
#include "server/api/domain/identifications.hpp"
#include "server/api/site.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <optional>

namespace latchkey::server::api::domain::passkeys {

namespace json = boost::json;

namespace {

constexpr std::string_view credential_param = "public_key_credential";

api_error invalid_credential(std::string_view why) {
    return param_error(code::passkey_invalid_public_key_credential, credential_param,
                       std::string("The passkey credential is invalid: ") + std::string(why) + ".");
}

api_error refused(code c, std::string_view why) {
    auto e = make_error(c);
    e.long_message = std::string(e.long_message) + " (" + std::string(why) + ")";
    return e;
}

std::string new_challenge() {
    std::array<unsigned char, 32> b{};
    crypto::random_bytes(b);
    return crypto::base64url_encode({reinterpret_cast<char const*>(b.data()), b.size()});
}

/// The browser's credential: the members both ceremonies send, decoded from base64url.
struct credential {
    std::string raw_id;
    std::string client_data_json;
    std::string attestation_object;  ///< registration
    std::string authenticator_data;  ///< assertion
    std::string signature;           ///< assertion
    std::string user_handle;         ///< assertion; "" = null
};

std::optional<std::string> b64_member(json::object const& o, std::string_view key) {
    auto const* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    auto d = crypto::base64url_decode(v->get_string());
    if (!d) return std::nullopt;
    return std::move(*d);
}

api_result<credential> parse_credential(std::string_view text, bool registration) {
    if (text.empty()) return param_error(code::form_param_missing, credential_param);
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) return invalid_credential("not a JSON object");
    auto const& o = v.get_object();
    if (auto const* t = o.if_contains("type"); t == nullptr || !t->is_string() || t->get_string() != "public-key")
        return invalid_credential("type must be public-key");
    credential c;
    auto raw = b64_member(o, "rawId");
    if (!raw) raw = b64_member(o, "id");
    if (!raw || raw->empty() || raw->size() > 1023) return invalid_credential("rawId");
    c.raw_id = std::move(*raw);
    auto const* r = o.if_contains("response");
    if (r == nullptr || !r->is_object()) return invalid_credential("response");
    auto const& resp = r->get_object();
    auto cd = b64_member(resp, "clientDataJSON");
    if (!cd || cd->empty()) return invalid_credential("clientDataJSON");
    c.client_data_json = std::move(*cd);
    if (registration) {
        auto att = b64_member(resp, "attestationObject");
        if (!att || att->empty()) return invalid_credential("attestationObject");
        c.attestation_object = std::move(*att);
    } else {
        auto ad = b64_member(resp, "authenticatorData");
        auto sig = b64_member(resp, "signature");
        if (!ad || ad->empty()) return invalid_credential("authenticatorData");
        if (!sig || sig->empty()) return invalid_credential("signature");
        c.authenticator_data = std::move(*ad);
        c.signature = std::move(*sig);
        if (auto const* uh = resp.if_contains("userHandle"); uh != nullptr && !uh->is_null()) {
            auto h = b64_member(resp, "userHandle");
            if (!h) return invalid_credential("userHandle");
            c.user_handle = std::move(*h);
        }
    }
    return c;
}

/// The challenge of the options JSON in `nonce`.
std::string expected_challenge(std::string_view nonce) {
    boost::system::error_code ec;
    json::value v = json::parse(nonce, ec);
    if (ec || !v.is_object()) return {};
    auto const* c = v.get_object().if_contains("challenge");
    return c != nullptr && c->is_string() ? std::string(c->get_string()) : std::string{};
}

/// clientDataJSON: the ceremony type, our challenge (constant time) and an app origin of the instance.
std::optional<std::string> check_client_data(app const& a, std::string_view client_data, std::string_view type,
                                             std::string_view challenge) {
    boost::system::error_code ec;
    json::value v = json::parse(client_data, ec);
    if (ec || !v.is_object()) return "clientDataJSON is not a JSON object";
    auto const& o = v.get_object();
    auto str = [&](std::string_view k) -> std::string_view {
        auto const* m = o.if_contains(k);
        return m != nullptr && m->is_string() ? std::string_view(m->get_string()) : std::string_view{};
    };
    if (str("type") != type) return "wrong ceremony type";
    if (challenge.empty() || !crypto::equal_ct(str("challenge"), challenge)) return "challenge mismatch";
    std::string_view const origin = str("origin");
    if (origin.empty() || !origin_allowed(a, origin)) return "origin not allowed";
    if (auto const* x = o.if_contains("crossOrigin"); x != nullptr && x->is_bool() && x->get_bool())
        return "cross-origin ceremony";
    return std::nullopt;
}

std::optional<std::string> check_auth_data(app const& a, crypto::webauthn::authenticator_data const& d) {
    if (!crypto::equal_ct(d.rp_id_hash, crypto::sha256(rp_id(a)))) return "RP ID mismatch";
    if (!d.user_present()) return "user not present";
    if (!d.user_verified()) return "user not verified";
    return std::nullopt;
}

/// The verification is a live, unspent passkey challenge; the reason otherwise.
std::optional<api_error> live(store::verification_record const& v, std::int64_t now_ms) {
    if (v.strategy != "passkey") return make_error(code::verification_not_sent);
    if (v.status == "verified") return make_error(code::verification_already_verified);
    if (v.status == "failed") {
        auto e = make_error(code::verification_failed);
        e.long_message = "This passkey challenge was already answered. Start again.";
        return e;
    }
    if (v.status != "unverified" || v.nonce.empty()) return make_error(code::verification_not_sent);
    if (v.expire_at != 0 && now_ms > v.expire_at) return make_error(code::verification_expired);
    return std::nullopt;
}

void spend(store::verification_record& v, bool ok, std::int64_t now_ms) {
    v.nonce.clear();
    v.status = ok ? "verified" : "failed";
    if (ok)
        v.verified_at = now_ms;
    else
        ++v.attempts;
}

std::string user_display_name(store::user_record const& u) {
    std::string n = u.first_name;
    if (!u.last_name.empty()) n += (n.empty() ? "" : " ") + u.last_name;
    return n;
}

std::string user_name(store::user_record const& u) {
    for (auto const* id : {&u.primary_email_address_id, &u.primary_phone_number_id})
        for (auto const& i : u.identifications)
            if (!id->empty() && i.id == *id) return i.value;
    if (!u.username.empty()) return u.username;
    return u.id;
}

json::array credential_list(store::user_record const& u) {
    json::array out;
    for (auto const& pk : u.passkeys) {
        if (pk.verification.status != "verified" || pk.credential_id.empty()) continue;
        out.push_back(json::object{{"type", "public-key"}, {"id", pk.credential_id}});
    }
    return out;
}

}  // namespace

bool enabled(app const& a) {
    auto const& f = a.cfg.first_factors;
    return std::find(f.begin(), f.end(), "passkey") != f.end();
}

std::string rp_id(app const& a) {
    if (!a.cfg.passkeys.rp_id.empty()) return a.cfg.passkeys.rp_id;
    std::string_view host = a.inst.fapi_host;
    if (auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(']') == std::string_view::npos)
        host = host.substr(0, colon);
    std::string h(host);
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (auto d = site::registrable_domain(h)) return *d;
    return h;
}

void start_registration(app const& a, store::user_record const& u, store::passkey_record& pk, std::int64_t now_ms) {
    pk.id = crypto::new_id("idn");
    pk.name = "Passkey";
    pk.created_at = pk.updated_at = now_ms;
    auto const timeout = static_cast<std::int64_t>(a.cfg.passkeys.timeout_ms);
    json::object o;
    o["rp"] = json::object{{"id", rp_id(a)}, {"name", a.cfg.application_name}};
    o["user"] = json::object{{"id", crypto::base64url_encode(u.id)},
                             {"name", user_name(u)},
                             {"displayName", user_display_name(u).empty() ? user_name(u) : user_display_name(u)}};
    o["challenge"] = new_challenge();
    o["pubKeyCredParams"] = json::array{json::object{{"type", "public-key"}, {"alg", crypto::webauthn::alg_es256}},
                                        json::object{{"type", "public-key"}, {"alg", crypto::webauthn::alg_rs256}}};
    o["timeout"] = timeout;
    o["excludeCredentials"] = credential_list(u);
    o["authenticatorSelection"] =
        json::object{{"residentKey", "required"}, {"requireResidentKey", true}, {"userVerification", "required"}};
    o["attestation"] = "none";
    pk.verification = {};
    pk.verification.status = "unverified";
    pk.verification.strategy = "passkey";
    pk.verification.expire_at = now_ms + timeout;
    pk.verification.nonce = json::serialize(o);
}

api_result<void> finish_registration(app const& a, store::user_record const& u, store::passkey_record& pk,
                                     std::string_view credential_json, std::int64_t now_ms) {
    if (auto e = live(pk.verification, now_ms)) return *e;
    auto c = parse_credential(credential_json, true);
    if (!c) return c.error();
    std::string const challenge = expected_challenge(pk.verification.nonce);
    auto fail = [&](code cd, std::string_view why) -> api_error {
        spend(pk.verification, false, now_ms);
        return refused(cd, why);
    };
    if (auto bad = check_client_data(a, c->client_data_json, "webauthn.create", challenge))
        return fail(code::passkey_registration_failed, *bad);
    auto att = crypto::webauthn::parse_attestation(c->attestation_object, crypto::sha256(c->client_data_json));
    if (!att) {
        if (att.error() == crypto::errc::openssl) return make_error(code::internal_clerk_error);
        return fail(code::passkey_registration_failed, "attestation refused");
    }
    if (auto bad = check_auth_data(a, att->auth_data)) return fail(code::passkey_registration_failed, *bad);
    if (att->auth_data.credential_id != c->raw_id)
        return fail(code::passkey_registration_failed, "credential id mismatch");
    auto key = crypto::webauthn::parse_cose_key(att->auth_data.cose_key);
    if (!key) return fail(code::passkey_registration_failed, "unsupported credential key");
    std::string const id = crypto::base64url_encode(c->raw_id);
    for (auto const& other : u.passkeys)
        if (other.id != pk.id && other.credential_id == id) return fail(code::passkey_already_exists, "registered");
    pk.credential_id = id;
    pk.public_key = crypto::base64url_encode(att->auth_data.cose_key);
    pk.algorithm = key->alg;
    pk.sign_count = att->auth_data.sign_count;
    pk.updated_at = now_ms;
    spend(pk.verification, true, now_ms);
    return {};
}

void start_assertion(app const& a, store::user_record const* u, store::verification_record& v, std::int64_t now_ms) {
    auto const timeout = static_cast<std::int64_t>(a.cfg.passkeys.timeout_ms);
    json::object o;
    o["challenge"] = new_challenge();
    o["rpId"] = rp_id(a);
    o["timeout"] = timeout;
    o["userVerification"] = "required";
    o["allowCredentials"] = u != nullptr ? credential_list(*u) : json::array{};
    v = {};
    v.status = "unverified";
    v.strategy = "passkey";
    v.expire_at = now_ms + timeout;
    v.nonce = json::serialize(o);
}

api_result<std::string> assertion_user(std::string_view credential_json) {
    auto c = parse_credential(credential_json, false);
    if (!c) return c.error();
    return c->user_handle;
}

api_result<void> finish_assertion(app const& a, store::verification_record& v, store::user_record& u,
                                  std::string_view credential_json, std::int64_t now_ms) {
    if (auto e = live(v, now_ms)) return *e;
    auto c = parse_credential(credential_json, false);
    if (!c) return c.error();
    std::string const challenge = expected_challenge(v.nonce);
    auto fail = [&](code cd, std::string_view why) -> api_error {
        spend(v, false, now_ms);
        return refused(cd, why);
    };
    if (!c->user_handle.empty() && !crypto::equal_ct(c->user_handle, u.id))
        return fail(code::passkey_not_found, "the credential belongs to another user");
    std::string const id = crypto::base64url_encode(c->raw_id);
    store::passkey_record* pk = nullptr;
    for (auto& p : u.passkeys)
        if (p.verification.status == "verified" && p.credential_id == id) pk = &p;
    if (pk == nullptr) return fail(code::passkey_not_found, "no such credential");
    if (auto bad = check_client_data(a, c->client_data_json, "webauthn.get", challenge))
        return fail(code::passkey_verification_failed, *bad);
    auto d = crypto::webauthn::parse_authenticator_data(c->authenticator_data);
    if (!d) return fail(code::passkey_verification_failed, "malformed authenticator data");
    if (auto bad = check_auth_data(a, *d)) return fail(code::passkey_verification_failed, *bad);
    auto raw_key = crypto::base64url_decode(pk->public_key);
    if (!raw_key) return fail(code::passkey_verification_failed, "stored key unreadable");
    auto cose = crypto::webauthn::parse_cose_key(*raw_key);
    if (!cose) return fail(code::passkey_verification_failed, "stored key unreadable");
    auto sig = crypto::webauthn::verify_signature(*cose, c->authenticator_data, crypto::sha256(c->client_data_json),
                                                  c->signature);
    if (!sig) {
        if (sig.error() == crypto::errc::openssl) return make_error(code::internal_clerk_error);
        return fail(code::passkey_verification_failed, "bad signature");
    }
    // WebAuthn 7.2 step 21: a counter that is used (either side non-zero) must grow, else the credential may be
    // cloned.
    std::int64_t const count = d->sign_count;
    if ((count != 0 || pk->sign_count != 0) && count <= pk->sign_count)
        return fail(code::passkey_verification_failed, "signature counter did not grow");
    pk->sign_count = count;
    pk->last_used_at = now_ms;
    pk->updated_at = now_ms;
    spend(v, true, now_ms);
    return {};
}

json::object passkey_json(store::passkey_record const& pk) {
    json::object o;
    o["object"] = "passkey";
    o["id"] = pk.id;
    o["name"] = pk.name;
    o["last_used_at"] = pk.last_used_at == 0 ? json::value(nullptr) : json::value(pk.last_used_at);
    json::object v = challenge_verification(pk.verification, "passkey");
    if (!pk.verification.nonce.empty()) v["nonce"] = pk.verification.nonce;
    v["error"] = nullptr;
    o["verification"] = std::move(v);
    o["created_at"] = pk.created_at;
    o["updated_at"] = pk.updated_at;
    return o;
}

json::array passkeys_json(store::user_record const& u) {
    json::array out;
    for (auto const& pk : u.passkeys)
        if (pk.verification.status == "verified") out.push_back(passkey_json(pk));
    return out;
}

}  // namespace latchkey::server::api::domain::passkeys
