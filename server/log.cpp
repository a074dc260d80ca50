#include "server/log.hpp"

#include "crypto/ossl.hpp"
#include "store/log.hpp"

#include <boost/json/serialize.hpp>

#include <unistd.h>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include <utility>

namespace latchkey::server::log {

namespace {

struct sink {
    std::mutex mu;
    std::condition_variable cv;
    std::string buffer;
    std::thread flusher;
    bool running = false;
    bool stop_requested = false;
    std::uint64_t dropped = 0;  ///< lines dropped since the last flush because the buffer was full
};

/// Past this many buffered bytes (stdout slower than the request rate, e.g. a stalled pipe) new lines are
/// dropped and counted rather than letting the log buffer grow without bound.
constexpr std::size_t max_buffered = 16u << 20;

sink& the_sink() {
    static sink s;
    return s;
}

void write_all(std::string const& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        auto n = ::write(STDOUT_FILENO, data.data() + off, data.size() - off);
        if (n <= 0) return;  // stdout gone: drop logs rather than crash or spin
        off += static_cast<std::size_t>(n);
    }
}

void append(std::string_view line) {
    auto& s = the_sink();
    bool wake = false;
    {
        std::lock_guard lk(s.mu);
        if (s.buffer.size() + line.size() >= max_buffered) {
            ++s.dropped;
            return;
        }
        s.buffer.append(line);
        s.buffer.push_back('\n');
        wake = s.buffer.size() > (64u << 10);
    }
    if (wake) s.cv.notify_one();
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

void start() {
    auto& s = the_sink();
    std::lock_guard lk(s.mu);
    if (s.running) return;
    s.running = true;
    s.stop_requested = false;
    s.flusher = std::thread([&s] {
        std::string out;
        std::unique_lock lk2(s.mu);
        for (;;) {
            s.cv.wait_for(lk2, std::chrono::milliseconds(50));
            out.swap(s.buffer);
            auto const dropped = std::exchange(s.dropped, 0);
            bool done = s.stop_requested;
            lk2.unlock();
            if (dropped > 0)
                out += "{\"ts\":" + std::to_string(now_ms()) +
                       ",\"level\":\"warn\",\"event\":\"log_lines_dropped\",\"count\":" + std::to_string(dropped) +
                       "}\n";
            if (!out.empty()) write_all(out);
            out.clear();
            lk2.lock();
            if (done && s.buffer.empty()) break;
        }
    });
}

void flush() {
    auto& s = the_sink();
    std::string out;
    {
        std::lock_guard lk(s.mu);
        out.swap(s.buffer);
    }
    write_all(out);
}

void stop() {
    auto& s = the_sink();
    bool was_running = false;
    {
        std::lock_guard lk(s.mu);
        was_running = s.running;
        s.stop_requested = true;
    }
    if (!was_running) {
        flush();
        return;
    }
    s.cv.notify_one();
    if (s.flusher.joinable()) s.flusher.join();
    std::lock_guard lk(s.mu);
    s.running = false;
}

void write(std::string_view level, std::string_view event, boost::json::object fields) {
    boost::json::object o;
    o["ts"] = now_ms();
    o["level"] = level;
    o["event"] = event;
    for (auto& kv : fields) o[kv.key()] = std::move(kv.value());
    append(boost::json::serialize(o));
}

void raw_line(std::string_view line) { append(line); }

void adopt_module_diagnostics() {
    store::set_log_sink(
        [](std::string_view level, std::string_view event, std::span<store::log_field const> fields) noexcept {
            try {
                boost::json::object o;
                for (auto const& f : fields) o[f.name] = f.value;
                write(level, event, std::move(o));
            } catch (...) {  // out of memory: the line is lost, the caller's error code still says what failed
            }
        });
    crypto::set_log_sink([](std::string_view line) noexcept {
        try {
            error("crypto", {{"detail", line}});
        } catch (...) {}
    });
}

void release_module_diagnostics() {
    store::set_log_sink(nullptr);
    crypto::set_log_sink(nullptr);
}

void access(std::string_view listener, std::string_view request_id, std::string_view method, std::string_view path,
            unsigned status, std::string_view code, std::int64_t micros, std::size_t bytes, std::string_view ip) {
    thread_local std::string line;
    line.clear();
    line += "{\"ts\":";
    line += std::to_string(now_ms());
    line += ",\"level\":\"info\",\"event\":\"request\",\"listener\":\"";
    line += listener;
    line += "\",\"request_id\":\"";
    line += request_id;
    line += "\",\"method\":";
    store::append_json_string(line, method);
    line += ",\"path\":";
    store::append_json_string(line, path.substr(0, 256));
    line += ",\"status\":";
    line += std::to_string(status);
    if (!code.empty()) {
        line += ",\"code\":\"";
        line += code;
        line += '"';
    }
    line += ",\"us\":";
    line += std::to_string(micros);
    line += ",\"bytes\":";
    line += std::to_string(bytes);
    line += ",\"ip\":";
    store::append_json_string(line, ip);
    line += '}';
    append(line);
}

}  // namespace latchkey::server::log
