#include "store/log.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace latchkey::store {

namespace {

/// True when one of the 8 bytes of `w` needs an escape (< 0x20, '"' or '\\'): the classic SWAR zero-byte
/// tests, so plain text (ids, tokens, names) is scanned a word at a time.
constexpr bool word_needs_escape(std::uint64_t w) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    auto has_zero = [](std::uint64_t x) { return ((x - ones) & ~x & highs) != 0; };
    bool const control = ((w - ones * 0x20) & ~w & highs) != 0;  // some byte < 0x20 (bytes >= 0x80 excluded)
    return control || has_zero(w ^ (ones * '"')) || has_zero(w ^ (ones * '\\'));
}

constexpr bool byte_needs_escape(char c) noexcept {
    return static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\';
}

void stderr_sink(std::string_view level, std::string_view event, std::span<log_field const> fields) noexcept {
    try {
        auto line = json_line(level, event, fields);
        line.push_back('\n');
        std::fwrite(line.data(), 1, line.size(), stderr);
    } catch (...) {  // out of memory: the diagnostic is lost, the store's error code still says what failed
    }
}

std::atomic<log_sink> current{&stderr_sink};

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    char const* p = text.data();
    char const* const end = p + text.size();
    while (p != end) {
        // The common case is a run of plain characters: find its end a word at a time, copy it in one append.
        char const* q = p;
        while (end - q >= 8) {
            std::uint64_t w;
            std::memcpy(&w, q, 8);
            if (word_needs_escape(w)) break;
            q += 8;
        }
        while (q != end && !byte_needs_escape(*q)) ++q;
        out.append(p, q);
        if (q == end) break;
        auto const c = static_cast<unsigned char>(*q);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\r':
                out += "\\r";
                break;
            default: {
                char const u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
                out.append(u, sizeof u);
            }
        }
        p = q + 1;
    }
    out.push_back('"');
}

std::string json_line(std::string_view level, std::string_view event, std::span<log_field const> fields) {
    std::string out = "{\"level\":";
    append_json_string(out, level);
    out += ",\"event\":";
    append_json_string(out, event);
    for (auto const& f : fields) {
        out.push_back(',');
        append_json_string(out, f.name);
        out.push_back(':');
        append_json_string(out, f.value);
    }
    out.push_back('}');
    return out;
}

void set_log_sink(log_sink sink) noexcept {
    current.store(sink != nullptr ? sink : &stderr_sink, std::memory_order_release);
}

void log(std::string_view level, std::string_view event, std::initializer_list<log_field> fields) noexcept {
    current.load(std::memory_order_acquire)(level, event, std::span<log_field const>(fields.begin(), fields.size()));
}

}  // namespace latchkey::store
