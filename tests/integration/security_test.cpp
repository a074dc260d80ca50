// Transport security and key management: native TLS (TLS 1.2+, cert reload without dropping connections),
// Secure cookies on https, and signing-key rotation (old tokens verify until their key is retired).
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "server/instance.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>

using namespace latchkey;
using namespace latchkey::test;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;

namespace {

/// Makes a throw-away CA and a server certificate for 127.0.0.1 signed by it (openssl CLI).
void make_pki(std::string const& dir, std::string const& serial) {
    std::string cmd =
        "cd '" + dir +
        "' && "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=latchkey-test-ca "
        ">/dev/null 2>&1 && "
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 >/dev/null 2>&1 && "
        "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial " +
        serial + " -out server.pem -days 2 -extfile ext.cnf >/dev/null 2>&1";
    BOOST_TEST_REQUIRE(std::system(cmd.c_str()) == 0);
}

struct tls_client {
    net::io_context ioc;
    ssl::context ctx{ssl::context::tls_client};
    std::unique_ptr<ssl::stream<beast::tcp_stream>> stream;

    tls_client(std::string const& ca, unsigned short port, int max_version = 0) {
        ctx.load_verify_file(ca);
        ctx.set_verify_mode(ssl::verify_peer);
        if (max_version != 0) SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
        stream = std::make_unique<ssl::stream<beast::tcp_stream>>(ioc, ctx);
        stream->next_layer().connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
        stream->next_layer().expires_after(std::chrono::seconds(10));
    }
    boost::system::error_code handshake() {
        boost::system::error_code ec;
        stream->handshake(ssl::stream_base::client, ec);
        return ec;
    }
    unsigned get(std::string const& target, std::string* body = nullptr) {
        http::request<http::string_body> req{http::verb::get, target, 11};
        req.set(http::field::host, "127.0.0.1");
        http::write(*stream, req);
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        http::read(*stream, buf, res);
        if (body != nullptr) *body = res.body();
        return res.result_int();
    }
    long peer_serial() {
        X509* cert = SSL_get1_peer_certificate(stream->native_handle());
        long s = ASN1_INTEGER_get(X509_get_serialNumber(cert));
        X509_free(cert);
        return s;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(security)

BOOST_AUTO_TEST_CASE(tls_serves_verified_https_and_reloads_certificates) {
    tmp_dir pki;
    make_pki(pki.path, "1001");
    test_server s([&](conf::config& c) {
        c.tls_cert = pki.path + "/server.pem";
        c.tls_key = pki.path + "/server.key";
    });
    tls_client a(pki.path + "/ca.pem", s.fapi_port());
    BOOST_TEST_REQUIRE(!a.handshake());
    BOOST_TEST(a.peer_serial() == 1001);
    std::string body;
    BOOST_TEST(a.get("/v1/health", &body) == 200u);
    BOOST_TEST(body == R"({"status":"ok"})");
    // TLS 1.1 and older are refused.
    tls_client old(pki.path + "/ca.pem", s.fapi_port(), TLS1_1_VERSION);
    BOOST_TEST(old.handshake().failed());
    // New certificate files + reload (SIGHUP): new connections get the new one, the open one keeps working.
    tmp_dir pki2;
    make_pki(pki2.path, "2002");
    // Same CA is needed for verification by `a`'s peers: re-sign with the first CA instead.
    std::string cmd = "cd '" + pki.path +
                      "' && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
                      "-set_serial 3003 -out server.pem -days 2 -extfile ext.cnf >/dev/null 2>&1";
    BOOST_TEST_REQUIRE(std::system(cmd.c_str()) == 0);
    BOOST_TEST(s.reload_tls().empty());
    BOOST_TEST(a.get("/v1/health") == 200u);  // old connection still served
    tls_client b(pki.path + "/ca.pem", s.fapi_port());
    BOOST_TEST_REQUIRE(!b.handshake());
    BOOST_TEST(b.peer_serial() == 3003);
    // BAPI over TLS too.
    tls_client bapi(pki.path + "/ca.pem", s.bapi_port());
    BOOST_TEST_REQUIRE(!bapi.handshake());
    BOOST_TEST(bapi.get("/v1/jwks") == 401u);
}

BOOST_AUTO_TEST_CASE(cookies_are_secure_when_the_frontend_api_is_https) {
    test_server s([](conf::config& c) {
        c.instance_type = "production";
        c.frontend_api = "https://clerk.example.com";
    });
    http_client c(s.fapi_port());
    // Reached as the browser reaches it (a Domain the request's host is not on would be dropped by the browser).
    auto r = c.request(http::verb::post, "/v1/client", {}, {{"Host", "clerk.example.com"}});
    BOOST_TEST_REQUIRE(r.status == 200u);
    bool client_secure = false, uat_domain = false;
    for (auto const& sc : r.set_cookies) {
        if (sc.starts_with("__client="))
            client_secure = sc.find("; Secure") != std::string::npos && sc.find("HttpOnly") != std::string::npos;
        if (sc.starts_with("__client_uat=")) uat_domain = sc.find("Domain=example.com") != std::string::npos;
    }
    BOOST_TEST(client_secure);
    BOOST_TEST(uat_domain);
    BOOST_TEST(s.inst().publishable_key.starts_with("pk_live_"));
    BOOST_TEST(s.inst().issuer == "https://clerk.example.com");
}

BOOST_AUTO_TEST_CASE(key_rotation_keeps_old_tokens_verifiable_until_retired) {
    tmp_dir data;
    std::string old_jwt;
    std::string old_kid;
    auto jwks_keys = [](test_server& s) {
        http_client c(s.fapi_port());
        return c.request(http::verb::get, "/.well-known/jwks.json").json.at("keys").as_array();
    };
    auto verifies = [&](test_server& s, std::string const& jwt) {
        auto kid = jwt_header(jwt).at("kid").as_string();
        for (auto const& k : jwks_keys(s)) {
            if (k.at("kid").as_string() != kid) continue;
            auto pub = crypto::public_key::from_jwk(k.at("n").as_string(), k.at("e").as_string());
            auto parts = crypto::parse_jws(jwt);
            return pub && parts && crypto::verify_rs256(pub->get(), *parts).has_value();
        }
        return false;
    };
    auto mint = [](test_server& s) {
        http_client c(s.fapi_port());
        auto r = c.fapi("POST", "/v1/client");
        std::string cid(r.json.at("response").at("id").as_string());
        auto uid = seed_user(s.app(), "rot" + std::to_string(s.app().now_ms()) + "@example.com");
        auto sid = seed_session(s.app(), cid, uid);
        return std::string(c.fapi("POST", "/v1/client/sessions/" + sid + "/tokens").json.at("jwt").as_string());
    };
    {
        test_server s([&](conf::config& c) { c.data_dir = data.path; });
        old_jwt = mint(s);
        old_kid = std::string(jwt_header(old_jwt).at("kid").as_string());
        BOOST_TEST(jwks_keys(s).size() == 1u);
    }
    auto new_kid = server::rotate_signing_key(data.path);
    {
        test_server s([&](conf::config& c) { c.data_dir = data.path; });
        BOOST_TEST(jwks_keys(s).size() == 2u);
        BOOST_TEST(verifies(s, old_jwt));  // old token still verifies
        auto fresh = mint(s);
        BOOST_TEST(jwt_header(fresh).at("kid").as_string() == new_kid);  // the new key signs
        BOOST_TEST(verifies(s, fresh));
        BOOST_CHECK_THROW(server::retire_signing_key(data.path, new_kid), std::runtime_error);  // active key stays
    }
    server::retire_signing_key(data.path, old_kid);
    {
        test_server s([&](conf::config& c) { c.data_dir = data.path; });
        BOOST_TEST(jwks_keys(s).size() == 1u);
        BOOST_TEST(!verifies(s, old_jwt));
    }
}

BOOST_AUTO_TEST_SUITE_END()
