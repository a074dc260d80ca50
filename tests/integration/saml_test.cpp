// Enterprise SSO with SAML 2.0 (issue 15): latchkey as the service provider, against responses a test IdP in this
// file builds and signs with libxmlsec1 (its own RSA key and self-signed certificate, made with OpenSSL here).
// The ACS must take a well-formed signed response and refuse every bad one (unsigned, wrongly signed, tampered,
// signature-wrapped, another audience, expired, replayed, not answering our request, with a DTD) without
// creating a user.
#include "server/saml/saml.hpp"
#include "conf/load.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "server/api/saml/saml.hpp"
#include "tests/common/federated.hpp"
#include "tests/common/loopback_http.hpp"
#include "tests/common/saml_idp.hpp"
#include "tests/common/server_fixture.hpp"

#include <openssl/x509v3.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

using namespace latchkey;
using namespace latchkey::test;

namespace {

using saml_idp::bio_string;
using saml_idp::build_response;
using saml_idp::idp_keys;
using saml_idp::keypair;
using saml_idp::response_spec;
using saml_idp::unsigned_xml;
constexpr char const* idp_entity = saml_idp::entity;
constexpr char const* idp_sso = "https://idp.corp.test/sso";
constexpr char const* conn_id = "samlc_corp1";

keypair const& other_keys() {
    static keypair const k;
    return k;
}
keypair const& rollover_keys() {  // the IdP's next signing key (issue 15: several signing certificates)
    static keypair const k;
    return k;
}
keypair const& encryption_keys() {  // a key the IdP publishes for encryption only
    static keypair const k;
    return k;
}

std::string pct_decode(std::string const& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i] == '+' ? ' ' : s[i]);
        }
    }
    return out;
}

/// A query parameter of `url`, percent-decoded.
std::string decoded_param(std::string const& url, std::string const& name) {
    return pct_decode(query_param(url, name));
}

conf::saml_connection corp_connection() {
    conf::saml_connection c;
    c.id = conn_id;
    c.name = "Corp";
    c.domains = {"corp.test"};
    c.idp_entity_id = idp_entity;
    c.idp_sso_url = idp_sso;
    c.idp_certificate = idp_keys().cert_pem;
    return c;
}

struct sso {
    explicit sso(std::function<void(conf::config&)> more = {})
        : s([&](conf::config& c) {
              c.saml_connections.push_back(corp_connection());
              if (more) more(c);
          }) {}
    test_server s;
    std::string redirect() const { return s.inst().frontend_api + "/sso-callback"; }
    std::string acs() const { return s.inst().frontend_api + "/v1/saml/acs/" + conn_id; }
    std::string audience() const { return s.inst().frontend_api + "/v1/saml/metadata/" + conn_id + ".xml"; }
    std::int64_t now_s() { return s.app().now_ms() / 1000; }
};

/// A started enterprise SSO sign-in: its id, the AuthnRequest ID and the redirect URL.
struct started {
    std::string attempt_id, request_id, url;
};

