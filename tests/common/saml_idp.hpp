#pragma once
// A SAML identity provider for tests (issue 15): its RSA key and self-signed certificate (made with OpenSSL here),
// and the Responses it builds and signs with libxmlsec1 (enveloped XML-DSig on the Assertion or the Response) and
// may encrypt to the SP (XML Encryption, also libxmlsec1), as
// the integration tests (tests/integration/saml_test.cpp) and the handler tests post them to the ACS.
#include "crypto/random.hpp"
#include "server/saml/saml.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmlsec.h>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace latchkey::test::saml_idp {

/// The IdP's entity id (the Issuer of its responses).
inline constexpr char const* entity = "https://idp.corp.test/entity";

inline std::string bio_string(BIO* b) {
    char* data = nullptr;
    long const n = BIO_get_mem_data(b, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

/// An RSA key and its self-signed certificate, both PEM.
struct keypair {
    std::string key_pem, cert_pem;
    bool ec = false;  ///< a P-256 key (ECDSA signatures) instead of RSA-2048
    explicit keypair(bool p256 = false) : ec(p256) {
        EVP_PKEY* k = ec ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
        X509* c = X509_new();
        X509_set_version(c, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
        X509_gmtime_adj(X509_getm_notBefore(c), -3600);
        X509_gmtime_adj(X509_getm_notAfter(c), 3600L * 24 * 365);
        X509_set_pubkey(c, k);
        X509_NAME* n = X509_get_subject_name(c);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<unsigned char const*>("test idp"), -1, -1,
                                   0);
        X509_set_issuer_name(c, n);
        X509_sign(c, k, EVP_sha256());
        BIO* kb = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(kb, k, nullptr, nullptr, 0, nullptr, nullptr);
        key_pem = bio_string(kb);
        BIO_free(kb);
        BIO* cb = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(cb, c);
        cert_pem = bio_string(cb);
        BIO_free(cb);
        X509_free(c);
        EVP_PKEY_free(k);
    }
};

/// The IdP's signing key (one per process).
inline keypair const& idp_keys() {
    static keypair const k;
    return k;
}

/// What the test IdP puts in a response.
struct response_spec {
    std::string in_response_to;
    std::string email = "ada@corp.test";
    std::string audience;
    std::string recipient;
    std::string issuer = entity;
    std::string assertion_id = "_a" + crypto::random_token(8);
    std::int64_t now_s = 0;
    std::int64_t lifetime_s = 300;
    enum class sign_where { assertion, response, none } where = sign_where::assertion;
    keypair const* key = &idp_keys();
};

/// Signs the element `node` (its ID `id`) with an enveloped signature placed after its Issuer.
inline void sign_node(xmlDoc* doc, xmlNode* node, std::string const& id, keypair const& k) {
    xmlAttr* id_attr = xmlHasProp(node, BAD_CAST "ID");
    BOOST_TEST_REQUIRE(id_attr != nullptr);
    xmlAddID(nullptr, doc, BAD_CAST id.c_str(), id_attr);
    xmlNode* sig = xmlSecTmplSignatureCreate(doc, xmlSecTransformExclC14NId,
                                             k.ec ? xmlSecTransformEcdsaSha256Id : xmlSecTransformRsaSha256Id, nullptr);
    xmlNode* issuer = nullptr;
    for (xmlNode* c = node->children; c != nullptr; c = c->next)
        if (c->type == XML_ELEMENT_NODE && std::string(reinterpret_cast<char const*>(c->name)) == "Issuer") issuer = c;
    BOOST_TEST_REQUIRE(issuer != nullptr);
    xmlAddNextSibling(issuer, sig);
    std::string const uri = "#" + id;
    xmlNode* ref =
        xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id, nullptr, BAD_CAST uri.c_str(), nullptr);
    xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId);
    xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId);
    xmlNode* ki = xmlSecTmplSignatureEnsureKeyInfo(sig, nullptr);
    xmlSecTmplKeyInfoAddX509Data(ki);
    xmlSecDSigCtx* ctx = xmlSecDSigCtxCreate(nullptr);
    ctx->signKey = xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<xmlSecByte const*>(k.key_pem.data()),
                                                static_cast<xmlSecSize>(k.key_pem.size()), xmlSecKeyDataFormatPem,
                                                nullptr, nullptr, nullptr);
    BOOST_TEST_REQUIRE(ctx->signKey != nullptr);
    BOOST_TEST_REQUIRE(
        xmlSecCryptoAppKeyCertLoadMemory(ctx->signKey, reinterpret_cast<xmlSecByte const*>(k.cert_pem.data()),
                                         static_cast<xmlSecSize>(k.cert_pem.size()), xmlSecKeyDataFormatPem) >= 0);
    BOOST_TEST_REQUIRE(xmlSecDSigCtxSign(ctx, sig) >= 0);
    xmlSecDSigCtxDestroy(ctx);
}

