// The signed-in user's passkeys (FAPI /v1/me/passkeys, issue 14): registration (POST creates the passkey with
// the WebAuthn creation options in its verification's nonce; attempt_verification takes the browser's
// attestation), read, rename and delete. Every reply piggy-backs the client, so clerk-js sees user.passkeys
// change. The WebAuthn checks are in domain/passkeys.
#include "server/api/frontend/handlers.hpp"

#include "server/api/domain/passkeys.hpp"
#include "server/api/events.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <string>

namespace latchkey::server::api::frontend {

namespace json = boost::json;
namespace pk = domain::passkeys;

namespace {

/// The request's live session and its user (the rule of /v1/me: 401 authentication_invalid otherwise).
using current = current_user;

api_result<current> load_current(app& a, request_ctx const& ctx, store::read_txn const& t) {
    return load_current_user(a, ctx, t);
}

std::optional<api_error> need_passkeys(app const& a) {
    if (pk::enabled(a)) return std::nullopt;
    auto e = make_error(code::strategy_for_user_invalid);
    e.long_message = "Passkeys are not enabled on this instance.";
    return e;
}

store::passkey_record* find(store::user_record& u, std::string_view id) {
    auto it = std::find_if(u.passkeys.begin(), u.passkeys.end(), [&](auto const& p) { return p.id == id; });
    return it == u.passkeys.end() ? nullptr : &*it;
}

std::string path_id(request_ctx const& ctx) { return std::string(ctx.params.get("passkey_id")); }

/// Loads the current user in one write txn and applies `edit(user, spent) -> api_result<json::object>`; a
/// success writes the user (newer updated_at, user.updated event). A client error writes nothing unless the edit
/// set `spent` (a refused credential spends its challenge: that must stay spent).
template <class F>
api_result<json::object> edit_user(app& a, request_ctx const& ctx, std::string_view what, F&& edit) {
    return txn::write<json::object>(a, what, txn::on_client_error::commit,
                                    [&](store::write_txn& w) -> api_result<json::object> {
                                        auto m = load_current(a, ctx, w);
                                        if (!m) return m.error();
                                        store::user_record const previous = m->user;
                                        bool spent = false;
                                        auto r = edit(m->user, spent);
                                        if (!r && !spent) return r.error();
                                        m->user.updated_at = ctx.now;
                                        if (auto p = w.users().put(m->user, &previous); !p)
                                            return store_failure(p.error(), "put_user");
                                        if (r)
                                            if (auto e = events::user_changed(a, w, "user.updated", m->user, &ctx); !e)
                                                return store_failure(e.error(), "webhook");
                                        return r;
                                    });
}

}  // namespace

api_result<reply> create_passkey(app& a, request_ctx& ctx) {
    if (auto e = need_passkeys(a)) return *e;
    auto o = edit_user(a, ctx, "create_passkey", [&](store::user_record& u, bool&) -> api_result<json::object> {
        // Unfinished registrations are dropped: only the newest may still be completed.
        std::erase_if(u.passkeys, [](auto const& p) { return p.verification.status != "verified"; });
        if (u.passkeys.size() >= pk::max_per_user) return make_error(code::passkey_quota_exceeded);
        store::passkey_record p;
        pk::start_registration(a, u, p, ctx.now);
        u.passkeys.push_back(p);
        return pk::passkey_json(p);
    });
    if (!o) return o.error();
    return envelope(a, ctx, std::move(*o));
}

api_result<reply> attempt_passkey_verification(app& a, request_ctx& ctx) {
    if (auto e = need_passkeys(a)) return *e;
    auto const strategy = field(ctx, "strategy").value_or("passkey");
    if (strategy != "passkey") return param_error(code::form_param_value_invalid, "strategy");
    auto const credential = field(ctx, "public_key_credential").value_or("");
    if (credential.empty()) return param_error(code::form_param_missing, "public_key_credential");
    if (auto limited = rate_limit_ip(a, ctx, "me_passkey", "attempt")) return *limited;
    auto const id = path_id(ctx);
    auto o = edit_user(a, ctx, "verify_passkey", [&](store::user_record& u, bool& spent) -> api_result<json::object> {
        auto* p = find(u, id);
        if (p == nullptr) return make_error(code::resource_not_found);
        if (p->verification.status == "verified") return make_error(code::verification_already_verified);
        store::user_record const snapshot = u;
        if (auto r = pk::finish_registration(a, snapshot, *p, credential, ctx.now); !r) {
            spent = p->verification.status == "failed";
            return r.error();
        }
        return pk::passkey_json(*p);
    });
    if (!o) return o.error();
    return envelope(a, ctx, std::move(*o));
}

api_result<reply> get_passkey(app& a, request_ctx& ctx) {
    auto const id = path_id(ctx);
    auto o = txn::read(a, "get_passkey", [&](store::read_txn& t) -> api_result<json::object> {
        auto m = load_current(a, ctx, t);
        if (!m) return m.error();
        auto* p = find(m->user, id);
        if (p == nullptr) return make_error(code::resource_not_found);
        return pk::passkey_json(*p);
    });
    if (!o) return o.error();
    return envelope(a, ctx, std::move(*o));
}

api_result<reply> update_passkey(app& a, request_ctx& ctx) {
    auto const id = path_id(ctx);
    auto const name = field(ctx, "name");
    if (name && name->size() > 256) return param_error(code::form_param_max_length_exceeded, "name");
    auto o = edit_user(a, ctx, "update_passkey", [&](store::user_record& u, bool&) -> api_result<json::object> {
        auto* p = find(u, id);
        if (p == nullptr || p->verification.status != "verified") return make_error(code::resource_not_found);
        if (name) {
            if (name->empty()) return param_error(code::form_param_value_invalid, "name");
            p->name = *name;
            p->updated_at = ctx.now;
        }
        return pk::passkey_json(*p);
    });
    if (!o) return o.error();
    return envelope(a, ctx, std::move(*o));
}

api_result<reply> delete_passkey(app& a, request_ctx& ctx) {
    auto const id = path_id(ctx);
    auto o = edit_user(a, ctx, "delete_passkey", [&](store::user_record& u, bool&) -> api_result<json::object> {
        if (find(u, id) == nullptr) return make_error(code::resource_not_found);
        std::erase_if(u.passkeys, [&](auto const& p) { return p.id == id; });
        json::object d;
        d["object"] = "passkey";
        d["id"] = id;
        d["deleted"] = true;
        return d;
    });
    if (!o) return o.error();
    return envelope(a, ctx, std::move(*o));
}

}  // namespace latchkey::server::api::frontend
