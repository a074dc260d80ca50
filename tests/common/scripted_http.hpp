#pragma once
// A scripted HTTP server on 127.0.0.1:0 for tests that need a remote end which misbehaves on purpose or just
// answers: each connection gets the next scripted response (the last one repeats), the request lines are recorded.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace latchkey::test {

/// Answers each request with the next scripted response (e.g. a source Backend API that misbehaves the way
/// Clerk's does under load or in an outage, or a webhook receiver) and records the request lines.
class scripted_source {
public:
    explicit scripted_source(std::vector<std::string> responses) : responses_(std::move(responses)) {
        acceptor_.open(boost::asio::ip::tcp::v4());
        acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        thread_ = std::thread([this] { serve(); });
    }
    ~scripted_source() {
        // A blocked accept() is not woken by closing the socket: stop, then connect once to wake it.
        stop_ = true;
        boost::system::error_code ec;
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::socket wake(ioc);
        wake.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
        thread_.join();
    }
    scripted_source(scripted_source const&) = delete;
    scripted_source& operator=(scripted_source const&) = delete;
    unsigned short port() const { return port_; }
    std::vector<std::string> requests() {
        std::lock_guard lk(mu_);
        return requests_;
    }

private:
    void serve() {
        for (std::size_t i = 0;; ++i) {
            boost::system::error_code ec;
            boost::asio::ip::tcp::socket sock(ioc_);
            acceptor_.accept(sock, ec);
            if (ec || stop_) return;
            std::string req;
            char buf[4096];
            while (req.find("\r\n\r\n") == std::string::npos) {
                auto n = sock.read_some(boost::asio::buffer(buf), ec);
                if (ec) break;
                req.append(buf, n);
            }
            // Then the body, when the request announces one (a webhook POST), so the client is never cut off.
            if (auto const end = req.find("\r\n\r\n"); end != std::string::npos) {
                std::size_t length = 0;
                for (std::string_view name : {"\r\nContent-Length: ", "\r\ncontent-length: "})
                    if (auto at = req.find(name); at != std::string::npos && at < end)
                        length = std::strtoul(req.c_str() + at + name.size(), nullptr, 10);
                while (!ec && req.size() < end + 4 + length) {
                    auto n = sock.read_some(boost::asio::buffer(buf), ec);
                    if (!ec) req.append(buf, n);
                }
            }
            {
                std::lock_guard lk(mu_);
                requests_.push_back(req.substr(0, req.find("\r\n")));
            }
            std::string const& body = responses_[std::min(i, responses_.size() - 1)];
            boost::asio::write(sock, boost::asio::buffer(body), ec);
            sock.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
        }
    }

    std::vector<std::string> responses_;
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_{ioc_};
    unsigned short port_ = 0;
    std::mutex mu_;
    std::vector<std::string> requests_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

inline std::string http_answer(std::string const& status, std::string const& body, std::string const& extra = {}) {
    return "HTTP/1.1 " + status +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n" + extra + "\r\n" + body;
}

}  // namespace latchkey::test
