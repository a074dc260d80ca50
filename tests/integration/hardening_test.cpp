// Slow and many clients: the connection limit (over it a Clerk 503 `too_many_connections` and close; slots
// come back when connections close) and a slowloris storm against the real binary (every dribbling
// connection gets a Clerk 408 `request_timeout` and is cut at the header timeout, the server's memory does
// not grow, and it keeps answering).
#include "tests/common/server_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace latchkey;
using namespace latchkey::test;
using namespace std::chrono_literals;

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

/// A blocking client connection that can send raw bytes and read one response.
struct raw_conn {
    net::io_context ioc;
    beast::tcp_stream stream{ioc};
    beast::flat_buffer buf;

    explicit raw_conn(unsigned short port) { stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port)); }
    void send(std::string const& bytes) {
        stream.expires_after(5s);
        net::write(stream, net::buffer(bytes));
    }
    void get_health() { send("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); }
    /// Reads one response (status 0 if the connection ended first).
    http::response<http::string_body> read() {
        stream.expires_after(5s);
        http::response<http::string_body> res;
        boost::system::error_code ec;
        http::read(stream, buf, res, ec);
        if (ec) res.result(0);
        return res;
    }
    /// True if the server closes the connection (EOF or reset) within `limit` without sending anything more.
    bool closed_within(std::chrono::milliseconds limit) {
        stream.expires_after(limit);
        char c;
        boost::system::error_code ec;
        auto n = stream.read_some(net::buffer(&c, 1), ec);
        return n == 0 && ec && ec != beast::error::timeout;
    }
};

/// Checks the Clerk error envelope {"errors":[{code,message,long_message,meta}],"clerk_trace_id"}.
void expect_clerk_error(http::response<http::string_body> const& res, unsigned status, std::string const& code,
                        std::string const& what) {
    BOOST_TEST(res.result_int() == status, what << ": " << res.result_int() << " " << res.body());
    BOOST_TEST(res[http::field::content_type] == "application/json", what);
    boost::system::error_code ec;
    auto v = json::parse(res.body(), ec);
    BOOST_TEST_REQUIRE((!ec && v.is_object()), what << ": not JSON: " << res.body());
    auto const* errors = v.get_object().if_contains("errors");
    BOOST_TEST_REQUIRE((errors != nullptr && errors->is_array() && errors->get_array().size() == 1u), what);
    auto const& e = errors->get_array()[0];
    BOOST_TEST_REQUIRE(e.is_object(), what);
    auto const& eo = e.get_object();
    for (auto const* k : {"code", "message", "long_message"}) {
        auto const* f = eo.if_contains(k);
        BOOST_TEST((f != nullptr && f->is_string() && !f->get_string().empty()), what << ": " << k);
    }
    auto const* meta = eo.if_contains("meta");
    BOOST_TEST((meta != nullptr && meta->is_object()), what);
    auto const* c = eo.if_contains("code");
    BOOST_TEST((c != nullptr && c->is_string() && c->get_string() == code), what << ": " << res.body());
}

/// A connection over the limit: answered 503 too_many_connections, then closed.
void expect_refused(unsigned short port, bool send_request, std::string const& what) {
    raw_conn c(port);
    if (send_request) c.get_health();
    auto res = c.read();
    expect_clerk_error(res, 503, "too_many_connections", what);
    BOOST_TEST(!res.keep_alive(), what);
    BOOST_TEST(c.closed_within(2s), what << ": the refused connection was left open");
}

/// A connection under the limit: a health request on it is answered 200 and it stays open.
std::unique_ptr<raw_conn> expect_served(unsigned short port, std::string const& what) {
    auto c = std::make_unique<raw_conn>(port);
    c->get_health();
    auto res = c->read();
    BOOST_TEST(res.result_int() == 200u, what << ": " << res.result_int() << " " << res.body());
    BOOST_TEST(res.keep_alive(), what);
    return c;
}

/// Waits (up to 3 s) until a new connection is served again after others closed: the server frees a slot
/// when it sees the peer's FIN, which is asynchronous to the client's close().
std::unique_ptr<raw_conn> served_after_close(unsigned short port, std::string const& what) {
    auto deadline = steady::now() + 3s;
    for (;;) {
        auto c = std::make_unique<raw_conn>(port);
        c->get_health();
        auto res = c->read();
        if (res.result_int() == 200u) return c;
        BOOST_TEST_REQUIRE((steady::now() < deadline), what << ": still refused 3 s after connections closed: "
                                                            << res.result_int() << " " << res.body());
        std::this_thread::sleep_for(20ms);
    }
}

// ---- the real binary in a child process (its RSS is then the server's alone) ----

struct child_server {
    pid_t pid = -1;
    unsigned short fapi = 0;

    child_server(std::string const& bin, std::string const& data_dir, std::string const& config_file) {
        // ASan's quarantine keeps freed memory (up to 256 MB) out of reuse on purpose, which would read as growth
        // here: the measured binary runs without it (a no-op in builds without ASan). Leak checking stays on.
        std::vector<std::string> envs{"LATCHKEY_SECRET_KEY=sk_test_slowlorisslowloris0001", "LATCHKEY_ACCESS_LOG=false",
                                      "LATCHKEY_THREADS=2", "LATCHKEY_HASH_THREADS=1",
                                      "ASAN_OPTIONS=quarantine_size_mb=0:thread_local_quarantine_size_kb=0"};
        if (char const* t = std::getenv("TSAN_OPTIONS")) envs.push_back(std::string("TSAN_OPTIONS=") + t);
        auto s = spawn_server(bin, data_dir, {"--config", config_file}, envs);
        pid = s.pid;
        fapi = s.fapi;
    }
    /// SIGTERM and wait; the exit status (0 = clean, which under ASan includes no leaks).
    int stop() {
        if (pid <= 0) return -1;
        ::kill(pid, SIGTERM);
        int status = 0;
        ::waitpid(pid, &status, 0);
        pid = -1;
        return status;
    }
    ~child_server() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    /// VmRSS in KiB (from /proc/<pid>/status).
    long rss_kib() const {
        std::ifstream in("/proc/" + std::to_string(pid) + "/status");
        std::string line;
        while (std::getline(in, line))
            if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
        return -1;
    }
};

/// One slow client: a non-blocking socket that sends a never-ending header a byte at a time.
struct dribbler {
    int fd = -1;
    std::size_t sent = 0;
    steady::time_point first_byte{};
    std::optional<std::chrono::milliseconds> closed_after;  ///< from the first byte to the server's close
    std::string got;                                        ///< what the server sent before closing

    static std::string const& text() {
        static std::string const t = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
        return t;
    }
    char next() const { return sent < text().size() ? text()[sent] : 'a'; }
};

int connect_blocking(unsigned short port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_TEST_REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_TEST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0, "connect: errno " << errno);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

}  // namespace

