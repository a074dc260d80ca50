#include "server/api/saml/saml.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/dispatch.hpp"
#include "server/api/domain/mfa.hpp"
#include "server/api/federation/oauth2.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/txn.hpp"
#include "server/log.hpp"
#include "server/saml/saml.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace latchkey::server::api::saml_sso {

namespace json = boost::json;

namespace {

constexpr std::int64_t flow_lifetime_ms = std::int64_t{10} * 60 * 1000;
constexpr std::string_view connections_key = "saml_connections";
constexpr std::size_t max_connections = 200;

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<std::string> str_of(json::object const& o, std::string_view k) {
    if (auto const* v = o.if_contains(k); v != nullptr && v->is_string()) return std::string(v->get_string());
    return std::nullopt;
}

json::object stored_json(connection const& k) {
    auto const& c = k.c;
    json::array domains;
    for (auto const& d : c.domains) domains.emplace_back(d);
    return json::object{{"id", c.id},
                        {"name", c.name},
                        {"provider", c.provider},
                        {"domains", std::move(domains)},
                        {"idp_entity_id", c.idp_entity_id},
                        {"idp_sso_url", c.idp_sso_url},
                        {"idp_certificate", c.idp_certificate},
                        {"idp_metadata", c.idp_metadata},
                        {"idp_metadata_url", c.idp_metadata_url},
                        {"attr_user_id", c.attr_user_id},
                        {"attr_email_address", c.attr_email_address},
                        {"attr_first_name", c.attr_first_name},
                        {"attr_last_name", c.attr_last_name},
                        {"allow_idp_initiated", c.allow_idp_initiated},
                        {"sign_authn_requests", c.sign_authn_requests},
                        {"active", c.active},
                        {"created_at", k.created_at},
                        {"updated_at", k.updated_at}};
}

connection from_stored(json::object const& o) {
    connection k;
    auto& c = k.c;
    c.id = str_of(o, "id").value_or("");
    c.name = str_of(o, "name").value_or("");
    c.provider = str_of(o, "provider").value_or("saml_custom");
    if (auto const* d = o.if_contains("domains"); d != nullptr && d->is_array())
        for (auto const& x : d->get_array())
            if (x.is_string()) c.domains.emplace_back(x.get_string());
    c.idp_entity_id = str_of(o, "idp_entity_id").value_or("");
    c.idp_sso_url = str_of(o, "idp_sso_url").value_or("");
    c.idp_certificate = str_of(o, "idp_certificate").value_or("");
    c.idp_metadata = str_of(o, "idp_metadata").value_or("");
    c.idp_metadata_url = str_of(o, "idp_metadata_url").value_or("");
    c.attr_user_id = str_of(o, "attr_user_id").value_or("");
    c.attr_email_address = str_of(o, "attr_email_address").value_or("");
    c.attr_first_name = str_of(o, "attr_first_name").value_or("");
    c.attr_last_name = str_of(o, "attr_last_name").value_or("");
    auto flag = [&](std::string_view key, bool dflt) {
        auto const* v = o.if_contains(key);
        return v != nullptr && v->is_bool() ? v->get_bool() : dflt;
    };
    c.allow_idp_initiated = flag("allow_idp_initiated", false);
    c.sign_authn_requests = flag("sign_authn_requests", false);
    c.active = flag("active", true);
    auto num = [&](std::string_view key) -> std::int64_t {
        auto const* v = o.if_contains(key);
        return v != nullptr && v->is_int64() ? v->get_int64() : 0;
    };
    k.created_at = num("created_at");
    k.updated_at = num("updated_at");
    return k;
}

store::result<std::vector<connection>> stored(store::read_txn const& t) {
    std::vector<connection> out;
    auto v = t.meta().get(connections_key);
    if (!v) return v.error();
    if (!*v) return out;
    boost::system::error_code ec;
    auto doc = json::parse(**v, ec);
    if (ec || !doc.is_array()) return out;
    for (auto const& e : doc.get_array())
        if (e.is_object()) out.push_back(from_stored(e.get_object()));
    return out;
}

store::result<void> save(store::write_txn& w, std::vector<connection> const& list) {
    json::array arr;
    for (auto const& k : list)
        if (!k.from_config) arr.emplace_back(stored_json(k));
    return w.meta().put(connections_key, json::serialize(arr));
}

/// The SP key and certificate (PEM text: the config loader read the files named in the settings).
struct sp_credentials {
    std::string const& key_pem;
    std::string const& cert_pem;
};
sp_credentials sp(app const& a) { return {a.cfg.saml_sp_key, a.cfg.saml_sp_certificate}; }

std::string domain_of(std::string_view email) {
    auto const at = email.rfind('@');
    return at == std::string_view::npos ? std::string{} : lower(email.substr(at + 1));
}

bool owns_domain(conf::saml_connection const& c, std::string_view domain) {
    return std::any_of(c.domains.begin(), c.domains.end(), [&](auto const& d) { return d == domain; });
}

/// Replay cache: the ids of accepted assertions, bucketed by the hour their validity ends in (meta
/// "saml_replay:<hour>", a JSON array); buckets of past hours are dropped as writes go by.
enum class replay { fresh, seen };
store::result<replay> seen_before(store::write_txn& w, std::string const& assertion_key, std::int64_t not_on_or_after_s,
                                  std::int64_t now_s) {
    auto const bucket = not_on_or_after_s / 3600;
    auto const key = "saml_replay:" + std::to_string(bucket);
    auto v = w.meta().get(key);
    if (!v) return v.error();
    json::array ids;
    if (*v) {
        boost::system::error_code ec;
        auto doc = json::parse(**v, ec);
        if (!ec && doc.is_array()) ids = std::move(doc.get_array());
    }
    for (auto const& x : ids)
        if (x.is_string() && x.get_string() == assertion_key) return replay::seen;
    ids.emplace_back(assertion_key);
    if (auto r = w.meta().put(key, json::serialize(ids)); !r) return r.error();
    auto const now_bucket = now_s / 3600;
    for (auto h = now_bucket - 26; h < now_bucket - 1; ++h)
        if (auto r = w.meta().remove("saml_replay:" + std::to_string(h)); !r) return r.error();
    return replay::fresh;
}

}  // namespace

