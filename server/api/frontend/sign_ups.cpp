// Sign-ups: create, read, update, and email/phone code verification; completion creates the user and an
// active session in the same write, so the piggy-backed client carries created_session_id's session.
#include "server/api/frontend/handlers.hpp"

#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "server/api/frontend/flow.hpp"
#include "server/api/views.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

namespace {

struct attr_ref {
    char const* name;
    conf::attribute const& cfg;
};

std::vector<attr_ref> attributes(app const& a) {
    return {{"email_address", a.cfg.email_address}, {"phone_number", a.cfg.phone_number},
            {"username", a.cfg.username},           {"first_name", a.cfg.first_name},
            {"last_name", a.cfg.last_name},         {"password", a.cfg.password}};
}

bool has_value(store::sign_up_record const& s, std::string_view attr) {
    if (attr == "email_address") return !s.email_address.empty();
    if (attr == "phone_number") return !s.phone_number.empty();
    if (attr == "username") return !s.username.empty();
    if (attr == "first_name") return !s.first_name.empty();
    if (attr == "last_name") return !s.last_name.empty();
    if (attr == "password") return !s.password_digest.empty();
    return false;
}

std::vector<std::string> missing_fields(app const& a, store::sign_up_record const& s) {
    std::vector<std::string> out;
    for (auto const& at : attributes(a))
        if (at.cfg.enabled && at.cfg.required && !has_value(s, at.name)) out.emplace_back(at.name);
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

json::value sign_up_verification(store::verification_record const& v, std::string_view strategy, bool present) {
    if (!present) return nullptr;
    json::object o;
    o["object"] = "verification";
    o["status"] = v.status.empty() ? std::string("unverified") : v.status;
    o["strategy"] = v.strategy.empty() ? std::string(strategy) : v.strategy;
    o["next_action"] = v.status == "verified" ? "" : (v.status.empty() ? "needs_prepare" : "needs_attempt");
    o["supported_strategies"] = json::array{json::value(strategy)};
    o["attempts"] = v.status.empty() ? json::value(nullptr) : json::value(v.attempts);
    o["expire_at"] = v.expire_at == 0 ? json::value(nullptr) : json::value(v.expire_at);
    o["error"] = nullptr;
    return o;
}

json::array strings(std::vector<std::string> const& v) {
    json::array a;
    for (auto const& s : v) a.push_back(json::value(s));
    return a;
}

/// Reads and validates the sign-up fields of a create/update request into `s`.
std::optional<api_error> apply_fields(app& a, request_ctx const& ctx, store::sign_up_record& s) {
    if (auto v = field(ctx, "email_address"); v && !v->empty()) {
        if (!a.cfg.email_address.enabled) return param_error(code::form_param_unknown, "email_address");
        auto e = normalize_email(*v);
        if (!e) return param_error(code::form_param_format_invalid, "email_address", "email_address must be a valid email address.");
        if (*e != s.email_address) {
            s.email_address = *e;
            s.email_verification = {};
        }
    }
    if (auto v = field(ctx, "phone_number"); v && !v->empty()) {
        if (!a.cfg.phone_number.enabled) return param_error(code::form_param_unknown, "phone_number");
        auto p = normalize_phone(*v);
        if (!p) return param_error(code::form_param_format_invalid, "phone_number", "phone_number must be a valid phone number in E.164 format.");
        if (*p != s.phone_number) {
            s.phone_number = *p;
            s.phone_verification = {};
        }
    }
    if (auto v = field(ctx, "username"); v && !v->empty()) {
        if (!a.cfg.username.enabled) return param_error(code::form_param_unknown, "username");
        if (auto bad = flow::check_username(*v)) return bad;
        s.username = *v;
    }
    for (auto [name, target] : {std::pair<char const*, std::string*>{"first_name", &s.first_name},
                                {"last_name", &s.last_name}}) {
        if (auto v = field(ctx, name); v && !v->empty()) {
            if (v->size() > 256) return param_error(code::form_param_max_length_exceeded, name);
            *target = *v;
        }
    }
    if (auto v = field(ctx, "unsafe_metadata"); v && !v->empty()) {
        boost::system::error_code ec;
        auto doc = json::parse(*v, ec);
        if (ec || !doc.is_object()) return param_error(code::form_param_format_invalid, "unsafe_metadata", "unsafe_metadata must be a JSON object.");
        if (v->size() > 8192) return param_error(code::form_param_max_length_exceeded, "unsafe_metadata");
        s.unsafe_metadata = json::serialize(doc);
    }
    if (auto v = field(ctx, "legal_accepted"); v) s.legal_accepted = *v == "true";
    if (auto v = field(ctx, "password"); v && !v->empty()) {
        if (!a.cfg.password.enabled) return param_error(code::form_param_unknown, "password");
        if (auto bad = check_password_policy(a, *v)) return bad;
        auto h = crypto::hash_password(*v);
        if (!h) return make_error(code::internal_clerk_error);
        s.password_digest = std::move(*h);
    }
    return std::nullopt;
}

/// The identifiers the sign-up wants must not belong to a user already.
std::optional<api_error> check_taken(app& a, store::txn const& t, store::sign_up_record const& s) {
    if (!s.email_address.empty())
        if (auto r = a.db.user_id_by_email(t, s.email_address); r && *r)
            return param_error(code::form_identifier_exists, "email_address", "That email address is taken. Please try another.");
    if (!s.phone_number.empty())
        if (auto r = a.db.user_id_by_phone(t, s.phone_number); r && *r)
            return param_error(code::form_identifier_exists, "phone_number", "That phone number is taken. Please try another.");
    if (!s.username.empty())
        if (auto r = a.db.user_id_by_username(t, s.username); r && *r)
            return param_error(code::form_identifier_exists, "username", "That username is taken. Please try another.");
    return std::nullopt;
}

/// When nothing is missing or unverified: creates the user and an active session (same txn).
api_result<void> maybe_complete(app& a, request_ctx& ctx, store::write_txn& w, store::sign_up_record& s,
                                store::client_record& client) {
    if (!missing_fields(a, s).empty() || !unverified_fields(a, s).empty()) {
        s.status = "missing_requirements";
        return {};
    }
    if (auto taken = check_taken(a, w, s)) return *taken;
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
        store::identification_record e;
        e.id = crypto::new_id("idn");
        e.kind = "email_address";
        e.value = s.email_address;
        e.verification = s.email_verification;
        e.verification.code_digest.clear();
        if (e.verification.status.empty()) e.verification.status = "unverified";
        e.created_at = e.updated_at = ctx.now;
        u.primary_email_address_id = e.id;
        u.identifications.push_back(std::move(e));
    }
    if (!s.phone_number.empty()) {
        store::identification_record p;
        p.id = crypto::new_id("idn");
        p.kind = "phone_number";
        p.value = s.phone_number;
        p.verification = s.phone_verification;
        p.verification.code_digest.clear();
        if (p.verification.status.empty()) p.verification.status = "unverified";
        p.created_at = p.updated_at = ctx.now;
        u.primary_phone_number_id = p.id;
        u.identifications.push_back(std::move(p));
    }
    store::unique_field conflict = store::unique_field::none;
    if (auto r = a.db.put_user(w, u, nullptr, &conflict); !r) {
        if (r.error() == store::make_error_code(store::errc::key_exists))
            return param_error(code::form_identifier_exists,
                               conflict == store::unique_field::phone_number ? "phone_number"
                               : conflict == store::unique_field::username  ? "username"
                                                                            : "email_address");
        return store_failure(r.error(), "put_user");
    }
    auto sess = start_session(a, ctx, w, client, u);
    if (!sess) return sess.error();
    s.status = "complete";
    s.created_user_id = u.id;
    s.created_session_id = sess->id;
    return {};
}

/// Loads the request's sign-up (404 unless it belongs to this browser's client).
api_result<store::sign_up_record> load_sign_up(app& a, request_ctx const& ctx, store::txn const& t) {
    auto c = current_client(a, ctx, t);
    if (!c) return make_error(code::resource_not_found);
    auto s = a.db.get_sign_up(t, ctx.params.get("sign_up_id"));
    if (!s) return store_failure(s.error(), "get_sign_up");
    if (!*s || (*s)->client_id != c->id) return make_error(code::resource_not_found);
    return std::move(**s);
}

/// Runs `step` on the stored sign-up in one write txn, persists it (even when the step fails, so attempt
/// counters stick), re-evaluates completion and replies through the envelope.
template <class Step>
api_result<reply> mutate(app& a, request_ctx& ctx, Step step) {
    std::string id;
    auto w = a.db.with_write([&](store::write_txn& tx) -> store::result<api_result<void>> {
        auto s = load_sign_up(a, ctx, tx);
        if (!s) return api_result<void>(s.error());
        if (s->status == "complete" || s->status == "abandoned")
            return api_result<void>(make_error(code::sign_up_not_ready));
        auto c = current_client(a, ctx, tx);
        api_result<void> outcome = step(tx, *s);
        if (outcome) outcome = maybe_complete(a, ctx, tx, *s, *c);
        s->updated_at = ctx.now;
        if (auto r = a.db.put_sign_up(tx, *s); !r) return r.error();
        id = s->id;
        return outcome;
    });
    if (!w) return store_failure(w.error(), "sign_up");
    if (!*w) return w->error();
    auto s = a.db.with_read([&](store::read_txn& t) { return a.db.get_sign_up(t, id); });
    if (!s || !*s) return make_error(code::internal_clerk_error);
    return envelope(a, ctx, sign_up_json(a, **s));
}

}  // namespace

