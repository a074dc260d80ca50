#include "crypto/ossl.hpp"

#include <openssl/err.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <exception>

namespace latchkey::crypto {

namespace {

void stderr_sink(std::string_view line) noexcept {
    std::fprintf(stderr, "latchkey.crypto: %.*s\n", static_cast<int>(line.size()), line.data());
}

std::atomic<log_sink> current_sink{&stderr_sink};

}  // namespace

std::string drain_errors(std::string_view what) {
    std::string out(what);
    bool first = true;
    char const* data = nullptr;
    int flags = 0;
    // ERR_get_error_all pops the oldest entry; loop until the queue is empty.
    for (unsigned long e = ::ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags); e != 0;
         e = ::ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
        std::array<char, 256> buf{};
        ::ERR_error_string_n(e, buf.data(), buf.size());
        out += first ? ": " : "; ";
        first = false;
        out += buf.data();
        if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
            out += " (";
            out += data;
            out += ')';
        }
    }
    if (first) out += ": (no OpenSSL error queued)";
    return out;
}

void set_log_sink(log_sink sink) noexcept {
    current_sink.store(sink != nullptr ? sink : &stderr_sink, std::memory_order_release);
}

void log_line(std::string_view line) noexcept { current_sink.load(std::memory_order_acquire)(line); }

void log_openssl_failure(std::string_view what) noexcept {
    try {
        log_line(drain_errors(what));
    } catch (std::exception const&) {
        // Out of memory while formatting: still empty the queue so no stale error is left behind.
        ::ERR_clear_error();
        log_line(what);
    }
}

}  // namespace latchkey::crypto