bool is_strategy(std::string_view strategy) noexcept { return strategy == "enterprise_sso" || strategy == "saml"; }

std::string sp_entity_id(app const& a, std::string_view connection_id) {
    return a.inst.frontend_api + "/v1/saml/metadata/" + std::string(connection_id) + ".xml";
}

std::string acs_url(app const& a, std::string_view connection_id) {
    return a.inst.frontend_api + "/v1/saml/acs/" + std::string(connection_id);
}

store::result<std::vector<connection>> all(app const& a, store::read_txn const& t) {
    std::vector<connection> out;
    for (auto const& c : a.cfg.saml_connections) out.push_back({c, 0, 0, true});
    auto s = stored(t);
    if (!s) return s.error();
    for (auto& k : *s) out.push_back(std::move(k));
    for (auto& k : out)
        if (auto r = load_fetched_metadata(t, k); !r) return r.error();
    return out;
}

conf::saml_connection resolved(connection const& k) {
    auto c = k.c;
    auto const& xml = !c.idp_metadata.empty() ? c.idp_metadata : k.fetched_metadata;
    if (xml.empty()) return c;
    std::string why;
    if (auto m = saml::parse_idp_metadata(xml, why)) {
        if (c.idp_entity_id.empty()) c.idp_entity_id = m->entity_id;
        if (c.idp_sso_url.empty()) c.idp_sso_url = m->sso_url;
        if (c.idp_certificate.empty()) c.idp_certificate = m->certificate;
    }
    return c;
}

std::vector<std::string> signing_certificates(connection const& k) {
    if (!k.c.idp_certificate.empty()) return {k.c.idp_certificate};
    auto const& xml = !k.c.idp_metadata.empty() ? k.c.idp_metadata : k.fetched_metadata;
    std::string why;
    if (auto m = saml::parse_idp_metadata(xml, why)) return std::move(m->certificates);
    return {};
}

api_result<void> start(app& a, request_ctx const& ctx, std::string_view strategy, std::string_view email,
                       std::string const& attempt_id, store::oauth_flow_record& flow) {
    auto const param = attempt_id.starts_with("sia_") ? "identifier" : "email_address";
    auto normalized = frontend::normalize_email(email);
    if (email.empty()) return param_error(code::form_param_missing, param);
    if (!normalized) return param_error(code::form_param_format_invalid, param);
    auto const domain = domain_of(*normalized);
    auto conns = txn::read(a, "saml_connections", [&](store::read_txn& t) { return all(a, t); });
    if (!conns) return conns.error();
    connection const* found = nullptr;
    for (auto const& k : *conns)
        if (k.c.active && owns_domain(k.c, domain)) found = found == nullptr ? &k : found;
    if (found == nullptr) return param_error(code::saml_connection_not_found, param);
    auto const c = resolved(*found);
    if (c.idp_sso_url.empty() || c.idp_entity_id.empty() || c.idp_certificate.empty())
        return param_error(code::saml_connection_not_found, param);

    auto back = federation::return_urls_of(a, ctx);
    if (!back) return back.error();
    saml::authn_request req;
    req.id = saml::new_request_id();
    req.sp_entity_id = sp_entity_id(a, c.id);
    req.acs_url = acs_url(a, c.id);
    req.idp_sso_url = c.idp_sso_url;
    req.relay_state = attempt_id;
    req.name_id_hint = *normalized;
    req.now_s = ctx.now / 1000;
    if (c.sign_authn_requests) req.sp_key_pem = sp(a).key_pem;
    std::string why;
    auto url = saml::redirect_url(req, why);
    if (!url) {
        log::warn("saml_authn_request", {{"connection", c.id}, {"reason", why}});
        return make_error(code::internal_clerk_error);
    }
    federation::open_flow(flow, strategy, req.id, *back, ctx.now);
    flow.nonce = c.id;
    flow.authorize_url = std::move(*url);
    return {};
}

