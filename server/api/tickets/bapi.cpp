// BAPI /v1/sign_in_tokens, /v1/actor_tokens, /v1/invitations and the user second-factor endpoints
// (/v1/users/{id}/mfa, /totp, /backup_code, /verify_totp), as @clerk/backend 3.25.0 calls them.
#include "server/api/backend/common.hpp"
#include "server/api/domain/identifiers.hpp"
#include "server/api/domain/mfa.hpp"
#include "server/api/domain/tickets.hpp"
#include "server/api/domain/waitlist.hpp"
#include "server/api/events.hpp"
#include "server/api/tickets/handlers.hpp"
#include "server/api/txn.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <set>

namespace latchkey::server::api::tickets {

namespace json = boost::json;
using backend::json_reply;
using backend::not_found;

namespace {

constexpr std::int64_t day_ms = 24LL * 3600 * 1000;

/// A duration field in seconds: absent -> `fallback`; below `min` or above `max` -> 422 on the field.
api_result<std::int64_t> seconds_field(request_ctx const& ctx, std::string_view key, std::int64_t fallback,
                                       std::int64_t min, std::int64_t max) {
    auto v = backend::body_int(ctx, key);
    if (!v) return v.error();
    if (!*v) return fallback;
    if (**v < min || **v > max)
        return param_error(
            code::form_param_value_invalid, key,
            std::string(key) + " must be between " + std::to_string(min) + " and " + std::to_string(max) + ".");
    return **v;
}

/// The required user_id of the body, naming an existing user (404 resource_not_found otherwise).
api_result<std::string> existing_user(app& a, request_ctx const& ctx) {
    auto id = backend::required_body_string(ctx, "user_id", 128);
    if (!id) return id.error();
    auto u = txn::read(a, "ticket_user", [&](store::read_txn& t) { return t.users().get(*id); });
    if (!u) return u.error();
    if (!*u) return not_found();
    return std::move(*id);
}

/// Revokes the pending record `id` of `kind` (404 for another kind or none) and renders it with `render`.
template <class Render>
api_result<reply> revoke(app& a, std::string_view id, std::string_view kind, code not_pending, std::int64_t now,
                         Render render) {
    auto r = txn::write<store::ticket_record>(
        a, "revoke_ticket", txn::on_client_error::abort, [&](store::write_txn& w) -> api_result<store::ticket_record> {
            auto t = backend::found(w.tickets().get(id), "revoke_ticket");
            if (!t) return t.error();
            if (t->kind != kind) return not_found();
            if (t->status != "pending")
                return make_error(t->status == "accepted" && kind == "invitation" ? code::invitation_already_accepted
                                                                                  : not_pending);
            t->status = "revoked";
            t->updated_at = now;
            if (auto x = w.tickets().put(*t); !x) return store_error(x.error(), "revoke_ticket");
            return t;
        });
    if (!r) return r.error();
    return json_reply(render(*r));
}

/// One validated invitation request (a body or a bulk item).
struct invitation_request {
    std::string email;
    std::string public_metadata = "{}";
    std::string redirect_url;
    bool notify = true;
    bool ignore_existing = false;
    std::int64_t expires_in_days = 30;
};

api_result<invitation_request> read_invitation(json::object const& o) {
    invitation_request r;
    auto email = backend::email_address_of(o.if_contains("email_address"));
    if (!email) return email.error();
    r.email = std::move(*email);
    if (auto const* m = o.if_contains("public_metadata"); m && !m->is_null()) {
        if (!m->is_object()) return param_error(code::form_param_type_invalid, "public_metadata");
        r.public_metadata = json::serialize(*m);
        if (r.public_metadata.size() > 8192)
            return param_error(code::form_param_max_length_exceeded, "public_metadata");
    }
    if (auto const* u = o.if_contains("redirect_url"); u && !u->is_null()) {
        if (!u->is_string()) return param_error(code::form_param_type_invalid, "redirect_url");
        if (u->get_string().size() > 2048) return param_error(code::form_param_max_length_exceeded, "redirect_url");
        std::string_view const url = u->get_string();
        if (!url.empty() && !url.starts_with("https://") && !url.starts_with("http://"))
            return param_error(code::form_param_format_invalid, "redirect_url",
                               "redirect_url must be an absolute URL.");
        r.redirect_url = std::string(url);
    }
    auto flag = [&](char const* k, bool& out) -> std::optional<api_error> {
        auto const* v = o.if_contains(k);
        if (v == nullptr || v->is_null()) return std::nullopt;
        if (!v->is_bool()) return param_error(code::form_param_type_invalid, k);
        out = v->get_bool();
        return std::nullopt;
    };
    if (auto bad = flag("notify", r.notify)) return *bad;
    if (auto bad = flag("ignore_existing", r.ignore_existing)) return *bad;
    if (auto const* d = o.if_contains("expires_in_days"); d && !d->is_null()) {
        if (!d->is_int64() && !d->is_uint64()) return param_error(code::form_param_type_invalid, "expires_in_days");
        auto const n =
            d->is_int64() ? d->get_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(d->get_uint64(), 1000));
        if (n < 1 || n > 365)
            return param_error(code::form_param_value_invalid, "expires_in_days", "expires_in_days must be 1 to 365.");
        r.expires_in_days = n;
    }
    return r;
}

/// Inside the write txn: the address is free (no user; no pending invitation unless ignore_existing, which
/// Clerk lets skip the user check too for a single create), the invitation written and its email queued.
api_result<std::pair<store::ticket_record, std::string>> invite(app& a, store::write_txn& w,
                                                                invitation_request const& q, bool bulk,
                                                                std::int64_t now) {
    if (!q.ignore_existing || bulk) {
        auto owner = w.users().id_by_email(q.email);
        if (!owner) return store_error(owner.error(), "invite");
        if (*owner) return param_error(code::form_identifier_exists, "email_address");
    }
    if (!q.ignore_existing) {
        auto existing = w.tickets().invitations_to(q.email);
        if (!existing) return store_error(existing.error(), "invite");
        for (auto const& i : *existing)
            if (i.status == "pending" && (i.expires_at == 0 || i.expires_at > now)) {
                auto e = make_error(code::duplicate_record);
                e.meta["param_name"] = "email_address";
                e.meta["email_addresses"] = json::array{json::string(q.email)};
                return e;
            }
    }
    store::ticket_record r;
    std::string ticket = domain::new_ticket(r, "invitation", now, now + q.expires_in_days * day_ms);
    r.email_address = q.email;
    r.public_metadata = q.public_metadata;
    r.redirect_url = q.redirect_url;
    if (auto x = w.tickets().put(r); !x) return store_error(x.error(), "invite");
    if (q.notify) {
        message m;
        m.channel = "email";
        m.to = q.email;
        m.kind = "invitation";
        m.code = domain::ticket_url(a, ticket, q.redirect_url);
        if (auto x = events::send_invitation(a, w, m, now); !x) return store_error(x.error(), "invite");
    }
    return std::pair{std::move(r), std::move(ticket)};
}

/// Runs `step` on the user of the path in one write txn (404 when missing), emits user.updated, and replies
/// {"user_id": id}.
template <class Step>
api_result<reply> edit_factors(app& a, request_ctx& ctx, char const* what, Step step) {
    std::string const id(ctx.params.get("user_id"));
    auto r = txn::write<json::object>(a, what, txn::on_client_error::abort,
                                      [&](store::write_txn& w) -> store::result<api_result<json::object>> {
                                          using out = api_result<json::object>;
                                          auto u = w.users().get(id);
                                          if (!u) return u.error();
                                          if (!*u) return out(not_found());
                                          store::user_record const before = **u;
                                          auto body = step(**u);
                                          if (!body) return out(body.error());
                                          domain::refresh_second_factor_flags(**u);
                                          (*u)->updated_at = ctx.now;
                                          if (auto x = w.users().put(**u, &before); !x) return x.error();
                                          if (auto e = events::user_changed(a, w, "user.updated", **u, &ctx); !e)
                                              return e.error();
                                          return out(std::move(*body));
                                      });
    if (!r) return r.error();
    return json_reply(*r);
}

}  // namespace