// Alone (label "serial", see cmake/boost_test_entries.cmake): the RSS and header-timeout measurements must not compete
// with another process for the cores.
BOOST_AUTO_TEST_SUITE(hardening, *boost::unit_test::label("serial"))

BOOST_AUTO_TEST_CASE(max_connections_refuses_with_503_and_recovers) {
    test_server s([](conf::config& c) {
        c.max_connections = 4;
        c.idle_timeout = 30s;  // the held connections must outlive the test steps
    });
    auto const fapi = s.fapi_port();

    // Four keep-alive connections, each proven accepted (and counted) by a request answered on it.
    std::vector<std::unique_ptr<raw_conn>> held;
    for (int i = 0; i < 4; ++i) held.push_back(expect_served(fapi, "held connection " + std::to_string(i)));

    // At the limit: new connections get a Clerk 503 and are closed, whether or not they sent a request. The
    // limit is per process, so the BAPI listener refuses too.
    expect_refused(fapi, false, "over the limit, silent client");
    expect_refused(fapi, true, "over the limit, client that sent a request");
    expect_refused(s.bapi_port(), true, "over the limit on the BAPI listener");
    // A burst of refusals does not leak slots (checked below: exactly as many are served again as were freed).
    for (int i = 0; i < 20; ++i) expect_refused(fapi, i % 2 == 0, "burst " + std::to_string(i));

    // The held connections are unaffected.
    for (auto& c : held) {
        c->get_health();
        BOOST_TEST(c->read().result_int() == 200u);
    }

    // One closes: exactly one new connection is served, and the next one is refused again.
    held.pop_back();
    held.push_back(served_after_close(fapi, "after one close"));
    expect_refused(fapi, true, "full again after the freed slot was taken");

    // All close: the full limit is available again, and no more.
    held.clear();
    held.push_back(served_after_close(fapi, "after all closed"));
    for (int i = 1; i < 4; ++i) held.push_back(expect_served(fapi, "refill " + std::to_string(i)));
    expect_refused(fapi, true, "full again after the refill");
}

