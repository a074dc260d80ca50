#pragma once
// TLS for a listener: an OpenSSL context built from PEM files, replaceable at run time (SIGHUP reload)
// without touching connections that are already open (each keeps the context it started with).
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <mutex>
#include <string>

namespace latchkey::server {

class tls_context {
public:
    /// Loads the certificate chain and key. Throws std::runtime_error with a readable message on failure.
    tls_context(std::string cert_file, std::string key_file);

    /// Reloads the files; on failure keeps the old context and returns the error text (empty on success).
    std::string reload();

    /// The context new connections should use.
    std::shared_ptr<boost::asio::ssl::context> current() const;

private:
    static std::shared_ptr<boost::asio::ssl::context> build(std::string const& cert, std::string const& key);
    std::string cert_file_;
    std::string key_file_;
    mutable std::mutex mu_;
    std::shared_ptr<boost::asio::ssl::context> ctx_;
};

}  // namespace latchkey::server