// ---- sign-in tokens ----

api_result<reply> create_sign_in_token(app& a, request_ctx& ctx) {
    auto user = existing_user(a, ctx);
    if (!user) return user.error();
    auto life = seconds_field(ctx, "expires_in_seconds", 30LL * 24 * 3600, 1, 10LL * 365 * 24 * 3600);
    if (!life) return life.error();
    auto org = backend::body_string(ctx, "org_id", 128);
    if (!org) return org.error();
    store::ticket_record r;
    std::string const ticket = domain::new_ticket(r, "sign_in_token", ctx.now, ctx.now + *life * 1000);
    r.user_id = *user;
    r.organization_id = org->value_or("");
    auto w = txn::write<void>(
        a, "create_sign_in_token", txn::on_client_error::abort,
        [&](store::write_txn& tx) -> store::result<api_result<void>> {
            if (!r.organization_id.empty()) {
                auto m = tx.organizations().membership(r.organization_id, r.user_id);
                if (!m) return m.error();
                if (!*m)
                    return api_result<void>(param_error(code::form_param_value_invalid, "org_id",
                                                        "The user is not a member of this organization."));
            }
            if (auto x = tx.tickets().put(r); !x) return x.error();
            return api_result<void>();
        });
    if (!w) return w.error();
    return json_reply(domain::sign_in_token_json(a, r, ticket));
}