BOOST_AUTO_TEST_CASE(slowloris_is_cut_at_the_header_timeout_without_memory_growth, *boost::unit_test::timeout(60)) {
    // Measured on the real binary in its own process, so VmRSS is the server's alone (an in-process
    // test_server would share the RSS with this test's 500 client sockets and buffers).
    //
    // Memory: freed memory is not necessarily given back to the OS by the allocator, so "RSS after the storm
    // equals RSS before" is not a sound criterion. What is: (1) the first wave may grow RSS by a bounded
    // amount (allocator arenas and socket bookkeeping sized for the peak), (2) further identical waves reuse that
    // memory, so RSS after the last wave is within a small margin of RSS after the first. A per-connection leak
    // shows as growth between waves: 1000 connections leaking even 4 KiB each is 4 MiB, over the margin. (Under
    // ASan, LeakSanitizer also checks the exit, asserted through the exit status.)
    char const* bin = std::getenv("LATCHKEY_BIN");
    BOOST_TEST_REQUIRE(bin != nullptr, "LATCHKEY_BIN must point at the latchkey binary");
    constexpr auto header_timeout = 1000ms;
    constexpr int per_wave = 500;
    constexpr int waves = 3;
    constexpr auto drip_every = 100ms;
    tmp_dir data;
    std::string const config_file = data.path + "/latchkey.json";
    std::ofstream(config_file) << R"({"header_timeout_ms":)" << header_timeout.count() << "}";
    child_server srv(bin, data.path, config_file);

    auto health = [&](std::string const& when) {
        auto t0 = steady::now();
        http_client h(srv.fapi);
        auto r = h.request(http::verb::get, "/v1/health");
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0);
        BOOST_TEST(r.status == 200u, "health " << when);
        BOOST_TEST(r.body == R"({"status":"ok"})", "health " << when);
        BOOST_TEST(took.count() < 1000, "health " << when << " took " << took.count() << " ms");
    };

    // Warm the server up (first requests allocate lazily-built state) before the baseline.
    for (int i = 0; i < 20; ++i) health("warm-up");
    long const baseline = srv.rss_kib();
    BOOST_TEST_REQUIRE(baseline > 0);
    std::vector<long> after_wave;
    long peak = baseline;

    for (int wave = 0; wave < waves; ++wave) {
        std::vector<dribbler> d(per_wave);
        for (auto& x : d) x.fd = connect_blocking(srv.fapi);
        auto const wave_start = steady::now();
        bool checked_during = false;
        std::size_t open = d.size();
        auto next_drip = steady::now();
        std::vector<pollfd> pfds;
        std::vector<std::size_t> idx;
        while (open > 0 && steady::now() - wave_start < header_timeout + 5s) {
            if (steady::now() >= next_drip) {
                for (auto& x : d) {
                    if (x.closed_after) continue;
                    char ch = x.next();
                    auto n = ::send(x.fd, &ch, 1, MSG_NOSIGNAL);
                    if (n == 1) {
                        if (x.sent++ == 0) x.first_byte = steady::now();
                    }
                }
                next_drip += drip_every;
            }
            // Mid-wave, with every slow connection open: the server still answers at once.
            if (!checked_during && steady::now() - wave_start > header_timeout / 2) {
                checked_during = true;
                BOOST_TEST(open == d.size(), "wave " << wave << ": connections cut before the header timeout");
                peak = std::max(peak, srv.rss_kib());
                health("during wave " + std::to_string(wave));
            }
            pfds.clear();
            idx.clear();
            for (std::size_t i = 0; i < d.size(); ++i) {
                if (d[i].closed_after) continue;
                pfds.push_back(pollfd{d[i].fd, POLLIN, 0});
                idx.push_back(i);
            }
            ::poll(pfds.data(), pfds.size(), 10);
            for (std::size_t k = 0; k < pfds.size(); ++k) {
                if (pfds[k].revents == 0) continue;
                auto& x = d[idx[k]];
                char buf[4096];
                for (;;) {
                    auto n = ::recv(x.fd, buf, sizeof buf, 0);
                    if (n > 0) {  // the 408 that precedes the close
                        x.got.append(buf, static_cast<std::size_t>(n));
                        continue;
                    }
                    if (n == 0 || errno != EAGAIN) {  // EWOULDBLOCK == EAGAIN on Linux
                        x.closed_after =
                            std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - x.first_byte);
                        --open;
                    }
                    break;
                }
            }
        }
        // (a) every slow connection was cut, and at the header timeout: not before it, not long after it.
        std::size_t cut = 0, answered_408 = 0;
        long min_ms = 1 << 30, max_ms = 0;
        for (auto& x : d) {
            if (x.got.starts_with("HTTP/1.1 408 ") && x.got.find(R"("code":"request_timeout")") != std::string::npos)
                ++answered_408;
            if (x.closed_after) {
                ++cut;
                min_ms = std::min<long>(min_ms, x.closed_after->count());
                max_ms = std::max<long>(max_ms, x.closed_after->count());
            }
            ::close(x.fd);
        }
        BOOST_TEST(cut == d.size(), "wave " << wave << ": " << d.size() - cut << " slow connections never cut");
        BOOST_TEST(answered_408 == d.size(), "wave " << wave << ": only " << answered_408 << " got the Clerk 408");
        BOOST_TEST(min_ms >= header_timeout.count() - 50, "wave " << wave << ": cut after " << min_ms << " ms");
        BOOST_TEST(max_ms < header_timeout.count() + 2000, "wave " << wave << ": cut after " << max_ms << " ms");
        // (c) and the server answers right after.
        health("after wave " + std::to_string(wave));
        std::this_thread::sleep_for(200ms);
        after_wave.push_back(srv.rss_kib());
        BOOST_TEST_MESSAGE("slowloris wave " << wave << ": " << per_wave << " connections cut after " << min_ms << ".."
                                             << max_ms << " ms; server RSS " << after_wave.back() << " KiB (baseline "
                                             << baseline << ", peak " << peak << ")");
    }

    // (b) bounded first-wave growth, and none from wave to wave.
    BOOST_TEST(after_wave.front() - baseline < 32 * 1024,
               "RSS grew by " << after_wave.front() - baseline << " KiB over the first wave");
    BOOST_TEST(after_wave.back() - after_wave.front() < 4 * 1024,
               "RSS grew by " << after_wave.back() - after_wave.front() << " KiB between the first and last waves");
    BOOST_TEST(srv.stop() == 0, "the server did not exit cleanly after the storm");
}

BOOST_AUTO_TEST_SUITE_END()
