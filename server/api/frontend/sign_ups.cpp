// Sign-ups: create, read, update, and email/phone code verification. Completion (every required field
// present, every verify-at-sign-up identifier verified) creates the user and an active session in the same
// write, so the piggy-backed client carries created_session_id's session.
//
// Passwords are hashed before the LMDB write txn opens (LMDB has one writer at a time).
#include "server/api/email_links/email_links.hpp"
#include "server/api/frontend/handlers.hpp"

#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "server/api/domain/identifications.hpp"
#include "server/api/domain/tickets.hpp"
#include "server/api/domain/waitlist.hpp"
#include "server/api/events.hpp"
#include "server/api/federation/federation.hpp"
#include "server/api/federation/id_tokens.hpp"
#include "server/api/frontend/attempts.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/organizations/orgs.hpp"
#include "server/api/saml/saml.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

namespace {

/// How long an unfinished sign-up stays usable.
constexpr std::int64_t attempt_lifetime_ms = 24LL * 3600 * 1000;
constexpr std::size_t max_name_bytes = 256;
constexpr std::size_t max_metadata_bytes = 8192;

struct attr_ref {
    char const* name;
    conf::attribute const& cfg;
};

std::vector<attr_ref> attributes(app const& a) {
    return {{"email_address", a.cfg.email_address}, {"phone_number", a.cfg.phone_number}, {"username", a.cfg.username},
            {"first_name", a.cfg.first_name},       {"last_name", a.cfg.last_name},       {"password", a.cfg.password}};
}

bool has_value(store::sign_up_record const& s, std::string_view attr) {
    if (attr == "email_address") return !s.email_address.empty();
    if (attr == "phone_number") return !s.phone_number.empty();
    if (attr == "username") return !s.username.empty();
    if (attr == "first_name") return !s.first_name.empty();
    if (attr == "last_name") return !s.last_name.empty();
    if (attr == "password")  // an account from a provider (issue 15) needs no password
        return !s.password_digest.empty() || s.oauth.verification.status == "verified";
    return false;
}

std::vector<std::string> missing_fields(app const& a, store::sign_up_record const& s) {
    std::vector<std::string> out;
    for (auto const& at : attributes(a))
        if (at.cfg.enabled && at.cfg.required && !has_value(s, at.name)) out.emplace_back(at.name);
    // Legal consent (display_config terms/privacy): <SignUp/> sends legal_accepted=true from its checkbox.
    if (a.cfg.legal_consent.enabled && !s.legal_accepted) out.emplace_back("legal_accepted");
    return out;
}

std::vector<std::string> unverified_fields(app const& a, store::sign_up_record const& s) {
    std::vector<std::string> out;
    if (!s.email_address.empty() && a.cfg.email_address.verify_at_sign_up && s.email_verification.status != "verified")
        out.emplace_back("email_address");
    if (!s.phone_number.empty() && a.cfg.phone_number.verify_at_sign_up && s.phone_verification.status != "verified")
        out.emplace_back("phone_number");
    return out;
}

/// Stubs.Verification.OTP plus next_action / supported_strategies; null when the field is not given.
json::value sign_up_verification(store::verification_record const& v, std::string_view strategy, bool present) {
    if (!present) return nullptr;
    json::object o;
    o["status"] = v.status.empty() ? std::string("unverified") : v.status;
    o["strategy"] = v.strategy.empty() ? std::string(strategy) : v.strategy;
    o["next_action"] = v.status == "verified" ? "" : v.status == "unverified" ? "needs_attempt" : "needs_prepare";
    o["supported_strategies"] = json::array{json::value(strategy)};
    o["attempts"] = v.status.empty() ? json::value(nullptr) : json::value(v.attempts);
    o["expire_at"] = v.expire_at == 0 ? json::value(nullptr) : json::value(v.expire_at);
    return o;
}

json::array strings(std::vector<std::string> const& v) {
    json::array a;
    for (auto const& s : v) a.push_back(json::value(s));
    return a;
}

std::optional<api_error> limit_ip(app& a, request_ctx const& ctx, std::string_view action) {
    return rate_limit_ip(a, ctx, "sign_up", action);
}

std::optional<api_error> limit_identifier(app& a, request_ctx const& ctx, std::string_view who) {
    if (who.empty()) return std::nullopt;
    std::string key = "sign_up:id:";
    key += who;
    return rate_limit(a, ctx, key, a.cfg.protection.rate_per_identifier_per_minute);
}

/// The sign-up fields a create/update request carries, validated (and the password hashed). Empty values
/// are "not given": clerk-js sends null as an empty value.
struct field_patch {
    std::optional<std::string> email_address;
    std::optional<std::string> phone_number;
    std::optional<std::string> username;
    std::optional<std::string> first_name;
    std::optional<std::string> last_name;
    std::optional<std::string> unsafe_metadata;
    std::optional<std::string> password_digest;
    std::optional<bool> legal_accepted;
};

std::optional<std::string> given(request_ctx const& ctx, std::string_view name) {
    auto v = field(ctx, name);
    if (!v || v->empty()) return std::nullopt;
    return v;
}

api_result<field_patch> read_fields(app const& a, request_ctx const& ctx) {
    field_patch p;
    auto email = given(ctx, "email_address");
    auto phone = given(ctx, "phone_number");
    // email_address_or_phone_number: one field for either identifier.
    if (auto either = given(ctx, "email_address_or_phone_number")) {
        if (either->find('@') != std::string::npos) {
            if (!email) email = either;
        } else if (!phone) {
            phone = either;
        }
    }
    // The identifiers given, normalised; refused when the instance does not use that kind.
    auto identifier = [&](domain::ident_kind const& k, std::optional<std::string> const& raw,
                          std::optional<std::string>& to, char const* invalid) -> std::optional<api_error> {
        if (!raw) return std::nullopt;
        bool const used = domain::is_email(k) ? a.cfg.email_address.enabled : a.cfg.phone_number.enabled;
        if (!used) return param_error(code::form_param_unknown, k.kind);
        to = domain::normalize_identification(k, *raw);
        if (!to) return param_error(code::form_param_format_invalid, k.kind, invalid);
        return std::nullopt;
    };
    if (auto bad =
            identifier(domain::email_kind, email, p.email_address, "email_address must be a valid email address."))
        return *bad;
    if (auto bad = identifier(domain::phone_kind, phone, p.phone_number,
                              "phone_number must be a valid phone number in E.164 format."))
        return *bad;
    if (auto v = given(ctx, "username")) {
        if (!a.cfg.username.enabled) return param_error(code::form_param_unknown, "username");
        if (v->size() < 4 || v->size() > 64) return param_error(code::form_username_invalid_length, "username");
        for (char c : *v)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
                return param_error(code::form_username_invalid_character, "username");
        p.username = std::move(*v);
    }
    for (auto [name, cfg, target] : {std::tuple{"first_name", &a.cfg.first_name, &p.first_name},
                                     std::tuple{"last_name", &a.cfg.last_name, &p.last_name}}) {
        if (auto v = given(ctx, name)) {
            if (!cfg->enabled) return param_error(code::form_param_unknown, name);
            if (v->size() > max_name_bytes)
                return param_error(code::form_param_max_length_exceeded, name,
                                   std::string(name) + " must be at most 256 characters.");
            *target = std::move(*v);
        }
    }
    if (auto v = given(ctx, "unsafe_metadata")) {
        if (v->size() > max_metadata_bytes)
            return param_error(code::form_param_max_length_exceeded, "unsafe_metadata",
                               "unsafe_metadata must be at most 8 KiB of JSON.");
        boost::system::error_code ec;
        auto doc = json::parse(*v, ec);
        if (ec || !doc.is_object())
            return param_error(code::form_param_format_invalid, "unsafe_metadata",
                               "unsafe_metadata must be a JSON object.");
        p.unsafe_metadata = json::serialize(doc);
    }
    if (auto v = given(ctx, "legal_accepted")) {
        if (*v != "true" && *v != "false")
            return param_error(code::form_param_format_invalid, "legal_accepted",
                               "legal_accepted must be true or false.");
        p.legal_accepted = *v == "true";
    }
    if (auto v = given(ctx, "password")) {
        if (!a.cfg.password.enabled) return param_error(code::form_param_unknown, "password");
        if (auto bad = check_password_policy(a, *v)) return *bad;
        auto h = crypto::hash_password(*v);
        if (!h) return make_error(code::internal_clerk_error);
        p.password_digest = std::move(*h);
    }
    return p;
}

/// Applies validated fields; a changed email/phone starts its verification over.
void apply(field_patch const& p, store::sign_up_record& s) {
    if (p.email_address && *p.email_address != s.email_address) {
        s.email_address = *p.email_address;
        s.email_verification = {};
    }
    if (p.phone_number && *p.phone_number != s.phone_number) {
        s.phone_number = *p.phone_number;
        s.phone_verification = {};
    }
    if (p.username) s.username = *p.username;
    if (p.first_name) s.first_name = *p.first_name;
    if (p.last_name) s.last_name = *p.last_name;
    if (p.unsafe_metadata) s.unsafe_metadata = *p.unsafe_metadata;
    if (p.password_digest) s.password_digest = *p.password_digest;
    if (p.legal_accepted) s.legal_accepted = *p.legal_accepted;
}

/// The identifiers the sign-up wants must not belong to a user already (form_identifier_exists).
api_result<void> check_taken(store::read_txn const& t, store::sign_up_record const& s) {
    struct probe {
        std::string const& value;
        char const* param;
        char const* what;
        store::result<std::optional<std::string>> (store::users_view::*find)(std::string_view) const noexcept;
    };

    for (auto const& p : {probe{s.email_address, "email_address", "email address", &store::users_view::id_by_email},
                          probe{s.phone_number, "phone_number", "phone number", &store::users_view::id_by_phone},
                          probe{s.username, "username", "username", &store::users_view::id_by_username}}) {
        if (p.value.empty()) continue;
        auto r = (t.users().*p.find)(p.value);
        if (!r) return store_failure(r.error(), "unique_lookup");
        if (*r)
            return param_error(code::form_identifier_exists, p.param,
                               std::string("That ") + p.what + " is taken. Please try another.");
    }
    return {};
}

store::identification_record identification(request_ctx const& ctx, char const* kind, std::string const& value,
                                            store::verification_record const& v) {
    store::identification_record i;
    i.id = crypto::new_id("idn");
    i.kind = kind;
    i.value = value;
    i.verification = v;
    i.verification.code_digest.clear();
    if (i.verification.status != "verified") {
        i.verification = {};
        i.verification.status = "unverified";
    }
    i.created_at = i.updated_at = ctx.now;
    return i;
}

/// When nothing is missing or unverified: creates the user (the given email / phone as primary) and an
/// active session on the client, in the same txn.
api_result<void> maybe_complete(app& a, request_ctx& ctx, store::write_txn& w, store::sign_up_record& s,
                                store::client_record& client) {
    if (!missing_fields(a, s).empty() || !unverified_fields(a, s).empty()) {
        s.status = "missing_requirements";
        return {};
    }
    if (auto taken = check_taken(w, s); !taken) return taken;
    // Waitlist mode admits invited addresses only; an invited entry is completed with the user's creation.
    if (auto admitted = domain::admit_sign_up(a, w, s.email_address, ctx.now); !admitted) return admitted;
    store::user_record u;
    u.id = crypto::new_id("user");
    u.username = s.username;
    u.first_name = s.first_name;
    u.last_name = s.last_name;
    u.password_digest = s.password_digest;
    u.password_last_updated_at = s.password_digest.empty() ? 0 : ctx.now;
    u.unsafe_metadata = s.unsafe_metadata;
    u.external_id = s.external_id;
    u.legal_accepted_at = s.legal_accepted ? ctx.now : 0;
    u.created_at = u.updated_at = ctx.now;
    if (!s.email_address.empty()) {
        u.identifications.push_back(identification(ctx, "email_address", s.email_address, s.email_verification));
        u.primary_email_address_id = u.identifications.back().id;
    }
    if (!s.phone_number.empty()) {
        u.identifications.push_back(identification(ctx, "phone_number", s.phone_number, s.phone_verification));
        u.primary_phone_number_id = u.identifications.back().id;
    }
    if (saml_sso::is_strategy(s.oauth.strategy))  // issue 15: the enterprise (SAML) identity the sign-up proved
        saml_sso::attach_to_user(s, u, ctx.now);
    else
        federation::attach_to_user(s, u, ctx.now);  // issue 15: the provider identity the sign-up proved
    if (!s.ticket_id.empty())  // issue 14: an application invitation is spent, its public metadata becomes u's
        if (auto accepted = domain::accept_invitation(w, s.ticket_id, u, ctx.now); !accepted) return accepted;
    store::unique_field conflict = store::unique_field::none;
    if (auto r = w.users().put(u, nullptr, &conflict); !r) {
        if (r.error() == store::make_error_code(store::errc::key_exists))
            return param_error(code::form_identifier_exists, conflict == store::unique_field::none
                                                                 ? std::string_view("email_address")
                                                                 : store::param_name(conflict));
        return store_failure(r.error(), "put_user");
    }
    if (auto e = events::user_changed(a, w, "user.created", u, &ctx); !e) return store_failure(e.error(), "webhook");
    auto sess = start_session(a, ctx, w, client, u);
    if (!sess) return sess.error();
    if (!s.org_invitation_id.empty())  // issue 13: an organization invitation's ticket joins its organization
        if (auto joined = orgs::join_by_invitation(a, w, s.org_invitation_id, u.id, ctx.now); !joined) return joined;
    s.status = "complete";
    s.created_user_id = u.id;
    s.created_session_id = sess->id;
    return {};
}

/// The request's sign-up (404 unless it belongs to this browser's client).
api_result<store::sign_up_record> load_sign_up(app& a, request_ctx const& ctx, store::read_txn const& t) {
    auto owned = load_owned_attempt(
        a, ctx, t, "sign_up_id", [&](store::read_txn const& tx, std::string_view id) { return tx.sign_ups().get(id); },
        "get_sign_up");
    if (!owned) return owned.error();
    return std::move(owned->second);
}

/// The sign-up can still take steps.
std::optional<api_error> open(request_ctx const& ctx, store::sign_up_record const& s) {
    if (s.status != "missing_requirements") return make_error(code::sign_up_not_ready);
    if (s.abandon_at != 0 && ctx.now > s.abandon_at) return make_error(code::sign_up_not_ready);
    return std::nullopt;
}

/// Runs `step` on the stored sign-up in one write txn and re-evaluates completion. The sign-up is persisted
/// when the step succeeds, and also when it fails with `keep_on_error` (code attempt counters); a server
/// error aborts the txn. Replies through the envelope staged in that txn (no read after it).
template <class Step>
api_result<reply> mutate(app& a, request_ctx& ctx, bool keep_on_error, Step step) {
    using out = api_result<staged_reply>;
    auto w = txn::write<staged_reply>(a, "sign_up", txn::on_client_error::commit,
                                      [&](store::write_txn& tx) -> store::result<out> {
                                          auto s = load_sign_up(a, ctx, tx);
                                          if (!s) return out(s.error());
                                          if (auto closed = open(ctx, *s)) return out(*closed);
                                          auto c = current_client(ctx, tx);
                                          if (!c) return out(make_error(code::resource_not_found));
                                          api_result<void> outcome = step(tx, *s);
                                          if (outcome) outcome = maybe_complete(a, ctx, tx, *s, *c);
                                          if (!outcome && !keep_on_error) return out(outcome.error());
                                          s->updated_at = ctx.now;
                                          if (auto r = tx.sign_ups().put(*s); !r) return r.error();
                                          if (!outcome) return out(outcome.error());
                                          return stage_reply(a, ctx, tx, sign_up_json(a, *s));
                                      });
    if (!w) return w.error();
    return envelope(a, ctx, *w);
}

/// Single-session mode allows no sign-up while the client has a signed-in session: its id, or "".
store::result<std::string> live_session(store::read_txn const& t, store::client_record const& c, std::int64_t now) {
    for (auto const& id : c.session_ids) {
        auto s = t.sessions().get(id);
        if (!s) return s.error();
        if (*s && views::session_live(**s, now)) return id;
    }
    return std::string{};
}

}  // namespace

