#include "server/http/tls.hpp"

#include <openssl/ssl.h>

#include <stdexcept>

namespace latchkey::server {

namespace ssl = boost::asio::ssl;

tls_context::tls_context(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), ctx_(build(cert_file_, key_file_)) {}

std::shared_ptr<ssl::context> tls_context::build(std::string const& cert, std::string const& key) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    SSL_CTX* native = ctx->native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
        throw std::runtime_error("tls: cannot set minimum protocol version");
    // TLS 1.2: forward-secret AEAD suites only. TLS 1.3 suites are OpenSSL's defaults (all AEAD).
    if (SSL_CTX_set_cipher_list(native,
                                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1)
        throw std::runtime_error("tls: cannot set cipher list");
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(cert, ec);
    if (ec) throw std::runtime_error("tls_cert: cannot load '" + cert + "': " + ec.message());
    ctx->use_private_key_file(key, ssl::context::pem, ec);
    if (ec) throw std::runtime_error("tls_key: cannot load '" + key + "': " + ec.message());
    if (SSL_CTX_check_private_key(native) != 1) throw std::runtime_error("tls_key: does not match tls_cert");
    return ctx;
}

std::string tls_context::reload() {
    try {
        auto fresh = build(cert_file_, key_file_);
        std::lock_guard lk(mu_);
        ctx_ = std::move(fresh);
        return {};
    } catch (std::exception const& e) {
        return e.what();
    }
}

std::shared_ptr<ssl::context> tls_context::current() const {
    std::lock_guard lk(mu_);
    return ctx_;
}

}  // namespace latchkey::server