started start(sso& f, http_client& c, std::string const& path = "/v1/client/sign_ins",
              std::string const& email = "ada@corp.test") {
    bool const sign_in = path.ends_with("sign_ins");
    auto r = c.fapi("POST", path,
                    {{"strategy", "enterprise_sso"},
                     {sign_in ? "identifier" : "email_address", email},
                     {"redirect_url", f.redirect()}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& resp = response(r);
    auto const& v = sign_in ? resp.at("first_factor_verification") : resp.at("verifications").at("external_account");
    BOOST_TEST(v.at("status") == "unverified");
    BOOST_TEST(v.at("object") == "verification_saml");
    started out;
    out.attempt_id = str(resp.at("id"));
    out.url = str(v.at("external_verification_redirect_url"));
    BOOST_TEST_REQUIRE(out.url.starts_with(std::string(idp_sso) + "?SAMLRequest="), out.url);
    BOOST_TEST(decoded_param(out.url, "RelayState") == out.attempt_id);
    auto deflated = crypto::base64_decode(decoded_param(out.url, "SAMLRequest"));
    BOOST_TEST_REQUIRE(deflated.has_value());
    auto xml = server::saml::inflate_raw(*deflated, 64 * 1024);
    BOOST_TEST_REQUIRE(xml.has_value());
    auto const at = xml->find(" ID=\"");
    BOOST_TEST_REQUIRE(at != std::string::npos);
    out.request_id = xml->substr(at + 5, xml->find('"', at + 5) - at - 5);
    BOOST_TEST(xml->find("AssertionConsumerServiceURL=\"" + f.acs() + "\"") != std::string::npos, *xml);
    BOOST_TEST(xml->find("<saml:Issuer>" + f.audience() + "</saml:Issuer>") != std::string::npos, *xml);
    return out;
}

response_spec spec_for(sso& f, started const& st) {
    response_spec r;
    r.in_response_to = st.request_id;
    r.audience = f.audience();
    r.recipient = f.acs();
    r.now_s = f.now_s();
    return r;
}

http_result post_acs([[maybe_unused]] sso& f, http_client& c, std::string const& xml, std::string const& relay) {
    auto body = form_encode({{"SAMLResponse", crypto::base64_encode(xml)}, {"RelayState", relay}});
    // The IdP's page posts the form cross-site: no Origin of ours, no FAPI credential needed.
    return c.request(http::verb::post, std::string("/v1/saml/acs/") + conn_id, body,
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
}

/// Starts an SSO sign-in in browser `c` and posts the IdP's response to it, signed with `key`.
http_result answer_signed_by(sso& f, http_client& c, keypair const& key) {
    auto st = start(f, c);
    auto spec = spec_for(f, st);
    spec.key = &key;
    return post_acs(f, c, build_response(spec), st.attempt_id);
}

std::size_t user_count(sso& f) {
    auto b = bapi_client(f.s);
    auto r = b.bapi(http::verb::get, "/v1/users/count");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return static_cast<std::size_t>(r.json.at("total_count").to_number<std::int64_t>());
}

/// The attempt is still waiting for the IdP and nobody was created.
void expect_refused(sso& f, http_client& c, http_result const& r) {
    expect_error(r, 400, "saml_response_invalid");
    BOOST_TEST(user_count(f) == 0u);
    auto client = c.fapi("GET", "/v1/client");
    auto const& si = client.json.at("response").at("sign_in");
    BOOST_TEST_REQUIRE(si.is_object(), client.body);
    BOOST_TEST(si.at("first_factor_verification").at("status") == "unverified", client.body);
    BOOST_TEST(client.json.at("response").at("sessions").as_array().empty());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(saml)

BOOST_AUTO_TEST_CASE(sign_in_by_email_domain_transfers_to_sign_up_then_signs_in) {
    sso f;
    http_client c(f.s.fapi_port());
    auto st = start(f, c);
    auto r = post_acs(f, c, build_response(spec_for(f, st)), st.attempt_id);
    BOOST_TEST_REQUIRE(r.status == 303u, r.body);
    BOOST_TEST(r.headers["location"] == f.redirect());

    // No account yet: transferable, as an OAuth sign-in would be.
    auto const user_id = transfer_to_sign_up(c);

    auto const u = bapi_user(f.s, user_id);
    auto const& ea = sole_account(u, "enterprise_accounts");
    BOOST_TEST(ea.at("object") == "enterprise_account");
    BOOST_TEST(ea.at("protocol") == "saml");
    BOOST_TEST(ea.at("provider") == "saml_custom");
    BOOST_TEST(ea.at("email_address") == "ada@corp.test");
    BOOST_TEST(ea.at("provider_user_id") == "ada@corp.test");
    BOOST_TEST(ea.at("enterprise_connection_id") == conn_id);
    BOOST_TEST(ea.at("enterprise_connection").at("name") == "Corp");
    BOOST_TEST(u.at("external_accounts").as_array().empty());
    BOOST_TEST(u.at("first_name") == "Ada");
    BOOST_TEST(u.at("last_name") == "Lovelace");
    BOOST_TEST(u.at("email_addresses").as_array()[0].at("verification").at("status") == "verified");

    // Another browser: the same person signs in, complete at once.
    http_client c2(f.s.fapi_port());
    auto st2 = start(f, c2);
    auto spec = spec_for(f, st2);
    spec.where = response_spec::sign_where::response;  // a signed Response (assertion unsigned) is fine too
    BOOST_TEST_REQUIRE(post_acs(f, c2, build_response(spec), st2.attempt_id).status == 303u);
    auto const signed_in = session_user(c2);
    BOOST_TEST(str(signed_in.at("id")) == user_id);
    BOOST_TEST(signed_in.at("enterprise_accounts").as_array().size() == 1u);
    BOOST_TEST(user_count(f) == 1u);
}

BOOST_AUTO_TEST_CASE(sign_up_by_enterprise_sso_creates_the_user) {
    sso f;
    http_client c(f.s.fapi_port());
    auto st = start(f, c, "/v1/client/sign_ups", "grace@corp.test");
    auto spec = spec_for(f, st);
    spec.email = "grace@corp.test";
    BOOST_TEST_REQUIRE(post_acs(f, c, build_response(spec), st.attempt_id).status == 303u);
    auto client = c.fapi("GET", "/v1/client");
    auto const& sessions = client.json.at("response").at("sessions").as_array();
    BOOST_TEST_REQUIRE(sessions.size() == 1u, client.body);
    auto const& user = sessions[0].at("user");
    BOOST_TEST(user.at("enterprise_accounts").as_array()[0].at("email_address") == "grace@corp.test");
    BOOST_TEST(user.at("email_addresses").as_array()[0].at("email_address") == "grace@corp.test");
}

BOOST_AUTO_TEST_CASE(clerk_js_prepare_first_factor_restarts_the_request) {
    sso f;
    http_client c(f.s.fapi_port());
    auto st = start(f, c);
    auto p = c.fapi("POST", "/v1/client/sign_ins/" + st.attempt_id + "/prepare_first_factor",
                    {{"strategy", "enterprise_sso"}, {"redirect_url", f.redirect()}});
    BOOST_TEST_REQUIRE(p.status == 200u, p.body);
    auto const url = str(response(p).at("first_factor_verification").at("external_verification_redirect_url"));
    BOOST_TEST(url != st.url);
    // The first request is no longer the one answered.
    expect_refused(f, c, post_acs(f, c, build_response(spec_for(f, st)), st.attempt_id));
}

BOOST_AUTO_TEST_CASE(bad_responses_are_refused_and_create_no_user) {
    sso f;
    http_client c(f.s.fapi_port());
    auto st = start(f, c);
    auto base = spec_for(f, st);
    {
        BOOST_TEST_CONTEXT("unsigned") {
            auto s = base;
            s.where = response_spec::sign_where::none;
            expect_refused(f, c, post_acs(f, c, build_response(s), st.attempt_id));
        }
    }
    BOOST_TEST_CONTEXT("signed by another key") {
        auto s = base;
        s.key = &other_keys();
        expect_refused(f, c, post_acs(f, c, build_response(s), st.attempt_id));
    }
    BOOST_TEST_CONTEXT("tampered after signing") {
        auto xml = build_response(base);
        auto at = xml.find("ada@corp.test");
        xml.replace(at, 13, "eve@corp.test");
        expect_refused(f, c, post_acs(f, c, xml, st.attempt_id));
    }
    BOOST_TEST_CONTEXT("signature wrapping: an unsigned assertion before the signed one") {
        auto signed_xml = build_response(base);
        auto evil = base;
        evil.email = "eve@corp.test";
        evil.assertion_id = "_evil";
        auto evil_xml = unsigned_xml(evil);
        auto const a0 = evil_xml.find("<saml:Assertion");
        auto const a1 = evil_xml.find("</saml:Assertion>") + 17;
        auto const evil_assertion = evil_xml.substr(a0, a1 - a0);
        auto const at = signed_xml.find("<saml:Assertion");
        signed_xml.insert(at, evil_assertion);
        expect_refused(f, c, post_acs(f, c, signed_xml, st.attempt_id));
    }
    BOOST_TEST_CONTEXT("signature wrapping: the signed assertion hidden in an extension of the evil one") {
        auto signed_xml = build_response(base);
        auto const a0 = signed_xml.find("<saml:Assertion");
        auto const a1 = signed_xml.find("</saml:Assertion>") + 17;
        auto const good = signed_xml.substr(a0, a1 - a0);
        auto evil = base;
        evil.email = "eve@corp.test";
        evil.assertion_id = "_evil2";
        auto evil_xml = unsigned_xml(evil);
        auto const adv = evil_xml.find("<saml:AttributeStatement>");
        evil_xml.insert(adv, "<saml:Advice>" + good + "</saml:Advice>");
        expect_refused(f, c, post_acs(f, c, evil_xml, st.attempt_id));
    }
    // One field of an otherwise good response made wrong.
    std::pair<char const*, std::function<void(response_spec&)>> const wrong[] = {
        {"another audience", [](response_spec& s) { s.audience = "https://other.example/sp"; }},
        {"another recipient", [](response_spec& s) { s.recipient = "https://other.example/acs"; }},
        {"another issuer", [](response_spec& s) { s.issuer = "https://evil.example/idp"; }},
        {"expired", [](response_spec& s) { s.now_s -= 3600; }},
        {"not yet valid", [](response_spec& s) { s.now_s += 3600; }},
        {"answers another request", [](response_spec& s) { s.in_response_to = "_someone_elses_request"; }},
        {"unsolicited (no InResponseTo)", [](response_spec& s) { s.in_response_to.clear(); }},
    };
    for (auto const& [what, change] : wrong) {
        BOOST_TEST_CONTEXT(what) {
            auto s = base;
            change(s);
            expect_refused(f, c, post_acs(f, c, build_response(s), st.attempt_id));
        }
    }
    BOOST_TEST_CONTEXT("a DTD with an entity is refused before parsing") {
        auto xml = build_response(base);
        xml = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY e \"ada@corp.test\">]>" +
              xml.substr(xml.find("<samlp:Response"));
        expect_refused(f, c, post_acs(f, c, xml, st.attempt_id));
    }
    BOOST_TEST_CONTEXT("not XML, not base64") {
        expect_refused(f, c, post_acs(f, c, "<samlp:Response", st.attempt_id));
        auto body = form_encode({{"SAMLResponse", "%%%not base64"}, {"RelayState", st.attempt_id}});
        auto r = c.request(http::verb::post, std::string("/v1/saml/acs/") + conn_id, body,
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
        expect_refused(f, c, r);
    }
    BOOST_TEST_CONTEXT("no RelayState (IdP-initiated) and an unknown attempt") {
        auto body = form_encode({{"SAMLResponse", crypto::base64_encode(build_response(base))}});
        auto r = c.request(http::verb::post, std::string("/v1/saml/acs/") + conn_id, body,
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
        expect_refused(f, c, r);
        expect_refused(f, c, post_acs(f, c, build_response(base), "sia_unknown"));
    }
    // After all that the genuine response still works.
    BOOST_TEST(post_acs(f, c, build_response(base), st.attempt_id).status == 303u);
}

BOOST_AUTO_TEST_CASE(a_replayed_assertion_is_refused) {
    sso f;
    http_client c(f.s.fapi_port());
    auto st = start(f, c, "/v1/client/sign_ups", "ada@corp.test");
    auto spec = spec_for(f, st);
    BOOST_TEST_REQUIRE(post_acs(f, c, build_response(spec), st.attempt_id).status == 303u);
    BOOST_TEST(user_count(f) == 1u);
    // The same response again: the request is spent.
    expect_error(post_acs(f, c, build_response(spec), st.attempt_id), 400, "saml_response_invalid");
    // The same assertion (same ID) answering a new request of another browser: the replay cache refuses it.
    http_client c2(f.s.fapi_port());
    auto st2 = start(f, c2);
    auto again = spec;
    again.in_response_to = st2.request_id;
    expect_error(post_acs(f, c2, build_response(again), st2.attempt_id), 400, "saml_response_invalid");
    auto client = c2.fapi("GET", "/v1/client");
    BOOST_TEST(client.json.at("response").at("sessions").as_array().empty(), client.body);
    BOOST_TEST(client.json.at("response").at("sign_in").at("first_factor_verification").at("status") == "unverified");
    // A fresh assertion for that request is accepted.
    again.assertion_id = "_fresh";
    BOOST_TEST(post_acs(f, c2, build_response(again), st2.attempt_id).status == 303u);
    BOOST_TEST(c2.fapi("GET", "/v1/client").json.at("response").at("sessions").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_email_outside_the_connection_domains_fails_the_attempt) {
    sso f;
    http_client c(f.s.fapi_port());
    auto st = start(f, c);
    auto spec = spec_for(f, st);
    spec.email = "ada@elsewhere.test";
    BOOST_TEST_REQUIRE(post_acs(f, c, build_response(spec), st.attempt_id).status == 303u);
    auto client = c.fapi("GET", "/v1/client");
    auto const& v = client.json.at("response").at("sign_in").at("first_factor_verification");
    BOOST_TEST(v.at("status") == "failed", client.body);
    BOOST_TEST(v.at("error").at("code") == "saml_email_address_domain_mismatch");
    BOOST_TEST(user_count(f) == 0u);
}

BOOST_AUTO_TEST_CASE(strategy_needs_a_connection_for_the_domain) {
    sso f;
    http_client c(f.s.fapi_port());
    auto r =
        c.fapi("POST", "/v1/client/sign_ins",
               {{"strategy", "enterprise_sso"}, {"identifier", "ada@nowhere.test"}, {"redirect_url", f.redirect()}});
    expect_error(r, 422, "saml_connection_not_found", "identifier");
    r = c.fapi("POST", "/v1/client/sign_ins", {{"strategy", "saml"}, {"redirect_url", f.redirect()}});
    expect_error(r, 422, "form_param_missing", "identifier");
    r = c.fapi(
        "POST", "/v1/client/sign_ins",
        {{"strategy", "enterprise_sso"}, {"identifier", "ada@corp.test"}, {"redirect_url", "https://evil.example/"}});
    expect_error(r, 422, "form_param_value_invalid", "redirect_url");
    auto env = c.fapi("GET", "/v1/environment");
    BOOST_TEST(env.json.at("user_settings").at("enterprise_sso").at("enabled") == true);
}

BOOST_AUTO_TEST_CASE(idp_initiated_responses_where_the_connection_allows_them) {
    sso f([](conf::config& c) { c.saml_connections.back().allow_idp_initiated = true; });
    http_client c(f.s.fapi_port());
    response_spec spec;
    spec.audience = f.audience();
    spec.recipient = f.acs();
    spec.now_s = f.now_s();
    spec.email = "lin@corp.test";
    auto const xml = build_response(spec);  // no InResponseTo: unsolicited
    auto r = post_acs(f, c, xml, f.redirect());
    BOOST_TEST_REQUIRE(r.status == 303u, r.body);
    BOOST_TEST(r.headers["location"] == f.redirect());
    bool credential = false;
    for (auto const& sc : r.set_cookies) credential = credential || sc.starts_with("__client=");
    BOOST_TEST(credential);
    // The new client holds the new user's session.
    auto client = c.fapi("GET", "/v1/client");
    auto const& sessions = client.json.at("response").at("sessions").as_array();
    BOOST_TEST_REQUIRE(sessions.size() == 1u, client.body);
    BOOST_TEST(sessions[0].at("user").at("enterprise_accounts").as_array()[0].at("email_address") == "lin@corp.test");
    BOOST_TEST(user_count(f) == 1u);
    // The same assertion again: the replay cache refuses it.
    http_client c2(f.s.fapi_port());
    expect_error(post_acs(f, c2, xml, ""), 400, "saml_response_invalid");
    // A known person signs in (a fresh assertion); an answer to some request is not unsolicited.
    spec.assertion_id = "_again";
    BOOST_TEST(post_acs(f, c2, build_response(spec), "").status == 303u);
    BOOST_TEST(c2.fapi("GET", "/v1/client").json.at("response").at("sessions").as_array().size() == 1u);
    BOOST_TEST(user_count(f) == 1u);
    spec.assertion_id = "_solicited";
    spec.in_response_to = "_some_request";
    expect_error(post_acs(f, c2, build_response(spec), ""), 400, "saml_response_invalid");
}

BOOST_AUTO_TEST_CASE(sp_metadata_names_the_acs_and_entity) {
    sso f;
    http_client c(f.s.fapi_port());
    for (std::string path :
         {std::string("/v1/saml/metadata/") + conn_id + ".xml", std::string("/v1/saml/metadata/") + conn_id}) {
        auto r = c.request(http::verb::get, path);
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        BOOST_TEST(r.headers["content-type"].starts_with("application/samlmetadata+xml"));
        BOOST_TEST(r.body.find("entityID=\"" + f.audience() + "\"") != std::string::npos, r.body);
        BOOST_TEST(r.body.find("Location=\"" + f.acs() + "\"") != std::string::npos, r.body);
    }
    expect_error(c.request(http::verb::get, "/v1/saml/metadata/samlc_missing.xml"), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(an_idp_with_an_ec_key_signs_with_ecdsa) {
    keypair const ec(true);
    sso f([&](conf::config& c) { c.saml_connections.back().idp_certificate = ec.cert_pem; });
    http_client c(f.s.fapi_port());
    auto r = answer_signed_by(f, c, ec);  // ECDSA-SHA256 over P-256
    BOOST_TEST_REQUIRE(r.status == 303u, r.body);
    expect_transferable(c);
    // An RSA signature where the connection's certificate is the EC one: refused.
    http_client c2(f.s.fapi_port());
    expect_refused(f, c2, answer_signed_by(f, c2, idp_keys()));
}

BOOST_AUTO_TEST_CASE(an_assertion_encrypted_to_the_sp_key_is_decrypted_then_checked_like_a_plain_one) {
    keypair const sp;
    sso f([&](conf::config& c) {
        c.saml_sp_key = sp.key_pem;
        c.saml_sp_certificate = sp.cert_pem;
    });
    // The SP metadata offers its certificate for encryption, with the algorithms it takes.
    http_client c(f.s.fapi_port());
    auto meta = c.request(http::verb::get, std::string("/v1/saml/metadata/") + conn_id + ".xml");
    BOOST_TEST(meta.body.find("<md:KeyDescriptor use=\"encryption\">") != std::string::npos, meta.body);
    BOOST_TEST(meta.body.find("xmlenc#rsa-oaep-mgf1p") != std::string::npos, meta.body);
    BOOST_TEST(meta.body.find("use=\"signing\"") == std::string::npos);  // AuthnRequests are not signed here

    // A signed assertion encrypted to the SP (AES-256-CBC, the key by RSA-OAEP): decrypted, then accepted.
    auto st = start(f, c);
    auto r = post_acs(f, c, saml_idp::encrypt_assertion(build_response(spec_for(f, st)), sp.cert_pem), st.attempt_id);
    BOOST_TEST_REQUIRE(r.status == 303u, r.body);
    expect_transferable(c);

    // Refused, the attempt still waiting: the key by RSA PKCS#1 v1.5 (padding oracles), encrypted to another key,
    // an encrypted assertion whose content is unsigned.
    http_client c2(f.s.fapi_port());
    auto st2 = start(f, c2);
    expect_refused(
        f, c2,
        post_acs(f, c2,
                 saml_idp::encrypt_assertion(build_response(spec_for(f, st2)), sp.cert_pem, xmlSecTransformRsaPkcs1Id),
                 st2.attempt_id));
    expect_refused(f, c2,
                   post_acs(f, c2, saml_idp::encrypt_assertion(build_response(spec_for(f, st2)), other_keys().cert_pem),
                            st2.attempt_id));
    auto unsigned_spec = spec_for(f, st2);
    unsigned_spec.where = response_spec::sign_where::none;
    expect_refused(
        f, c2,
        post_acs(f, c2, saml_idp::encrypt_assertion(build_response(unsigned_spec), sp.cert_pem), st2.attempt_id));

    // A server without an SP key refuses an encrypted assertion.
    sso plain;
    http_client c3(plain.s.fapi_port());
    auto st3 = start(plain, c3);
    expect_refused(plain, c3,
                   post_acs(plain, c3, saml_idp::encrypt_assertion(build_response(spec_for(plain, st3)), sp.cert_pem),
                            st3.attempt_id));
}

BOOST_AUTO_TEST_CASE(signed_authn_requests_verify_with_the_sp_certificate) {
    keypair const sp;
    sso f([&](conf::config& c) {
        c.saml_sp_key = sp.key_pem;  // the loader reads the PEM files named in the settings into these
        c.saml_sp_certificate = sp.cert_pem;
        c.saml_connections.back().sign_authn_requests = true;
    });
    http_client c(f.s.fapi_port());
    auto st = start(f, c);
    auto const q = st.url.substr(st.url.find('?') + 1);
    auto const sig_at = q.find("&Signature=");
    BOOST_TEST_REQUIRE(sig_at != std::string::npos, st.url);
    BOOST_TEST(decoded_param(st.url, "SigAlg") == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
    auto const signed_part = q.substr(0, sig_at);
    auto sig = crypto::base64_decode(decoded_param(st.url, "Signature"));
    BOOST_TEST_REQUIRE(sig.has_value());
    BIO* b = BIO_new_mem_buf(sp.cert_pem.data(), static_cast<int>(sp.cert_pem.size()));
    X509* cert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    BOOST_TEST_REQUIRE(EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, X509_get0_pubkey(cert)) == 1);
    BOOST_TEST(EVP_DigestVerify(md, reinterpret_cast<unsigned char const*>(sig->data()), sig->size(),
                                reinterpret_cast<unsigned char const*>(signed_part.data()), signed_part.size()) == 1);
    EVP_MD_CTX_free(md);
    X509_free(cert);
    auto meta = c.request(http::verb::get, std::string("/v1/saml/metadata/") + conn_id);
    BOOST_TEST(meta.body.find("AuthnRequestsSigned=\"true\"") != std::string::npos, meta.body);
    BOOST_TEST(meta.body.find("<ds:X509Certificate>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bapi_saml_connections_crud) {
    sso f;
    auto b = bapi_client(f.s);
    // The configured connection is listed, read-only.
    auto list = b.bapi(http::verb::get, "/v1/saml_connections");
    BOOST_TEST_REQUIRE(list.status == 200u, list.body);
    BOOST_TEST(list.json.at("total_count") == 1);
    BOOST_TEST(list.json.at("data").as_array()[0].at("id") == conn_id);
    expect_error(b.bapi(http::verb::delete_, std::string("/v1/saml_connections/") + conn_id), 422,
                 "form_param_value_invalid", "saml_connection_id");

    // Create from the IdP's metadata XML.
    std::string cert_b64;
    {
        auto const& pem = other_keys().cert_pem;
        auto body = pem.substr(pem.find('\n') + 1);
        body = body.substr(0, body.find("-----END"));
        for (char ch : body)
            if (ch != '\n') cert_b64.push_back(ch);
    }
    std::string const metadata =
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"https://idp.acme.test\">"
        "<md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">"
        "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data>"
        "<ds:X509Certificate>" +
        cert_b64 +
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" "
        "Location=\"https://idp.acme.test/sso\"/></md:IDPSSODescriptor></md:EntityDescriptor>";
    auto created = b.bapi(http::verb::post, "/v1/saml_connections",
                          json::object{{"name", "Acme"},
                                       {"provider", "saml_okta"},
                                       {"domains", json::array{"Acme.test"}},
                                       {"idp_metadata", metadata},
                                       {"attribute_mapping", json::object{{"email_address", "mail"}}}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    auto const id = str(created.json.at("id"));
    BOOST_TEST(id.starts_with("samlc_"));
    BOOST_TEST(created.json.at("object") == "saml_connection");
    BOOST_TEST(created.json.at("domains").as_array()[0] == "acme.test");
    BOOST_TEST(created.json.at("idp_entity_id") == "https://idp.acme.test");
    BOOST_TEST(created.json.at("idp_sso_url") == "https://idp.acme.test/sso");
    BOOST_TEST(created.json.at("idp_certificate_expires_at").is_int64());
    BOOST_TEST(str(created.json.at("acs_url")) == f.s.inst().frontend_api + "/v1/saml/acs/" + id);
    BOOST_TEST(created.json.at("attribute_mapping").at("email_address") == "mail");
    BOOST_TEST(created.json.at("provider") == "saml_okta");

    auto got = b.bapi(http::verb::get, "/v1/saml_connections/" + id);
    BOOST_TEST_REQUIRE(got.status == 200u, got.body);
    BOOST_TEST(got.json.at("name") == "Acme");
    auto upd =
        b.bapi(http::verb::patch, "/v1/saml_connections/" + id, json::object{{"name", "Acme Corp"}, {"active", false}});
    BOOST_TEST_REQUIRE(upd.status == 200u, upd.body);
    BOOST_TEST(upd.json.at("name") == "Acme Corp");
    BOOST_TEST(upd.json.at("active") == false);
    BOOST_TEST(b.bapi(http::verb::get, "/v1/saml_connections").json.at("total_count") == 2);

    // An inactive connection starts nothing.
    http_client c(f.s.fapi_port());
    expect_error(
        c.fapi("POST", "/v1/client/sign_ins",
               {{"strategy", "enterprise_sso"}, {"identifier", "x@acme.test"}, {"redirect_url", f.redirect()}}),
        422, "saml_connection_not_found", "identifier");
    BOOST_TEST_REQUIRE(b.bapi(http::verb::patch, "/v1/saml_connections/" + id, json::object{{"active", true}}).status ==
                       200u);
    auto ok = c.fapi("POST", "/v1/client/sign_ins",
                     {{"strategy", "enterprise_sso"}, {"identifier", "x@acme.test"}, {"redirect_url", f.redirect()}});
    BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
    BOOST_TEST(str(response(ok).at("first_factor_verification").at("external_verification_redirect_url"))
                   .starts_with("https://idp.acme.test/sso?SAMLRequest="));

    // Bad input.
    expect_error(b.bapi(http::verb::post, "/v1/saml_connections", json::object{{"domains", json::array{"x.test"}}}),
                 422, "form_param_missing", "name");
    expect_error(b.bapi(http::verb::post, "/v1/saml_connections", json::object{{"name", "X"}}), 422,
                 "form_param_missing", "domains");
    expect_error(
        b.bapi(http::verb::post, "/v1/saml_connections",
               json::object{{"name", "X"}, {"domains", json::array{"y.test"}}, {"idp_certificate", "not a cert"}}),
        422, "form_param_value_invalid", "idp_certificate");
    expect_error(b.bapi(http::verb::post, "/v1/saml_connections",
                        json::object{{"name", "X"},
                                     {"domains", json::array{"y.test"}},
                                     {"idp_metadata", "<!DOCTYPE x [<!ENTITY a \"b\">]><x/>"}}),
                 422, "form_param_value_invalid", "idp_metadata");
    expect_error(b.bapi(http::verb::post, "/v1/saml_connections",
                        json::object{{"name", "X"}, {"domains", json::array{"corp.test"}}}),
                 422, "form_identifier_exists", "domains");
    expect_error(b.bapi(http::verb::post, "/v1/saml_connections",
                        json::object{{"name", "X"}, {"domains", json::array{"y.test"}}, {"provider", "saml_evil"}}),
                 422, "form_param_value_invalid", "provider");

    auto del = b.bapi(http::verb::delete_, "/v1/saml_connections/" + id);
    BOOST_TEST_REQUIRE(del.status == 200u, del.body);
    BOOST_TEST(del.json.at("deleted") == true);
    expect_error(b.bapi(http::verb::get, "/v1/saml_connections/" + id), 404, "resource_not_found");
}

BOOST_AUTO_TEST_SUITE_END()

// ---- IdP metadata by URL: fetched over HTTPS from a loopback server whose certificate a test CA issued ----

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;

/// A CA (key + self-signed certificate with CA:TRUE) and a server certificate it issued for 127.0.0.1.
struct test_ca {
    std::string ca_pem, leaf_cert_pem, leaf_key_pem;
    std::string ca_file;  ///< the CA certificate written to a file (saml_metadata_ca_file)
    test_ca() {
        EVP_PKEY* ck = EVP_RSA_gen(2048);
        X509* ca = make_cert(ck, ck, nullptr, "latchkey test CA", "critical,CA:TRUE", "critical,keyCertSign,cRLSign",
                             nullptr, 1);
        EVP_PKEY* lk = EVP_RSA_gen(2048);
        X509* leaf = make_cert(lk, ck, ca, "127.0.0.1", "critical,CA:FALSE",
                               "critical,digitalSignature,keyEncipherment", "IP:127.0.0.1,DNS:localhost", 2);
        ca_pem = pem_of(ca);
        leaf_cert_pem = pem_of(leaf);
        BIO* kb = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(kb, lk, nullptr, nullptr, 0, nullptr, nullptr);
        leaf_key_pem = bio_string(kb);
        BIO_free(kb);
        X509_free(ca);
        X509_free(leaf);
        EVP_PKEY_free(ck);
        EVP_PKEY_free(lk);
        ca_file =
            (std::filesystem::temp_directory_path() / ("latchkey-test-ca-" + crypto::new_id("t") + ".pem")).string();
        std::ofstream(ca_file) << ca_pem;
    }
    ~test_ca() {
        std::error_code ec;
        std::filesystem::remove(ca_file, ec);
    }
    test_ca(test_ca const&) = delete;
    test_ca& operator=(test_ca const&) = delete;

private:
    static std::string pem_of(X509* c) {
        BIO* b = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(b, c);
        auto out = bio_string(b);
        BIO_free(b);
        return out;
    }
    static X509* make_cert(EVP_PKEY* key, EVP_PKEY* signer, X509* issuer, char const* cn, char const* basic,
                           char const* usage, char const* san, long serial) {
        X509* c = X509_new();
        X509_set_version(c, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
        X509_gmtime_adj(X509_getm_notBefore(c), -3600);
        X509_gmtime_adj(X509_getm_notAfter(c), 3600L * 24);
        X509_set_pubkey(c, key);
        X509_NAME* n = X509_get_subject_name(c);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<unsigned char const*>(cn), -1, -1, 0);
        X509_set_issuer_name(c, issuer != nullptr ? X509_get_subject_name(issuer) : n);
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : c, c, nullptr, nullptr, 0);
        for (auto [nid, value] : {std::pair{NID_basic_constraints, basic}, std::pair{NID_key_usage, usage},
                                  std::pair{NID_subject_alt_name, san}}) {
            if (value == nullptr) continue;
            X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
            X509_add_ext(c, e, -1);
            X509_EXTENSION_free(e);
        }
        X509_sign(c, signer, EVP_sha256());
        return c;
    }
};

test_ca const& metadata_ca() {
    static test_ca const ca;
    return ca;
}

/// The base64 DER of a PEM certificate (an X509Certificate element's text).
std::string cert_b64(std::string const& pem) {
    auto body = pem.substr(pem.find('\n') + 1);
    body = body.substr(0, body.find("-----END"));
    std::string out;
    for (char ch : body)
        if (ch != '\n') out.push_back(ch);
    return out;
}

std::string idp_metadata_xml(std::string const& entity, std::string const& sso, std::string const& cert_pem) {
    return "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"" + entity +
           "\"><md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">"
           "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"
           "<ds:X509Data><ds:X509Certificate>" +
           cert_b64(cert_pem) +
           "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
           "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"" +
           sso + "\"/></md:IDPSSODescriptor></md:EntityDescriptor>";
}

/// The IdP's metadata over HTTPS on 127.0.0.1 (the test CA's certificate), one connection at a time. Modes: "ok"
/// (the metadata), "404", "huge" (a 300 KiB body), "dtd" (metadata with a DOCTYPE), "hang" (no answer for 2 s).
class metadata_server {
public:
    explicit metadata_server(test_ca const& ca = metadata_ca())
        : ssl_(ssl::context::tls_server), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
        ssl_.use_certificate_chain(asio::buffer(ca.leaf_cert_pem));
        ssl_.use_private_key(asio::buffer(ca.leaf_key_pem), ssl::context::pem);
        body_ = idp_metadata_xml(idp_entity, idp_sso, idp_keys().cert_pem);
        thread_ = std::thread([this] { run(); });
    }
    ~metadata_server() {
        {
            std::lock_guard lk(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        boost::system::error_code ec;
        tcp::socket s(io_);
        s.connect(acceptor_.local_endpoint(), ec);
        thread_.join();
    }
    std::string url() const {
        return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/idp/metadata.xml";
    }
    void serve(std::string mode, std::string body = {}) {
        std::lock_guard lk(mu_);
        mode_ = std::move(mode);
        if (!body.empty()) body_ = std::move(body);
    }
    int fetches() const { return fetches_.load(); }

private:
    void run() {
        for (;;) {
            tcp::socket sock(io_);
            boost::system::error_code ec;
            acceptor_.accept(sock, ec);
            {
                std::lock_guard lk(mu_);
                if (stop_) return;
            }
            if (ec) continue;
            ssl::stream<tcp::socket> st(std::move(sock), ssl_);
            st.handshake(ssl::stream_base::server, ec);
            if (ec) continue;  // a client that does not trust the certificate
            boost::beast::flat_buffer buf;
            bhttp::request<bhttp::string_body> req;
            bhttp::read(st, buf, req, ec);
            if (ec) continue;
            ++fetches_;
            std::string mode, body;
            {
                std::lock_guard lk(mu_);
                mode = mode_, body = body_;
            }
            if (mode == "hang") {
                std::unique_lock lk(mu_);
                cv_.wait_for(lk, std::chrono::seconds(2), [&] { return stop_; });
                continue;
            }
            bhttp::response<bhttp::string_body> res{mode == "404" ? bhttp::status::not_found : bhttp::status::ok, 11};
            res.set(bhttp::field::content_type, "application/samlmetadata+xml");
            if (mode == "huge") body = std::string(300 * 1024, ' ') + body;
            if (mode == "dtd") body = "<!DOCTYPE md:EntityDescriptor [<!ENTITY x \"y\">]>" + body;
            res.body() = body;
            res.prepare_payload();
            bhttp::write(st, res, ec);
            st.shutdown(ec);
        }
    }
    asio::io_context io_;
    ssl::context ssl_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::string mode_ = "ok", body_;
    std::atomic<int> fetches_{0};
};

/// The corp connection given by its metadata URL alone.
conf::saml_connection corp_connection_by_url(std::string const& url) {
    conf::saml_connection c;
    c.id = conn_id;
    c.name = "Corp";
    c.domains = {"corp.test"};
    c.idp_metadata_url = url;
    return c;
}

/// A test_server with the corp connection given by `idp`'s metadata URL, trusting the test CA.
struct sso_by_url {
    explicit sso_by_url(metadata_server& idp, std::function<void(conf::config&)> more = {})
        : f([&](conf::config& c) {
              c.saml_connections = {corp_connection_by_url(idp.url())};
              c.saml_metadata_ca_file = metadata_ca().ca_file;
              c.saml_metadata_timeout = std::chrono::milliseconds(1500);
              if (more) more(c);
          }) {}
    sso f;
};

std::string started_sso_url(sso& f, http_client& c) {
    auto r = c.fapi("POST", "/v1/client/sign_ins",
                    {{"strategy", "enterprise_sso"}, {"identifier", "ada@corp.test"}, {"redirect_url", f.redirect()}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const url = str(response(r).at("first_factor_verification").at("external_verification_redirect_url"));
    return url.substr(0, url.find('?'));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(saml_metadata)

BOOST_AUTO_TEST_CASE(a_connection_configured_by_metadata_url_signs_in) {
    metadata_server idp;
    sso_by_url by(idp);
    auto& f = by.f;
    BOOST_TEST(idp.fetches() == 1);  // fetched before serving
    auto b = bapi_client(f.s);
    auto got = b.bapi(http::verb::get, std::string("/v1/saml_connections/") + conn_id);
    BOOST_TEST_REQUIRE(got.status == 200u, got.body);
    BOOST_TEST(got.json.at("idp_metadata_url").as_string() == idp.url());  // as given
    BOOST_TEST(got.json.at("idp_metadata").is_null());
    BOOST_TEST(got.json.at("idp_entity_id") == idp_entity);  // from the fetched metadata
    BOOST_TEST(got.json.at("idp_sso_url") == idp_sso);
    BOOST_TEST(got.json.at("idp_certificate_expires_at").is_int64());

    http_client c(f.s.fapi_port());
    auto st = start(f, c);
    auto r = post_acs(f, c, build_response(spec_for(f, st)), st.attempt_id);
    BOOST_TEST_REQUIRE(r.status == 303u, r.body);
    BOOST_TEST(r.headers["location"] == f.redirect());
    BOOST_TEST(user_count(f) == 0u);  // a sign-in of an unknown person transfers to sign-up
    // A response signed by another key than the metadata's certificate is refused.
    http_client c2(f.s.fapi_port());
    expect_refused(f, c2, answer_signed_by(f, c2, other_keys()));
}

BOOST_AUTO_TEST_CASE(any_signing_certificate_of_the_metadata_verifies_but_an_encryption_one_does_not) {
    // A key rollover: the metadata names the current and the next signing certificate, one KeyDescriptor without
    // `use` (for both) and one for encryption only.
    auto descriptor = [](std::string const& use, keypair const& k) {
        return "<md:KeyDescriptor" + (use.empty() ? std::string() : " use=\"" + use + "\"") +
               "><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>" +
               cert_b64(k.cert_pem) + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>";
    };
    std::string const metadata =
        std::string("<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"") + idp_entity +
        "\"><md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">" +
        descriptor("signing", other_keys()) + descriptor("signing", rollover_keys()) + descriptor("", idp_keys()) +
        descriptor("encryption", encryption_keys()) +
        "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"" + idp_sso +
        "\"/></md:IDPSSODescriptor></md:EntityDescriptor>";
    std::string why;
    auto parsed = server::saml::parse_idp_metadata(metadata, why);
    BOOST_TEST_REQUIRE(parsed.has_value(), why);
    BOOST_TEST(parsed->certificates.size() == 3u);
    BOOST_TEST(parsed->certificate == cert_b64(other_keys().cert_pem));

    sso f([&](conf::config& c) {
        auto& k = c.saml_connections.at(0);
        k.idp_certificate.clear();
        k.idp_entity_id.clear();
        k.idp_sso_url.clear();
        k.idp_metadata = metadata;
    });
    // Signed with the second signing certificate: signs in (transferable: nobody has the identity yet).
    http_client c(f.s.fapi_port());
    auto r = answer_signed_by(f, c, rollover_keys());
    BOOST_TEST_REQUIRE(r.status == 303u, r.body);
    expect_transferable(c);
    // Signed with the certificate of the KeyDescriptor without `use`.
    http_client c2(f.s.fapi_port());
    auto st2 = start(f, c2);
    auto spec2 = spec_for(f, st2);
    spec2.where = response_spec::sign_where::response;
    BOOST_TEST_REQUIRE(post_acs(f, c2, build_response(spec2), st2.attempt_id).status == 303u);
    // Signed with the encryption-only certificate: refused, the attempt still waits, nobody is created.
    http_client c3(f.s.fapi_port());
    expect_refused(f, c3, answer_signed_by(f, c3, encryption_keys()));
}

BOOST_AUTO_TEST_CASE(a_failed_refresh_keeps_the_last_good_copy_and_a_good_one_replaces_it) {
    metadata_server idp;
    sso_by_url by(idp);
    auto& f = by.f;
    http_client c(f.s.fapi_port());
    BOOST_TEST(started_sso_url(f, c) == idp_sso);
    for (auto mode : {"404", "dtd", "huge"}) {
        idp.serve(mode);
        BOOST_TEST(server::api::saml_sso::refresh_metadata(f.s.app()) == 1u, mode);
        http_client again(f.s.fapi_port());
        BOOST_TEST(started_sso_url(f, again) == idp_sso, mode);  // the last good copy
    }
    idp.serve("ok", idp_metadata_xml(idp_entity, "https://idp.corp.test/sso2", idp_keys().cert_pem));
    BOOST_TEST(server::api::saml_sso::refresh_metadata(f.s.app()) == 0u);
    http_client later(f.s.fapi_port());
    BOOST_TEST(started_sso_url(f, later) == "https://idp.corp.test/sso2");
}

BOOST_AUTO_TEST_CASE(metadata_is_refetched_on_schedule) {
    metadata_server idp;
    sso_by_url by(idp, [](conf::config& c) { c.saml_metadata_refresh = std::chrono::milliseconds(1000); });
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (idp.fetches() < 3 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    BOOST_TEST(idp.fetches() >= 3);
}

BOOST_AUTO_TEST_CASE(bapi_creates_and_updates_connections_by_metadata_url) {
    metadata_server idp;
    sso f([](conf::config& c) {
        c.saml_metadata_ca_file = metadata_ca().ca_file;
        c.saml_metadata_timeout = std::chrono::milliseconds(700);
    });
    auto b = bapi_client(f.s);
    std::string const acme =
        idp_metadata_xml("https://idp.acme.test", "https://idp.acme.test/sso", idp_keys().cert_pem);
    idp.serve("ok", acme);
    auto create = [&](std::string const& url) {
        return b.bapi(http::verb::post, "/v1/saml_connections",
                      json::object{{"name", "Acme"}, {"domains", json::array{"acme.test"}}, {"idp_metadata_url", url}});
    };
    auto created = create(idp.url());
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    auto const id = str(created.json.at("id"));
    BOOST_TEST(created.json.at("idp_metadata_url").as_string() == idp.url());
    BOOST_TEST(created.json.at("idp_entity_id") == "https://idp.acme.test");
    BOOST_TEST(created.json.at("idp_sso_url") == "https://idp.acme.test/sso");
    http_client c(f.s.fapi_port());
    auto ok = c.fapi("POST", "/v1/client/sign_ins",
                     {{"strategy", "enterprise_sso"}, {"identifier", "x@acme.test"}, {"redirect_url", f.redirect()}});
    BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
    BOOST_TEST(str(response(ok).at("first_factor_verification").at("external_verification_redirect_url"))
                   .starts_with("https://idp.acme.test/sso?SAMLRequest="));

    // An update refetches: the IdP moved its SSO URL.
    idp.serve("ok", idp_metadata_xml("https://idp.acme.test", "https://idp.acme.test/sso-v2", idp_keys().cert_pem));
    auto upd = b.bapi(http::verb::patch, "/v1/saml_connections/" + id, json::object{{"name", "Acme Inc"}});
    BOOST_TEST_REQUIRE(upd.status == 200u, upd.body);
    BOOST_TEST(upd.json.at("idp_sso_url") == "https://idp.acme.test/sso-v2");
    BOOST_TEST(upd.json.at("name") == "Acme Inc");

    // A fetch that fails answers 422 naming idp_metadata_url and changes nothing.
    auto const before = b.bapi(http::verb::get, "/v1/saml_connections").json.at("total_count");
    for (auto mode : {"404", "dtd", "huge", "hang"}) {
        idp.serve(mode);
        auto const t0 = std::chrono::steady_clock::now();
        auto bad = create(idp.url());
        BOOST_TEST((std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)), mode);
        expect_error(bad, 422, "form_param_value_invalid", "idp_metadata_url");
        expect_error(b.bapi(http::verb::patch, "/v1/saml_connections/" + id, json::object{{"name", "Renamed"}}), 422,
                     "form_param_value_invalid", "idp_metadata_url");
    }
    BOOST_TEST(b.bapi(http::verb::get, "/v1/saml_connections").json.at("total_count") == before);
    BOOST_TEST(b.bapi(http::verb::get, "/v1/saml_connections/" + id).json.at("name") == "Acme Inc");
    idp.serve("ok", acme);
    // A server whose certificate the configured CA did not issue is refused (verification is on).
    test_ca stranger;
    metadata_server untrusted(stranger);
    untrusted.serve("ok", acme);
    expect_error(create(untrusted.url()), 422, "form_param_value_invalid", "idp_metadata_url");
    expect_error(create("http://127.0.0.1:1/metadata.xml"), 422, "form_param_format_invalid", "idp_metadata_url");

    // Dropping the URL for inline metadata.
    auto inline_md = b.bapi(http::verb::patch, "/v1/saml_connections/" + id,
                            json::object{{"idp_metadata_url", nullptr}, {"idp_metadata", acme}});
    BOOST_TEST_REQUIRE(inline_md.status == 200u, inline_md.body);
    BOOST_TEST(inline_md.json.at("idp_metadata_url").is_null());
    BOOST_TEST(inline_md.json.at("idp_sso_url") == "https://idp.acme.test/sso");
}

BOOST_AUTO_TEST_CASE(the_config_loader_reads_idp_metadata_url) {
    auto load = [](std::string const& text) {
        conf::config c;
        auto e = conf::apply_json(c, text);
        if (!e) e = conf::validate(c);
        return e ? std::string(e->what()) : std::string();
    };
    BOOST_TEST(load(R"({"saml_connections":[{"id":"samlc_a1","domains":["a.test"],
        "idp_metadata_url":"https://idp.a.test/metadata"}],"saml_metadata_ca_file":"/x/ca.pem",
        "saml_metadata_timeout_ms":2000,"saml_metadata_refresh_ms":60000})") == "");
    BOOST_TEST(load(R"({"saml_connections":[{"id":"samlc_a1","domains":["a.test"],
        "idp_metadata_url":"http://idp.a.test/metadata"}]})")
                   .find("idp_metadata_url") != std::string::npos);
    BOOST_TEST(load(R"({"saml_metadata_refresh_ms":10})").find("saml_metadata_refresh_ms") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
