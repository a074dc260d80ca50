#include "server/http/server.hpp"

#include "server/http/guard.hpp"
#include "server/http/params.hpp"
#include "server/http/tls.hpp"
#include "server/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <unistd.h>
#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <list>
#include <mutex>
#include <thread>
#include <utility>

namespace latchkey::server {

namespace ssl = net::ssl;
/// The deadline clock: CLOCK_MONOTONIC_COARSE (a few ms resolution, a plain memory read in the vDSO)
/// instead of steady_clock, since the session re-arms its deadline three times per request and the
/// watchdog only looks at deadlines once per tick anyway.
struct clock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<clock>;
    static constexpr bool is_steady = true;
    static time_point now() noexcept {
        timespec ts{};
        ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
    }
};

namespace {
constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

/// Per-connection bookkeeping: what the worker's watchdog and graceful shutdown need. Touched only on the
/// worker's thread.
///
/// Timeouts are deadlines checked by one watchdog per worker instead of Beast's `tcp_stream` timer per
/// operation: re-arming a timer per read and per write cost a `timerfd_settime` and a timer-queue update
/// per request and the `tcp_stream` layer itself ~10 % of a small request's CPU (bench/RESULTS.md, health
/// profile). A deadline here is just a time_point store; the watchdog ticks a few times per timeout and
/// cancels the socket of every connection past its deadline. The cost is precision: a deadline fires up to
/// one tick late (tick = the shortest timeout / 4, at most 250 ms).
struct connection_slot {
    tcp::socket* socket = nullptr;
    bool idle = true;
    bool timed_out = false;
    clock::time_point deadline = clock::time_point::max();
};
}  // namespace

// Member order matters for destruction: suspended coroutine frames are destroyed with `ioc` and erase
// themselves from `connections`, so the list must outlive the io_context; timers must die before it.
struct worker {
    std::list<connection_slot> connections;
    // One thread runs this io_context and every socket registered with it is only touched from that
    // thread (the hand-out in run_listener adopts descriptors on the target thread), so the reactor runs
    // without its per-descriptor locks. The scheduler keeps its lock: the hash pool and stop() post here.
    net::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
    bool stopping = false;
    std::unique_ptr<net::steady_timer> deadline;
    std::unique_ptr<net::steady_timer> poll;
    std::unique_ptr<net::steady_timer> watchdog;
    std::thread thread;
};

namespace {
void cancel_socket(connection_slot& c) {
    boost::system::error_code ignored;
    c.socket->cancel(ignored);
}

/// Shutdown drain loop: stops the worker once no connection is left.
void drain_tick(worker& w) {
    if (w.connections.empty()) {
        w.ioc.stop();
        return;
    }
    for (auto& c : w.connections)
        if (c.idle) cancel_socket(c);
    if (!w.poll) w.poll = std::make_unique<net::steady_timer>(w.ioc);
    w.poll->expires_after(std::chrono::milliseconds(20));
    w.poll->async_wait([&w](boost::system::error_code ec) {
        if (!ec) drain_tick(w);
    });
}

/// Cancels the pending operation of every connection past its deadline, then re-arms itself. A connection
/// stays past its deadline until its session reacts, so a cancel that found no operation pending (the
/// session was between operations) is repeated on the next tick.
void watchdog_tick(worker& w, clock::duration tick) {
    auto const now = clock::now();
    for (auto& c : w.connections) {
        if (c.deadline <= now) {
            c.timed_out = true;
            cancel_socket(c);
        }
    }
    w.watchdog->expires_after(tick);
    w.watchdog->async_wait([&w, tick](boost::system::error_code ec) {
        if (!ec) watchdog_tick(w, tick);
    });
}
}  // namespace

struct http_server::impl {
    transport_limits limits;
    std::vector<std::unique_ptr<worker>> workers;
    std::atomic<std::size_t> open_connections{0};
    std::atomic<bool> stopping{false};

