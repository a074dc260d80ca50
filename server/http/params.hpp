#pragma once
// Decoders for the request parts the API reads: urlencoded query strings and form bodies, and Cookie headers.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::server {

/// Decoded key/value pairs in arrival order; repeated keys are kept (arrays).
class params {
public:
    /// The first value for `key`, or nullptr.
    std::string const* find(std::string_view key) const noexcept {
        for (auto const& kv : items_)
            if (kv.first == key) return &kv.second;
        return nullptr;
    }
    bool has(std::string_view key) const noexcept { return find(key) != nullptr; }
    /// Every value for `key` (repeated keys), with comma-joined values split (clerk-js query quirk).
    std::vector<std::string> all(std::string_view key, bool split_commas = false) const;
    void add(std::string key, std::string value) { items_.emplace_back(std::move(key), std::move(value)); }
    std::vector<std::pair<std::string, std::string>> const& items() const noexcept { return items_; }
    bool empty() const noexcept { return items_.empty(); }
    void clear() noexcept { items_.clear(); }

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

enum class parse_status { ok, malformed, field_too_large, too_many_fields };

/// Parses application/x-www-form-urlencoded text ('+' = space). Keys and values are limited to
/// `max_field` bytes after decoding and to `max_fields` pairs; invalid UTF-8 is malformed.
parse_status parse_urlencoded(std::string_view text, params& out, std::size_t max_field, std::size_t max_fields = 256);

/// Parses a Cookie header ("a=1; b=2"), appending to `out`. Values are taken verbatim (no decoding),
/// surrounding quotes removed. Malformed pairs are skipped, as browsers do.
/// `v` without leading and trailing optional whitespace (spaces and tabs, RFC 9110 5.6.3).
constexpr std::string_view trim_ows(std::string_view v) noexcept {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

void parse_cookies(std::string_view header, params& out);

/// True if `s` is valid UTF-8 (no overlongs, no surrogates).
bool valid_utf8(std::string_view s) noexcept;

}  // namespace latchkey::server
