#pragma once
// Email addresses and phone numbers, the identifications a user holds several of: THE shapes FAPI /v1/me and BAPI
// /v1/email_addresses, /v1/phone_numbers share — the kind, its primary, its JSON, the normalised value, a new record,
// removing one (its primary passing on), and the user's put that names a taken unique field.
#include "crypto/random.hpp"
#include "server/api/domain/identifiers.hpp"
#include "server/api/error.hpp"
#include "server/api/views.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace latchkey::server::api::domain {

/// One kind of identification and the names it goes by.
struct ident_kind {
    std::string_view kind;        ///< identification kind, form/body field and wire object
    std::string_view noun;        ///< for messages
    std::string_view plural;      ///< for messages
    std::string_view strategy;    ///< its one-time-code strategy
    std::string_view channel;     ///< the channel its codes go out on
    std::string_view fapi_param;  ///< the FAPI route capture with its id
    std::string_view bapi_param;  ///< the BAPI route capture with its id
};

inline constexpr ident_kind email_kind{"email_address", "email address", "email addresses", "email_code",
                                       "email",         "email_id",      "email_address_id"};
inline constexpr ident_kind phone_kind{"phone_number", "phone number",    "phone numbers",  "phone_code",
                                       "sms",          "phone_number_id", "phone_number_id"};

inline bool is_email(ident_kind const& k) { return k.kind == email_kind.kind; }

/// The user's primary of that kind (its id, or "").
inline std::string& primary_of(store::user_record& u, ident_kind const& k) {
    return is_email(k) ? u.primary_email_address_id : u.primary_phone_number_id;
}

/// The EmailAddress / PhoneNumber object (views).
inline boost::json::object identification_json(ident_kind const& k, store::user_record const& u,
                                               store::identification_record const& i) {
    return is_email(k) ? views::email_address(u, i) : views::phone_number(u, i);
}

/// The value as stored (normalize_email / normalize_phone); nothing when it is not one.
inline std::optional<std::string> normalize_identification(ident_kind const& k, std::string_view raw) {
    return is_email(k) ? normalize_email(raw) : normalize_phone(raw);
}

/// Adds a new identification of kind `k` holding `value` to `u` and returns it.
inline store::identification_record& add_identification(store::user_record& u, ident_kind const& k, std::string value,
                                                        std::int64_t now_ms) {
    store::identification_record i;
    i.id = crypto::new_id("idn");
    i.kind = std::string(k.kind);
    i.value = std::move(value);
    i.created_at = i.updated_at = now_ms;
    u.identifications.push_back(std::move(i));
    return u.identifications.back();
}

/// Removes `u`'s identification `id` of kind `k` (false when it has none). When it was the primary, the first
/// remaining one of that kind that `may_be_primary(identification)` accepts takes over (or none is left).
template <class MayBePrimary>
bool remove_identification(store::user_record& u, ident_kind const& k, std::string_view id,
                           MayBePrimary&& may_be_primary) {
    auto it = std::find_if(u.identifications.begin(), u.identifications.end(),
                           [&](auto const& i) { return i.id == id && i.kind == k.kind; });
    if (it == u.identifications.end()) return false;
    std::string const removed = it->id;
    u.identifications.erase(it);
    std::string& primary = primary_of(u, k);
    if (primary == removed) {
        primary.clear();
        for (auto const& i : u.identifications)
            if (i.kind == k.kind && may_be_primary(i)) {
                primary = i.id;
                break;
            }
    }
    return true;
}

/// Writes `u` (was `previous`). A taken unique field is 422 form_identifier_exists: naming `param` when given (with
/// store_error's message), else the field that conflicted (with "That ... is taken"); any other store error is
/// store_error(ec, what).
inline api_result<void> put_user(store::write_txn& w, store::user_record const& u, store::user_record const& previous,
                                 std::string_view what, std::string_view param = {}) {
    store::unique_field conflict = store::unique_field::none;
    auto r = w.users().put(u, &previous, &conflict);
    if (r) return {};
    if (r.error() != store::make_error_code(store::errc::key_exists) || !param.empty())
        return store_error(r.error(), what, param);
    if (conflict != store::unique_field::email_address && conflict != store::unique_field::phone_number &&
        conflict != store::unique_field::username)
        return make_error(code::form_identifier_exists);
    auto const name = store::param_name(conflict);
    std::string field(name);
    std::replace(field.begin(), field.end(), '_', ' ');  // "email address", "phone number", "username"
    return param_error(code::form_identifier_exists, name, "That " + field + " is taken. Please try another.");
}

/// The Verification object of a signed challenge (a passkey's WebAuthn ceremony, a web3 wallet's message) up to its
/// challenge: object, status, `strategy`, attempts and expire_at (null while 0). The caller adds the challenge
/// fields and "error".
inline boost::json::object challenge_verification(store::verification_record const& v, std::string_view strategy) {
    boost::json::object j;
    j["object"] = "verification";
    j["status"] = v.status;
    j["strategy"] = strategy;
    j["attempts"] = v.attempts == 0 ? boost::json::value(nullptr) : boost::json::value(v.attempts);
    j["expire_at"] = v.expire_at == 0 ? boost::json::value(nullptr) : boost::json::value(v.expire_at);
    return j;
}

}  // namespace latchkey::server::api::domain