    template <class Stream>
    net::awaitable<void> run_session(Stream& stream, connection_slot& slot, worker& w, service& svc,
                                     connection_info const& ci);
    net::awaitable<void> run_listener(std::shared_ptr<tcp::acceptor> acceptor, worker& w, service& svc,
                                      std::shared_ptr<tls_context> tls);
    net::awaitable<void> serve_plain(tcp::socket s, worker& w, service& svc, connection_info ci);
    net::awaitable<void> serve_tls(tcp::socket s, worker& w, service& svc, connection_info ci,
                                   std::shared_ptr<ssl::context> ctx);
    net::awaitable<void> refuse(tcp::socket s, service& svc);
    void start_connection(tcp::socket socket, worker& w, service& svc, connection_info ci,
                          std::shared_ptr<tls_context> const& tls);
};

namespace {

void log_exception(std::exception_ptr const& e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (std::exception const& ex) {
        log::error("connection_exception", {{"what", ex.what()}});
    } catch (...) {
        log::error("connection_exception");
    }
}

/// Whether the request's body is an upload (multipart/form-data or application/octet-stream), which may be
/// larger than other bodies (transport_limits::upload_body_bytes).
bool is_upload(http::fields const& h) {
    auto it = h.find(http::field::content_type);
    if (it == h.end()) return false;
    std::string_view const t = it->value();
    return beast::iequals(t.substr(0, 19), "multipart/form-data") ||
           beast::iequals(t.substr(0, 24), "application/octet-stream");
}

/// Maps a read error to the transport error to answer with, or nullopt when the peer is gone.
struct read_failure {
    transport_failure failure;
    std::string_view detail;
};

std::optional<read_failure> classify(boost::system::error_code const& ec) {
    if (ec == http::error::body_limit)
        return read_failure{transport_failure::request_body_too_large, "Request body is too large."};
    if (ec == http::error::header_limit)
        return read_failure{transport_failure::request_header_too_large, "Request header fields are too large."};
    if (ec == beast::error::timeout)
        return read_failure{transport_failure::request_timeout, "The request took too long to arrive."};
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
        return read_failure{transport_failure::malformed_request, "The request could not be parsed."};
    return std::nullopt;
}

/// RFC 9112 section 6.3: a request is framed by Transfer-Encoding only when its final coding is `chunked`,
/// named once; any other list (`identity`, `gzip`, `chunked, identity`, `xchunked`) cannot be framed, and a
/// request with both Transfer-Encoding and Content-Length is a smuggling attempt. Both answer 400 and close.
bool framing_ok(http::fields const& h) {
    std::size_t codings = 0, chunked = 0;
    bool chunked_last = false;
    bool any = false;
    for (auto it = h.find(http::field::transfer_encoding);
         it != h.end() && it->name() == http::field::transfer_encoding; ++it) {
        any = true;
        std::string_view v = it->value();
        while (true) {
            auto comma = v.find(',');
            std::string_view item = v.substr(0, comma);
            auto semi = item.find(';');  // transfer parameters: the coding's name is before them
            item = trim_ows(item.substr(0, semi));
            if (!item.empty()) {
                ++codings;
                chunked_last = beast::iequals(item, "chunked") && semi == std::string_view::npos;
                if (beast::iequals(item, "chunked")) ++chunked;
            }
            if (comma == std::string_view::npos) break;
            v.remove_prefix(comma + 1);
        }
    }
    if (!any) return true;
    if (h.find(http::field::content_length) != h.end()) return false;
    return codings > 0 && chunked == 1 && chunked_last;
}

template <class Stream>
net::awaitable<boost::system::error_code> write_response(Stream& stream, response const& res, std::string& head,
                                                         std::string_view static_body = {}) {
    serialize_head(res, head);
    std::array<net::const_buffer, 2> const buffers{
        net::buffer(head), static_body.data() != nullptr ? net::buffer(static_body) : net::buffer(res.body())};
    auto [ec, n] = co_await net::async_write(stream, buffers, tuple_awaitable);
    co_return ec;
}

/// A descriptor in transit between workers: closed (and uncounted) if the hand-off never runs, e.g. when
/// the target worker stops first.
struct owned_fd {
    int fd = -1;
    std::atomic<std::size_t>* count = nullptr;
    owned_fd(int f, std::atomic<std::size_t>* c) : fd(f), count(c) {}
    owned_fd(owned_fd&& o) noexcept : fd(std::exchange(o.fd, -1)), count(std::exchange(o.count, nullptr)) {}
    owned_fd& operator=(owned_fd&&) = delete;
    ~owned_fd() {
        if (fd >= 0) ::close(fd);
        if (count) count->fetch_sub(1, std::memory_order_relaxed);
    }
};

/// Registers a connection with its worker for the connection's lifetime.
struct slot_guard {
    worker& w;
    std::list<connection_slot>::iterator it;
    std::atomic<std::size_t>& count;
    slot_guard(worker& owner, tcp::socket& s, std::atomic<std::size_t>& open)
        : w(owner), it(owner.connections.insert(owner.connections.end(), connection_slot{&s})), count(open) {}
    slot_guard(slot_guard const&) = delete;
    slot_guard& operator=(slot_guard const&) = delete;
    ~slot_guard() {
        w.connections.erase(it);
        count.fetch_sub(1, std::memory_order_relaxed);
    }
};

}  // namespace