json::object sign_up_json(app& a, store::sign_up_record const& s) {
    json::object o;
    o["object"] = "sign_up";
    o["id"] = s.id;
    o["status"] = s.status;
    std::vector<std::string> required, optional;
    for (auto const& at : attributes(a)) {
        if (!at.cfg.enabled) continue;
        (at.cfg.required ? required : optional).emplace_back(at.name);
    }
    o["required_fields"] = strings(required);
    o["optional_fields"] = strings(optional);
    o["missing_fields"] = strings(missing_fields(a, s));
    o["unverified_fields"] = strings(unverified_fields(a, s));
    json::object v;
    v["email_address"] = sign_up_verification(s.email_verification, "email_code", !s.email_address.empty());
    v["phone_number"] = sign_up_verification(s.phone_verification, "phone_code", !s.phone_number.empty());
    v["web3_wallet"] = nullptr;
    v["external_account"] = nullptr;
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
    o["legal_accepted_at"] = nullptr;
    o["locale"] = nullptr;
    return o;
}

api_result<reply> create_sign_up(app& a, request_ctx& ctx) {
    if (a.cfg.sign_up_mode == "restricted") return make_error(code::not_allowed_to_sign_up);
    if (auto limited = flow::rate_limit(a, ctx, "sign_up")) return *limited;
    store::sign_up_record s;
    s.id = crypto::new_id("sua");
    s.status = "missing_requirements";
    s.created_at = s.updated_at = ctx.now;
    s.abandon_at = ctx.now + 24LL * 3600 * 1000;
    if (auto bad = apply_fields(a, ctx, s)) return *bad;
    auto w = a.db.with_write([&](store::write_txn& tx) -> store::result<api_result<void>> {
        auto c = ensure_client(a, ctx, tx);
        if (!c) return api_result<void>(c.error());
        if (a.cfg.single_session_mode && flow::client_has_live_session(a, tx, *c, ctx.now))
            return api_result<void>(make_error(code::session_exists));
        if (auto taken = check_taken(a, tx, s)) return api_result<void>(*taken);
        s.client_id = c->id;
        c->sign_up_id = s.id;
        c->updated_at = ctx.now;
        auto done = maybe_complete(a, ctx, tx, s, *c);
        if (!done) return api_result<void>(done.error());
        if (s.status != "complete")
            if (auto r = a.db.put_client(tx, *c); !r) return r.error();
        if (auto r = a.db.put_sign_up(tx, s); !r) return r.error();
        return api_result<void>();
    });
    if (!w) return store_failure(w.error(), "create_sign_up");
    if (!*w) return w->error();
    return envelope(a, ctx, sign_up_json(a, s));
}

