#include "server/saml/saml.hpp"

#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "server/escape.hpp"
#include "server/utc_time.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/keys.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>

namespace latchkey::server::saml {

namespace {

constexpr char const* ns_protocol = "urn:oasis:names:tc:SAML:2.0:protocol";
constexpr char const* ns_assertion = "urn:oasis:names:tc:SAML:2.0:assertion";
constexpr char const* ns_metadata = "urn:oasis:names:tc:SAML:2.0:metadata";
constexpr char const* ns_dsig = "http://www.w3.org/2000/09/xmldsig#";
constexpr char const* binding_redirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
constexpr char const* binding_post = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
constexpr char const* status_success = "urn:oasis:names:tc:SAML:2.0:status:Success";
constexpr char const* sigalg_rsa_sha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

bool init_ok = false;

void init_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        xmlInitParser();
        // Errors are reported through our own return values; the library must not write to stdout/stderr
        // (the server's log lines are JSON).
        xmlSecErrorsDefaultCallbackEnableOutput(0);
        if (xmlSecInit() < 0) return;
        if (xmlSecCheckVersion() != 1) return;
        if (xmlSecCryptoAppInit(nullptr) < 0) return;
        if (xmlSecCryptoInit() < 0) return;
        init_ok = true;
    });
}

void silent_generic(void*, char const*, ...) {}
void silent_structured(void*, xmlErrorPtr) {}

struct doc_free {
    void operator()(xmlDoc* d) const noexcept { xmlFreeDoc(d); }
};
using doc_ptr = std::unique_ptr<xmlDoc, doc_free>;

struct dsig_free {
    void operator()(xmlSecDSigCtx* c) const noexcept { xmlSecDSigCtxDestroy(c); }
};

char const* u(xmlChar const* s) { return reinterpret_cast<char const*>(s); }
xmlChar const* x(char const* s) { return reinterpret_cast<xmlChar const*>(s); }

bool is(xmlNode const* n, char const* ns, char const* name) {
    return n != nullptr && n->type == XML_ELEMENT_NODE && n->ns != nullptr && n->ns->href != nullptr &&
           std::strcmp(u(n->ns->href), ns) == 0 && std::strcmp(u(n->name), name) == 0;
}

std::vector<xmlNode*> children(xmlNode* parent, char const* ns, char const* name) {
    std::vector<xmlNode*> out;
    if (parent == nullptr) return out;
    for (xmlNode* c = parent->children; c != nullptr; c = c->next)
        if (is(c, ns, name)) out.push_back(c);
    return out;
}

xmlNode* child(xmlNode* parent, char const* ns, char const* name) {
    auto all = children(parent, ns, name);
    return all.size() == 1 ? all.front() : nullptr;
}

std::optional<std::string> attr(xmlNode const* n, char const* name) {
    if (n == nullptr) return std::nullopt;
    for (xmlAttr const* a = n->properties; a != nullptr; a = a->next) {
        if (a->ns != nullptr) continue;  // unqualified attributes only
        if (std::strcmp(u(a->name), name) != 0) continue;
        xmlChar* v = xmlNodeListGetString(n->doc, a->children, 1);
        std::string out = v != nullptr ? u(v) : "";
        xmlFree(v);
        return out;
    }
    return std::nullopt;
}