namespace {

/// The flow's proven identity as an enterprise account. The flow keeps the connection id in `nonce` and the
/// connection's name in identity.username (an enterprise identity has no username of its own).
store::enterprise_account_record account_of(store::oauth_flow_record const& f, std::int64_t now) {
    store::enterprise_account_record e;
    e.id = crypto::new_id("eaa");
    e.connection_id = f.nonce;
    e.connection_name = f.identity.username;
    e.provider = f.identity.provider;
    e.provider_user_id = f.identity.provider_user_id;
    e.email_address = f.identity.email_address;
    e.first_name = f.identity.first_name;
    e.last_name = f.identity.last_name;
    e.last_authenticated_at = now;
    e.created_at = e.updated_at = now;
    return e;
}

/// Adds the account, or refreshes the one the user has for that connection.
void link(store::user_record& u, store::enterprise_account_record e) {
    for (auto& x : u.enterprise_accounts) {
        if (x.connection_id != e.connection_id) continue;
        e.id = x.id;
        e.created_at = x.created_at;
        x = std::move(e);
        return;
    }
    u.enterprise_accounts.push_back(std::move(e));
}

/// The identity a validated assertion proves under the connection's attribute mapping (the configured names first,
/// then the usual ones; the email falls back to the NameID), or the error code why it proves none.
void map_identity(conf::saml_connection const& conn, saml::assertion const& as,
                  store::external_account_record& identity, std::string& error) {
    auto pick = [&](std::string const& configured, std::initializer_list<std::string_view> usual) {
        if (!configured.empty()) return as.first({configured});
        return as.first(usual);
    };
    std::string email =
        pick(conn.attr_email_address, {"email", "mail", "emailAddress", "email_address",
                                       "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
                                       "urn:oid:0.9.2342.19200300.100.1.3"});
    if (email.empty() && as.name_id.find('@') != std::string::npos) email = as.name_id;
    if (auto n = frontend::normalize_email(email); !n) {
        error = std::string(code_name(code::saml_user_attribute_missing));
    } else if (!owns_domain(conn, domain_of(*n))) {
        error = std::string(code_name(code::saml_email_address_domain_mismatch));
    } else {
        identity.email_address = *n;
        identity.provider = conn.provider;
        identity.username = conn.name;  // the connection's name (see account_of)
        identity.provider_user_id = conn.attr_user_id.empty() ? as.name_id : as.first({conn.attr_user_id});
        if (identity.provider_user_id.empty()) identity.provider_user_id = as.name_id;
        identity.first_name =
            pick(conn.attr_first_name,
                 {"firstName", "first_name", "givenName", "given_name",
                  "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "urn:oid:2.5.4.42"})
                .substr(0, 256);
        identity.last_name = pick(conn.attr_last_name,
                                  {"lastName", "last_name", "surname", "sn", "family_name",
                                   "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "urn:oid:2.5.4.4"})
                                 .substr(0, 256);
    }
}

}  // namespace

void attach_to_user(store::sign_up_record const& su, store::user_record& u, std::int64_t now) {
    if (!is_strategy(su.oauth.strategy) || su.oauth.verification.status != "verified" ||
        su.oauth.identity.provider_user_id.empty())
        return;
    link(u, account_of(su.oauth, now));
}

json::object enterprise_account_json(store::enterprise_account_record const& e) {
    auto str_or_null = [](std::string const& s) { return s.empty() ? json::value(nullptr) : json::value(s); };
    json::object o{{"object", "enterprise_account"}, {"id", e.id}};
    o["protocol"] = e.protocol;
    o["provider"] = e.provider;
    o["active"] = e.active;
    o["email_address"] = e.email_address;
    o["first_name"] = str_or_null(e.first_name);
    o["last_name"] = str_or_null(e.last_name);
    o["provider_user_id"] = str_or_null(e.provider_user_id);
    o["enterprise_connection_id"] = e.connection_id;
    o["public_metadata"] = json::object{};
    o["verification"] = federation::verification_object("verification_saml", "verified", "enterprise_sso",
                                                        json::value(nullptr), nullptr, 0);
    o["enterprise_connection"] = json::object{{"id", e.connection_id},
                                              {"protocol", e.protocol},
                                              {"provider", e.provider},
                                              {"name", e.connection_name},
                                              {"logo_public_url", nullptr},
                                              {"domains", json::array{}},
                                              {"active", e.active},
                                              {"sync_user_attributes", false},
                                              {"allow_subdomains", false},
                                              {"allow_idp_initiated", false},
                                              {"disable_additional_identifications", false},
                                              {"created_at", e.created_at},
                                              {"updated_at", e.updated_at}};
    o["last_authenticated_at"] =
        e.last_authenticated_at == 0 ? json::value(nullptr) : json::value(e.last_authenticated_at);
    return o;
}

namespace {

/// What a posted response proved: the assertion, the identity it maps to (`error`: why it maps to none), and the
/// replay cache's key (the IdP and the assertion id).
struct validated {
    saml::assertion as;
    store::external_account_record identity;
    std::string error;
    std::string assertion_key;
};

/// Decodes and validates a posted SAMLResponse for connection `k` (`conn`: resolved) answering `in_response_to`
/// ("" = an unsolicited response); outside any txn.
api_result<validated> validate_posted(app& a, request_ctx const& ctx, connection const& k,
                                      conf::saml_connection const& conn, std::string_view b64,
                                      std::string const& in_response_to) {
    auto xml = saml::decode_post_binding(b64);
    if (!xml) return param_error(code::saml_response_invalid, "SAMLResponse");
    saml::expectations e;
    e.idp_entity_id = conn.idp_entity_id;
    e.idp_certificates = signing_certificates(k);
    e.sp_entity_id = sp_entity_id(a, conn.id);
    e.acs_url = acs_url(a, conn.id);
    e.in_response_to = in_response_to;
    e.now_s = ctx.now / 1000;
    e.sp_key_pem = sp(a).key_pem;  // decrypts an encrypted assertion (none configured: refused)
    auto v = saml::validate_response(*xml, e);
    if (!v.ok) {
        log::warn("saml_response", {{"connection", conn.id}, {"reason", v.reason}});
        return param_error(code::saml_response_invalid, "SAMLResponse");
    }
    validated out{std::move(*v.ok), {}, {}, {}};
    map_identity(conn, out.as, out.identity, out.error);
    out.assertion_key = crypto::hex_encode(crypto::sha256(conn.idp_entity_id + "\n" + out.as.id)).substr(0, 32);
    return out;
}

/// An IdP-initiated (unsolicited) response, for a connection that allows them: no request to answer, so the replay
/// cache is what keeps an assertion single-use. The person is signed in on a new client (its credential set on this
/// answer), signed up when unknown; the browser goes to RelayState when it is an allowed redirect, else home_url,
/// else the FAPI's origin.
api_result<reply> acs_unsolicited(app& a, request_ctx& ctx, std::string const& connection_id, std::string const& b64,
                                  std::string const& relay) {
    auto found = txn::read(a, "saml_acs", [&](store::read_txn& t) -> store::result<std::optional<connection>> {
        auto conns = all(a, t);
        if (!conns) return conns.error();
        for (auto& k : *conns)
            if (k.c.id == connection_id && k.c.active) return std::optional<connection>(std::move(k));
        return std::optional<connection>{};
    });
    if (!found) return found.error();
    if (!*found || !(*found)->c.allow_idp_initiated) return param_error(code::saml_response_invalid, "RelayState");
    auto const conn = resolved(**found);
    auto v = validate_posted(a, ctx, **found, conn, b64, "");  // unsolicited only
    if (!v) return v.error();
    auto const& as = v->as;
    auto const& identity = v->identity;
    auto const& error = v->error;
    auto const& assertion_key = v->assertion_key;
    if (!error.empty()) {
        for (auto c : {code::saml_user_attribute_missing, code::saml_email_address_domain_mismatch})
            if (code_name(c) == error) return make_error(c);
    }
    std::string target = relay.empty() ? std::string{} : allowed_redirect(a, relay).value_or("");
    if (target.empty()) target = !a.cfg.home_url.empty() ? a.cfg.home_url : a.inst.frontend_api + "/";
    store::oauth_flow_record flow;
    flow.strategy = "enterprise_sso";
    flow.nonce = conn.id;
    flow.identity = identity;
    flow.email_verified = true;
    flow.redirect_url = target;
    flow.verification.status = "verified";
    flow.verification.strategy = flow.strategy;
    flow.verification.verified_at = ctx.now;
    auto w = txn::write<void>(
        a, "saml_acs_unsolicited", txn::on_client_error::abort,
        [&](store::write_txn& tx) -> store::result<api_result<void>> {
            auto replayed = seen_before(tx, assertion_key, as.not_on_or_after, ctx.now / 1000);
            if (!replayed) return replayed.error();
            if (*replayed == replay::seen) {
                log::warn("saml_response", {{"connection", conn.id}, {"reason", "assertion replayed"}});
                return api_result<void>(param_error(code::saml_response_invalid, "SAMLResponse"));
            }
            auto uid = tx.users().id_by_email(identity.email_address);
            if (!uid) return uid.error();
            std::optional<store::user_record> user;
            if (*uid) {
                auto u = tx.users().get(**uid);
                if (!u) return u.error();
                if (*u) user = std::move(**u);
            }
            auto client = frontend::ensure_client(a, ctx, tx);
            if (!client) return api_result<void>(client.error());
            if (user) {
                if (user->banned || user->locked)
                    return api_result<void>(make_error(user->banned ? code::user_banned : code::user_locked));
                store::sign_in_record si;
                si.id = crypto::new_id("sia");
                si.client_id = client->id;
                si.identifier = identity.email_address;
                si.user_id = user->id;
                si.oauth = flow;
                si.first_factor = flow.verification;
                si.created_at = si.updated_at = ctx.now;
                si.abandon_at = ctx.now + flow_lifetime_ms;
                link(*user, account_of(flow, ctx.now));
                client->sign_in_id = si.id;
                if (user->two_factor_enabled && !domain::supported_second_factors(a, *user).empty()) {
                    si.status = "needs_second_factor";
                    auto prev = tx.users().get(user->id);
                    if (!prev) return prev.error();
                    if (auto r = tx.users().put(*user, prev->has_value() ? &**prev : nullptr); !r) return r.error();
                    if (auto r = tx.clients().put(*client); !r) return r.error();
                } else {
                    auto sess = frontend::start_session(a, ctx, tx, *client, *user);
                    if (!sess) return api_result<void>(sess.error());
                    si.status = "complete";
                    si.created_session_id = sess->id;
                }
                if (auto r = tx.sign_ins().put(si); !r) return r.error();
                return api_result<void>();
            }
            store::sign_up_record su;
            su.id = crypto::new_id("sua");
            su.client_id = client->id;
            su.status = "missing_requirements";
            su.created_at = su.updated_at = ctx.now;
            su.abandon_at = ctx.now + flow_lifetime_ms;
            su.email_address = identity.email_address;
            su.email_verification.status = "verified";
            su.email_verification.strategy = flow.strategy;
            su.email_verification.verified_at = ctx.now;
            su.first_name = identity.first_name;
            su.last_name = identity.last_name;
            su.oauth = flow;
            client->sign_up_id = su.id;
            auto done = frontend::complete_sign_up(a, ctx, tx, su, *client);
            if (!done) return api_result<void>(done.error());
            if (su.status != "complete")
                if (auto r = tx.clients().put(*client); !r) return r.error();
            if (auto r = tx.sign_ups().put(su); !r) return r.error();
            return api_result<void>();
        });
    if (!w) return w.error();
    return federation::redirect_see_other(target);
}

}  // namespace

// ---- the assertion consumer service ----

api_result<reply> acs(app& a, request_ctx& ctx) {
    std::string const connection_id(ctx.params.get("connection_id"));
    auto const* b64 = ctx.form.find("SAMLResponse");
    auto const* relay = ctx.form.find("RelayState");
    if (b64 == nullptr || b64->empty()) return param_error(code::form_param_missing, "SAMLResponse");
    std::string const attempt_id = relay != nullptr && relay->size() <= 64 ? *relay : std::string{};
    bool const is_sign_in = attempt_id.starts_with("sia_");
    if (!is_sign_in && !attempt_id.starts_with("sua_"))  // no attempt named: an IdP-initiated response
        return acs_unsolicited(a, ctx, connection_id, *b64, relay != nullptr ? *relay : std::string{});

    // 1. The connection and the pending flow (read only; nothing is held across the validation).
    struct pending {
        connection conn;
        store::oauth_flow_record flow;
    };
    auto p = txn::read(a, "saml_acs", [&](store::read_txn& t) -> store::result<std::optional<pending>> {
        auto conns = all(a, t);
        if (!conns) return conns.error();
        std::optional<pending> out;
        for (auto& k : *conns)
            if (k.c.id == connection_id && k.c.active) out = pending{std::move(k), {}};
        if (!out) return out;
        std::optional<store::oauth_flow_record> f;
        std::string status;
        std::int64_t expire_at = 0;
        if (is_sign_in) {
            auto s = t.sign_ins().get(attempt_id);
            if (!s) return s.error();
            if (*s) f = (*s)->oauth, status = (*s)->first_factor.status, expire_at = (*s)->first_factor.expire_at;
        } else {
            auto s = t.sign_ups().get(attempt_id);
            if (!s) return s.error();
            if (*s) f = (*s)->oauth, status = f->verification.status, expire_at = f->verification.expire_at;
        }
        if (!f || !is_strategy(f->strategy) || f->state.empty() || status != "unverified" || expire_at < ctx.now ||
            f->nonce != connection_id)
            return std::optional<pending>{};
        out->flow = std::move(*f);
        return out;
    });
    if (!p) return p.error();
    if (!*p) return param_error(code::saml_response_invalid, "RelayState");
    auto const conn = resolved((*p)->conn);
    auto const& flow = (*p)->flow;

    // 2. The validation, outside any txn (this route runs on the pool).
    auto v = validate_posted(a, ctx, (*p)->conn, conn, *b64, flow.state);
    if (!v) return v.error();
    auto const& as = v->as;
    auto const& identity = v->identity;
    auto const& error = v->error;
    auto const& assertion_key = v->assertion_key;

    // 3. The outcome, in one write: the request id is spent whatever happens.
    federation::round_trip_outcome rt;
    rt.error = error;
    rt.prove = [&](store::oauth_flow_record& f) {
        f.identity = identity;
        f.email_verified = true;  // the connection owns the domain: its IdP vouches for the address
    };
    rt.owner = [&](store::write_txn& tx, store::oauth_flow_record const&, bool) {
        return tx.users().id_by_email(identity.email_address);
    };
    rt.link = [&](store::user_record& u, store::oauth_flow_record const& f) { link(u, account_of(f, ctx.now)); };
    rt.fill_sign_up = [&](store::sign_up_record& su) {
        if (su.email_address.empty()) su.email_address = identity.email_address;
        if (su.email_address == identity.email_address) {
            su.email_verification = {};
            su.email_verification.status = "verified";
            su.email_verification.strategy = su.oauth.strategy;
            su.email_verification.verified_at = ctx.now;
        }
        if (su.first_name.empty()) su.first_name = identity.first_name;
        if (su.last_name.empty()) su.last_name = identity.last_name;
    };
    auto w = txn::write<void>(
        a, "saml_acs", txn::on_client_error::abort, [&](store::write_txn& tx) -> store::result<api_result<void>> {
            auto replayed = seen_before(tx, assertion_key, as.not_on_or_after, ctx.now / 1000);
            if (!replayed) return replayed.error();
            if (*replayed == replay::seen) {
                log::warn("saml_response", {{"connection", conn.id}, {"reason", "assertion replayed"}});
                return api_result<void>(param_error(code::saml_response_invalid, "SAMLResponse"));
            }
            return federation::settle(a, ctx, tx, attempt_id, flow.state, code::saml_response_invalid, "RelayState",
                                      rt);
        });
    if (!w) return w.error();
    return federation::redirect_see_other(flow.redirect_url);
}

api_result<reply> sp_metadata(app& a, request_ctx& ctx) {
    std::string id(ctx.params.get("connection_id"));
    if (id.ends_with(".xml")) id.resize(id.size() - 4);
    auto conns = txn::read(a, "saml_connections", [&](store::read_txn& t) { return all(a, t); });
    if (!conns) return conns.error();
    for (auto const& k : *conns) {
        if (k.c.id != id) continue;
        reply r;
        r.content_type = "application/samlmetadata+xml";
        // The SP's key pair, when configured, is also its encryption key: the IdP may encrypt assertions to it.
        auto const& keys = sp(a);
        r.body = saml::sp_metadata_xml(sp_entity_id(a, id), acs_url(a, id),
                                       k.c.sign_authn_requests ? keys.cert_pem : std::string{}, true,
                                       keys.key_pem.empty() ? std::string{} : keys.cert_pem);
        return r;
    }
    return make_error(code::resource_not_found);
}

// ---- BAPI /v1/saml_connections ----

namespace {

json::object connection_json(app const& a, connection const& k) {
    auto const c = resolved(k);
    auto str_or_null = [](std::string const& s) { return s.empty() ? json::value(nullptr) : json::value(s); };
    json::array domains;
    for (auto const& d : c.domains) domains.emplace_back(d);
    json::object o;
    o["object"] = "saml_connection";
    o["id"] = c.id;
    o["name"] = c.name;
    o["domain"] = c.domains.empty() ? std::string{} : c.domains.front();
    o["domains"] = std::move(domains);
    o["idp_entity_id"] = str_or_null(c.idp_entity_id);
    o["idp_sso_url"] = str_or_null(c.idp_sso_url);
    o["idp_certificate"] = str_or_null(c.idp_certificate);
    auto validity = saml::certificate_validity(c.idp_certificate);
    o["idp_certificate_issued_at"] = validity ? json::value(validity->first) : json::value(nullptr);
    o["idp_certificate_expires_at"] = validity ? json::value(validity->second) : json::value(nullptr);
    o["idp_metadata_url"] = str_or_null(k.c.idp_metadata_url);
    o["idp_metadata"] = str_or_null(k.c.idp_metadata);
    o["acs_url"] = acs_url(a, c.id);
    o["sp_entity_id"] = sp_entity_id(a, c.id);
    o["sp_metadata_url"] = sp_entity_id(a, c.id);
    o["organization_id"] = nullptr;
    o["attribute_mapping"] = json::object{{"user_id", c.attr_user_id},
                                          {"email_address", c.attr_email_address},
                                          {"first_name", c.attr_first_name},
                                          {"last_name", c.attr_last_name}};
    o["active"] = c.active;
    o["provider"] = c.provider;
    o["user_count"] = 0;
    o["sync_user_attributes"] = false;
    o["allow_subdomains"] = false;
    o["allow_idp_initiated"] = c.allow_idp_initiated;
    o["disable_additional_identifications"] = false;
    o["allow_organization_account_linking"] = false;
    o["authenticatable"] = c.active;
    o["force_authn"] = false;
    o["login_hint"] = json::object{{"mode", "email_address"}};
    o["disable_jit_provisioning"] = false;
    o["enterprise_connection_id"] = nullptr;
    o["created_at"] = k.created_at;
    o["updated_at"] = k.updated_at;
    return o;
}

/// Reads the body onto `k` (create: name and a domain required).
std::optional<api_error> apply(request_ctx const& ctx, connection& k, bool create) {
    auto& c = k.c;
    auto name = backend::body_string(ctx, "name", 256);
    if (!name) return name.error();
    if (*name) {
        if ((*name)->empty()) return param_error(code::form_param_value_invalid, "name");
        c.name = **name;
    } else if (create) {
        return param_error(code::form_param_missing, "name");
    }
    auto provider = backend::body_string(ctx, "provider", 64);
    if (!provider) return provider.error();
    if (*provider) {
        auto const& pv = **provider;
        if (pv != "saml_custom" && pv != "saml_okta" && pv != "saml_google" && pv != "saml_microsoft")
            return param_error(code::form_param_value_invalid, "provider");
        c.provider = pv;
    }
    auto domains = backend::body_strings(ctx, "domains");
    if (!domains) return domains.error();
    auto domain = backend::body_string(ctx, "domain", 253);
    if (!domain) return domain.error();
    std::optional<std::vector<std::string>> ds = *domains;
    if (!ds && *domain) ds = std::vector<std::string>{**domain};
    if (ds) {
        if (ds->empty() || ds->size() > 50) return param_error(code::form_param_value_invalid, "domains");
        for (auto& d : *ds) {
            d = lower(d);
            if (d.empty() || d.size() > 253 || d.find('.') == std::string::npos ||
                d.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos)
                return param_error(code::form_param_format_invalid, "domains");
        }
        c.domains = std::move(*ds);
    } else if (create) {
        return param_error(code::form_param_missing, "domains");
    }
    for (auto [key, dst, max] : {std::tuple{"idp_entity_id", &c.idp_entity_id, std::size_t{1024}},
                                 std::tuple{"idp_sso_url", &c.idp_sso_url, std::size_t{2048}},
                                 std::tuple{"idp_certificate", &c.idp_certificate, std::size_t{16384}},
                                 std::tuple{"idp_metadata", &c.idp_metadata, std::size_t{65536}},
                                 std::tuple{"idp_metadata_url", &c.idp_metadata_url, std::size_t{2048}}}) {
        auto const* v = ctx.body.is_object() ? ctx.body.get_object().if_contains(key) : nullptr;
        if (v != nullptr && v->is_null()) {
            dst->clear();
            continue;
        }
        auto s = backend::body_string(ctx, key, max);
        if (!s) return s.error();
        if (*s) *dst = **s;
    }
    if (!c.idp_metadata_url.empty() && !c.idp_metadata_url.starts_with("https://"))
        return param_error(code::form_param_format_invalid, "idp_metadata_url");
    if (!c.idp_sso_url.empty() && !c.idp_sso_url.starts_with("https://") && !c.idp_sso_url.starts_with("http://"))
        return param_error(code::form_param_format_invalid, "idp_sso_url");
    if (!c.idp_certificate.empty() && !saml::certificate_validity(c.idp_certificate))
        return param_error(code::form_param_value_invalid, "idp_certificate");
    if (!c.idp_metadata.empty()) {
        std::string why;
        if (!saml::parse_idp_metadata(c.idp_metadata, why))
            return param_error(code::form_param_value_invalid, "idp_metadata", why);
    }
    if (auto const* m = ctx.body.is_object() ? ctx.body.get_object().if_contains("attribute_mapping") : nullptr;
        m != nullptr && !m->is_null()) {
        if (!m->is_object()) return param_error(code::form_param_type_invalid, "attribute_mapping");
        auto const& mo = m->get_object();
        for (auto [key, dst] :
             {std::pair{"user_id", &c.attr_user_id}, std::pair{"email_address", &c.attr_email_address},
              std::pair{"first_name", &c.attr_first_name}, std::pair{"last_name", &c.attr_last_name}}) {
            if (auto const* v = mo.if_contains(key)) {
                if (!v->is_string() || v->get_string().size() > 256)
                    return param_error(code::form_param_value_invalid, "attribute_mapping");
                *dst = std::string(v->get_string());
            }
        }
    }
    for (auto [key, dst] : {std::pair{"active", &c.active}, std::pair{"allow_idp_initiated", &c.allow_idp_initiated}}) {
        auto b = backend::body_bool(ctx, key);
        if (!b) return b.error();
        if (*b) *dst = **b;
    }
    return std::nullopt;
}

/// The metadata at `url` fetched for a BAPI create/update (outside any txn), or the Clerk-shaped error naming
/// idp_metadata_url.
api_result<std::string> fetch_for_bapi(app& a, std::string const& url) {
    std::string why;
    auto xml = fetch_metadata(a, url, why);
    if (!xml) {
        log::warn("saml_metadata_fetch", {{"url", url}, {"error", why}});
        return param_error(code::form_param_value_invalid, "idp_metadata_url",
                           "The IdP metadata could not be read from this URL: " + why);
    }
    return std::move(*xml);
}

/// The idp_metadata_url an update will leave on connection `id`: the body's, else the stored one.
api_result<std::string> url_after_update(app& a, request_ctx const& ctx, std::string const& id) {
    auto s = backend::body_string(ctx, "idp_metadata_url", 2048);
    if (!s) return s.error();
    if (*s) return std::string(**s);
    if (auto const* v = ctx.body.is_object() ? ctx.body.get_object().if_contains("idp_metadata_url") : nullptr;
        v != nullptr && v->is_null())
        return std::string{};
    return txn::read(a, "saml_connections", [&](store::read_txn& t) -> store::result<std::string> {
        auto conns = stored(t);
        if (!conns) return conns.error();
        for (auto const& k : *conns)
            if (k.c.id == id) return k.c.idp_metadata_url;
        return std::string{};
    });
}

/// A domain held by another connection.
bool domain_taken(std::vector<connection> const& all_conns, connection const& k) {
    for (auto const& o : all_conns) {
        if (o.c.id == k.c.id) continue;
        for (auto const& d : k.c.domains)
            if (owns_domain(o.c, d)) return true;
    }
    return false;
}

}  // namespace

api_result<reply> list_connections(app& a, request_ctx& ctx) {
    auto p = backend::paging(ctx);
    if (!p) return p.error();
    auto conns = txn::read(a, "saml_connections", [&](store::read_txn& t) { return all(a, t); });
    if (!conns) return conns.error();
    std::string q;
    if (auto const* v = ctx.query.find("query")) q = lower(*v);
    std::vector<connection const*> hits;
    for (auto const& k : *conns)
        if (q.empty() || lower(k.c.name).find(q) != std::string::npos ||
            std::any_of(k.c.domains.begin(), k.c.domains.end(),
                        [&](auto const& d) { return d.find(q) != std::string::npos; }))
            hits.push_back(&k);
    // Newest first (config connections, created with the process, last).
    std::stable_sort(hits.begin(), hits.end(), [](auto* x, auto* y) { return x->created_at > y->created_at; });
    json::array data;
    auto const [limit, offset] = *p;
    for (std::size_t i = offset; i < hits.size() && data.size() < limit; ++i)
        data.emplace_back(connection_json(a, *hits[i]));
    return backend::json_reply(json::object{{"data", std::move(data)}, {"total_count", hits.size()}});
}

api_result<reply> create_connection(app& a, request_ctx& ctx) {
    connection k;
    k.c.id = crypto::new_id("samlc");
    k.created_at = k.updated_at = ctx.now;
    if (auto bad = apply(ctx, k, true)) return *bad;
    if (!k.c.idp_metadata_url.empty()) {
        auto xml = fetch_for_bapi(a, k.c.idp_metadata_url);
        if (!xml) return xml.error();
        k.fetched_metadata = std::move(*xml);
        k.metadata_fetched_at = ctx.now;
    }
    auto w = txn::write<void>(
        a, "create_saml_connection", txn::on_client_error::abort,
        [&](store::write_txn& tx) -> store::result<api_result<void>> {
            auto conns = all(a, tx);
            if (!conns) return conns.error();
            if (conns->size() >= max_connections) return api_result<void>(make_error(code::form_param_value_invalid));
            if (domain_taken(*conns, k)) return api_result<void>(param_error(code::form_identifier_exists, "domains"));
            conns->push_back(k);
            if (auto r = save(tx, *conns); !r) return r.error();
            if (!k.fetched_metadata.empty())
                if (auto r = save_fetched_metadata(tx, k.c.id, k.c.idp_metadata_url, k.fetched_metadata, ctx.now); !r)
                    return r.error();
            return api_result<void>();
        });
    if (!w) return w.error();
    return backend::json_reply(connection_json(a, k));
}

api_result<reply> get_connection(app& a, request_ctx& ctx) {
    std::string const id(ctx.params.get("saml_connection_id"));
    auto conns = txn::read(a, "saml_connections", [&](store::read_txn& t) { return all(a, t); });
    if (!conns) return conns.error();
    for (auto const& k : *conns)
        if (k.c.id == id) return backend::json_reply(connection_json(a, k));
    return backend::not_found();
}

namespace {

/// Changes the stored (BAPI-made) connection `id` in one write txn: `change(tx, conns, it)` gets every connection and
/// the one to change, then the list is saved. 404 when there is none; 422 on `saml_connection_id` for one from the
/// configuration file (read-only).
template <class Change>
api_result<void> edit_stored(app& a, std::string const& id, char const* what, Change change) {
    return txn::write<void>(
        a, what, txn::on_client_error::abort, [&](store::write_txn& tx) -> store::result<api_result<void>> {
            auto conns = all(a, tx);
            if (!conns) return conns.error();
            auto it = std::find_if(conns->begin(), conns->end(), [&](auto const& k) { return k.c.id == id; });
            if (it == conns->end()) return api_result<void>(backend::not_found());
            if (it->from_config)
                return api_result<void>(param_error(code::form_param_value_invalid, "saml_connection_id",
                                                    "This connection comes from the configuration file."));
            auto changed = change(tx, *conns, it);
            if (!changed || !*changed) return changed;
            if (auto r = save(tx, *conns); !r) return r.error();
            return api_result<void>();
        });
}

}  // namespace

api_result<reply> update_connection(app& a, request_ctx& ctx) {
    std::string const id(ctx.params.get("saml_connection_id"));
    // An update refetches the metadata of a connection configured by URL (the body's URL, else the stored one),
    // before its txn.
    auto url = url_after_update(a, ctx, id);
    if (!url) return url.error();
    std::optional<std::string> fetched;
    if (!url->empty() && url->starts_with("https://")) {
        auto xml = fetch_for_bapi(a, *url);
        if (!xml) return xml.error();
        fetched = std::move(*xml);
    }
    connection out;
    auto w = edit_stored(a, id, "update_saml_connection",
                         [&](store::write_txn& tx, std::vector<connection>& conns,
                             std::vector<connection>::iterator it) -> store::result<api_result<void>> {
                             if (auto bad = apply(ctx, *it, false)) return api_result<void>(*bad);
                             it->updated_at = ctx.now;
                             if (domain_taken(conns, *it))
                                 return api_result<void>(param_error(code::form_identifier_exists, "domains"));
                             if (fetched && it->c.idp_metadata_url == *url) {
                                 if (auto r = save_fetched_metadata(tx, id, *url, *fetched, ctx.now); !r)
                                     return r.error();
                                 it->fetched_metadata = *fetched;
                                 it->metadata_fetched_at = ctx.now;
                             }
                             out = *it;
                             return api_result<void>();
                         });
    if (!w) return w.error();
    return backend::json_reply(connection_json(a, out));
}

api_result<reply> delete_connection(app& a, request_ctx& ctx) {
    std::string const id(ctx.params.get("saml_connection_id"));
    auto w = edit_stored(a, id, "delete_saml_connection",
                         [&](store::write_txn& tx, std::vector<connection>& conns,
                             std::vector<connection>::iterator it) -> store::result<api_result<void>> {
                             conns.erase(it);
                             if (auto r = tx.meta().remove("saml_metadata:" + id); !r) return r.error();
                             return api_result<void>();
                         });
    if (!w) return w.error();
    return backend::deleted_reply("saml_connection", id);
}

}  // namespace latchkey::server::api::saml_sso
