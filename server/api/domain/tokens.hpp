#pragma once
// THE tokens module: every JWT this instance signs or checks, in the spirit of jwt-cpp's builder/verifier. One
// header shape ({"alg":"RS256","kid":<active key>,"typ":"JWT"}), one signing path (the active key of a.keys, a
// failure logged and answered 500) and one verifier (RS256 by one of our kids, exp/nbf with a leeway). Session
// tokens (FAPI, BAPI), the handshake payload (FAPI) and the OAuth provider's ID tokens are built on it.
#include "server/api/app.hpp"
#include "server/api/error.hpp"
#include "store/records.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::server::api::domain {

/// The JOSE header of every token signed with `key`: {"alg":"RS256","kid":<kid>,"typ":"JWT"}.
std::string jose_header(crypto::signing_key const& key);

/// Signs `payload_json` (a serialised JSON object) with the active key under jose_header: the compact JWS, or
/// 500 internal_clerk_error (logged as sign_failed).
api_result<std::string> sign_jwt(app const& a, std::string_view payload_json);

/// Mints a session JWT for a live session (else 401 session_not_active), with every claim the SDKs read (sub,
/// sid, iat, nbf, exp, iss, azp, v:2, sts, fva, act, the organization claims) and the configured lifetime;
/// `extra` claims (from a JWT template) come first and the session's claims win; `lifetime_s` 0 = the configured
/// session token lifetime. Counts the mint in a.metrics.
api_result<std::string> mint_session_token(app& a, store::session_record const& s, std::string_view azp,
                                           std::int64_t now_ms, boost::json::object const* extra = nullptr,
                                           std::int64_t lifetime_s = 0);

/// The handshake token (`__clerk_handshake`): the Set-Cookie directives @clerk/backend applies, valid 5 minutes.
api_result<std::string> sign_handshake(app const& a, boost::json::array directives, std::int64_t now_ms);

/// Verifies a JWT signed by this instance: compact RS256 JWS, the kid of one of our keys, a valid signature, exp
/// and nbf within a 5 s leeway. Returns the claims, or 422 form_param_value_invalid (param_name `param`) naming
/// the problem.
api_result<boost::json::object> verify_jwt(app const& a, std::string_view token, std::int64_t now_ms,
                                           std::string_view param = "token");

/// verify_jwt, and a non-empty string `sid` (a session token). Does not look the session up.
api_result<boost::json::object> verify_session_token(app const& a, std::string_view token, std::int64_t now_ms);

}  // namespace latchkey::server::api::domain
