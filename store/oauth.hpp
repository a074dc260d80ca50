#pragma once
// The OAuth provider family (latchkey as an OAuth 2.0 / OpenID Connect provider): OAuth applications (unique
// client_id), authorization codes and issued tokens (access and refresh), each found by the SHA-256 digest of the
// secret value; the secret values themselves are never stored.
//
// Like the organizations family, the repository is written once, backend-neutral, over an ordered key-value
// table each backend lends it (the same `org_kv` seam; LMDB: the `oauth` dbi; memory: a map of encoded records).
// Refresh tokens belong to a family (one per authorization): revoke_family revokes every token of it (reuse
// detection, RFC 6819 5.2.2.3).
#include "store/error.hpp"
#include "store/kv_table.hpp"

#include <boost/describe/class.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::store {

struct oauth_app_record {
    std::string id;         ///< oa_...
    std::string client_id;  ///< unique
    std::string name;
    std::string secret_digest;  ///< SHA-256 (hex) of the client secret; "" for a public client
    std::vector<std::string> redirect_uris;
    std::string scopes = "profile email";
    bool is_public = false;
    bool consent_screen_enabled = true;
    bool pkce_required = false;
    std::string client_uri;
    std::string client_image_url;
    bool dynamically_registered = false;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};
BOOST_DESCRIBE_STRUCT(oauth_app_record, (),
                      (id, client_id, name, secret_digest, redirect_uris, scopes, is_public, consent_screen_enabled,
                       pkce_required, client_uri, client_image_url, dynamically_registered, created_at, updated_at))

/// An authorization code (single use: `used` is set by the exchange; a second exchange revokes the family).
struct oauth_code_record {
    std::string digest;  ///< SHA-256 (hex) of the code
    std::string client_id;
    std::string user_id;
    std::string session_id;
    std::string redirect_uri;
    std::string scopes;
    std::string code_challenge;  ///< S256 challenge or ""
    std::string nonce;
    std::string family_id;  ///< the token family the exchange starts
    std::int64_t auth_time = 0;
    std::int64_t expires_at = 0;
    bool used = false;
};
BOOST_DESCRIBE_STRUCT(oauth_code_record, (),
                      (digest, client_id, user_id, session_id, redirect_uri, scopes, code_challenge, nonce, family_id,
                       auth_time, expires_at, used))

/// An issued access or refresh token.
struct oauth_token_record {
    std::string digest;  ///< SHA-256 (hex) of the token
    std::string id;      ///< oat_... id for access tokens, "" for refresh tokens
    std::string kind;    ///< "access" | "refresh"
    std::string client_id;
    std::string user_id;
    std::string scopes;
    std::string family_id;
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
    bool revoked = false;
    std::string revocation_reason;
    bool rotated = false;  ///< a refresh token already exchanged: presenting it again is reuse
};
BOOST_DESCRIBE_STRUCT(oauth_token_record, (),
                      (digest, id, kind, client_id, user_id, scopes, family_id, created_at, expires_at, revoked,
                       revocation_reason, rotated))

class oauth_view : public kv_reader {
public:
    using kv_reader::kv_reader;

    result<std::optional<oauth_app_record>> app(std::string_view id) const noexcept;
    result<std::optional<oauth_app_record>> app_by_client_id(std::string_view client_id) const noexcept;
    /// Every application, oldest first.
    result<std::vector<oauth_app_record>> apps() const noexcept;
    result<std::optional<oauth_code_record>> code(std::string_view digest) const noexcept;
    result<std::optional<oauth_token_record>> token(std::string_view digest) const noexcept;

protected:
    ~oauth_view() = default;
};

class oauth_repo : public kv_writer<oauth_view> {
public:
    using kv_writer::kv_writer;

    /// Inserts (`insert`: errc::key_exists when the id or client_id is taken) or updates an application (its
    /// client_id never changes).
    result<void> put_app(oauth_app_record const& a, bool insert) noexcept;
    /// Removes the application and its client_id; its tokens stop working because their client is gone.
    result<void> remove_app(std::string_view id) noexcept;
    result<void> put_code(oauth_code_record const& c) noexcept;
    result<void> put_token(oauth_token_record const& t) noexcept;
    /// Revokes every token of a family; returns how many were live.
    result<std::size_t> revoke_family(std::string_view family_id, std::string_view reason) noexcept;

protected:
    ~oauth_repo() = default;
};

}  // namespace latchkey::store
