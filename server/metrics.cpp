#include "server/metrics.hpp"

#include <cstdio>

namespace latchkey::server {

namespace {

/// A label value: backslash, double quote and newline escaped (route patterns carry none, but stay safe).
void append_label(std::string& out, std::string_view v) {
    for (char c : v) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
}

void append_number(std::string& out, double v) {
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%.17g", v);
    out.append(buf, static_cast<std::size_t>(n));
}

void append_labels(std::string& out, std::string_view api, std::string_view method, std::string_view route) {
    out += "{api=\"";
    append_label(out, api);
    out += "\",method=\"";
    append_label(out, method);
    out += "\",route=\"";
    append_label(out, route);
    out += '"';
}

}  // namespace

std::size_t metrics::add_route(std::string_view api, std::string_view method, std::string_view pattern) {
    auto& s = slots_.emplace_back();
    s.api = std::string(api);
    s.method = std::string(method);
    s.pattern = std::string(pattern);
    return slots_.size() - 1;
}

void metrics::observe(std::size_t slot, unsigned status, std::chrono::nanoseconds latency) noexcept {
    if (slot >= slots_.size()) return;
    auto& s = slots_[slot];
    unsigned const cls = status >= 100 && status < 600 ? status / 100 - 1 : 4;
    s.by_class[cls].fetch_add(1, std::memory_order_relaxed);
    double const secs = std::chrono::duration<double>(latency).count();
    std::size_t b = 0;
    while (b < bucket_bounds.size() && secs > bucket_bounds[b]) ++b;
    s.buckets[b].fetch_add(1, std::memory_order_relaxed);
    s.sum_ns.fetch_add(static_cast<std::uint64_t>(latency.count() > 0 ? latency.count() : 0),
                       std::memory_order_relaxed);
}

void metrics::add_gauge(std::string name, std::string help, std::function<double()> f) {
    std::lock_guard lk(gauges_mu_);
    gauges_.push_back(gauge{std::move(name), std::move(help), std::move(f)});
}

std::string metrics::render() const {
    std::string out;
    out.reserve(std::size_t{16} * 1024);
    out += "# HELP latchkey_http_requests_total Requests answered, by API, route pattern and status class.\n";
    out += "# TYPE latchkey_http_requests_total counter\n";
    for (auto const& s : slots_)
        for (std::size_t c = 0; c < s.by_class.size(); ++c) {
            auto const n = s.by_class[c].load(std::memory_order_relaxed);
            if (n == 0) continue;
            out += "latchkey_http_requests_total";
            append_labels(out, s.api, s.method, s.pattern);
            out += ",status=\"";
            out += static_cast<char>('1' + c);
            out += "xx\"} ";
            out += std::to_string(n);
            out += '\n';
        }
    out += "# HELP latchkey_http_request_duration_seconds Time from a parsed request to its response, by route.\n";
    out += "# TYPE latchkey_http_request_duration_seconds histogram\n";
    for (auto const& s : slots_) {
        std::array<std::uint64_t, bucket_bounds.size() + 1> counts{};
        std::uint64_t total = 0;
        for (std::size_t b = 0; b < counts.size(); ++b)
            total += counts[b] = s.buckets[b].load(std::memory_order_relaxed);
        if (total == 0) continue;
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < counts.size(); ++b) {
            cumulative += counts[b];
            out += "latchkey_http_request_duration_seconds_bucket";
            append_labels(out, s.api, s.method, s.pattern);
            out += ",le=\"";
            if (b < bucket_bounds.size())
                append_number(out, bucket_bounds[b]);
            else
                out += "+Inf";
            out += "\"} ";
            out += std::to_string(cumulative);
            out += '\n';
        }
        out += "latchkey_http_request_duration_seconds_sum";
        append_labels(out, s.api, s.method, s.pattern);
        out += "} ";
        append_number(out, static_cast<double>(s.sum_ns.load(std::memory_order_relaxed)) / 1e9);
        out += "\nlatchkey_http_request_duration_seconds_count";
        append_labels(out, s.api, s.method, s.pattern);
        out += "} ";
        out += std::to_string(cumulative);
        out += '\n';
    }
    out += "# HELP latchkey_tokens_minted_total Session tokens signed.\n# TYPE latchkey_tokens_minted_total counter\n";
    out += "latchkey_tokens_minted_total " + std::to_string(minted_.load(std::memory_order_relaxed)) + "\n";
    out += "# HELP latchkey_hash_pool_queue_depth Requests queued for or running on the password-hash pool.\n";
    out += "# TYPE latchkey_hash_pool_queue_depth gauge\n";
    out += "latchkey_hash_pool_queue_depth " + std::to_string(hash_depth_.load(std::memory_order_relaxed)) + "\n";
    std::lock_guard lk(gauges_mu_);
    for (auto const& g : gauges_) {
        out += "# HELP " + g.name + " " + g.help + "\n# TYPE " + g.name + " gauge\n" + g.name + " ";
        append_number(out, g.f());
        out += '\n';
    }
    return out;
}

}  // namespace latchkey::server
