// The signed-in user's passkeys (FAPI /v1/me/passkeys, issue 14): registration (POST creates the passkey with
// the WebAuthn creation options in its verification's nonce; attempt_verification takes the browser's
// attestation), read, rename and delete. Every reply piggy-backs the client, so clerk-js sees user.passkeys
// change. The WebAuthn checks are in domain/passkeys.
#include "server/api/frontend/handlers.hpp"

#include "server/api/domain/passkeys.hpp"
#include "server/api/events.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/frontend/user_edit.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <string>

namespace latchkey::server::api::frontend {

namespace json = boost::json;
namespace pk = domain::passkeys;

namespace {

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

}  // namespace

api_result<reply> create_passkey(app& a, request_ctx& ctx) {
    if (auto e = need_passkeys(a)) return *e;
    return edit_current_user(
        a, ctx, "create_passkey", [&](current_user& m, store::write_txn&, bool&) -> api_result<json::value> {
            auto& u = m.user;
            // Unfinished registrations are dropped: only the newest may still be completed.
            std::erase_if(u.passkeys, [](auto const& p) { return p.verification.status != "verified"; });
            if (u.passkeys.size() >= pk::max_per_user) return make_error(code::passkey_quota_exceeded);
            store::passkey_record p;
            pk::start_registration(a, u, p, ctx.now);
            u.passkeys.push_back(p);
            return pk::passkey_json(p);
        });
}

api_result<reply> attempt_passkey_verification(app& a, request_ctx& ctx) {
    if (auto e = need_passkeys(a)) return *e;
    auto const strategy = field(ctx, "strategy").value_or("passkey");
    if (strategy != "passkey") return param_error(code::form_param_value_invalid, "strategy");
    auto const credential = field(ctx, "public_key_credential").value_or("");
    if (credential.empty()) return param_error(code::form_param_missing, "public_key_credential");
    if (auto limited = rate_limit_ip(a, ctx, "me_passkey", "attempt")) return *limited;
    auto const id = path_id(ctx);
    return edit_current_user(a, ctx, "verify_passkey",
                             [&](current_user& m, store::write_txn&, bool& spent) -> api_result<json::value> {
                                 auto& u = m.user;
                                 auto* p = find(u, id);
                                 if (p == nullptr) return make_error(code::resource_not_found);
                                 if (p->verification.status == "verified")
                                     return make_error(code::verification_already_verified);
                                 store::user_record const snapshot = u;
                                 if (auto r = pk::finish_registration(a, snapshot, *p, credential, ctx.now); !r) {
                                     spent = p->verification.status == "failed";
                                     return r.error();
                                 }
                                 return pk::passkey_json(*p);
                             });
}

api_result<reply> get_passkey(app& a, request_ctx& ctx) {
    auto const id = path_id(ctx);
    return view_user_item(
        a, ctx, "get_passkey", [&](store::user_record& u) { return find(u, id); },
        [](store::passkey_record const& p) { return pk::passkey_json(p); });
}

api_result<reply> update_passkey(app& a, request_ctx& ctx) {
    auto const id = path_id(ctx);
    auto const name = field(ctx, "name");
    if (name && name->size() > 256) return param_error(code::form_param_max_length_exceeded, "name");
    return edit_current_user(a, ctx, "update_passkey",
                             [&](current_user& m, store::write_txn&, bool&) -> api_result<json::value> {
                                 auto& u = m.user;
                                 auto* p = find(u, id);
                                 if (p == nullptr || p->verification.status != "verified")
                                     return make_error(code::resource_not_found);
                                 if (name) {
                                     if (name->empty()) return param_error(code::form_param_value_invalid, "name");
                                     p->name = *name;
                                     p->updated_at = ctx.now;
                                 }
                                 return pk::passkey_json(*p);
                             });
}

api_result<reply> delete_passkey(app& a, request_ctx& ctx) {
    auto const id = path_id(ctx);
    return edit_current_user(a, ctx, "delete_passkey",
                             [&](current_user& m, store::write_txn&, bool&) -> api_result<json::value> {
                                 auto& u = m.user;
                                 if (find(u, id) == nullptr) return make_error(code::resource_not_found);
                                 std::erase_if(u.passkeys, [&](auto const& p) { return p.id == id; });
                                 json::object d;
                                 d["object"] = "passkey";
                                 d["id"] = id;
                                 d["deleted"] = true;
                                 return d;
                             });
}

}  // namespace latchkey::server::api::frontend