/// The element's text: every text and CDATA descendant concatenated (a comment splitting a value cannot shorten
/// it), trimmed.
std::string text(xmlNode* n) {
    if (n == nullptr) return {};
    xmlChar* v = xmlNodeGetContent(n);
    std::string s = v != nullptr ? u(v) : "";
    xmlFree(v);
    auto const b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    auto const e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

void count_elements(xmlNode* n, char const* ns, char const* name, int& count) {
    for (; n != nullptr; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        if (is(n, ns, name)) ++count;
        count_elements(n->children, ns, name, count);
    }
}

/// Registers every `ID` attribute as an XML ID (so "#id" references resolve); false on a duplicate.
bool register_ids(xmlDoc* doc, xmlNode* n) {
    for (; n != nullptr; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        for (xmlAttr* a = n->properties; a != nullptr; a = a->next) {
            if (a->ns != nullptr || std::strcmp(u(a->name), "ID") != 0) continue;
            xmlChar* v = xmlNodeListGetString(doc, a->children, 1);
            if (v == nullptr) return false;
            bool const fresh = xmlGetID(doc, v) == nullptr && xmlAddID(nullptr, doc, v, a) != nullptr;
            xmlFree(v);
            if (!fresh) return false;
        }
        if (!register_ids(doc, n->children)) return false;
    }
    return true;
}

bool contains_ci(std::string_view hay, std::string_view needle) {
    auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != hay.end();
}

/// Parses untrusted XML: no DTD (refused outright), no entities, no network, no output.
doc_ptr parse(std::string_view xml, std::string& why) {
    if (xml.empty() || xml.size() > max_response_bytes) return why = "size", nullptr;
    if (contains_ci(xml, "<!DOCTYPE") || contains_ci(xml, "<!ENTITY"))
        return why = "document type declaration", nullptr;
    init_once();
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt == nullptr) return why = "parser", nullptr;
    xmlSetGenericErrorFunc(nullptr, silent_generic);
    xmlSetStructuredErrorFunc(nullptr, silent_structured);
    doc_ptr doc(xmlCtxtReadMemory(ctxt, xml.data(), static_cast<int>(xml.size()), "saml.xml", nullptr,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    xmlFreeParserCtxt(ctxt);
    if (!doc) return why = "not well-formed XML", nullptr;
    if (doc->intSubset != nullptr || doc->extSubset != nullptr) return why = "document type declaration", nullptr;
    return doc;
}

/// xs:dateTime -> seconds since the epoch (UTC; fractions dropped; Z or +hh:mm offsets).
std::optional<std::int64_t> parse_time(std::string_view s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (s.size() < 19) return std::nullopt;
    auto num = [&](std::size_t pos, std::size_t len, int& out) {
        out = 0;
        for (std::size_t i = pos; i < pos + len; ++i) {
            if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
            out = out * 10 + (s[i] - '0');
        }
        return true;
    };
    if (!num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d) || s[10] != 'T' ||
        !num(11, 2, h) || s[13] != ':' || !num(14, 2, mi) || s[16] != ':' || !num(17, 2, se))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
    std::size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        ++i;
        std::size_t const start = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        if (i == start) return std::nullopt;
    }
    std::int64_t offset = 0;
    if (i < s.size() && s[i] == 'Z') {
        ++i;
    } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh = 0, om = 0;
        if (!num(i + 1, 2, oh) || !num(i + 4, 2, om) || oh > 14 || om > 59) return std::nullopt;
        offset = (s[i] == '+' ? 1 : -1) * (std::int64_t{oh} * 3600 + std::int64_t{om} * 60);
        i += 6;
    }
    if (i != s.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return static_cast<std::int64_t>(timegm(&tm)) - offset;
}

}  // namespace

std::string format_time(std::int64_t s) { return format_utc(s, "%Y-%m-%dT%H:%M:%SZ"); }

namespace {

/// The DER bytes of a PEM certificate or of bare base64.
std::optional<std::string> cert_der(std::string_view cert) {
    std::string b64;
    if (auto const begin = cert.find("-----BEGIN CERTIFICATE-----"); begin != std::string_view::npos) {
        auto const body = begin + 27;
        auto const end = cert.find("-----END CERTIFICATE-----", body);
        if (end == std::string_view::npos) return std::nullopt;
        cert = cert.substr(body, end - body);
    }
    for (char c : cert)
        if (!std::isspace(static_cast<unsigned char>(c))) b64.push_back(c);
    if (b64.empty()) return std::nullopt;
    auto der = crypto::base64_decode(b64);
    if (!der || der->empty()) return std::nullopt;
    return std::move(*der);
}

/// A key (or certificate) of `bytes` in `format`, no password; null when it is not one.
xmlSecKey* load_key(std::string_view bytes, xmlSecKeyDataFormat format) {
    return xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<xmlSecByte const*>(bytes.data()),
                                        static_cast<xmlSecSize>(bytes.size()), format, nullptr, nullptr, nullptr);
}

