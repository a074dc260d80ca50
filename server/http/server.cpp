#include "server/http/server.hpp"

#include "server/http/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <cstdio>
#include <list>
#include <mutex>
#include <thread>

namespace latchkey::server {

namespace ssl = net::ssl;
namespace {
constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

/// Per-connection bookkeeping a worker needs for graceful shutdown. Touched only on the worker's thread.
struct connection_slot {
    beast::tcp_stream* stream = nullptr;
    bool idle = true;
};
}  // namespace

// Member order matters for destruction: suspended coroutine frames are destroyed with `ioc` and erase
// themselves from `connections`, so the list must outlive the io_context; timers must die before it.
struct worker {
    std::list<connection_slot> connections;
    net::io_context ioc{1};  // concurrency hint 1: single-threaded, no scheduler locking
    std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
    bool stopping = false;
    std::unique_ptr<net::steady_timer> deadline;
    std::unique_ptr<net::steady_timer> poll;
    std::thread thread;
};

namespace {
/// Shutdown drain loop: stops the worker once no connection is left.
void drain_tick(worker& w) {
    if (w.connections.empty()) {
        w.ioc.stop();
        return;
    }
    for (auto& c : w.connections)
        if (c.idle) c.stream->cancel();
    if (!w.poll) w.poll = std::make_unique<net::steady_timer>(w.ioc);
    w.poll->expires_after(std::chrono::milliseconds(20));
    w.poll->async_wait([&w](boost::system::error_code ec) {
        if (!ec) drain_tick(w);
    });
}
}  // namespace

struct http_server::impl {
    transport_limits limits;
    std::vector<std::unique_ptr<worker>> workers;
    std::atomic<std::size_t> open_connections{0};
    std::atomic<bool> stopping{false};

