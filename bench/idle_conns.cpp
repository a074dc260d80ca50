// latchkey-idle: opens N keep-alive connections to a loopback HTTP server, sends one GET on each, reads the
// response, then holds them all open (idle) for a while so the server's memory per idle connection can be
// measured.
//
//   latchkey-idle --port P [--host 127.0.0.1] [--conns 10000] [--hold-seconds 30] [--path /v1/health]
//
// Prints {"event":"holding","open":N,"ok":N,"failed":N,"connect_s":..} once every connection has its
// response, then {"event":"done",...} after the hold (or on SIGTERM/SIGINT) and exits.
// Only 127.0.0.0/8 addresses are accepted.
#include "bench/cli.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

volatile std::sig_atomic_t stop_flag = 0;
void on_signal(int) { stop_flag = 1; }

struct conn {
    int fd = -1;
    enum { connecting, reading, idle, dead } state = connecting;
    std::string in;
};

/// True once `in` holds a complete response (headers + Content-Length body).
bool complete(std::string const& in) {
    auto end = in.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    std::size_t len = 0;
    auto h = in.substr(0, end);
    for (auto& ch : h) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (auto p = h.find("content-length:"); p != std::string::npos)
        len = std::strtoull(h.c_str() + p + 15, nullptr, 10);
    return in.size() >= end + 4 + len;
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    int port = 0;
    std::size_t want = 10000;
    int hold_s = 30;
    std::string path = "/v1/health";
    latchkey::bench::cli c(
        "latchkey-idle", "--port P [--host 127.0.0.1] [--conns N] [--hold-seconds S] [--path /v1/health]", argc, argv);
    for (auto a = c.flag(); !a.empty(); a = c.flag()) {
        if (a == "--host")
            host = c.value();
        else if (a == "--port")
            port = static_cast<int>(c.number());
        else if (a == "--conns")
            want = c.number();
        else if (a == "--hold-seconds")
            hold_s = static_cast<int>(c.number());
        else if (a == "--path")
            path = c.value();
        else
            c.usage("unknown argument");
    }
    if (port <= 0 || port > 65535) c.usage("--port is required");
    in_addr addr{};
    if (inet_pton(AF_INET, host.c_str(), &addr) != 1 || (ntohl(addr.s_addr) >> 24) != 127)
        c.usage("--host must be a 127.0.0.0/8 address");

    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want + 64) {
        rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, want + 64);
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::signal(SIGPIPE, SIG_IGN);

    std::string const req = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                            "\r\nUser-Agent: latchkey-idle\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n";
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    sa.sin_addr = addr;

    int ep = epoll_create1(0);
    std::vector<conn> conns(want);
    std::size_t started = 0, pending = 0, ok = 0, failed = 0;
    constexpr std::size_t max_pending = 256;  // stay under the listen backlog: no SYN retries
    auto const t0 = std::chrono::steady_clock::now();
    auto const deadline = t0 + std::chrono::seconds(120);
    std::vector<epoll_event> evs(1024);

    auto fail = [&](std::size_t i) {
        auto& c = conns[i];
        if (c.fd >= 0) {
            epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
            ::close(c.fd);
        }
        c.fd = -1;
        c.state = conn::dead;
        ++failed;
        --pending;
    };

    while (ok + failed < want && !stop_flag && std::chrono::steady_clock::now() < deadline) {
        while (started < want && pending < max_pending) {
            auto& c = conns[started];
            c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            ++pending;
            if (c.fd < 0) {
                std::fprintf(stderr, "latchkey-idle: socket: %s\n", std::strerror(errno));
                c.state = conn::dead;
                ++failed;
                --pending;
                ++started;
                continue;
            }
            int one = 1;
            setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            int r = ::connect(c.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
            if (r != 0 && errno != EINPROGRESS) {
                fail(started++);
                continue;
            }
            epoll_event e{};
            e.events = EPOLLOUT | EPOLLIN;
            e.data.u64 = started;
            epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &e);
            ++started;
        }
        int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
        for (int k = 0; k < n; ++k) {
            auto i = static_cast<std::size_t>(evs[static_cast<std::size_t>(k)].data.u64);
            auto& c = conns[i];
            auto ev = evs[static_cast<std::size_t>(k)].events;
            if (c.state == conn::connecting && (ev & EPOLLOUT)) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0 ||
                    ::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
                    fail(i);
                    continue;
                }
                c.state = conn::reading;
                epoll_event e{};
                e.events = EPOLLIN;
                e.data.u64 = i;
                epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &e);
                continue;
            }
            if (c.state == conn::reading && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                char buf[4096];
                ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
                if (got <= 0) {
                    if (got < 0 && errno == EAGAIN) continue;
                    fail(i);
                    continue;
                }
                c.in.append(buf, static_cast<std::size_t>(got));
                if (complete(c.in)) {
                    bool good = c.in.starts_with("HTTP/1.1 200");
                    std::string().swap(c.in);
                    if (!good) {
                        fail(i);
                        continue;
                    }
                    c.state = conn::idle;
                    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);  // idle: watched again below for closes
                    epoll_event e{};
                    e.events = EPOLLRDHUP;
                    e.data.u64 = i;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &e);
                    ++ok;
                    --pending;
                }
            }
        }
    }
    double connect_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"event\":\"holding\",\"open\":%zu,\"ok\":%zu,\"failed\":%zu,\"connect_s\":%.3f}\n", ok, ok,
                want - ok, connect_s);
    std::fflush(stdout);

    // Hold: count connections the server closes meanwhile.
    std::size_t closed = 0;
    auto const until = std::chrono::steady_clock::now() + std::chrono::seconds(hold_s);
    while (!stop_flag && std::chrono::steady_clock::now() < until) {
        int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 200);
        for (int k = 0; k < n; ++k) {
            auto i = static_cast<std::size_t>(evs[static_cast<std::size_t>(k)].data.u64);
            auto& c = conns[i];
            if (c.state != conn::idle) continue;
            epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
            ::close(c.fd);
            c.fd = -1;
            c.state = conn::dead;
            ++closed;
        }
    }
    for (auto& c : conns)
        if (c.fd >= 0) ::close(c.fd);
    std::printf("{\"event\":\"done\",\"held\":%zu,\"closed_by_server\":%zu}\n", ok - closed, closed);
    return 0;
}