inline std::string unsigned_xml(response_spec const& r) {
    auto const now = r.now_s;
    std::string irt = r.in_response_to.empty() ? "" : " InResponseTo=\"" + r.in_response_to + "\"";
    return "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
           "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_r" +
           crypto::random_token(8) + "\" Version=\"2.0\" IssueInstant=\"" + server::saml::format_time(now) +
           "\" Destination=\"" + r.recipient + "\"" + irt +
           ">"
           "<saml:Issuer>" +
           r.issuer +
           "</saml:Issuer>"
           "<samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>"
           "<saml:Assertion ID=\"" +
           r.assertion_id + "\" Version=\"2.0\" IssueInstant=\"" + server::saml::format_time(now) +
           "\">"
           "<saml:Issuer>" +
           r.issuer +
           "</saml:Issuer>"
           "<saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">" +
           r.email +
           "</saml:NameID><saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">"
           "<saml:SubjectConfirmationData NotOnOrAfter=\"" +
           server::saml::format_time(now + r.lifetime_s) + "\" Recipient=\"" + r.recipient + "\"" + irt +
           "/></saml:SubjectConfirmation></saml:Subject>"
           "<saml:Conditions NotBefore=\"" +
           server::saml::format_time(now - 5) + "\" NotOnOrAfter=\"" + server::saml::format_time(now + r.lifetime_s) +
           "\">"
           "<saml:AudienceRestriction><saml:Audience>" +
           r.audience +
           "</saml:Audience></saml:AudienceRestriction>"
           "</saml:Conditions>"
           "<saml:AuthnStatement AuthnInstant=\"" +
           server::saml::format_time(now) +
           "\"><saml:AuthnContext><saml:AuthnContextClassRef>"
           "urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext>"
           "</saml:AuthnStatement>"
           "<saml:AttributeStatement>"
           "<saml:Attribute Name=\"firstName\"><saml:AttributeValue>Ada</saml:AttributeValue></saml:Attribute>"
           "<saml:Attribute Name=\"lastName\"><saml:AttributeValue>Lovelace</saml:AttributeValue></saml:Attribute>"
           "</saml:AttributeStatement>"
           "</saml:Assertion></samlp:Response>";
}

using doc_ptr = std::unique_ptr<xmlDoc, void (*)(xmlDoc*)>;

/// `xml` parsed (no network); the test stops when it is not XML.
inline doc_ptr parse_response(std::string const& xml) {
    doc_ptr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "r.xml", nullptr, XML_PARSE_NONET), xmlFreeDoc);
    BOOST_TEST_REQUIRE(doc != nullptr);
    return doc;
}

/// The Assertion child of `resp`, or null.
inline xmlNode* assertion_of(xmlNode* resp) {
    xmlNode* as = nullptr;
    for (xmlNode* c = resp->children; c != nullptr; c = c->next)
        if (c->type == XML_ELEMENT_NODE && std::string(reinterpret_cast<char const*>(c->name)) == "Assertion") as = c;
    return as;
}