api_result<reply> get_sign_up(app& a, request_ctx& ctx) {
    auto s = a.db.with_read([&](store::read_txn& t) -> store::result<api_result<store::sign_up_record>> {
        return load_sign_up(a, ctx, t);
    });
    if (!s) return store_failure(s.error(), "get_sign_up");
    if (!*s) return s->error();
    return envelope(a, ctx, sign_up_json(a, **s));
}

api_result<reply> update_sign_up(app& a, request_ctx& ctx) {
    return mutate(a, ctx, [&](store::write_txn& tx, store::sign_up_record& s) -> api_result<void> {
        if (auto bad = apply_fields(a, ctx, s)) return *bad;
        if (auto taken = check_taken(a, tx, s)) return *taken;
        return {};
    });
}

api_result<reply> prepare_sign_up_verification(app& a, request_ctx& ctx) {
    if (auto limited = flow::rate_limit(a, ctx, "verify")) return *limited;
    auto strategy = field(ctx, "strategy").value_or("");
    if (strategy.empty()) return param_error(code::form_param_missing, "strategy");
    if (strategy != "email_code" && strategy != "phone_code")
        return param_error(code::form_param_value_invalid, "strategy", "strategy must be email_code or phone_code.");
    return mutate(a, ctx, [&](store::write_txn&, store::sign_up_record& s) -> api_result<void> {
        if (strategy == "email_code") {
            if (s.email_address.empty()) return param_error(code::form_param_missing, "email_address");
            if (s.email_verification.status == "verified") return make_error(code::verification_already_verified);
            prepare_code(a, ctx, s.email_verification, "email_code", "email", s.email_address, "");
        } else {
            if (s.phone_number.empty()) return param_error(code::form_param_missing, "phone_number");
            if (s.phone_verification.status == "verified") return make_error(code::verification_already_verified);
            prepare_code(a, ctx, s.phone_verification, "phone_code", "sms", s.phone_number, "");
        }
        return {};
    });
}

api_result<reply> attempt_sign_up_verification(app& a, request_ctx& ctx) {
    if (auto limited = flow::rate_limit(a, ctx, "verify")) return *limited;
    auto strategy = field(ctx, "strategy").value_or("");
    auto code_value = field(ctx, "code").value_or("");
    if (strategy != "email_code" && strategy != "phone_code")
        return param_error(strategy.empty() ? code::form_param_missing : code::form_param_value_invalid, "strategy");
    if (code_value.empty()) return param_error(code::form_param_missing, "code");
    if (code_value.size() > 32) return param_error(code::form_code_incorrect, "code");
    return mutate(a, ctx, [&](store::write_txn&, store::sign_up_record& s) -> api_result<void> {
        auto& v = strategy == "email_code" ? s.email_verification : s.phone_verification;
        return attempt_code(a, ctx, v, code_value);
    });
}

}  // namespace latchkey::server::api::frontend
