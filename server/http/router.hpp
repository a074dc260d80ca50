#pragma once
// A path-template router ("/v1/users/{user_id}"): literal segments beat captures, 404 vs 405 (with the
// allowed verbs). Built once before the server runs, then immutable and shared across threads without locks.
#include "server/http/types.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server {

/// Path captures of one match, by template name. Values are percent-decoded.
class path_params {
public:
    static constexpr std::size_t max = 4;
    /// The value captured for `name`, or "" when the template has no such capture.
    std::string_view get(std::string_view name) const noexcept {
        for (std::size_t i = 0; i < n_; ++i)
            if (names_[i] == name) return values_[i];
        return {};
    }
    void push(std::string_view name, std::string value) {
        if (n_ < max) {
            names_[n_] = name;
            values_[n_++] = std::move(value);
        }
    }
    void clear() noexcept { n_ = 0; }

private:
    std::array<std::string_view, max> names_{};
    std::array<std::string, max> values_{};
    std::size_t n_ = 0;
};

/// Percent-decodes `in` into `out`; false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space = false);

template <class Payload>
class router {
public:
    enum class outcome { found, not_found, method_not_allowed };
    struct match {
        outcome result = outcome::not_found;
        Payload const* payload = nullptr;
        std::size_t index = 0;  ///< for found: the route's registration index (see pattern())
        std::string allow;      ///< for method_not_allowed: "GET, POST"
    };

    /// Registers `pattern` for `method`. Throws std::invalid_argument on a malformed pattern or duplicate.
    void add(http::verb method, std::string_view pattern, Payload payload) {
        route r;
        r.method = method;
        r.pattern = std::string(pattern);
        r.payload = std::move(payload);
        if (pattern.empty() || pattern.front() != '/') throw std::invalid_argument("route must start with /");
        std::string_view rest = pattern.substr(1);
        for (;;) {
            auto slash = rest.find('/');
            std::string_view seg = rest.substr(0, slash);
            segment s;
            if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
                s.capture = true;
                s.text = std::string(seg.substr(1, seg.size() - 2));
                ++r.captures;
            } else {
                if (seg.find_first_of("{}") != std::string_view::npos)
                    throw std::invalid_argument("malformed route segment: " + std::string(pattern));
                s.text = std::string(seg);
            }
            r.segments.push_back(std::move(s));
            if (slash == std::string_view::npos) break;
            rest.remove_prefix(slash + 1);
        }
        if (r.captures > path_params::max) throw std::invalid_argument("too many captures: " + std::string(pattern));
        for (auto const& o : routes_)
            if (o.method == method && same_shape(o, r))
                throw std::invalid_argument("duplicate route: " + std::string(pattern));
        routes_.push_back(std::move(r));
    }

    /// Matches `path` (no query). Captures go to `params`.
    match find(http::verb method, std::string_view path, path_params& params) const {
        match m;
        if (path.empty() || path.front() != '/') return m;
        std::array<std::string_view, 12> segs{};
        std::size_t n = 0;
        std::string_view rest = path.substr(1);
        for (;;) {
            if (n == segs.size()) return m;
            auto slash = rest.find('/');
            segs[n++] = rest.substr(0, slash);
            if (slash == std::string_view::npos) break;
            rest.remove_prefix(slash + 1);
        }
        route const* best = nullptr;
        std::vector<http::verb> allowed;
        for (auto const& r : routes_) {
            if (r.segments.size() != n || !segments_match(r, segs)) continue;
            if (r.method == method) {
                if (best == nullptr || r.captures < best->captures) best = &r;
            } else {
                allowed.push_back(r.method);
            }
        }
        if (best != nullptr) {
            params.clear();
            std::string decoded;
            for (std::size_t i = 0; i < n; ++i) {
                auto const& s = best->segments[i];
                if (!s.capture) continue;
                decoded.clear();
                if (!percent_decode(segs[i], decoded)) return m;  // malformed escape: not found
                params.push(s.text, decoded);
            }
            m.result = outcome::found;
            m.payload = &best->payload;
            m.index = static_cast<std::size_t>(best - routes_.data());
            return m;
        }
        if (!allowed.empty()) {
            m.result = outcome::method_not_allowed;
            for (auto v : allowed) {
                auto name = http::to_string(v);
                if (m.allow.find(name) != std::string::npos) continue;
                if (!m.allow.empty()) m.allow += ", ";
                m.allow.append(name.data(), name.size());
            }
        }
        return m;
    }

    std::size_t size() const noexcept { return routes_.size(); }
    /// The pattern and method route `i` (0 <= i < size(), registration order) was added with.
    std::string_view pattern(std::size_t i) const noexcept { return routes_[i].pattern; }
    http::verb method(std::size_t i) const noexcept { return routes_[i].method; }

private:
    struct segment {
        std::string text;
        bool capture = false;
    };
    struct route {
        http::verb method{};
        std::string pattern;
        std::vector<segment> segments;
        std::size_t captures = 0;
        Payload payload{};
    };

    static bool same_shape(route const& a, route const& b) {
        if (a.segments.size() != b.segments.size()) return false;
        for (std::size_t i = 0; i < a.segments.size(); ++i) {
            auto const& x = a.segments[i];
            auto const& y = b.segments[i];
            if (x.capture != y.capture || (!x.capture && x.text != y.text)) return false;
        }
        return true;
    }

    template <class Segs>
    static bool segments_match(route const& r, Segs const& segs) {
        for (std::size_t i = 0; i < r.segments.size(); ++i) {
            auto const& s = r.segments[i];
            if (s.capture) {
                if (segs[i].empty()) return false;
            } else if (s.text != segs[i]) {
                return false;
            }
        }
        return true;
    }

    std::vector<route> routes_;
};

}  // namespace latchkey::server