/// Verifies the ds:Signature that is a direct child of `signed_node` with the IdP's key only (KeyInfo ignored),
/// and that its one reference covers exactly `signed_node`.
bool verify_enveloped(xmlNode* signed_node, xmlNode* sig, std::string const& der, std::string& why) {
    auto const id = attr(signed_node, "ID");
    if (!id || id->empty()) return why = "signed element without ID", false;
    std::unique_ptr<xmlSecDSigCtx, dsig_free> ctx(xmlSecDSigCtxCreate(nullptr));
    if (!ctx) return why = "dsig context", false;
    ctx->signKey = load_key(der, xmlSecKeyDataFormatCertDer);
    if (ctx->signKey == nullptr) return why = "IdP certificate unusable", false;
    ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
    for (auto t : {xmlSecTransformEnvelopedId, xmlSecTransformExclC14NId, xmlSecTransformExclC14NWithCommentsId,
                   xmlSecTransformInclC14NId, xmlSecTransformInclC14NWithCommentsId, xmlSecTransformSha1Id,
                   xmlSecTransformSha256Id, xmlSecTransformSha384Id, xmlSecTransformSha512Id})
        if (xmlSecDSigCtxEnableReferenceTransform(ctx.get(), t) < 0) return why = "dsig transforms", false;
    for (auto t : {xmlSecTransformExclC14NId, xmlSecTransformExclC14NWithCommentsId, xmlSecTransformInclC14NId,
                   xmlSecTransformInclC14NWithCommentsId, xmlSecTransformRsaSha1Id, xmlSecTransformRsaSha256Id,
                   xmlSecTransformRsaSha384Id, xmlSecTransformRsaSha512Id, xmlSecTransformEcdsaSha256Id,
                   xmlSecTransformEcdsaSha384Id, xmlSecTransformEcdsaSha512Id, xmlSecTransformSha1Id,
                   xmlSecTransformSha256Id, xmlSecTransformSha384Id, xmlSecTransformSha512Id})
        if (xmlSecDSigCtxEnableSignatureTransform(ctx.get(), t) < 0) return why = "dsig transforms", false;
    if (xmlSecDSigCtxVerify(ctx.get(), sig) < 0) return why = "signature could not be processed", false;
    if (ctx->status != xmlSecDSigStatusSucceeded) return why = "signature invalid", false;
    if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) return why = "signature must have one reference", false;
    auto* ref = static_cast<xmlSecDSigReferenceCtx*>(xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0));
    if (ref == nullptr || ref->status != xmlSecDSigStatusSucceeded || ref->uri == nullptr)
        return why = "signature reference", false;
    std::string const uri = u(ref->uri);
    if (uri != "#" + *id) return why = "signature does not cover the signed element", false;
    // IDs are unique in this document (register_ids), so "#id" named exactly `signed_node`.
    xmlAttr* found = xmlGetID(signed_node->doc, x(id->c_str()));
    if (found == nullptr || found->parent != signed_node) return why = "signature reference target", false;
    return true;
}

/// verify_enveloped with each certificate in turn: true when one verifies (`why` is the last refusal otherwise).
bool verify_with_any(xmlNode* signed_node, xmlNode* sig, std::vector<std::string> const& ders, std::string& why) {
    for (auto const& der : ders)
        if (verify_enveloped(signed_node, sig, der, why)) return true;
    return false;
}

constexpr char const* ns_xenc = "http://www.w3.org/2001/04/xmlenc#";

/// The ciphers an encrypted assertion may use (XML Encryption 1.0 CBC, 1.1 GCM).
bool allowed_cipher(std::string_view a) {
    for (std::string_view ok :
         {"http://www.w3.org/2001/04/xmlenc#aes128-cbc", "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
          "http://www.w3.org/2001/04/xmlenc#aes256-cbc", "http://www.w3.org/2009/xmlenc11#aes128-gcm",
          "http://www.w3.org/2009/xmlenc11#aes192-gcm", "http://www.w3.org/2009/xmlenc11#aes256-gcm"})
        if (a == ok) return true;
    return false;
}