json::object sign_up_json(app& a, store::sign_up_record const& s) {
    json::object o;
    o["object"] = "sign_up_attempt";
    o["id"] = s.id;
    o["status"] = s.status;
    std::vector<std::string> required, optional;
    for (auto const& at : attributes(a)) {
        if (!at.cfg.enabled) continue;
        (at.cfg.required ? required : optional).emplace_back(at.name);
    }
    if (a.cfg.legal_consent.enabled) required.emplace_back("legal_accepted");
    o["required_fields"] = strings(required);
    o["optional_fields"] = strings(optional);
    o["missing_fields"] = strings(missing_fields(a, s));
    o["unverified_fields"] = strings(unverified_fields(a, s));
    json::object v;
    v["email_address"] = sign_up_verification(s.email_verification, "email_code", !s.email_address.empty());
    v["phone_number"] = sign_up_verification(s.phone_verification, "phone_code", !s.phone_number.empty());
    v["web3_wallet"] = nullptr;
    v["external_account"] = federation::verification_json(s.oauth, s.oauth.verification);
    o["verifications"] = std::move(v);
    auto str = [](std::string const& x) { return x.empty() ? json::value(nullptr) : json::value(x); };
    o["username"] = str(s.username);
    o["email_address"] = str(s.email_address);
    o["phone_number"] = str(s.phone_number);
    o["web3_wallet"] = nullptr;
    o["password_enabled"] = !s.password_digest.empty();
    o["first_name"] = str(s.first_name);
    o["last_name"] = str(s.last_name);
    o["unsafe_metadata"] = views::json_text(s.unsafe_metadata);
    o["public_metadata"] = json::object{};
    o["custom_action"] = false;
    o["external_id"] = str(s.external_id);
    o["created_session_id"] = str(s.created_session_id);
    o["created_user_id"] = str(s.created_user_id);
    o["abandon_at"] = s.abandon_at;
    // The record keeps only the flag; the acceptance is dated by the attempt's last change.
    o["legal_accepted_at"] = s.legal_accepted ? json::value(s.updated_at) : json::value(nullptr);
    return o;
}

