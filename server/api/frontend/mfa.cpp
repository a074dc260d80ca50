// The signed-in user's second factors (FAPI /v1/me/totp, /v1/me/totp/attempt_verification, /v1/me/backup_codes):
// TOTP enrolment (a secret sealed at rest, shown once with its otpauth:// URI, enabled by its first code), its
// removal, and backup codes (10 single-use codes shown once, kept as HMAC digests). Every reply piggy-backs the
// client, so clerk-js sees totp_enabled / backup_code_enabled / two_factor_enabled change with a newer updated_at.
#include "server/api/frontend/handlers.hpp"

#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "crypto/totp.hpp"
#include "server/api/domain/mfa.hpp"
#include "server/api/events.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/frontend/user_edit.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

namespace {

std::optional<api_error> need_factor(app const& a, std::string_view strategy) {
    if (domain::second_factor_enabled(a, strategy)) return std::nullopt;
    auto e = make_error(code::strategy_for_user_invalid);
    e.long_message = std::string(strategy) + " is not enabled as a second factor on this instance.";
    return e;
}

json::object backup_codes_json(store::user_record const& u, std::vector<std::string> const& codes) {
    json::object o;
    o["object"] = "backup_code";
    o["id"] = "bcode_" + u.id.substr(u.id.find('_') + 1);
    json::array arr;
    for (auto const& c : codes) arr.push_back(json::string(c));
    o["codes"] = std::move(arr);
    o["created_at"] = u.backup_codes_created_at;
    o["updated_at"] = u.backup_codes_created_at;
    return o;
}

}  // namespace

api_result<reply> create_totp(app& a, request_ctx& ctx) {
    if (auto e = require_current_user(a, ctx)) return *e;
    if (auto e = need_factor(a, "totp")) return *e;
    if (!a.inst.seal_key) return make_error(code::internal_clerk_error);
    std::string secret(crypto::totp_secret_bytes, '\0');
    crypto::random_bytes({reinterpret_cast<unsigned char*>(secret.data()), secret.size()});
    auto o = edit_current_user(a, ctx, "create_totp",
                               [&](current_user& m, store::write_txn&, bool&) -> api_result<json::value> {
                                   // A verified TOTP stays until it is deleted; an unverified one is replaced by the
                                   // new secret.
                                   if (m.user.totp_enabled) return make_error(code::totp_already_enabled);
                                   domain::set_totp_secret(m.user, *a.inst.seal_key, secret, false, ctx.now);
                                   return domain::totp_json(a, m.user, secret, nullptr);
                               });
    ::OPENSSL_cleanse(secret.data(), secret.size());
    return o;
}

api_result<reply> attempt_totp_verification(app& a, request_ctx& ctx) {
    auto const code_value = field(ctx, "code").value_or("");
    if (code_value.empty()) return param_error(code::form_param_missing, "code");
    if (!a.inst.seal_key) return make_error(code::internal_clerk_error);
    if (auto limited = rate_limit_ip(a, ctx, "me_totp", "attempt")) return *limited;
    return edit_current_user(
        a, ctx, "verify_totp", [&](current_user& m, store::write_txn&, bool&) -> api_result<json::value> {
            auto& u = m.user;
            if (u.totp_secret_sealed.empty()) return make_error(code::resource_not_found);
            if (u.totp_enabled) return make_error(code::verification_already_verified);
            if (!domain::check_totp(u, *a.inst.seal_key, code_value, ctx.now))
                return param_error(code::form_code_incorrect, "code");
            u.totp_enabled = true;
            u.totp_updated_at = ctx.now;
            domain::refresh_second_factor_flags(u);
            // The first second factor comes with a set of backup codes when the instance offers them.
            std::vector<std::string> codes;
            bool const issue = domain::second_factor_enabled(a, "backup_code") && u.backup_code_digests.empty();
            if (issue) codes = domain::create_backup_codes(u, a.inst.code_key, ctx.now);
            return domain::totp_json(a, u, {}, issue ? &codes : nullptr);
        });
}

api_result<reply> delete_totp(app& a, request_ctx& ctx) {
    return edit_current_user(a, ctx, "delete_totp",
                             [&](current_user& m, store::write_txn&, bool&) -> api_result<json::value> {
                                 if (m.user.totp_secret_sealed.empty()) return make_error(code::resource_not_found);
                                 json::object d;
                                 d["object"] = "totp";
                                 d["id"] = m.user.totp_id;
                                 d["deleted"] = true;
                                 domain::remove_totp(m.user, ctx.now);
                                 // Backup codes only back up another factor: without one they go too.
                                 if (!m.user.two_factor_enabled) {
                                     m.user.backup_code_digests.clear();
                                     domain::refresh_second_factor_flags(m.user);
                                 }
                                 return d;
                             });
}

api_result<reply> create_backup_codes(app& a, request_ctx& ctx) {
    if (auto e = require_current_user(a, ctx)) return *e;
    if (auto e = need_factor(a, "backup_code")) return *e;
    return edit_current_user(
        a, ctx, "create_backup_codes", [&](current_user& m, store::write_txn&, bool&) -> api_result<json::value> {
            if (!m.user.two_factor_enabled) {
                auto e = make_error(code::strategy_for_user_invalid);
                e.long_message = "Backup codes need another second factor (an authenticator app or SMS) first.";
                return e;
            }
            auto codes = domain::create_backup_codes(m.user, a.inst.code_key, ctx.now);
            return backup_codes_json(m.user, codes);
        });
}

}  // namespace latchkey::server::api::frontend