/// The key transports it may use: RSA-OAEP only (RSA PKCS#1 v1.5 is open to padding-oracle attacks).
bool allowed_key_transport(std::string_view a) {
    return a == "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p" || a == "http://www.w3.org/2009/xmlenc11#rsa-oaep";
}

struct enc_free {
    void operator()(xmlSecEncCtx* c) const noexcept { xmlSecEncCtxDestroy(c); }
};
struct key_free {
    void operator()(xmlSecKey* k) const noexcept { xmlSecKeyDestroy(k); }
};

/// Decrypts the EncryptedAssertion `ea` in place with the SP's private key (PEM): its EncryptedData becomes the
/// Assertion it holds. The session key is the EncryptedKey in the EncryptedData's KeyInfo (or beside it, as some
/// IdPs put it); both are decrypted with keys given here only, nothing named by KeyInfo is looked up.
bool decrypt_assertion(xmlNode* ea, std::string const& sp_key_pem, std::string& why) {
    auto const datas = children(ea, ns_xenc, "EncryptedData");
    if (datas.size() != 1) return why = "the encrypted assertion must hold one EncryptedData", false;
    xmlNode* data = datas.front();
    if (!allowed_cipher(attr(child(data, ns_xenc, "EncryptionMethod"), "Algorithm").value_or("")))
        return why = "encrypted assertion: cipher not allowed", false;
    xmlNode* ek = child(child(data, ns_dsig, "KeyInfo"), ns_xenc, "EncryptedKey");
    if (ek == nullptr) ek = child(ea, ns_xenc, "EncryptedKey");
    if (ek == nullptr) return why = "encrypted assertion without its EncryptedKey", false;
    if (!allowed_key_transport(attr(child(ek, ns_xenc, "EncryptionMethod"), "Algorithm").value_or("")))
        return why = "encrypted assertion: key transport not allowed", false;
    std::unique_ptr<xmlSecEncCtx, enc_free> key_ctx(xmlSecEncCtxCreate(nullptr));
    if (!key_ctx) return why = "enc context", false;
    key_ctx->encKey = load_key(sp_key_pem, xmlSecKeyDataFormatPem);
    if (key_ctx->encKey == nullptr) return why = "SP key unusable", false;
    key_ctx->mode = xmlEncCtxModeEncryptedKey;
    xmlSecBuffer* raw = xmlSecEncCtxDecryptToBuffer(key_ctx.get(), ek);  // owned by key_ctx
    if (raw == nullptr) return why = "the session key does not decrypt", false;
    std::unique_ptr<xmlSecEncCtx, enc_free> data_ctx(xmlSecEncCtxCreate(nullptr));
    if (!data_ctx) return why = "enc context", false;
    data_ctx->encKey = xmlSecKeyReadBuffer(xmlSecKeyDataAesId, raw);
    if (data_ctx->encKey == nullptr) return why = "the session key is not an AES key", false;
    if (xmlSecEncCtxDecrypt(data_ctx.get(), data) < 0 || data_ctx->resultReplaced == 0)
        return why = "the assertion does not decrypt to XML", false;
    return true;
}

/// The Signature directly under `n`, if any (more than one is refused by the caller).
std::vector<xmlNode*> signatures(xmlNode* n) { return children(n, ns_dsig, "Signature"); }

}  // namespace

bool init() {
    init_once();
    return init_ok;
}

std::string assertion::first(std::initializer_list<std::string_view> names) const {
    for (auto n : names) {
        auto it = attributes.find(std::string(n));
        if (it != attributes.end())
            for (auto const& v : it->second)
                if (!v.empty()) return v;
    }
    return {};
}

