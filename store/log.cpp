#include "store/log.hpp"

#include <atomic>
#include <cstdio>

namespace latchkey::store {

namespace {

void escape(std::string& out, std::string_view in) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    for (char c : in) {
        auto const u = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (u < 0x20 || u == 0x7f) {
                    out += "\\u00";
                    out.push_back(hex[u >> 4]);
                    out.push_back(hex[u & 0xf]);
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
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

std::string json_line(std::string_view level, std::string_view event, std::span<log_field const> fields) {
    std::string out = "{\"level\":";
    escape(out, level);
    out += ",\"event\":";
    escape(out, event);
    for (auto const& f : fields) {
        out.push_back(',');
        escape(out, f.name);
        out.push_back(':');
        escape(out, f.value);
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
