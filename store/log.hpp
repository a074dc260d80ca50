#pragma once
// The store's diagnostics (LMDB failures, data-dir problems) go through one sink, so they join whatever log the
// program keeps. store/ cannot know the server's logger: the composition root installs a sink that forwards to
// it (server/run.cpp); until then, and after, the default sink writes one escaped JSON object per line to stderr.
// Fields are short descriptive strings (an operation name, an error text), never record contents or secrets.
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace latchkey::store {

struct log_field {
    std::string_view name;
    std::string_view value;
};

/// Receives one diagnostic event. Must be thread-safe (called from whichever thread hit the failure) and must not
/// throw.
using log_sink = void (*)(std::string_view level, std::string_view event, std::span<log_field const> fields) noexcept;

/// Installs the sink; nullptr restores the default (stderr). Thread-safe.
void set_log_sink(log_sink sink) noexcept;

/// Sends one event to the installed sink.
void log(std::string_view level, std::string_view event, std::initializer_list<log_field> fields) noexcept;

/// Appends `text` as a JSON string literal, quotes included, escaped as Boost.JSON's serializer does: `"` and `\`,
/// the short escapes \b \t \n \f \r, every other control character as \u00xx (lowercase hex); everything else
/// (DEL, UTF-8 bytes) verbatim. The one JSON escaper of the program: these log lines, the server's log
/// (server/log.cpp) and the API's hand-written responses (server/api/json_write.hpp) all write strings with it.
void append_json_string(std::string& out, std::string_view text);

/// The default sink's line: `{"level":level,"event":event,<name>:<value>...}` with every string written by
/// append_json_string, no trailing newline.
std::string json_line(std::string_view level, std::string_view event, std::span<log_field const> fields);

}  // namespace latchkey::store