api_result<reply> revoke_sign_in_token(app& a, request_ctx& ctx) {
    return revoke(a, ctx.params.get("sign_in_token_id"), "sign_in_token", code::sign_in_token_cannot_be_revoked,
                  ctx.now, [&](store::ticket_record const& r) { return domain::sign_in_token_json(a, r, {}); });
}

// ---- actor tokens ----

api_result<reply> create_actor_token(app& a, request_ctx& ctx) {
    auto user = existing_user(a, ctx);
    if (!user) return user.error();
    auto actor = backend::body_object(ctx, "actor");
    if (!actor) return actor.error();
    if (!*actor) return param_error(code::form_param_missing, "actor");
    auto const* sub = (*actor)->if_contains("sub");
    if (sub == nullptr || !sub->is_string() || sub->get_string().empty())
        return param_error(code::form_param_missing, "actor", "actor must include a sub: the id of the actor.");
    auto life = seconds_field(ctx, "expires_in_seconds", 3600, 1, 30LL * 24 * 3600);
    if (!life) return life.error();
    auto session_max = seconds_field(ctx, "session_max_duration_in_seconds", 1800, 1, 30LL * 24 * 3600);
    if (!session_max) return session_max.error();
    store::ticket_record r;
    std::string const ticket = domain::new_ticket(r, "actor_token", ctx.now, ctx.now + *life * 1000);
    r.user_id = *user;
    r.actor = json::serialize(**actor);
    r.session_max_duration_s = *session_max;
    auto w = txn::write<void>(a, "create_actor_token", txn::on_client_error::abort,
                              [&](store::write_txn& tx) -> store::result<api_result<void>> {
                                  if (auto x = tx.tickets().put(r); !x) return x.error();
                                  return api_result<void>();
                              });
    if (!w) return w.error();
    return json_reply(domain::actor_token_json(a, r, ticket));
}

api_result<reply> revoke_actor_token(app& a, request_ctx& ctx) {
    return revoke(a, ctx.params.get("actor_token_id"), "actor_token", code::actor_token_cannot_be_revoked, ctx.now,
                  [&](store::ticket_record const& r) { return domain::actor_token_json(a, r, {}); });
}

// ---- invitations ----

