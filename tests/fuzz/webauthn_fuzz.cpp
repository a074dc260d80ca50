// Fuzz: WebAuthn binary parsing (libcbor underneath): an attestation object (with its authenticator data and
// COSE key, and a packed self-attestation's signature check), bare authenticator data and a bare COSE key.
#include "crypto/digest.hpp"
#include "crypto/webauthn.hpp"
#include "harness.hpp"

#include <cstdint>
#include <string>

namespace wa = latchkey::crypto::webauthn;

void fuzz_one(std::string_view in) {
    static std::string const hash = latchkey::crypto::sha256("clientDataJSON");
    if (auto a = wa::parse_attestation(in, hash)) (void)wa::parse_cose_key(a->auth_data.cose_key);
    if (auto d = wa::parse_authenticator_data(in); d && !d->cose_key.empty()) {
        if (auto k = wa::parse_cose_key(d->cose_key)) (void)wa::verify_signature(*k, in, hash, in.substr(0, 72));
    }
    (void)wa::parse_cose_key(in);
}