/// As Clerk does: the create or update that gives a sign-up an email address or phone number to verify also sends
/// its code, so the verification reads unverified / email_code (phone_code) / needs_attempt at once and the
/// prebuilt <SignUp/> goes straight to code entry without preparing (it skips prepare in exactly that state). An
/// explicit prepare sends a new code. Test identifiers take 424242 and are sent nothing.
api_result<void> send_pending_codes(app& a, request_ctx const& ctx, store::write_txn& w, store::sign_up_record& s) {
    if (!s.email_address.empty() && a.cfg.email_address.verify_at_sign_up && s.email_verification.status.empty())
        if (auto r = prepare_code(a, ctx, w, s.email_verification, "email_code", "email", s.email_address, ""); !r)
            return r;
    if (!s.phone_number.empty() && a.cfg.phone_number.verify_at_sign_up && s.phone_verification.status.empty())
        if (auto r = prepare_code(a, ctx, w, s.phone_verification, "phone_code", "sms", s.phone_number, ""); !r)
            return r;
    return {};
}

api_result<reply> create_sign_up(app& a, request_ctx& ctx) {
    // Clerk's code for restricted mode, except for an invitation's ticket (issue 14: restricted mode admits
    // invited addresses).
    if (a.cfg.sign_up_mode == "restricted" && field(ctx, "strategy").value_or("") != "ticket")
        return make_error(code::sign_up_mode_restricted);
    if (auto limited = limit_ip(a, ctx, "create")) return *limited;
    // An invitation's ticket (strategy=ticket, from the link <SignUp/> was opened with) names the address and
    // verifies it; in waitlist mode only such a ticket or an invited address may start a sign-up.
    std::optional<store::waitlist_entry_record> invited;
    std::optional<store::org_invitation_record> org_invited;
    std::optional<store::ticket_record> app_invited;  // issue 14: an application invitation (BAPI /v1/invitations)
    if (field(ctx, "strategy").value_or("") == "ticket") {
        auto ticket = field(ctx, "ticket").value_or("");
        if (ticket.empty()) return param_error(code::form_param_missing, "ticket");
        // One lookup for every kind (server/api/domain/tickets.hpp).
        auto found = txn::read<domain::found_ticket>(
            a, "sign_up_ticket", [&](store::read_txn& t) { return domain::find_ticket(a, t, ticket, ctx.now); });
        if (!found) return found.error();
        if (found->kind == domain::ticket_kind::sign_in_token)
            return param_error(code::sign_in_token_can_be_used_only_in_sign_in, "ticket");
        if (found->kind == domain::ticket_kind::actor_token)
            return param_error(code::actor_token_can_be_used_only_in_sign_in, "ticket");
        invited = std::move(found->waitlist);
        org_invited = std::move(found->org_invitation);
        app_invited = std::move(found->ticket);
    }
    // Cheap refusals first (no hash spent): signed in already in single-session mode.
    if (a.cfg.single_session_mode && !ctx.client_id.empty()) {
        auto live = txn::read(a, "live_session", [&](store::read_txn& t) -> store::result<std::string> {
            auto c = current_client(ctx, t);
            return c ? live_session(t, *c, ctx.now) : store::result<std::string>(std::string{});
        });
        if (!live) return live.error();
        if (!live->empty()) return make_error(code::session_exists);
    }
    auto patch = read_fields(a, ctx);
    if (!patch) return patch.error();
    if (invited) patch->email_address = invited->email_address;
    if (org_invited) patch->email_address = org_invited->email_address;
    if (app_invited) patch->email_address = app_invited->email_address;
    if (auto limited = limit_identifier(a, ctx, patch->email_address.value_or(patch->phone_number.value_or(""))))
        return *limited;
    if (a.cfg.sign_up_mode == "waitlist" && !invited && !app_invited) {
        if (auto ok = domain::check_invited(a, patch->email_address.value_or("")); !ok) return ok.error();
    }

    store::sign_up_record s;
    s.id = crypto::new_id("sua");
    s.status = "missing_requirements";
    s.created_at = s.updated_at = ctx.now;
    s.abandon_at = ctx.now + attempt_lifetime_ms;
    apply(*patch, s);
    if (org_invited) s.org_invitation_id = org_invited->id;
    if (app_invited) s.ticket_id = app_invited->id;
    if (invited || org_invited || app_invited) {
        s.email_verification.status = "verified";
        s.email_verification.strategy = "ticket";
        s.email_verification.verified_at = ctx.now;
    }
    // Federation (issue 15): `strategy: oauth_*` starts the provider round trip; `transfer=true` takes over the
    // identity a sign-in proved for an unknown account (below, with the client).
    bool const transfer = field(ctx, "transfer").value_or("") == "true";
    bool const by_token = federation::is_token_strategy(field(ctx, "strategy").value_or(""));
    if (by_token) {  // issue 15: a posted ID token (One Tap, native apps) proves the identity now
        store::oauth_flow_record flow;
        auto who = federation::verify_posted_token(a, ctx, field(ctx, "strategy").value_or(""), flow);
        if (!who) return who.error();
        federation::fill_sign_up_from_token(s, std::move(flow), *who, ctx.now);
    } else if (auto st = field(ctx, "strategy").value_or(""); st.starts_with("oauth_")) {
        if (auto started = federation::start(a, ctx, st, s.id, s.oauth); !started) return started.error();
    } else if (saml_sso::is_strategy(st)) {  // enterprise SSO (issue 15): the IdP of the address's domain
        if (auto started = saml_sso::start(a, ctx, st, s.email_address, s.id, s.oauth); !started)
            return started.error();
    }

    auto w = txn::write<staged_reply>(a, "create_sign_up", txn::on_client_error::commit,
                                      [&](store::write_txn& tx) -> store::result<api_result<staged_reply>> {
                                          using out = api_result<staged_reply>;
                                          auto c = ensure_client(a, ctx, tx);
                                          if (!c) return out(c.error());
                                          if (a.cfg.single_session_mode) {
                                              auto live = live_session(tx, *c, ctx.now);
                                              if (!live) return live.error();
                                              if (!live->empty()) return out(make_error(code::session_exists));
                                          }
                                          if (by_token) {
                                              auto r = federation::refuse_owned_identity(tx, s);
                                              if (!r) return r.error();
                                              if (!*r) return out(r->error());
                                          }
                                          if (auto taken = check_taken(tx, s); !taken) return out(taken.error());
                                          if (auto sent = send_pending_codes(a, ctx, tx, s); !sent)
                                              return out(sent.error());
                                          if (transfer) {
                                              auto si = tx.sign_ins().get(c->sign_in_id);
                                              if (!si) return si.error();
                                              if (!*si || !federation::transfer_to_sign_up(**si, s, ctx.now))
                                                  return out(param_error(code::form_param_value_invalid, "transfer"));
                                          }
                                          s.client_id = c->id;
                                          c->sign_up_id = s.id;
                                          c->updated_at = ctx.now;
                                          if (auto done = maybe_complete(a, ctx, tx, s, *c); !done)
                                              return out(done.error());
                                          // A completed sign-up wrote the client through start_session already.
                                          if (s.status != "complete")
                                              if (auto r = tx.clients().put(*c); !r) return r.error();
                                          if (auto r = tx.sign_ups().put(s); !r) return r.error();
                                          return stage_reply(a, ctx, tx, sign_up_json(a, s));
                                      });
    if (!w) return w.error();
    return envelope(a, ctx, *w);
}

