#pragma once
// Shared by the sign-in and sign-up flows: finding the attempt a request names.
#include "server/api/frontend/common.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace latchkey::server::api::frontend {

/// The attempt record named by the route parameter `param` together with the request's client; 404
/// unless the attempt exists and belongs to this browser's client (an attempt id alone grants nothing).
/// `get(t, id)` is the store getter for the record type (get_sign_in, get_sign_up).
template <class Getter>
auto load_owned_attempt(app& a, request_ctx const& ctx, store::read_txn const& t, std::string_view param, Getter get,
                        char const* what)
    -> api_result<std::pair<store::client_record, typename std::decay_t<decltype(*get(t, param))>::value_type>> {
    auto c = current_client(ctx, t);
    if (!c) return make_error(code::resource_not_found);
    auto s = get(t, ctx.params.get(param));
    if (!s) return store_failure(s.error(), what);
    if (!*s || (*s)->client_id != c->id) return make_error(code::resource_not_found);
    return std::pair{std::move(*c), std::move(**s)};
}

/// Registers a failed factor (sign-in, reverification): at max_attempts the user is locked for the configured time.
void count_failure(app const& a, request_ctx const& ctx, store::user_record& u);

/// A factor's Verification (Stubs.Verification.Password / .OTP / passkey / web3), or null when it was never started.
/// A password not yet tried shows attempts null when `unattempted_password_null` (sign-in), else 0 (reverification).
boost::json::value factor_verification(store::verification_record const& v, bool unattempted_password_null = true);

/// An identification's value as a factor shows it: "j***@x.com", "+1*******99".
std::string safe_identifier(std::string_view kind, std::string_view value);

/// A one-time-code factor offered on `i` (sign-in and reverification's supported_first_factors / second factors):
/// {strategy, safe_identifier, email_address_id | phone_number_id, primary}.
boost::json::object code_factor(std::string_view strategy, store::identification_record const& i, bool primary);

}  // namespace latchkey::server::api::frontend
