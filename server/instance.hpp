#pragma once
// What the process derives from its config and data dir at start: the instance identity, keys and URLs.
#include "conf/config.hpp"
#include "crypto/keys.hpp"
#include "crypto/live_keyring.hpp"
#include "crypto/seal.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server {

struct instance {
    std::string id;                ///< ins_..., also the JWKS kid of the first key
    std::string frontend_api;      ///< public FAPI URL, e.g. https://clerk.example.com or http://127.0.0.1:8080/__clerk
    std::string fapi_host;         ///< host[:port] of frontend_api (where browsers reach the FAPI)
    std::string fapi_path_prefix;  ///< path part of frontend_api ("" or "/__clerk")
    /// What the publishable key encodes: fapi_host, except for a development instance whose FAPI host is not one
    /// of the hosts on which clerk-js runs its dev-browser flow (Clerk's development suffixes): then
    /// `latchkey-<id hash>.lcl.dev`, so every development browser is on the dev-browser path, and the apps reach
    /// the FAPI through proxy_url.
    std::string key_host;
    /// What the apps must pass as `proxyUrl` (clerk-js, @clerk/react, @clerk/backend): frontend_api when the SDKs
    /// cannot derive it from the key (`https://<key_host>`), else "".
    std::string proxy_url;
    std::string issuer;  ///< https://<key_host> (the token iss; clerk-wire §4)
    /// The instance's site: the registrable domain of the FAPI host (or the configured app_domain), whose
    /// origins (same scheme and port as the FAPI) are app origins by default and on which the FAPI sets
    /// __client_uat. "" for an IP literal, a single label or a public suffix.
    std::string site_domain;
    std::string fapi_scheme;      ///< "http" | "https"
    std::uint16_t fapi_port = 0;  ///< effective port of frontend_api (443/80 when absent)
    std::string publishable_key;
    std::string cookie_suffix;  ///< first 8 chars of base64url(sha1(publishable_key))
    bool production = false;
    bool https = false;  ///< frontend_api is https: cookies get Secure
    std::vector<std::string> secret_keys;
    std::string code_key;  ///< 32-byte HMAC key for one-time-code digests (never logged)
    /// The AES-256-GCM key sealing secrets at rest (TOTP secrets); <data>/seal_key, never logged. Set by
    /// bootstrap (empty only in an instance built by hand).
    std::optional<crypto::seal_key> seal_key;
};

/// "pk_test_" / "pk_live_" + unpadded base64 of "<host>$".
std::string make_publishable_key(bool production, std::string_view host);
/// True when clerk-js runs its dev-browser flow for a development key encoding `host` (clerk-wire §1).
bool dev_browser_host(std::string_view host);
/// Clerk's cookie suffix for a publishable key.
std::string cookie_suffix_for(std::string_view publishable_key);

/// Everything bootstrap produces. Owned by main (or a test fixture) for the life of the server.
struct bootstrap_result {
    instance inst;
    /// The signing keys; replaced while serving by a rotation or retirement (server/api/console/keys.cpp).
    crypto::live_keyring keys;
};

/// Prepares the data dir: creates it (0700), loads or generates the RSA signing key(s), the secret key,
/// the code key and the instance id, and derives the URLs. Throws std::runtime_error naming the problem.
/// `fapi_bound` is the FAPI address actually bound (for the default frontend_api when none is configured).
bootstrap_result bootstrap(conf::config const& cfg, std::string_view fapi_bound);

/// The seal key of the data dir (<data_dir>/seal_key, 32 raw bytes, mode 0600), generated when absent. For
/// bootstrap and for commands working on the data dir beside a server (the importer sealing TOTP secrets).
/// Throws std::runtime_error when the file is damaged (deleting it makes every sealed secret unreadable).
crypto::seal_key load_seal_key(std::string const& data_dir);

/// Key rotation (`latchkey keys --rotate`): adds a new RSA-2048 signing key to <data_dir>/keys. After the next
/// start it signs every token while the older keys stay in the JWKS, so tokens they signed keep verifying.
/// Returns the new kid.
std::string rotate_signing_key(std::string const& data_dir);

/// `latchkey keys --retire KID`: removes a non-active key from the JWKS (from the next start). Throws if the
/// kid is unknown or is the active (newest) key.
void retire_signing_key(std::string const& data_dir, std::string const& kid);

/// The signing keys in <data_dir>/keys as a start loads them (name order = age; the newest is active), generating
/// the first (kid `instance_id`) when there is none. Throws std::runtime_error naming the problem.
crypto::keyring load_signing_keys(std::string const& data_dir, std::string const& instance_id);

}  // namespace latchkey::server