api_result<void> complete_sign_up(app& a, request_ctx& ctx, store::write_txn& w, store::sign_up_record& s,
                                  store::client_record& client) {
    if (auto sent = send_pending_codes(a, ctx, w, s); !sent) return sent;
    auto done = maybe_complete(a, ctx, w, s, client);
    if (done && s.status != "complete")
        if (auto r = w.clients().put(client); !r) return store_failure(r.error(), "put_client");
    return done;
}

api_result<reply> get_sign_up(app& a, request_ctx& ctx) {
    auto s = txn::read(a, "get_sign_up", [&](store::read_txn& t) -> store::result<api_result<store::sign_up_record>> {
        return load_sign_up(a, ctx, t);
    });
    if (!s) return s.error();
    return envelope(a, ctx, sign_up_json(a, *s));
}

api_result<reply> update_sign_up(app& a, request_ctx& ctx) {
    if (auto limited = limit_ip(a, ctx, "update")) return *limited;
    auto patch = read_fields(a, ctx);
    if (!patch) return patch.error();
    return mutate(a, ctx, false, [&](store::write_txn& tx, store::sign_up_record& s) -> api_result<void> {
        apply(*patch, s);
        auto taken = check_taken(tx, s);
        if (taken) taken = send_pending_codes(a, ctx, tx, s);
        return taken;
    });
}