api_result<reply> list_invitations(app& a, request_ctx& ctx) {
    auto p = backend::paging(ctx);
    if (!p) return p.error();
    std::string status;
    if (auto const* s = ctx.query.find("status")) status = *s;
    if (!status.empty() && status != "pending" && status != "accepted" && status != "revoked" && status != "expired")
        return param_error(code::form_param_value_invalid, "status",
                           "status must be pending, accepted, revoked or expired.");
    std::string query;
    if (auto const* q = ctx.query.find("query")) query = *q;
    std::string order = "-created_at";
    if (auto const* o = ctx.query.find("order_by"); o && !o->empty()) order = *o;
    bool const desc = order.front() == '-';
    std::string_view field = order;
    if (field.front() == '+' || field.front() == '-') field.remove_prefix(1);
    if (field != "created_at" && field != "email_address" && field != "expires_at")
        return param_error(code::form_param_value_invalid, "order_by",
                           "order_by must be [+|-]created_at, email_address or expires_at.");
    auto all = txn::read(a, "list_invitations", [&](store::read_txn& t) { return t.tickets().list("invitation"); });
    if (!all) return all.error();
    std::vector<json::object> rows;
    for (auto const& r : *all) {
        auto j = domain::invitation_json(a, r, {}, ctx.now);
        std::string_view const st = j["status"].as_string();
        if (!status.empty() && st != status) continue;
        if (status.empty() && st == "revoked") continue;  // Clerk: all non-revoked invitations unless asked
        if (!query.empty() && r.email_address.find(query) == std::string::npos && r.id != query) continue;
        rows.push_back(std::move(j));
    }
    auto key = [&](json::object const& o) -> std::pair<std::string, std::int64_t> {
        if (field == "email_address") return {std::string(o.at("email_address").as_string()), 0};
        if (field == "expires_at") return {{}, o.at("expires_at").is_null() ? 0 : o.at("expires_at").as_int64()};
        return {{}, o.at("created_at").as_int64()};
    };
    std::stable_sort(rows.begin(), rows.end(), [&](json::object const& x, json::object const& y) {
        return desc ? key(y) < key(x) : key(x) < key(y);
    });
    std::size_t const total = rows.size();
    json::array data;
    for (std::size_t i = p->second; i < rows.size() && data.size() < p->first; ++i) data.push_back(std::move(rows[i]));
    if (!backend::paginated(ctx)) return json_reply(data);
    json::object o;
    o["data"] = std::move(data);
    o["total_count"] = total;
    return json_reply(o);
}

api_result<reply> create_invitation(app& a, request_ctx& ctx) {
    if (!ctx.body.is_object()) return param_error(code::form_param_missing, "email_address");
    auto q = read_invitation(ctx.body.get_object());
    if (!q) return q.error();
    auto r = txn::write<std::pair<store::ticket_record, std::string>>(
        a, "create_invitation", txn::on_client_error::abort,
        [&](store::write_txn& w) -> store::result<api_result<std::pair<store::ticket_record, std::string>>> {
            return invite(a, w, *q, false, ctx.now);
        });
    if (!r) return r.error();
    return json_reply(domain::invitation_json(a, r->first, r->second, ctx.now));
}

api_result<reply> create_invitations_bulk(app& a, request_ctx& ctx) {
    if (!ctx.body.is_array() || ctx.body.get_array().empty() || ctx.body.get_array().size() > 10)
        return param_error(code::form_param_value_invalid, "body", "The body must be an array of 1 to 10 invitations.");
    std::vector<invitation_request> items;
    std::set<std::string> seen;
    for (auto const& v : ctx.body.get_array()) {  // everything is validated before anything is written
        if (!v.is_object()) return param_error(code::form_param_type_invalid, "body", "Each item must be an object.");
        auto q = read_invitation(v.get_object());
        if (!q) return q.error();
        if (!seen.insert(q->email).second)
            return param_error(code::form_param_value_invalid, "email_address",
                               "The same email address appears twice in the request.");
        items.push_back(std::move(*q));
    }
    auto r =
        txn::write<json::array>(a, "create_invitations_bulk", txn::on_client_error::abort,
                                [&](store::write_txn& w) -> store::result<api_result<json::array>> {
                                    json::array out;
                                    for (auto const& q : items) {  // all or nothing: one txn
                                        auto one = invite(a, w, q, true, ctx.now);
                                        if (!one) return api_result<json::array>(one.error());
                                        out.push_back(domain::invitation_json(a, one->first, one->second, ctx.now));
                                    }
                                    return api_result<json::array>(std::move(out));
                                });
    if (!r) return r.error();
    return json_reply(*r);
}

