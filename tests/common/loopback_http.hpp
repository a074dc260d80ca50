#pragma once
// An HTTP/1.1 server on 127.0.0.1:0 that plays an upstream in tests (an identity provider latchkey calls out to):
// one connection at a time, each request answered by a handler on the server's own thread. The owner declares it
// after whatever its handler reads, so it stops before they go.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace latchkey::test {

class loopback_http {
public:
    using request = boost::beast::http::request<boost::beast::http::string_body>;
    using response = boost::beast::http::response<boost::beast::http::string_body>;
    /// Fills the response (200, Content-Type application/json, empty body when it does nothing).
    using handler = std::function<void(request const&, response&)>;

    explicit loopback_http(handler h) : handler_(std::move(h)) {
        base = "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
        thread_ = std::thread([this] { run(); });
    }
    ~loopback_http() {
        // A blocked accept() is not woken by closing the socket: stop, then connect once to wake it.
        stop_ = true;
        boost::system::error_code ec;
        boost::asio::ip::tcp::socket wake(io_);
        wake.connect(acceptor_.local_endpoint(), ec);
        thread_.join();
    }
    loopback_http(loopback_http const&) = delete;
    loopback_http& operator=(loopback_http const&) = delete;

    std::string base;  ///< http://127.0.0.1:<port>

private:
    void run() {
        while (!stop_) {
            boost::asio::ip::tcp::socket sock(io_);
            boost::system::error_code ec;
            acceptor_.accept(sock, ec);
            if (ec || stop_) continue;
            boost::beast::flat_buffer buf;
            request req;
            boost::beast::http::read(sock, buf, req, ec);
            if (ec) continue;
            response res{boost::beast::http::status::ok, 11};
            res.set(boost::beast::http::field::content_type, "application/json");
            handler_(req, res);
            res.prepare_payload();
            boost::beast::http::write(sock, res, ec);
        }
    }

    handler handler_;
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_{io_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
    std::thread thread_;
    std::atomic<bool> stop_{false};
};

/// The raw value of query parameter `name` in `url` (not decoded), or "".
inline std::string query_param(std::string const& url, std::string const& name) {
    auto at = url.find("?" + name + "=");
    if (at == std::string::npos) at = url.find("&" + name + "=");
    if (at == std::string::npos) return {};
    at += name.size() + 2;
    auto const end = url.find('&', at);
    return url.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace latchkey::test
