#pragma once
// Passkeys (WebAuthn, issue 14): the relying party's side of registration and authentication. The options the
// browser gets travel as JSON text in a verification's `nonce` (holding a single-use random challenge); the
// credential comes back as the `public_key_credential` form field (JSON, binary members base64url). Checks:
// clientDataJSON type, challenge (constant time) and origin (one of the instance's app origins, never cross
// origin), the RP ID hash, the user-present and user-verified flags, the COSE key (ES256, RS256), the
// attestation ("none", or "packed" self-attestation), the assertion signature (OpenSSL) and the signature counter
// (a non-zero counter must grow). No I/O: the handlers call these inside their txn.
#include "server/api/app.hpp"
#include "server/api/context.hpp"
#include "server/api/error.hpp"
#include "store/records.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::server::api::domain::passkeys {

/// Whether the instance offers passkeys ("passkey" in first_factors).
bool enabled(app const& a);

/// The RP ID: cfg.passkeys.rp_id, else the registrable domain of the frontend API host, else that host.
std::string rp_id(app const& a);

/// The most passkeys one user may hold (Clerk: 10).
inline constexpr std::size_t max_per_user = 10;

/// Starts a registration for u: `pk` gets a new id, the default name and an unverified verification whose nonce
/// is the PublicKeyCredentialCreationOptionsJSON (a fresh challenge; u's registered credentials excluded).
void start_registration(app const& a, store::user_record const& u, store::passkey_record& pk, std::int64_t now_ms);

/// Finishes the registration of `pk` (unverified, of user u) with the browser's `public_key_credential` JSON:
/// on success pk holds the credential id, COSE key, algorithm and counter and is verified. The challenge is spent
/// either way (pk.verification "failed" on a refused credential: a new registration is needed).
/// 422 passkey_invalid_public_key_credential (malformed), verification_expired, passkey_registration_failed
/// (challenge, origin, RP ID, flags, attestation), passkey_already_exists (the credential is registered).
api_result<void> finish_registration(app const& a, store::user_record const& u, store::passkey_record& pk,
                                     std::string_view credential_json, std::int64_t now_ms);

/// Starts an authentication: `v` becomes an unverified passkey verification whose nonce is the
/// PublicKeyCredentialRequestOptionsJSON (u's verified credentials allowed, or none for a discoverable flow
/// when u is null).
void start_assertion(app const& a, store::user_record const* u, store::verification_record& v, std::int64_t now_ms);

/// The user an assertion names (its userHandle: the user id), "" when it carries none; 422
/// passkey_invalid_public_key_credential (param public_key_credential) when the credential is malformed.
api_result<std::string> assertion_user(std::string_view credential_json);

/// Checks an assertion answering `v` for user u: on success v is verified and the passkey's counter and
/// last_used_at move. The challenge is spent either way (v "failed" on a refused assertion).
/// 422 passkey_invalid_public_key_credential, verification_expired, passkey_not_found (no such credential of
/// u), passkey_verification_failed (challenge, origin, RP ID, flags, signature, a counter that did not grow).
api_result<void> finish_assertion(app const& a, store::verification_record& v, store::user_record& u,
                                  std::string_view credential_json, std::int64_t now_ms);

/// Clerk's Passkey JSON ({object:"passkey",id,name,last_used_at,verification,created_at,updated_at}).
boost::json::object passkey_json(store::passkey_record const& pk);

/// The verified passkeys of u as the user JSON lists them.
boost::json::array passkeys_json(store::user_record const& u);

}  // namespace latchkey::server::api::domain::passkeys
