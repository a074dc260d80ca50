// Fuzz: the SAML service provider's parsing of what an IdP (or anyone) sends (issue 15): the ACS's Response
// validation (hardened libxml2 parse, ID registration, XML-DSig verification with libxmlsec1 against a real
// certificate, the assertion's conditions), the POST-binding decoding, IdP metadata and raw inflate.
#include "server/saml/saml.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

std::string const& cert_pem() {
    static std::string const pem = [] {
        EVP_PKEY* k = EVP_RSA_gen(2048);
        X509* c = X509_new();
        X509_set_version(c, 2);
        X509_gmtime_adj(X509_getm_notBefore(c), 0);
        X509_gmtime_adj(X509_getm_notAfter(c), 3600);
        X509_set_pubkey(c, k);
        X509_sign(c, k, EVP_sha256());
        BIO* b = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(b, c);
        char* data = nullptr;
        long const n = BIO_get_mem_data(b, &data);
        std::string out(data, static_cast<std::size_t>(n));
        BIO_free(b);
        X509_free(c);
        EVP_PKEY_free(k);
        return out;
    }();
    return pem;
}

constexpr char const* response_seed =
    R"(<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" Destination="https://sp.test/acs" InResponseTo="_req"><saml:Issuer>https://idp.test</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="_a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>https://idp.test</saml:Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_a1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature><saml:Subject><saml:NameID>a@corp.test</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="2026-01-01T00:05:00Z" Recipient="https://sp.test/acs" InResponseTo="_req"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="2025-12-31T23:59:00Z" NotOnOrAfter="2026-01-01T00:05:00.123+01:00"><saml:AudienceRestriction><saml:Audience>https://sp.test/meta</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AttributeStatement><saml:Attribute Name="email" FriendlyName="mail"><saml:AttributeValue>a@corp.test</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>)";

constexpr char const* metadata_seed =
    R"(<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.test"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>MIIB</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>)";

}  // namespace

std::vector<std::string> fuzz_seeds() {
    latchkey::server::saml::authn_request r;
    r.id = "_req";
    r.sp_entity_id = "https://sp.test/meta";
    r.acs_url = "https://sp.test/acs";
    r.idp_sso_url = "https://idp.test/sso";
    return {response_seed, metadata_seed, latchkey::server::saml::authn_request_xml(r),
            "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>", "PHg+PC94Pg=="};
}

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    namespace saml = latchkey::server::saml;
    std::string_view const in(reinterpret_cast<char const*>(data), size);
    saml::expectations e;
    e.idp_entity_id = "https://idp.test";
    e.idp_certificates = {cert_pem()};
    e.sp_entity_id = "https://sp.test/meta";
    e.acs_url = "https://sp.test/acs";
    e.in_response_to = "_req";
    e.now_s = 1767225600;  // 2026-01-01T00:00:00Z
    (void)saml::validate_response(in, e);
    if (auto decoded = saml::decode_post_binding(in)) (void)saml::validate_response(*decoded, e);
    std::string why;
    (void)saml::parse_idp_metadata(in, why);
    (void)saml::inflate_raw(in, 64 * 1024);
    (void)saml::certificate_validity(in);
    return 0;
}