template <class Stream>
net::awaitable<void> http_server::impl::run_session(Stream& stream, connection_slot& slot, worker& w, service& svc,
                                                    connection_info const& ci) {
    auto const arm = [&slot](clock::duration d) {
        slot.timed_out = false;
        slot.deadline = clock::now() + d;
    };
    // A cancelled operation on a connection the watchdog timed out is a timeout, not a cancellation.
    auto const timed_out = [&slot](boost::system::error_code const& ec) {
        return ec == net::error::operation_aborted && slot.timed_out;
    };
    beast::flat_buffer buffer;
    std::string head;
    for (;;) {
        // Wait for the first byte of the next request under the idle deadline.
        if (buffer.size() == 0) {
            slot.idle = true;
            if (w.stopping) break;
            arm(limits.idle_timeout);
            auto [ec, n] = co_await stream.async_read_some(buffer.prepare(1024), tuple_awaitable);
            slot.idle = false;
            if (ec) break;
            buffer.commit(n);
        }
        slot.idle = false;
        // The whole request (header and body) must arrive within header_timeout of its first byte.
        arm(limits.header_timeout);
        http::request_parser<http::string_body> parser;
        parser.header_limit(limits.header_bytes);
        // Uploads (a profile image, an organization logo) may be larger than other bodies: the parser starts with
        // the larger limit (Beast judges a Content-Length against it while reading the header) and, once the
        // header says the body is not an upload, holds it to the ordinary one.
        std::uint64_t const upload_limit = std::max<std::uint64_t>(limits.body_bytes, limits.upload_body_bytes);
        parser.body_limit(upload_limit);
        auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, tuple_awaitable);
        boost::system::error_code ec = hec;
        if (!ec && upload_limit > limits.body_bytes && !is_upload(parser.get())) {
            if (auto n = parser.content_length(); n && *n > limits.body_bytes)
                ec = http::error::body_limit;
            else
                parser.body_limit(limits.body_bytes);
        }
        if (!ec && !framing_ok(parser.get())) {
            response res{http::status::bad_request, 11};
            svc.transport_error(res, transport_failure::malformed_request,
                                "The request's Transfer-Encoding cannot be framed.");
            res.keep_alive(false);
            res.prepare_payload();
            arm(limits.write_timeout);
            co_await write_response(stream, res, head);
            break;
        }
        if (!ec && !parser.is_done()) {
            auto const& h = parser.get();
            if (auto it = h.find(http::field::expect); it != h.end() && beast::iequals(it->value(), "100-continue")) {
                static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
                auto [cec, cn] = co_await net::async_write(stream, net::buffer(cont), tuple_awaitable);
                if (cec) break;
            }
            auto [bec, bn] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
            ec = bec;
        }
        if (timed_out(ec)) ec = beast::error::timeout;
        if (ec) {
            auto failure = classify(ec);
            if (!failure) break;  // peer closed or reset: nothing to answer
            response res{http::status::bad_request, 11};
            svc.transport_error(res, failure->failure, failure->detail);
            res.keep_alive(false);
            res.prepare_payload();
            arm(limits.write_timeout);
            co_await write_response(stream, res, head);
            break;
        }
        request req = parser.release();
        response res;
        res.version(req.version() == 10 ? 10 : 11);
        slot.deadline = clock::time_point::max();  // the handler's own time is not the peer's fault
        std::string_view static_body;
        co_await svc.handle(req, res, ci, &static_body);
        bool keep = req.keep_alive() && !w.stopping;
        if (!head_safe(res)) {
            // A header built from input carries CR/LF/NUL: answer 500 rather than split the response.
            log::error("unsafe_response_header");
            res = response{http::status::internal_server_error, res.version()};
            svc.transport_error(res, transport_failure::unsafe_response, "The server could not build a safe response.");
            static_body = {};
            keep = false;
        }
        res.keep_alive(keep);
        res.prepare_payload();
        if (static_body.data() != nullptr) {
            res.content_length(static_body.size());
            if (req.method() == http::verb::head) static_body = static_body.substr(0, 0);  // empty, still a static body
        }
        arm(limits.write_timeout);
        auto wec = co_await write_response(stream, res, head, static_body);
        if (wec || !res.keep_alive()) break;
    }
    if constexpr (std::is_same_v<Stream, ssl::stream<tcp::socket>>) {
        arm(std::chrono::seconds(2));
        co_await stream.async_shutdown(tuple_awaitable);
    } else {
        boost::system::error_code ignored;
        stream.shutdown(tcp::socket::shutdown_send, ignored);
    }
}

