// BAPI email addresses and phone numbers: create, get, update (verified/primary), delete.
#include "server/api/domain/identifications.hpp"
#include "crypto/random.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/backend/handlers.hpp"
#include "server/api/events.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

namespace latchkey::server::api::backend {

namespace {

using domain::email_kind;
using domain::ident_kind;
using domain::phone_kind;
using domain::primary_of;

/// Writes the changed user and announces it (user.updated); a taken value is 422 naming `param` when given.
api_result<void> save(app& a, request_ctx const& ctx, store::write_txn& w, store::user_record const& u,
                      store::user_record const& before, std::string_view param = {}) {
    if (auto r = domain::put_user(w, u, before, "put_user", param); !r) return r;
    if (auto e = events::user_changed(a, w, "user.updated", u, &ctx); !e) return store_error(e.error(), "webhook");
    return {};
}

api_result<reply> create(app& a, request_ctx& ctx, ident_kind const& k) {
    auto user_id = body_string(ctx, "user_id", 64);
    if (!user_id) return user_id.error();
    if (!*user_id || (*user_id)->empty()) return param_error(code::form_param_missing, "user_id");
    auto raw = body_string(ctx, k.kind, 320);
    if (!raw) return raw.error();
    if (!*raw || (*raw)->empty()) return param_error(code::form_param_missing, k.kind);
    auto value = domain::normalize_identification(k, **raw);
    if (!value) return param_error(code::form_param_format_invalid, k.kind);
    auto verified = body_bool(ctx, "verified");
    if (!verified) return verified.error();
    auto primary = body_bool(ctx, "primary");
    if (!primary) return primary.error();
    store::user_record out_user;
    store::identification_record out;
    auto w = txn::write(a, "create_identification", txn::on_client_error::commit,
                        [&](store::write_txn& tx) -> store::result<api_result<void>> {
                            auto u = tx.users().get(**user_id);
                            if (!u) return u.error();
                            if (!*u) return api_result<void>(param_error(code::resource_not_found, "user_id"));
                            auto user = **u;
                            store::user_record before = user;
                            auto& i = domain::add_identification(user, k, *value, ctx.now);
                            i.verification.status = verified->value_or(false) ? "verified" : "unverified";
                            i.verification.strategy = "admin";
                            if (primary->value_or(false) || primary_of(user, k).empty()) primary_of(user, k) = i.id;
                            user.updated_at = ctx.now;
                            if (auto r = save(a, ctx, tx, user, before, k.kind); !r) return api_result<void>(r.error());
                            out = i;
                            out_user = std::move(user);
                            return api_result<void>();
                        });
    if (!w) return w.error();
    return json_reply(domain::identification_json(k, out_user, out));
}

/// Finds the identification named by the path and runs `f(tx, user, index)`; 404 when absent.
template <class F>
api_result<reply> with_identification(app& a, request_ctx& ctx, ident_kind const& k, bool write, F f) {
    std::string id(ctx.params.get(k.bapi_param));
    api_result<reply> result = not_found();
    auto body = [&](store::read_txn const& t, store::write_txn* tx) -> store::result<void> {
        auto uid = t.users().id_by_identification(id);
        if (!uid) return uid.error();
        if (!*uid) return {};
        auto u = t.users().get(**uid);
        if (!u) return u.error();
        if (!*u) return {};
        for (std::size_t i = 0; i < (*u)->identifications.size(); ++i)
            if ((*u)->identifications[i].id == id && (*u)->identifications[i].kind == k.kind) {
                result = f(tx, **u, i);
                return {};
            }
        return {};
    };
    auto r = write ? txn::write(a, "identification", txn::on_client_error::abort,
                                [&](store::write_txn& tx) { return body(tx, &tx); })
                   : txn::read(a, "identification", [&](store::read_txn& t) { return body(t, nullptr); });
    if (!r) return r.error();
    return result;
}

api_result<reply> get(app& a, request_ctx& ctx, ident_kind const& k) {
    return with_identification(a, ctx, k, false, [&](store::write_txn*, store::user_record& u, std::size_t i) {
        return api_result<reply>(json_reply(domain::identification_json(k, u, u.identifications[i])));
    });
}

api_result<reply> update(app& a, request_ctx& ctx, ident_kind const& k) {
    auto verified = body_bool(ctx, "verified");
    if (!verified) return verified.error();
    auto primary = body_bool(ctx, "primary");
    if (!primary) return primary.error();
    return with_identification(a, ctx, k, true,
                               [&](store::write_txn* tx, store::user_record& u, std::size_t i) -> api_result<reply> {
                                   store::user_record before = u;
                                   auto& ident = u.identifications[i];
                                   if (*verified) {
                                       ident.verification.status = **verified ? "verified" : "unverified";
                                       ident.verification.strategy = "admin";
                                   }
                                   if (primary->value_or(false)) primary_of(u, k) = ident.id;
                                   ident.updated_at = u.updated_at = ctx.now;
                                   if (auto r = save(a, ctx, *tx, u, before, k.kind); !r) return r.error();
                                   return json_reply(domain::identification_json(k, u, u.identifications[i]));
                               });
}

api_result<reply> remove(app& a, request_ctx& ctx, ident_kind const& k) {
    return with_identification(a, ctx, k, true,
                               [&](store::write_txn* tx, store::user_record& u, std::size_t i) -> api_result<reply> {
                                   store::user_record before = u;
                                   std::string const id = u.identifications[i].id;
                                   domain::remove_identification(u, k, id, [](auto const&) { return true; });
                                   u.updated_at = ctx.now;
                                   if (auto r = save(a, ctx, *tx, u, before); !r) return r.error();
                                   return deleted_reply(k.kind, id);
                               });
}

}  // namespace

api_result<reply> create_email_address(app& a, request_ctx& ctx) { return create(a, ctx, email_kind); }

api_result<reply> get_email_address(app& a, request_ctx& ctx) { return get(a, ctx, email_kind); }

api_result<reply> update_email_address(app& a, request_ctx& ctx) { return update(a, ctx, email_kind); }

api_result<reply> delete_email_address(app& a, request_ctx& ctx) { return remove(a, ctx, email_kind); }

api_result<reply> create_phone_number(app& a, request_ctx& ctx) { return create(a, ctx, phone_kind); }

api_result<reply> get_phone_number(app& a, request_ctx& ctx) { return get(a, ctx, phone_kind); }

api_result<reply> update_phone_number(app& a, request_ctx& ctx) { return update(a, ctx, phone_kind); }

api_result<reply> delete_phone_number(app& a, request_ctx& ctx) { return remove(a, ctx, phone_kind); }

}  // namespace latchkey::server::api::backend
