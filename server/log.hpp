#pragma once
// Structured logging: one JSON object per line on stdout. Lines are appended to a shared buffer under a
// short lock and written by a background flusher, so request threads never block on the terminal.
// Never log secrets: no bodies, no query strings, no cookies, no Authorization headers, no codes.
#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace latchkey::server::log {

/// Starts the background flusher (idempotent). Lines logged before start are buffered.
void start();
/// Flushes everything and stops the flusher.
void stop();
/// Writes now (used for the startup line that scripts wait for).
void flush();

/// Appends `{"ts":...,"level":level,"event":event, ...fields}`.
void write(std::string_view level, std::string_view event, boost::json::object fields = {});
inline void info(std::string_view event, boost::json::object fields = {}) { write("info", event, std::move(fields)); }
inline void warn(std::string_view event, boost::json::object fields = {}) { write("warn", event, std::move(fields)); }
inline void error(std::string_view event, boost::json::object fields = {}) { write("error", event, std::move(fields)); }

/// The access-log line, built without a JSON DOM (hot path).
void access(std::string_view listener, std::string_view request_id, std::string_view method, std::string_view path,
            unsigned status, std::string_view code, std::int64_t micros, std::size_t bytes, std::string_view ip);

/// Appends a raw, already-serialized JSON line.
void raw_line(std::string_view line);

/// Routes the diagnostics of the modules below the server (store/: LMDB failures; crypto/: OpenSSL, argon2 and
/// crypt failures) into this log as `{"level":"error","event":"lmdb"|"crypto",...}` lines, escaped like every
/// other line. The composition root calls it before opening the store; `release_module_diagnostics()` gives
/// them back their stderr defaults (before `stop()`).
void adopt_module_diagnostics();
void release_module_diagnostics();

}  // namespace latchkey::server::log