net::awaitable<void> http_server::impl::serve_plain(tcp::socket s, worker& w, service& svc, connection_info ci) {
    slot_guard guard(w, s, open_connections);
    co_await run_session(s, *guard.it, w, svc, ci);
}

net::awaitable<void> http_server::impl::serve_tls(tcp::socket s, worker& w, service& svc, connection_info ci,
                                                  std::shared_ptr<ssl::context> ctx) {
    ssl::stream<tcp::socket> stream(std::move(s), *ctx);
    slot_guard guard(w, stream.next_layer(), open_connections);
    guard.it->idle = false;
    guard.it->deadline = clock::now() + limits.header_timeout;
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, tuple_awaitable);
    if (ec) co_return;
    ci.tls = true;
    co_await run_session(stream, *guard.it, w, svc, ci);
}

net::awaitable<void> http_server::impl::refuse(tcp::socket s, service& svc) {
    // Over the connection limit: a short 503 and close, without reading the request. Runs beside the
    // listener (never inside its loop) so a peer that does not read cannot stall accepting.
    response res{http::status::service_unavailable, 11};
    svc.transport_error(res, transport_failure::too_many_connections, "The server is at its connection limit.");
    res.keep_alive(false);
    res.prepare_payload();
    beast::tcp_stream stream(std::move(s));
    stream.expires_after(std::chrono::seconds(1));
    std::string head;
    co_await write_response(stream, res, head);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    open_connections.fetch_sub(1, std::memory_order_relaxed);
}

net::awaitable<void> http_server::impl::run_listener(std::shared_ptr<tcp::acceptor> acceptor, worker& w, service& svc,
                                                     std::shared_ptr<tls_context> tls) {
    std::size_t next = 0;
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
        if (open_connections.fetch_add(1, std::memory_order_relaxed) >= limits.max_connections) {
            net::co_spawn(w.ioc, refuse(std::move(socket), svc), log_exception);
            continue;
        }
        connection_info ci;
        auto remote = socket.remote_endpoint(ignored);
        if (!ignored) ci.remote_ip = remote.address().to_string();
        // Round-robin hand-out: the next worker adopts the descriptor on its own thread, so every socket
        // is only ever touched by the thread of the io_context it is registered with (which is what lets
        // the io_contexts run without reactor locking).
        worker& target = *workers[next];
        next = (next + 1) % workers.size();
        if (&target == &w) {
            start_connection(std::move(socket), target, svc, std::move(ci), tls);
            continue;
        }
        auto const protocol = socket.local_endpoint(ignored).protocol();
        owned_fd fd{socket.release(ignored), &open_connections};
        if (ignored) continue;
        net::post(target.ioc, [this, &target, &svc, protocol, fd = std::move(fd), ci = std::move(ci), tls]() mutable {
            tcp::socket adopted(target.ioc);
            boost::system::error_code aec;
            adopted.assign(protocol, fd.fd, aec);
            if (aec) return;  // fd closes it
            fd.fd = -1;
            fd.count = nullptr;
            start_connection(std::move(adopted), target, svc, std::move(ci), tls);
        });
    }
}