    template <class Stream>
    net::awaitable<void> run_session(Stream stream, worker& w, service& svc, connection_info ci);
    net::awaitable<void> run_listener(std::shared_ptr<tcp::acceptor> acceptor, worker& w, service& svc,
                                      std::shared_ptr<tls_context> tls);
    net::awaitable<void> serve_plain(tcp::socket s, worker& w, service& svc, connection_info ci);
    net::awaitable<void> serve_tls(tcp::socket s, worker& w, service& svc, connection_info ci,
                                   std::shared_ptr<ssl::context> ctx);
};

namespace {

beast::tcp_stream& lowest(beast::tcp_stream& s) { return s; }
beast::tcp_stream& lowest(ssl::stream<beast::tcp_stream>& s) { return s.next_layer(); }

void log_exception(std::exception_ptr e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (std::exception const& ex) {
        std::fprintf(stderr, "{\"level\":\"error\",\"event\":\"connection_exception\",\"what\":\"%s\"}\n", ex.what());
    } catch (...) {
        std::fputs("{\"level\":\"error\",\"event\":\"connection_exception\"}\n", stderr);
    }
}

/// Maps a read error to the transport error to answer with, or nullopt when the peer is gone.
struct read_failure {
    http::status status;
    std::string_view code;
    std::string_view message;
};

std::optional<read_failure> classify(boost::system::error_code const& ec) {
    if (ec == http::error::body_limit)
        return read_failure{http::status::payload_too_large, "request_body_too_large", "Request body is too large."};
    if (ec == http::error::header_limit)
        return read_failure{http::status::request_header_fields_too_large, "request_header_too_large",
                            "Request header fields are too large."};
    if (ec == beast::error::timeout)
        return read_failure{http::status::request_timeout, "request_timeout", "The request took too long to arrive."};
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
        return read_failure{http::status::bad_request, "malformed_request", "The request could not be parsed."};
    return std::nullopt;
}

}  // namespace

template <class Stream>
net::awaitable<void> http_server::impl::run_session(Stream stream, worker& w, service& svc, connection_info ci) {
    auto slot = w.connections.insert(w.connections.end(), connection_slot{&lowest(stream), true});
    struct unregister {
        worker& w;
        std::list<connection_slot>::iterator it;
        std::atomic<std::size_t>& count;
        ~unregister() {
            w.connections.erase(it);
            count.fetch_sub(1, std::memory_order_relaxed);
        }
    } guard{w, slot, open_connections};

    beast::flat_buffer buffer;
    for (;;) {
        // Wait for the first byte of the next request under the idle deadline.
        if (buffer.size() == 0) {
            slot->idle = true;
            if (w.stopping) break;
            lowest(stream).expires_after(limits.idle_timeout);
            auto [ec, n] = co_await stream.async_read_some(buffer.prepare(1024), tuple_awaitable);
            slot->idle = false;
            if (ec) break;
            buffer.commit(n);
        }
        slot->idle = false;
        // The whole request (header and body) must arrive within header_timeout of its first byte.
        lowest(stream).expires_after(limits.header_timeout);
        http::request_parser<http::string_body> parser;
        parser.header_limit(limits.header_bytes);
        parser.body_limit(limits.body_bytes);
        auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, tuple_awaitable);
        boost::system::error_code ec = hec;
        if (!ec && !parser.is_done()) {
            auto const& h = parser.get();
            if (auto it = h.find(http::field::expect); it != h.end() && beast::iequals(it->value(), "100-continue")) {
                http::response<http::empty_body> cont{http::status::continue_, h.version()};
                auto [cec, cn] = co_await http::async_write(stream, cont, tuple_awaitable);
                if (cec) break;
            }
            auto [bec, bn] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
            ec = bec;
        }
        if (ec) {
            auto failure = classify(ec);
            if (!failure) break;  // peer closed or reset: nothing to answer
            response res{failure->status, 11};
            svc.transport_error(res, failure->status, failure->code, failure->message);
            res.keep_alive(false);
            res.prepare_payload();
            lowest(stream).expires_after(limits.write_timeout);
            co_await http::async_write(stream, res, tuple_awaitable);
            break;
        }
        request req = parser.release();
        response res;
        res.version(req.version() == 10 ? 10 : 11);
        co_await svc.handle(req, res, ci);
        res.keep_alive(req.keep_alive() && !w.stopping);
        res.prepare_payload();
        lowest(stream).expires_after(limits.write_timeout);
        auto [wec, wn] = co_await http::async_write(stream, res, tuple_awaitable);
        if (wec || !res.keep_alive()) break;
    }
    if constexpr (std::is_same_v<Stream, ssl::stream<beast::tcp_stream>>) {
        lowest(stream).expires_after(std::chrono::seconds(2));
        co_await stream.async_shutdown(tuple_awaitable);
    } else {
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
}

net::awaitable<void> http_server::impl::serve_plain(tcp::socket s, worker& w, service& svc, connection_info ci) {
    co_await run_session(beast::tcp_stream(std::move(s)), w, svc, std::move(ci));
}

net::awaitable<void> http_server::impl::serve_tls(tcp::socket s, worker& w, service& svc, connection_info ci,
                                                  std::shared_ptr<ssl::context> ctx) {
    ssl::stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(s)), *ctx);
    stream.next_layer().expires_after(limits.header_timeout);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, tuple_awaitable);
    if (ec) {
        open_connections.fetch_sub(1, std::memory_order_relaxed);
        co_return;
    }
    ci.tls = true;
    co_await run_session(std::move(stream), w, svc, std::move(ci));
}