api_result<reply> revoke_invitation(app& a, request_ctx& ctx) {
    return revoke(a, ctx.params.get("invitation_id"), "invitation", code::invitation_already_revoked, ctx.now,
                  [&](store::ticket_record const& r) { return domain::invitation_json(a, r, {}, ctx.now); });
}

api_result<reply> delete_invitation(app& a, request_ctx& ctx) {
    std::string const id(ctx.params.get("invitation_id"));
    auto r = txn::write<void>(a, "delete_invitation", txn::on_client_error::abort,
                              [&](store::write_txn& w) -> store::result<api_result<void>> {
                                  auto t = w.tickets().get(id);
                                  if (!t) return t.error();
                                  if (!*t || (*t)->kind != "invitation") return api_result<void>(not_found());
                                  if (auto x = w.tickets().remove(id); !x) return x.error();
                                  return api_result<void>();
                              });
    if (!r) return r.error();
    return backend::deleted_reply("invitation", id);
}

// ---- second factors ----

api_result<reply> disable_user_mfa(app& a, request_ctx& ctx) {
    return edit_factors(a, ctx, "disable_user_mfa", [&](store::user_record& u) -> api_result<json::object> {
        domain::remove_totp(u, ctx.now);
        u.backup_code_digests.clear();
        u.backup_codes_created_at = 0;
        for (auto& i : u.identifications) {
            i.reserved_for_second_factor = false;
            i.default_second_factor = false;
        }
        return json::object{{"user_id", u.id}};
    });
}

api_result<reply> delete_user_totp(app& a, request_ctx& ctx) {
    return edit_factors(a, ctx, "delete_user_totp", [&](store::user_record& u) -> api_result<json::object> {
        domain::remove_totp(u, ctx.now);
        return json::object{{"user_id", u.id}};
    });
}

api_result<reply> delete_user_backup_codes(app& a, request_ctx& ctx) {
    return edit_factors(a, ctx, "delete_user_backup_codes", [&](store::user_record& u) -> api_result<json::object> {
        u.backup_code_digests.clear();
        u.backup_codes_created_at = 0;
        return json::object{{"user_id", u.id}};
    });
}

api_result<reply> verify_user_totp(app& a, request_ctx& ctx) {
    auto c = backend::required_body_string(ctx, "code", 64);
    if (!c) return c.error();
    if (!a.inst.seal_key) return make_error(code::internal_clerk_error);
    std::string const id(ctx.params.get("user_id"));
    // The accepted step (TOTP) or the spent backup code is written even though the reply is the check's answer.
    auto r = txn::write<json::object>(a, "verify_user_totp", txn::on_client_error::abort,
                                      [&](store::write_txn& w) -> api_result<json::object> {
                                          auto u = backend::found(w.users().get(id), "verify_user_totp");
                                          if (!u) return u.error();
                                          if (!u->totp_enabled && u->backup_code_digests.empty())
                                              return param_error(code::strategy_for_user_invalid, "code",
                                                                 "The user has no authenticator app or backup codes.");
                                          store::user_record const before = *u;
                                          std::string type;
                                          if (u->totp_enabled && domain::check_totp(*u, *a.inst.seal_key, *c, ctx.now))
                                              type = "totp";
                                          else if (domain::use_backup_code(*u, a.inst.code_key, *c, ctx.now))
                                              type = "backup_code";
                                          else
                                              return param_error(code::form_code_incorrect, "code");
                                          domain::refresh_second_factor_flags(*u);
                                          if (auto x = w.users().put(*u, &before); !x)
                                              return store_error(x.error(), "verify_user_totp");
                                          return json::object{{"verified", true}, {"code_type", type}};
                                      });
    if (!r) return r.error();
    return json_reply(*r);
}

}  // namespace latchkey::server::api::tickets
