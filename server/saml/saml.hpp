#pragma once
// SAML 2.0 service provider, the XML half (issue 15): validates an IdP's Response (XML-DSig with libxmlsec1, then
// issuer, audience, recipient, destination, time window, InResponseTo), reads IdP metadata, and builds the
// AuthnRequest redirect (HTTP-Redirect binding, optionally signed) and the SP metadata.
//
// Nothing here touches the store or the network; everything is a pure function of its inputs (the clock is a
// parameter), so the API layer runs it outside any transaction and the fuzz target can drive it directly.
//
// Parsing is hardened before libxml2 sees a byte: a document type declaration or entity declaration anywhere is
// refused, the parser never loads a DTD or touches the network (XML_PARSE_NONET, no DTDLOAD/NOENT), and every
// element's ID must be unique. The assertion used is the node the verified signature's single reference points
// at (or the single assertion of the signed Response), and the document must hold exactly one assertion: a
// signature-wrapping attack (a second, unsigned assertion beside or inside a signed one) is refused. An
// EncryptedAssertion (XML Encryption: AES-CBC/GCM, the session key by RSA-OAEP only) is decrypted with the SP's key by
// libxmlsec1 after the Response's signature (which covers it encrypted) is checked, then checked like a plain one.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server::saml {

/// Initializes libxml2 and libxmlsec1 once per process (every entry point below calls it); false when xmlsec
/// cannot run (then every response is refused).
bool init();

/// What a Response must match.
struct expectations {
    std::string idp_entity_id;  ///< the Issuer
    /// PEM (or bare base64 DER) of each of the IdP's signing certificates (several during a key rollover): a
    /// signature verifies when one of them verifies it.
    std::vector<std::string> idp_certificates;
    std::string sp_entity_id;    ///< an Audience
    std::string acs_url;         ///< Recipient (and Destination when present)
    std::string in_response_to;  ///< the AuthnRequest's ID; "" = unsolicited (IdP-initiated) responses only
    std::int64_t now_s = 0;
    std::int64_t skew_s = 120;  ///< tolerance on NotBefore / NotOnOrAfter
    /// The SP's private key (PEM) that decrypts an EncryptedAssertion; "" = encrypted assertions are refused.
    std::string sp_key_pem;
};

/// A validated assertion.
struct assertion {
    std::string id;  ///< the assertion's ID (for the replay cache)
    std::string name_id;
    std::string name_id_format;
    std::string in_response_to;                                  ///< "" = unsolicited
    std::int64_t not_on_or_after = 0;                            ///< s; the end of its validity (for the replay cache)
    std::map<std::string, std::vector<std::string>> attributes;  ///< Name (and FriendlyName) -> values

    /// The first value of the first attribute present among `names`, or "".
    std::string first(std::initializer_list<std::string_view> names) const;
};

struct outcome {
    std::optional<assertion> ok;
    std::string reason;  ///< why it was refused (for the log; never shown to the client)
};

/// Largest SAMLResponse (decoded XML) accepted.
inline constexpr std::size_t max_response_bytes = std::size_t{256} * 1024;

/// Validates `xml` (the decoded SAMLResponse). Thread-safe.
outcome validate_response(std::string_view xml, expectations const& e);

/// Base64-decodes a SAMLResponse form field (whitespace ignored); nullopt when malformed or too large.
std::optional<std::string> decode_post_binding(std::string_view b64);

/// What an IdP's metadata (EntityDescriptor) says.
struct idp_metadata {
    std::string entity_id;
    std::string sso_url;      ///< the HTTP-Redirect SingleSignOnService
    std::string certificate;  ///< base64 DER of the first signing certificate
    /// base64 DER of every signing certificate, in document order: each KeyDescriptor use="signing" or without a
    /// `use` (a key for both); never one that is use="encryption" only.
    std::vector<std::string> certificates;
};
std::optional<idp_metadata> parse_idp_metadata(std::string_view xml, std::string& why);

/// The NotBefore/NotAfter (ms) of a PEM or base64 DER certificate; nullopt when it is not one.
std::optional<std::pair<std::int64_t, std::int64_t>> certificate_validity(std::string_view cert);

/// The xs:dateTime (UTC, "2026-01-01T00:00:00Z") of `s` seconds since the epoch, as SAML writes its instants.
std::string format_time(std::int64_t s);

/// A new AuthnRequest ID (an NCName).
std::string new_request_id();

struct authn_request {
    std::string id;
    std::string sp_entity_id;
    std::string acs_url;
    std::string idp_sso_url;
    std::string relay_state;
    std::string name_id_hint;  ///< Subject NameID (the email address) or ""
    std::int64_t now_s = 0;
    std::string sp_key_pem;  ///< "" = unsigned
};

/// The URL the browser goes to: idp_sso_url?SAMLRequest=...&RelayState=...[&SigAlg=...&Signature=...].
std::optional<std::string> redirect_url(authn_request const& r, std::string& why);

/// The AuthnRequest XML itself (for tests and the fuzz target's seeds).
std::string authn_request_xml(authn_request const& r);

/// The SP's metadata (EntityDescriptor with one SPSSODescriptor): `sp_cert_pem` as its signing key (signed
/// AuthnRequests), `encryption_cert_pem` as its encryption key (the IdP may encrypt assertions to it); "" = none.
std::string sp_metadata_xml(std::string_view sp_entity_id, std::string_view acs_url, std::string_view sp_cert_pem,
                            bool want_assertions_signed, std::string_view encryption_cert_pem = {});

/// Inflates a raw-DEFLATE SAMLRequest (for tests); nullopt when malformed or over `limit`.
std::optional<std::string> inflate_raw(std::string_view data, std::size_t limit);

/// XML text escaping for attribute and element values.
std::string xml_escape(std::string_view s);

}  // namespace latchkey::server::saml