net::awaitable<void> http_server::impl::run_listener(std::shared_ptr<tcp::acceptor> acceptor, worker& w,
                                                     service& svc, std::shared_ptr<tls_context> tls) {
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(w.ioc, tuple_awaitable);
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor->is_open() || stopping) co_return;
            // EMFILE and friends: back off briefly instead of spinning.
            net::steady_timer t(w.ioc, std::chrono::milliseconds(50));
            co_await t.async_wait(tuple_awaitable);
            continue;
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        connection_info ci;
        auto remote = socket.remote_endpoint(ignored);
        if (!ignored) ci.remote_ip = remote.address().to_string();
        if (open_connections.fetch_add(1, std::memory_order_relaxed) >= limits.max_connections) {
            // Over the limit: a short 503 and close, without reading the request.
            response res{http::status::service_unavailable, 11};
            svc.transport_error(res, http::status::service_unavailable, "too_many_connections",
                                "The server is at its connection limit.");
            res.keep_alive(false);
            res.prepare_payload();
            beast::tcp_stream s(std::move(socket));
            s.expires_after(std::chrono::seconds(1));
            co_await http::async_write(s, res, tuple_awaitable);
            open_connections.fetch_sub(1, std::memory_order_relaxed);
            continue;
        }
        if (tls)
            net::co_spawn(w.ioc, serve_tls(std::move(socket), w, svc, std::move(ci), tls->current()), log_exception);
        else
            net::co_spawn(w.ioc, serve_plain(std::move(socket), w, svc, std::move(ci)), log_exception);
    }
}

http_server::http_server(unsigned threads, transport_limits limits) : impl_(std::make_unique<impl>()) {
    impl_->limits = limits;
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < threads; ++i) impl_->workers.push_back(std::make_unique<worker>());
}

http_server::~http_server() {
    if (!impl_->stopping) stop(std::chrono::milliseconds(0));
    join();
}

tcp::endpoint http_server::listen(std::string const& host, unsigned short port, service& svc,
                                  std::shared_ptr<tls_context> tls) {
    auto address = net::ip::make_address(host);
    tcp::endpoint bound{address, port};
    for (auto& w : impl_->workers) {
        auto acc = std::make_shared<tcp::acceptor>(w->ioc);
        acc->open(bound.protocol());
        acc->set_option(net::socket_base::reuse_address(true));
        int one = 1;
        if (::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
            throw std::runtime_error("setsockopt(SO_REUSEPORT) failed");
        acc->bind(bound);
        acc->listen(net::socket_base::max_listen_connections);
        bound = acc->local_endpoint();  // port 0: every later worker binds the port the first one got
        w->acceptors.push_back(acc);
        net::co_spawn(w->ioc, impl_->run_listener(acc, *w, svc, tls), log_exception);
    }
    return bound;
}

void http_server::start() {
    for (auto& w : impl_->workers) {
        w->thread = std::thread([wp = w.get()] {
            for (;;) {
                try {
                    wp->ioc.run();
                    break;
                } catch (std::exception const& e) {
                    std::fprintf(stderr, "{\"level\":\"error\",\"event\":\"worker_exception\",\"what\":\"%s\"}\n",
                                 e.what());
                }
            }
        });
    }
}

void http_server::stop(std::chrono::milliseconds grace) {
    if (impl_->stopping.exchange(true)) return;
    for (auto& w : impl_->workers) {
        net::post(w->ioc, [wp = w.get(), grace] {
            wp->stopping = true;
            for (auto& a : wp->acceptors) {
                boost::system::error_code ignored;
                a->close(ignored);
            }
            for (auto& c : wp->connections)
                if (c.idle) c.stream->cancel();
            // In-flight requests finish and then close (keep-alive is off once stopping); idle ones are
            // cancelled as they become idle. Everything left when the grace period ends is dropped.
            wp->deadline = std::make_unique<net::steady_timer>(wp->ioc, grace);
            wp->deadline->async_wait([wp](boost::system::error_code) { wp->ioc.stop(); });
            drain_tick(*wp);
        });
    }
}

void http_server::join() {
    for (auto& w : impl_->workers)
        if (w->thread.joinable()) w->thread.join();
}

std::size_t http_server::connections() const noexcept {
    return impl_->open_connections.load(std::memory_order_relaxed);
}

}  // namespace latchkey::server