api_result<reply> prepare_sign_up_verification(app& a, request_ctx& ctx) {
    if (auto limited = limit_ip(a, ctx, "prepare")) return *limited;
    auto const strategy = field(ctx, "strategy").value_or("");
    if (strategy.empty()) return param_error(code::form_param_missing, "strategy");
    bool const link = strategy == email_links::strategy;  // issue 14
    if (strategy != "email_code" && strategy != "phone_code" && !link)
        return param_error(code::form_param_value_invalid, "strategy",
                           "strategy must be email_code, email_link or phone_code.");
    bool const email = strategy == "email_code" || link;
    std::string redirect;
    if (link) {
        auto r = email_links::checked_redirect(a, ctx);
        if (!r) return r.error();
        redirect = std::move(*r);
    }
    return mutate(a, ctx, false, [&](store::write_txn& tx, store::sign_up_record& s) -> api_result<void> {
        std::string const& to = email ? s.email_address : s.phone_number;
        auto& v = email ? s.email_verification : s.phone_verification;
        if (to.empty()) return param_error(code::form_param_missing, email ? "email_address" : "phone_number");
        if (v.status == "verified") return make_error(code::verification_already_verified);
        // Each prepare sends a message: limited per address so it cannot flood an inbox.
        if (auto limited = limit_identifier(a, ctx, to)) return *limited;
        if (link) return email_links::prepare(a, ctx, tx, v, s.id, "", to, std::move(redirect), "");
        return prepare_code(a, ctx, tx, v, strategy, email ? "email" : "sms", to, "");
    });
}

api_result<reply> attempt_sign_up_verification(app& a, request_ctx& ctx) {
    if (auto limited = limit_ip(a, ctx, "attempt")) return *limited;
    auto const strategy = field(ctx, "strategy").value_or("");
    auto const code_value = field(ctx, "code").value_or("");
    if (strategy.empty()) return param_error(code::form_param_missing, "strategy");
    if (strategy != "email_code" && strategy != "phone_code")
        return param_error(code::form_param_value_invalid, "strategy", "strategy must be email_code or phone_code.");
    if (code_value.empty()) return param_error(code::form_param_missing, "code");
    bool const email = strategy == "email_code";
    return mutate(a, ctx, true, [&](store::write_txn&, store::sign_up_record& s) -> api_result<void> {
        std::string const& to = email ? s.email_address : s.phone_number;
        if (to.empty()) return param_error(code::form_param_missing, email ? "email_address" : "phone_number");
        if (auto limited = limit_identifier(a, ctx, to)) return *limited;
        if (code_value.size() > 32) return param_error(code::form_code_incorrect, "code");
        return attempt_code(a, ctx, email ? s.email_verification : s.phone_verification, code_value);
    });
}

}  // namespace latchkey::server::api::frontend
