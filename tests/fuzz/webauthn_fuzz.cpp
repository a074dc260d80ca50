// Fuzz: WebAuthn binary parsing (libcbor underneath): an attestation object (with its authenticator data and
// COSE key, and a packed self-attestation's signature check), bare authenticator data and a bare COSE key.
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/webauthn.hpp"
#include "harness.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace wa = latchkey::crypto::webauthn;

std::vector<std::string> fuzz_seeds() {
    auto d = [](std::string_view s) {
        auto r = latchkey::crypto::base64url_decode(s);
        return r ? *r : std::string{};
    };
    return {
        // fmt "none" with an ES256 credential
        d("o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YViYdWbm9oyfp_"
          "SiMPVTrcMP6mQbEdhv5vHv15lgmXFgHeldAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
          "FGTv92zpWpnzP7j59B15r2ypP1W_pQECAyYgASFYINrcfCuBp5q_aT2z4AkwXZTXPAVjbsPgxt7p5n2hI3S3Ilgg3Qfa1Sj7nLMdCX_"
          "yOKm606eT"
          "RMqtM_JDyzKkKCnhTqI"),
        // assertion authenticator data, an ES256 and an RS256 COSE key
        d("SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MBAAAATg"),
        d("pQECAyYgASFYIIeDTe-gN8A-zQclHoRnGFWN8ehM1b7yAsa8I8KIvmplIlgg4nFGT5px8o6gpPZZhO01wdy9crDSA_Ngtkx0vGpvPHI"),
        d("pAEDAzkBACBZAQDfV20epzvQP-HtcdDpX-cGzdOxy73WQEvsU7Dnr9UWJophEfpngouvgnRLXaEUn_d8HGkp_HIx8rrpkx4BVs6X_"
          "B6ZjhLlezjI"
          "dJbLbVeb92BaEsmNn1HW2N9Xj2QM8cH-yx28_vCjf82ahQ9gyAr552Bn96G22n8jqFRQKdVpO-f-"
          "bvpvaP3IQ9F5LCX7CUaxptgbog1SFO6FI6ob"
          "5SlVVB00lVXsaYg8cIDZxCkkENkGiFPgwEaZ7995SCbiyCpUJbMqToLMgojPkAhWeyktu7TlK6UBWdJMHc3FPAIs0lH_2_2hKS-"
          "mGI1uZAFVAfW1"
          "X-mzKL0czUm2P1UlUox7IUMBAAE"),
        std::string("\xa0", 1),
        std::string("\xbf\xff", 2),
        std::string("\x9f\x9f\x9f", 3),
    };
}

void fuzz_one(std::string_view in) {
    static std::string const hash = latchkey::crypto::sha256("clientDataJSON");
    if (auto a = wa::parse_attestation(in, hash)) (void)wa::parse_cose_key(a->auth_data.cose_key);
    if (auto d = wa::parse_authenticator_data(in); d && !d->cose_key.empty()) {
        if (auto k = wa::parse_cose_key(d->cose_key)) (void)wa::verify_signature(*k, in, hash, in.substr(0, 72));
    }
    (void)wa::parse_cose_key(in);
}