std::optional<std::string> decode_post_binding(std::string_view b64) {
    std::string clean;
    clean.reserve(b64.size());
    for (char c : b64)
        if (!std::isspace(static_cast<unsigned char>(c))) clean.push_back(c);
    if (clean.empty() || clean.size() > (max_response_bytes / 3 + 1) * 4) return std::nullopt;
    auto out = crypto::base64_decode(clean);
    if (!out || out->size() > max_response_bytes) return std::nullopt;
    return std::move(*out);
}

outcome validate_response(std::string_view xml, expectations const& e) {
    outcome out;
    auto fail = [&](std::string why) {
        out.reason = std::move(why);
        return out;
    };
    auto doc = parse(xml, out.reason);
    if (!doc) return out;
    if (!init_ok) return fail("xmlsec unavailable");
    xmlNode* resp = xmlDocGetRootElement(doc.get());
    if (!is(resp, ns_protocol, "Response")) return fail("root is not a samlp:Response");
    if (attr(resp, "Version").value_or("") != "2.0") return fail("version");
    if (!register_ids(doc.get(), resp)) return fail("duplicate or empty ID");

    // Exactly one assertion in the whole document, a direct child of the Response, or exactly one encrypted one
    // there (and no plain one anywhere).
    int total = 0;
    count_elements(resp, ns_assertion, "Assertion", total);
    int encrypted = 0;
    count_elements(resp, ns_assertion, "EncryptedAssertion", encrypted);
    xmlNode* holder = resp;  // the assertion's parent: the Response, or the EncryptedAssertion once decrypted
    if (encrypted != 0) {
        if (e.sp_key_pem.empty()) return fail("an encrypted assertion, and no SP key to decrypt it");
        if (encrypted != 1 || total != 0) return fail("the response must hold exactly one assertion");
        holder = child(resp, ns_assertion, "EncryptedAssertion");
        if (holder == nullptr) return fail("the encrypted assertion is not a child of the response");
    } else {
        if (total != 1) return fail("the response must hold exactly one assertion");
        if (child(resp, ns_assertion, "Assertion") == nullptr)
            return fail("the assertion is not a child of the response");
    }

    // Status.
    xmlNode* status_code = child(child(resp, ns_protocol, "Status"), ns_protocol, "StatusCode");
    if (attr(status_code, "Value").value_or("") != status_success) return fail("status is not Success");

    // Signature: on the Response or on the Assertion (or both); each one present must verify. The Response's covers
    // an encrypted assertion as it came, so it is checked before the decryption.
    std::vector<std::string> ders;
    for (auto const& c : e.idp_certificates)
        if (auto der = cert_der(c)) ders.push_back(std::move(*der));
    if (ders.empty()) return fail("no IdP certificate");
    auto const resp_sigs = signatures(resp);
    if (resp_sigs.size() > 1) return fail("more than one signature");
    if (!resp_sigs.empty() && !verify_with_any(resp, resp_sigs.front(), ders, out.reason)) return out;
    if (holder != resp) {
        if (!decrypt_assertion(holder, e.sp_key_pem, out.reason)) return out;
        // The decrypted assertion: alone (no second one inside it), its IDs unique in the document.
        total = 0;
        count_elements(resp, ns_assertion, "Assertion", total);
        if (total != 1) return fail("the response must hold exactly one assertion");
        if (!register_ids(doc.get(), holder->children)) return fail("duplicate or empty ID");
    }
    xmlNode* as = child(holder, ns_assertion, "Assertion");
    if (as == nullptr) return fail("the assertion is not a child of the response");
    auto const as_sigs = signatures(as);
    if (as_sigs.size() > 1) return fail("more than one signature");
    if (resp_sigs.empty() && as_sigs.empty()) return fail("unsigned");
    int dsig_total = 0;
    count_elements(resp, ns_dsig, "Signature", dsig_total);
    if (dsig_total != static_cast<int>(resp_sigs.size() + as_sigs.size())) return fail("stray signature");
    if (!as_sigs.empty() && !verify_with_any(as, as_sigs.front(), ders, out.reason)) return out;

    auto const now = e.now_s;
    auto const skew = e.skew_s;
    // Response attributes.
    if (auto d = attr(resp, "Destination"); d && *d != e.acs_url) return fail("destination");
    auto const resp_irt = attr(resp, "InResponseTo").value_or("");
    if (auto iss = child(resp, ns_assertion, "Issuer"); iss != nullptr && text(iss) != e.idp_entity_id)
        return fail("response issuer");
    if (!e.in_response_to.empty() && !resp_irt.empty() && resp_irt != e.in_response_to)
        return fail("response InResponseTo");

    // The assertion.
    if (attr(as, "Version").value_or("") != "2.0") return fail("assertion version");
    assertion a;
    a.id = attr(as, "ID").value_or("");
    if (a.id.empty() || a.id.size() > 256) return fail("assertion ID");
    if (text(child(as, ns_assertion, "Issuer")) != e.idp_entity_id) return fail("assertion issuer");
    xmlNode* subject = child(as, ns_assertion, "Subject");
    xmlNode* name_id = child(subject, ns_assertion, "NameID");
    if (name_id == nullptr) return fail("no NameID");
    a.name_id = text(name_id);
    a.name_id_format = attr(name_id, "Format").value_or("");
    if (a.name_id.empty() || a.name_id.size() > 512) return fail("NameID");
    // A bearer SubjectConfirmation whose data names our ACS, is in its window and answers our request.
    bool confirmed = false;
    std::string why_not = "no bearer subject confirmation";
    for (xmlNode* sc : children(subject, ns_assertion, "SubjectConfirmation")) {
        if (attr(sc, "Method").value_or("") != "urn:oasis:names:tc:SAML:2.0:cm:bearer") continue;
        xmlNode* data = child(sc, ns_assertion, "SubjectConfirmationData");
        if (data == nullptr) continue;
        if (attr(data, "Recipient").value_or("") != e.acs_url) {
            why_not = "recipient";
            continue;
        }
        auto const noa = parse_time(attr(data, "NotOnOrAfter").value_or(""));
        if (!noa || *noa + skew <= now) {
            why_not = "subject confirmation expired";
            continue;
        }
        if (auto nb = attr(data, "NotBefore")) {
            auto t = parse_time(*nb);
            if (!t || *t - skew > now) {
                why_not = "subject confirmation not yet valid";
                continue;
            }
        }
        auto const irt = attr(data, "InResponseTo").value_or("");
        if (irt != e.in_response_to || resp_irt != e.in_response_to) {
            why_not = "InResponseTo";
            continue;
        }
        a.in_response_to = irt;
        a.not_on_or_after = *noa;
        confirmed = true;
        break;
    }
    if (!confirmed) return fail(why_not);
    // Conditions: the time window and our audience.
    xmlNode* cond = child(as, ns_assertion, "Conditions");
    if (cond == nullptr) return fail("no conditions");
    if (auto nb = attr(cond, "NotBefore")) {
        auto t = parse_time(*nb);
        if (!t || *t - skew > now) return fail("not yet valid");
    }
    if (auto noa = attr(cond, "NotOnOrAfter")) {
        auto t = parse_time(*noa);
        if (!t || *t + skew <= now) return fail("expired");
        a.not_on_or_after = std::min(a.not_on_or_after, *t);
    }
    auto const restrictions = children(cond, ns_assertion, "AudienceRestriction");
    if (restrictions.empty()) return fail("no audience restriction");
    for (xmlNode* r : restrictions) {  // every restriction must admit us
        bool ours = false;
        for (xmlNode* aud : children(r, ns_assertion, "Audience")) ours = ours || text(aud) == e.sp_entity_id;
        if (!ours) return fail("audience");
    }
    // Attributes.
    for (xmlNode* st : children(as, ns_assertion, "AttributeStatement")) {
        for (xmlNode* at : children(st, ns_assertion, "Attribute")) {
            std::vector<std::string> values;
            for (xmlNode* v : children(at, ns_assertion, "AttributeValue"))
                if (values.size() < 32) values.push_back(text(v).substr(0, 1024));
            for (auto const* key : {"Name", "FriendlyName"})
                if (auto n = attr(at, key); n && !n->empty() && n->size() <= 256 && a.attributes.size() < 128)
                    a.attributes[*n] = values;
        }
    }
    out.ok = std::move(a);
    return out;
}

