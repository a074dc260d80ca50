#include "server/api/domain/client_credentials.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "crypto/random.hpp"

namespace latchkey::server::api::domain {

namespace {

constexpr std::size_t max_credential_bytes = 200;

/// The legacy stateless credential's MAC (clients without a credential digest).
std::string legacy_client_mac(app const& a, std::string_view client_id) {
    std::string msg = "client:";
    msg += client_id;
    return crypto::base64url_encode(crypto::hmac_sha256(a.inst.code_key, msg));
}

std::string credential_digest(std::string_view secret) { return crypto::base64url_encode(crypto::sha256(secret)); }

}  // namespace

std::optional<std::pair<std::string_view, std::string_view>> split_client_credential(std::string_view token) {
    if (token.size() > max_credential_bytes) return std::nullopt;
    auto dot = token.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == token.size()) return std::nullopt;
    std::string_view id = token.substr(0, dot);
    if (!id.starts_with("client_")) return std::nullopt;
    return std::pair{id, token.substr(dot + 1)};
}

bool credential_matches(app const& a, store::client_record const& c, std::string_view secret) {
    return c.credential_digest.empty() ? crypto::equal_ct(secret, legacy_client_mac(a, c.id))
                                       : crypto::equal_ct(credential_digest(secret), c.credential_digest);
}

std::string new_client_credential(store::client_record& c) {
    std::string secret = crypto::random_token(32);
    c.credential_digest = credential_digest(secret);
    std::string t = c.id;
    t += '.';
    t += secret;
    return t;
}

std::string secret_digest_hex(std::string_view secret) { return crypto::hex_encode(crypto::sha256(secret)); }

std::optional<ticket_parts> split_ticket(std::string_view ticket) {
    auto const dot = ticket.find('.');
    if (dot == std::string_view::npos || dot == 0 || ticket.size() > 256) return std::nullopt;
    return ticket_parts{ticket.substr(0, dot), secret_digest_hex(ticket.substr(dot + 1))};
}

api_error invalid_ticket() {
    return param_error(code::form_param_value_invalid, "ticket", "The invitation ticket is invalid or used.");
}

}  // namespace latchkey::server::api::domain
