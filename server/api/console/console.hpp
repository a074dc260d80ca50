#pragma once
// The admin console (issue 23), served by the backend listener only: operator sign-in (one-time links printed by
// `latchkey console-link`, or a name, password and TOTP code), console sessions (an HttpOnly SameSite=Strict
// cookie; idle and absolute timeouts), CSRF defence on every write (a per-session token echoed in a header and
// the Origin checked against the listener's own), operator roles checked per route, and the audit log.
//
// The console is a client of the Backend API itself: dispatch accepts a console session in place of the secret
// key on the BAPI's routes (`authorize`), and records each write made that way in the audit log (`audit_request`).
#include "server/api/context.hpp"
#include "store/console.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::server::api::console {

inline constexpr std::string_view cookie_name = "__latchkey_console";
inline constexpr std::string_view csrf_header = "X-Latchkey-Csrf";
inline constexpr std::int64_t link_ttl_ms = 5 * 60 * 1000;             ///< a console link lives 5 minutes
inline constexpr std::int64_t idle_timeout_ms = 30 * 60 * 1000;        ///< a session idle this long has ended
inline constexpr std::int64_t absolute_timeout_ms = 12 * 3600 * 1000;  ///< and any session after 12 hours
inline constexpr std::int64_t touch_interval_ms = 60 * 1000;           ///< last_active_at is written at most this often
inline constexpr std::int32_t max_failed_sign_ins = 5;                 ///< failed password/TOTP tries before a lockout
inline constexpr std::int64_t lockout_ms = 15 * 60 * 1000;
/// The role of a removed operator: kept as a tombstone (the audit log names them; the name is not reused), it
/// signs in by no means and its sessions no longer authorise.
inline constexpr std::string_view removed_role = "removed";

/// The right a request needs: "read" for GET/HEAD, "impersonate" for actor tokens, "operators" for the operator
/// pages, "export" for the users download and "keys" for rotating/retiring signing keys (admins only), else "write".
std::string_view required_right(http::verb method, std::string_view pattern);
/// Whether `role` ("admin", "support", "viewer") grants `right`.
bool role_allows(std::string_view role, std::string_view right);
/// True for a known role name.
bool valid_role(std::string_view role);

/// True when a BAPI request is to be authorised by a console session: it carries the console cookie and no
/// Authorization header.
bool is_console_request(request_ctx const& ctx);

/// Authorises a request by its console session: a live session (not ended, not idle past idle_timeout_ms, not
/// older than absolute_timeout_ms) of an operator whose role grants `required_right(method, pattern)`; for a
/// write, the CSRF header equal to the session's token and an Origin equal to the listener's own. Fills
/// ctx.console_operator_* on success; refreshes last_active_at at most once a touch_interval_ms.
api_result<void> authorize(app& a, request_ctx& ctx, std::string_view pattern);

/// Records a console write in the audit log (called by dispatch once the answer is known). GETs are not
/// recorded.
void audit_request(app& a, request_ctx const& ctx, std::string_view pattern, unsigned status);

/// Appends one audit entry (its own write txn); failures are logged, never surfaced.
void audit(app& a, std::string_view operator_id, std::string_view operator_name, std::string_view action,
           std::string_view target, std::string_view ip, unsigned status, std::string_view detail = {});

// ---- for the CLI (`latchkey operators`, `latchkey console-link`) and tests: plain store work ----

/// Creates an operator (password hashed with argon2id here: call it off the I/O threads). A non-empty
/// `totp_secret` (base32) enables the second factor. Errors: a taken name (errc::key_exists).
store::result<store::operator_record> add_operator(store::database& db, std::string_view name, std::string_view role,
                                                   std::string_view password, std::string_view totp_secret,
                                                   std::int64_t now_ms);

/// A one-time sign-in link for the operator `name` (created with role admin when it does not exist yet and
/// `name` is "owner"). Returns the token (the URL's secret); the store keeps its digest only.
store::result<std::string> create_link(store::database& db, std::string_view name, std::int64_t now_ms,
                                       std::int64_t ttl_ms = link_ttl_ms);

/// The operator record as the console shows it (no secrets).
boost::json::object operator_json(store::operator_record const& o);
/// An audit entry as JSON.
boost::json::object audit_json(store::audit_record const& r);

/// A new TOTP secret (base32), for `latchkey operators add --totp` and the console's operator page.
std::string new_totp_secret();
/// operator_json plus, when `secret` is not empty, the TOTP secret and its otpauth URI (shown once).
boost::json::object operator_with_secret(store::operator_record const& o, std::string const& secret);

/// A console session and its operator.
struct login {
    store::console_session_record session;
    store::operator_record op;
};
/// The session the cookie's token names and its operator: 401 console_session_invalid when there is none or the
/// operator was removed. Whether the session is still live is authorize's question.
api_result<login> find_login(app& a, std::string_view token);

/// The query's `limit`: `fallback` when absent, else a whole number in 1..max (422 form_param_value_invalid).
api_result<std::size_t> limit_param(request_ctx const& ctx, std::size_t fallback, std::size_t max);

}  // namespace latchkey::server::api::console