std::optional<idp_metadata> parse_idp_metadata(std::string_view xml, std::string& why) {
    auto doc = parse(xml, why);
    if (!doc) return std::nullopt;
    xmlNode* root = xmlDocGetRootElement(doc.get());
    xmlNode* ed = root;
    if (is(root, ns_metadata, "EntitiesDescriptor"))
        ed = children(root, ns_metadata, "EntityDescriptor").empty()
                 ? nullptr
                 : children(root, ns_metadata, "EntityDescriptor").front();
    if (!is(ed, ns_metadata, "EntityDescriptor")) return why = "no EntityDescriptor", std::nullopt;
    idp_metadata m;
    m.entity_id = attr(ed, "entityID").value_or("");
    xmlNode* idp = child(ed, ns_metadata, "IDPSSODescriptor");
    if (idp == nullptr) return why = "no IDPSSODescriptor", std::nullopt;
    for (xmlNode* sso : children(idp, ns_metadata, "SingleSignOnService"))
        if (attr(sso, "Binding").value_or("") == binding_redirect) m.sso_url = attr(sso, "Location").value_or("");
    for (xmlNode* kd : children(idp, ns_metadata, "KeyDescriptor")) {
        auto const use = attr(kd, "use").value_or("signing");
        if (use != "signing") continue;
        xmlNode* cert = child(child(child(kd, ns_dsig, "KeyInfo"), ns_dsig, "X509Data"), ns_dsig, "X509Certificate");
        if (cert == nullptr) continue;
        std::string b64;
        for (char c : text(cert))
            if (!std::isspace(static_cast<unsigned char>(c))) b64.push_back(c);
        if (b64.empty() || std::find(m.certificates.begin(), m.certificates.end(), b64) != m.certificates.end())
            continue;
        if (m.certificate.empty()) m.certificate = b64;
        m.certificates.push_back(std::move(b64));
    }
    if (m.entity_id.empty() || m.sso_url.empty() || m.certificate.empty())
        return why = "the metadata lacks the entity id, a redirect SSO URL or a signing certificate", std::nullopt;
    return m;
}

