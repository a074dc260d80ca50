#pragma once
// The HTTP transport: worker threads, each with its own single-threaded io_context (shared-nothing,
// no strands, no reactor locking), one acceptor handing connections to the workers round-robin, and one
// coroutine per connection.
// It knows nothing of the API: a `service` turns requests into responses.
#include "server/http/types.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::server {

struct transport_limits {
    std::uint32_t header_bytes = 16 * 1024;
    std::uint32_t body_bytes = 1024 * 1024;
    std::chrono::milliseconds header_timeout{10'000};  ///< whole request, from its first byte
    std::chrono::milliseconds idle_timeout{75'000};    ///< keep-alive wait for the next request
    std::chrono::milliseconds write_timeout{30'000};
    std::uint32_t max_connections = 20'000;  ///< over this, new connections get 503 and close
    /// The body limit of uploads (Content-Type multipart/form-data or application/octet-stream); 0 = body_bytes.
    std::uint32_t upload_body_bytes = 0;
};

struct connection_info {
    std::string remote_ip;
    bool tls = false;
};

/// A failure the transport answers by itself, before or instead of a handler. The API layer renders each from its
/// one error table (status, code, message); the transport names only which one.
enum class transport_failure {
    malformed_request,         ///< 400: unparsable, or a Transfer-Encoding that cannot be framed
    request_body_too_large,    ///< 413
    request_header_too_large,  ///< 431
    request_timeout,           ///< 408: the request did not arrive in time
    unsafe_response,           ///< 500: the response a handler built cannot be sent safely
    too_many_connections,      ///< 503: over the connection limit
};

/// Turns a request into a response. Implemented by the API layer.
class service {
public:
    virtual ~service() = default;
    /// Fills `res` for `req`. May co_await (e.g. to hop to the hash pool) but does no socket I/O.
    /// With `static_body`, a body the service keeps alive for the whole process (a file embedded in the binary)
    /// may come back there instead of in `res.body()`: the transport then sends it after the header without
    /// copying it, with its size as Content-Length, and leaves it out for HEAD. Without `static_body`, every
    /// body is in `res.body()`.
    virtual net::awaitable<void> handle(request& req, response& res, connection_info const& ci,
                                        std::string_view* static_body = nullptr) = 0;
    /// Builds the response (status, headers, body) for a transport-level failure; `detail`, when not empty, is the
    /// error's long message.
    virtual void transport_error(response& res, transport_failure failure, std::string_view detail) = 0;
};

class tls_context;  // server/http/tls.hpp

/// Runs listeners on a pool of worker threads.
class http_server {
public:
    http_server(unsigned threads, transport_limits limits);
    ~http_server();  // NOLINT(bugprone-exception-escape): see the definition
    http_server(http_server const&) = delete;
    http_server& operator=(http_server const&) = delete;

    /// Binds `host:port` (port 0 = ephemeral) on every worker; returns the bound endpoint.
    /// `tls` (optional) makes the listener speak TLS. Throws on bind failure.
    tcp::endpoint listen(std::string const& host, unsigned short port, service& svc,
                         std::shared_ptr<tls_context> tls = nullptr);

    /// Starts the workers; returns immediately.
    void start();
    /// Graceful stop: closes acceptors, closes idle keep-alive connections, lets in-flight requests finish,
    /// and after `grace` stops everything. Thread-safe; may be called from a signal handler's executor.
    void stop(std::chrono::milliseconds grace);
    /// Blocks until every worker has exited.
    void join();

    std::size_t connections() const noexcept;

    /// Runs `f` while every worker thread is parked between two tasks (so no request is being handled and no
    /// handler reads shared settings), together with `extra` (executor, thread count) pools parked the same
    /// way; connections stay open and requests wait in their queues meanwhile. For swapping the settings on
    /// SIGHUP. Returns false, without running f, if not every thread parked within `wait` (e.g. stopping).
    bool run_quiesced(std::function<void()> const& f,
                      std::vector<std::pair<net::any_io_executor, unsigned>> const& extra,
                      std::chrono::milliseconds wait = std::chrono::seconds(10));

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace latchkey::server
