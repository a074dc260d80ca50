#pragma once
// Second factors on the user record (issue 14): the TOTP secret (sealed at rest), its single-use step, backup
// codes (kept as HMAC digests) and the derived flags Clerk renders (totp_enabled, backup_code_enabled,
// two_factor_enabled). The FAPI handlers (/v1/me/totp, /v1/me/backup_codes, sign-in second factors, session
// reverification) and the importer all go through these functions; none of them does I/O, and the ones taking a
// write_txn run inside the caller's txn.
#include "crypto/seal.hpp"
#include "server/api/app.hpp"
#include "server/api/error.hpp"
#include "store/records.hpp"
#include "store/store.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server::api::domain {

/// Number of backup codes one `create_backup_codes` issues (Clerk: 10).
inline constexpr std::size_t backup_code_count = 10;

/// Seals `secret` (raw bytes) as u's TOTP secret: a new totp_id, the used-step reset, `verified` deciding whether
/// it is enabled now (an import, or the code check already done) or awaits its first code (enrolment).
void set_totp_secret(store::user_record& u, crypto::seal_key const& key, std::string_view secret, bool verified,
                     std::int64_t now_ms);

/// u's TOTP secret (raw bytes), or nothing when u has none or it does not open under `key` (logged by the caller).
std::optional<std::string> totp_secret(store::user_record const& u, crypto::seal_key const& key);

/// Checks a TOTP code for u at `now_ms` (±1 step, each step once). On success records the step (single use) and
/// returns true; the caller writes u. A user without a secret never matches.
bool check_totp(store::user_record& u, crypto::seal_key const& key, std::string_view code, std::int64_t now_ms);

/// Removes u's TOTP secret (enabled or pending).
void remove_totp(store::user_record& u, std::int64_t now_ms);

/// Issues `backup_code_count` fresh codes (replacing any earlier set) and returns them in clear: the only time
/// they are shown. Stored as HMAC-SHA-256 under `code_key`.
std::vector<std::string> create_backup_codes(store::user_record& u, std::string_view code_key, std::int64_t now_ms);

/// Spends a backup code (case and spaces ignored): true and the code removed when it is one of u's unused codes.
/// Every stored digest is compared in constant time.
bool use_backup_code(store::user_record& u, std::string_view code_key, std::string_view code, std::int64_t now_ms);

/// The phone numbers of u usable as an SMS second factor (verified and reserved for it).
bool has_phone_second_factor(store::user_record const& u);

/// Recomputes the rendered flags from what u holds: totp_enabled (a verified secret), backup_code_enabled (unused
/// codes left), two_factor_enabled (TOTP or an SMS second factor). Call after any change to u's factors.
void refresh_second_factor_flags(store::user_record& u);

/// Whether the instance offers `strategy` ("totp", "phone_code", "backup_code") as a second factor.
bool second_factor_enabled(app const& a, std::string_view strategy);

/// The second factors u can use now, in the order the UI prefers them (Clerk's SignInFactor shape):
/// {"strategy":"totp"}, one {"strategy":"phone_code","phone_number_id","safe_identifier","default"} per phone
/// number reserved for it, {"strategy":"backup_code"} — each only when the instance enables it.
boost::json::array supported_second_factors(app const& a, store::user_record const& u);

/// Whether `strategy` is one of u's supported second factors (and, for phone_code, `phone_number_id` one of its
/// reserved numbers, or empty for the default one). Returns the phone identification for phone_code.
store::identification_record const* second_factor_phone(store::user_record const& u, std::string_view phone_number_id);

/// The TOTP resource Clerk renders ({object:"totp",id,secret,uri,verified,backup_codes,created_at,updated_at}).
/// `secret` (raw bytes) is shown only at creation, so pass "" afterwards (secret and uri null).
boost::json::object totp_json(app const& a, store::user_record const& u, std::string_view secret,
                              std::vector<std::string> const* backup_codes);

/// Step-up gate for sensitive actions (delete the account, change the password): with
/// cfg.reverification_minutes set, the session must have verified a factor within that many minutes — the
/// second factor when the user has one, else the first — or 403 session_reverification_required (clerk-js's
/// useReverification then runs /v1/client/sessions/{id}/verify and retries).
std::optional<api_error> require_recent_verification(app const& a, store::session_record const& s,
                                                     store::user_record const& u, std::int64_t now_ms);

/// THE entry for the importer: inside the caller's write txn, enrols `base32_secret` (a TOTP secret as Clerk
/// exports it: RFC 4648 base32, any case, padding optional) as the verified TOTP of user `user_id`, replacing any
/// secret it had, and writes the user. 422 form_param_format_invalid (param totp_secret) for a secret that is not
/// base32 or shorter than 10 bytes, 404 resource_not_found for an unknown user, a store error as store_error.
api_result<void> enroll_totp(store::write_txn& w, crypto::seal_key const& key, std::string_view user_id,
                             std::string_view base32_secret, std::int64_t now_ms);

// ---- required MFA (issue 14; appended) ----

/// Whether cfg.second_factor_required holds u back: sessions start pending with the setup-mfa task.
bool owes_mfa_setup(app const& a, store::user_record const& u);

/// Inside the write that gave u a second factor: u's pending sessions become active (their clients' updated_at
/// moves and their cached tokens are dropped after the commit, so the next token says sts "active").
api_result<void> activate_mfa_sessions(app& a, store::write_txn& w, std::string_view user_id, std::int64_t now_ms);

}  // namespace latchkey::server::api::domain