void http_server::impl::start_connection(tcp::socket socket, worker& w, service& svc, connection_info ci,
                                         std::shared_ptr<tls_context> const& tls) {
    if (tls)
        net::co_spawn(w.ioc, serve_tls(std::move(socket), w, svc, std::move(ci), tls->current()), log_exception);
    else
        net::co_spawn(w.ioc, serve_plain(std::move(socket), w, svc, std::move(ci)), log_exception);
}

http_server::http_server(unsigned threads, transport_limits limits) : impl_(std::make_unique<impl>()) {
    impl_->limits = limits;
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < threads; ++i) impl_->workers.push_back(std::make_unique<worker>());
}

// A worker that cannot be stopped or joined cannot be recovered from: std::terminate is the right end.
// NOLINTNEXTLINE(bugprone-exception-escape)
http_server::~http_server() {
    if (!impl_->stopping) stop(std::chrono::milliseconds(0));
    join();
}

tcp::endpoint http_server::listen(std::string const& host, unsigned short port, service& svc,
                                  std::shared_ptr<tls_context> tls) {
    auto address = net::ip::make_address(host);
    tcp::endpoint bound{address, port};
    // One acceptor, on the first worker, handing connections out round-robin. SO_REUSEPORT acceptors per
    // worker spread connections by a hash of the 4-tuple, which leaves one thread with several more
    // long-lived keep-alive connections than the other (e.g. 10/6 of 16) and sets p99 by the busier queue;
    // accepting is cheap next to serving, so one accepting thread costs nothing measurable here.
    auto& first = *impl_->workers.front();
    auto acc = std::make_shared<tcp::acceptor>(first.ioc);
    acc->open(bound.protocol());
    acc->set_option(net::socket_base::reuse_address(true));
    acc->bind(bound);
    acc->listen(net::socket_base::max_listen_connections);
    bound = acc->local_endpoint();
    first.acceptors.push_back(acc);
    net::co_spawn(first.ioc, impl_->run_listener(acc, first, svc, std::move(tls)), log_exception);
    return bound;
}

void http_server::start() {
    for (auto& w : impl_->workers) {
        auto shortest =
            std::min({impl_->limits.header_timeout, impl_->limits.idle_timeout, impl_->limits.write_timeout});
        auto tick =
            std::clamp<clock::duration>(shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
        w->watchdog = std::make_unique<net::steady_timer>(w->ioc);
        watchdog_tick(*w, tick);
        w->thread = std::thread([wp = w.get()] {
            for (;;) {
                try {
                    wp->ioc.run();
                    break;
                } catch (std::exception const& e) {
                    log::error("worker_exception", {{"what", e.what()}});
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
                if (c.idle) cancel_socket(c);
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

bool http_server::run_quiesced(std::function<void()> const& f,
                               std::vector<std::pair<net::any_io_executor, unsigned>> const& extra,
                               std::chrono::milliseconds wait) {
    // Shared with the parking tasks: one that runs late (after a timeout) must still find it alive.
    struct gate {
        std::mutex mu;
        std::condition_variable cv;
        unsigned parked = 0;
        bool open = false;
    };
    auto g = std::make_shared<gate>();
    auto park = [g] {
        std::unique_lock lk(g->mu);
        ++g->parked;
        g->cv.notify_all();
        g->cv.wait(lk, [&] { return g->open; });
    };
    unsigned total = 0;
    for (auto& w : impl_->workers) {
        net::post(w->ioc, park);
        ++total;
    }
    // Each parked thread blocks, so n tasks on a pool of n threads take one thread each.
    for (auto const& [ex, n] : extra)
        for (unsigned i = 0; i < n; ++i) {
            net::post(ex, park);
            ++total;
        }
    std::unique_lock lk(g->mu);
    bool const all = g->cv.wait_for(lk, wait, [&] { return g->parked == total; });
    if (all) f();
    g->open = true;
    lk.unlock();
    g->cv.notify_all();
    return all;
}

std::size_t http_server::connections() const noexcept {
    return impl_->open_connections.load(std::memory_order_relaxed);
}

}  // namespace latchkey::server