std::optional<std::pair<std::int64_t, std::int64_t>> certificate_validity(std::string_view cert) {
    auto der = cert_der(cert);
    if (!der) return std::nullopt;
    auto const* p = reinterpret_cast<unsigned char const*>(der->data());
    X509* c = d2i_X509(nullptr, &p, static_cast<long>(der->size()));
    if (c == nullptr) return std::nullopt;
    auto to_ms = [](ASN1_TIME const* t) -> std::int64_t {
        std::tm tm{};
        if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
        return static_cast<std::int64_t>(timegm(&tm)) * 1000;
    };
    std::pair<std::int64_t, std::int64_t> out{to_ms(X509_get0_notBefore(c)), to_ms(X509_get0_notAfter(c))};
    X509_free(c);
    return out;
}

std::string xml_escape(std::string_view s) { return markup_escaped(s); }

std::string new_request_id() { return "_" + crypto::random_token(20); }

std::string authn_request_xml(authn_request const& r) {
    std::string x;
    x += "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
         "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"";
    x += xml_escape(r.id);
    x += "\" Version=\"2.0\" IssueInstant=\"" + format_time(r.now_s) + "\" Destination=\"";
    x += xml_escape(r.idp_sso_url);
    x += "\" AssertionConsumerServiceURL=\"" + xml_escape(r.acs_url);
    x += "\" ProtocolBinding=\"";
    x += binding_post;
    x += "\"><saml:Issuer>" + xml_escape(r.sp_entity_id) + "</saml:Issuer>";
    if (!r.name_id_hint.empty())
        x += "<saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">" +
             xml_escape(r.name_id_hint) + "</saml:NameID></saml:Subject>";
    x += "<samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\" "
         "AllowCreate=\"true\"/></samlp:AuthnRequest>";
    return x;
}

