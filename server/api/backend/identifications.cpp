// BAPI email addresses and phone numbers: create, get, update (verified/primary), delete.
#include "crypto/random.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/backend/handlers.hpp"
#include "server/api/domain/identifiers.hpp"
#include "server/api/events.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

namespace latchkey::server::api::backend {

namespace json = boost::json;

namespace {

struct kind_info {
    char const* kind;      // identification kind
    char const* field;     // body field with the value
    char const* id_param;  // path capture
    char const* object;    // wire object name
};

constexpr kind_info email_kind{"email_address", "email_address", "email_address_id", "email_address"};
constexpr kind_info phone_kind{"phone_number", "phone_number", "phone_number_id", "phone_number"};

json::object render(kind_info const& k, store::user_record const& u, store::identification_record const& i) {
    return std::string_view(k.kind) == "email_address" ? views::email_address(u, i) : views::phone_number(u, i);
}

std::string& primary_of(kind_info const& k, store::user_record& u) {
    return std::string_view(k.kind) == "email_address" ? u.primary_email_address_id : u.primary_phone_number_id;
}

api_result<reply> create(app& a, request_ctx& ctx, kind_info const& k) {
    auto user_id = body_string(ctx, "user_id", 64);
    if (!user_id) return user_id.error();
    if (!*user_id || (*user_id)->empty()) return param_error(code::form_param_missing, "user_id");
    auto raw = body_string(ctx, k.field, 320);
    if (!raw) return raw.error();
    if (!*raw || (*raw)->empty()) return param_error(code::form_param_missing, k.field);
    auto value =
        std::string_view(k.kind) == "email_address" ? domain::normalize_email(**raw) : domain::normalize_phone(**raw);
    if (!value) return param_error(code::form_param_format_invalid, k.field);
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
                            store::identification_record i;
                            i.id = crypto::new_id("idn");
                            i.kind = k.kind;
                            i.value = *value;
                            i.verification.status = verified->value_or(false) ? "verified" : "unverified";
                            i.verification.strategy = "admin";
                            i.created_at = i.updated_at = ctx.now;
                            user.identifications.push_back(i);
                            if (primary->value_or(false) || primary_of(k, user).empty()) primary_of(k, user) = i.id;
                            user.updated_at = ctx.now;
                            store::unique_field conflict = store::unique_field::none;
                            if (auto r = tx.users().put(user, &before, &conflict); !r) {
                                if (r.error() == store::make_error_code(store::errc::key_exists))
                                    return api_result<void>(store_error(r.error(), "put_user", k.field));
                                return r.error();
                            }
                            if (auto e = events::user_changed(a, tx, "user.updated", user, &ctx); !e) return e.error();
                            out_user = std::move(user);
                            out = std::move(i);
                            return api_result<void>();
                        });
    if (!w) return w.error();
    return json_reply(render(k, out_user, out));
}

/// Finds the identification named by the path and runs `f(tx, user, index)`; 404 when absent.
template <class F>
api_result<reply> with_identification(app& a, request_ctx& ctx, kind_info const& k, bool write, F f) {
    std::string id(ctx.params.get(k.id_param));
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

api_result<reply> get(app& a, request_ctx& ctx, kind_info const& k) {
    return with_identification(a, ctx, k, false, [&](store::write_txn*, store::user_record& u, std::size_t i) {
        return api_result<reply>(json_reply(render(k, u, u.identifications[i])));
    });
}

api_result<reply> update(app& a, request_ctx& ctx, kind_info const& k) {
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
                                   if (primary->value_or(false)) primary_of(k, u) = ident.id;
                                   ident.updated_at = u.updated_at = ctx.now;
                                   if (auto r = tx->users().put(u, &before); !r)
                                       return store_error(r.error(), "put_user", k.field);
                                   if (auto e = events::user_changed(a, *tx, "user.updated", u, &ctx); !e)
                                       return store_error(e.error(), "webhook");
                                   return json_reply(render(k, u, u.identifications[i]));
                               });
}

api_result<reply> remove(app& a, request_ctx& ctx, kind_info const& k) {
    return with_identification(a, ctx, k, true,
                               [&](store::write_txn* tx, store::user_record& u, std::size_t i) -> api_result<reply> {
                                   store::user_record before = u;
                                   std::string id = u.identifications[i].id;
                                   u.identifications.erase(u.identifications.begin() + static_cast<long>(i));
                                   if (primary_of(k, u) == id) {
                                       primary_of(k, u).clear();
                                       for (auto const& other : u.identifications)
                                           if (other.kind == k.kind) {
                                               primary_of(k, u) = other.id;
                                               break;
                                           }
                                   }
                                   u.updated_at = ctx.now;
                                   if (auto r = tx->users().put(u, &before); !r)
                                       return store_error(r.error(), "put_user");
                                   if (auto e = events::user_changed(a, *tx, "user.updated", u, &ctx); !e)
                                       return store_error(e.error(), "webhook");
                                   return deleted_reply(k.object, id);
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