/// The document as text.
inline std::string to_string(xmlDoc* doc) {
    xmlChar* out = nullptr;
    int len = 0;
    xmlDocDumpMemory(doc, &out, &len);
    std::string s(reinterpret_cast<char const*>(out), static_cast<std::size_t>(len));
    xmlFree(out);
    return s;
}

/// The response XML, signed as `r` says.
inline std::string build_response(response_spec const& r) {
    BOOST_TEST_REQUIRE(server::saml::init());
    auto const xml = unsigned_xml(r);
    if (r.where == response_spec::sign_where::none) return xml;
    auto doc = parse_response(xml);
    xmlNode* resp = xmlDocGetRootElement(doc.get());
    xmlNode* as = assertion_of(resp);
    if (r.where == response_spec::sign_where::assertion) {
        sign_node(doc.get(), as, r.assertion_id, *r.key);
    } else {
        xmlChar* rid = xmlGetProp(resp, BAD_CAST "ID");
        std::string const id = reinterpret_cast<char const*>(rid);
        xmlFree(rid);
        sign_node(doc.get(), resp, id, *r.key);
    }
    return to_string(doc.get());
}

/// `xml` (a Response) with its Assertion encrypted for the SP's certificate into a saml:EncryptedAssertion:
/// AES-256-CBC, the session key in an EncryptedKey inside the EncryptedData's KeyInfo by `transport` (RSA-OAEP; RSA
/// PKCS#1 v1.5 for a test that it is refused).
inline std::string encrypt_assertion(std::string const& xml, std::string const& sp_cert_pem,
                                     xmlSecTransformId transport = xmlSecTransformRsaOaepId) {
    auto doc = parse_response(xml);
    xmlNode* as = assertion_of(xmlDocGetRootElement(doc.get()));
    BOOST_TEST_REQUIRE(as != nullptr);
    xmlNode* holder = xmlNewDocNode(doc.get(), as->ns, BAD_CAST "EncryptedAssertion", nullptr);
    xmlAddPrevSibling(as, holder);
    xmlUnlinkNode(as);
    xmlAddChild(holder, as);
    xmlNode* tmpl =
        xmlSecTmplEncDataCreate(doc.get(), xmlSecTransformAes256CbcId, nullptr, xmlSecTypeEncElement, nullptr, nullptr);
    BOOST_TEST_REQUIRE(xmlSecTmplEncDataEnsureCipherValue(tmpl) != nullptr);
    xmlNode* ek = xmlSecTmplKeyInfoAddEncryptedKey(xmlSecTmplEncDataEnsureKeyInfo(tmpl, nullptr), transport, nullptr,
                                                   nullptr, nullptr);
    BOOST_TEST_REQUIRE(xmlSecTmplEncDataEnsureCipherValue(ek) != nullptr);
    xmlSecKeysMngr* mngr = xmlSecKeysMngrCreate();
    BOOST_TEST_REQUIRE(xmlSecCryptoAppDefaultKeysMngrInit(mngr) >= 0);
    xmlSecKey* sp_key = xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<xmlSecByte const*>(sp_cert_pem.data()),
                                                     static_cast<xmlSecSize>(sp_cert_pem.size()),
                                                     xmlSecKeyDataFormatCertPem, nullptr, nullptr, nullptr);  // public
    BOOST_TEST_REQUIRE(sp_key != nullptr);
    BOOST_TEST_REQUIRE(xmlSecCryptoAppDefaultKeysMngrAdoptKey(mngr, sp_key) >= 0);
    xmlSecEncCtx* ctx = xmlSecEncCtxCreate(mngr);
    ctx->encKey = xmlSecKeyGenerate(xmlSecKeyDataAesId, 256, xmlSecKeyDataTypeSession);
    int const encrypted = xmlSecEncCtxXmlEncrypt(ctx, tmpl, as);  // `as` is replaced by the EncryptedData
    xmlSecEncCtxDestroy(ctx);
    xmlSecKeysMngrDestroy(mngr);
    BOOST_TEST_REQUIRE(encrypted >= 0);
    return to_string(doc.get());
}

}  // namespace latchkey::test::saml_idp