namespace {

std::string pct(std::string_view s) { return percent_encoded(s); }

std::optional<std::string> deflate_raw(std::string_view in) {
    z_stream z{};
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return std::nullopt;
    std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int const rc = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) return std::nullopt;
    return out;
}

std::optional<std::string> sign_rsa_sha256(std::string_view key_pem, std::string_view data) {
    BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    if (bio == nullptr) return std::nullopt;
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (key == nullptr) return std::nullopt;
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    std::optional<std::string> out;
    std::size_t len = 0;
    if (md != nullptr && EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestSign(md, nullptr, &len, reinterpret_cast<unsigned char const*>(data.data()), data.size()) == 1) {
        std::string sig(len, '\0');
        if (EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<unsigned char const*>(data.data()), data.size()) == 1) {
            sig.resize(len);
            out = std::move(sig);
        }
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return out;
}

}  // namespace

std::optional<std::string> redirect_url(authn_request const& r, std::string& why) {
    auto deflated = deflate_raw(authn_request_xml(r));
    if (!deflated) return why = "deflate", std::nullopt;
    std::string q = "SAMLRequest=" + pct(crypto::base64_encode(*deflated));
    if (!r.relay_state.empty()) q += "&RelayState=" + pct(r.relay_state);
    if (!r.sp_key_pem.empty()) {
        q += "&SigAlg=" + pct(sigalg_rsa_sha256);
        auto sig = sign_rsa_sha256(r.sp_key_pem, q);
        if (!sig) return why = "the SP key cannot sign", std::nullopt;
        q += "&Signature=" + pct(crypto::base64_encode(*sig));
    }
    return r.idp_sso_url + (r.idp_sso_url.find('?') == std::string::npos ? "?" : "&") + q;
}

std::optional<std::string> inflate_raw(std::string_view data, std::size_t limit) {
    z_stream z{};
    if (inflateInit2(&z, -15) != Z_OK) return std::nullopt;
    std::string out;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    char buf[4096];
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
        if (out.size() > limit || (rc == Z_BUF_ERROR && z.avail_in == 0)) break;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END || out.size() > limit) return std::nullopt;
    return out;
}

std::string sp_metadata_xml(std::string_view sp_entity_id, std::string_view acs_url, std::string_view sp_cert_pem,
                            bool want_assertions_signed, std::string_view encryption_cert_pem) {
    std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    x += "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"" +
         xml_escape(sp_entity_id) + "\">";
    x += "<md:SPSSODescriptor AuthnRequestsSigned=\"";
    x += sp_cert_pem.empty() ? "false" : "true";
    x += "\" WantAssertionsSigned=\"";
    x += want_assertions_signed ? "true" : "false";
    x += "\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">";
    auto key_descriptor = [&](std::string_view use, std::string_view pem, std::string_view methods) {
        if (auto der = cert_der(pem))
            x += "<md:KeyDescriptor use=\"" + std::string(use) +
                 "\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>" +
                 crypto::base64_encode(*der) + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>" +
                 std::string(methods) + "</md:KeyDescriptor>";
    };
    if (!sp_cert_pem.empty()) key_descriptor("signing", sp_cert_pem, "");
    // What the SP decrypts: AES-GCM or AES-CBC content, its key by RSA-OAEP.
    if (!encryption_cert_pem.empty())
        key_descriptor("encryption", encryption_cert_pem,
                       "<md:EncryptionMethod Algorithm=\"http://www.w3.org/2009/xmlenc11#aes256-gcm\"/>"
                       "<md:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes256-cbc\"/>"
                       "<md:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/>");
    x += "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>";
    x += "<md:AssertionConsumerService Binding=\"";
    x += binding_post;
    x += "\" Location=\"" + xml_escape(acs_url) + "\" index=\"0\" isDefault=\"true\"/>";
    x += "</md:SPSSODescriptor></md:EntityDescriptor>\n";
    return x;
}

}  // namespace latchkey::server::saml
