#include "server/migrate/bapi_source.hpp"

#include <boost/json/parse.hpp>

#include <chrono>
#include <memory>
#include <ostream>
#include <thread>

#include <curl/curl.h>

namespace latchkey::server::migrate {

namespace json = boost::json;

namespace {

struct curl_deleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct slist_deleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

constexpr std::size_t max_body = std::size_t{64} << 20;

struct response {
    long status = 0;
    std::string body;
    long retry_after = -1;  ///< seconds, -1 = none
    std::string transport_error;
};

std::size_t on_body(char* p, std::size_t size, std::size_t n, void* ud) {
    auto* r = static_cast<response*>(ud);
    if (r->body.size() + size * n > max_body) return 0;
    r->body.append(p, size * n);
    return size * n;
}

std::size_t on_header(char* p, std::size_t size, std::size_t n, void* ud) {
    auto* r = static_cast<response*>(ud);
    std::string_view h(p, size * n);
    constexpr std::string_view name = "retry-after:";
    if (h.size() > name.size()) {
        bool match = true;
        for (std::size_t i = 0; i < name.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(h[i])) != name[i]) match = false;
        if (match) {
            h.remove_prefix(name.size());
            long v = 0;
            bool digits = false;
            for (char c : h) {
                if (c >= '0' && c <= '9') {
                    v = v * 10 + (c - '0');
                    digits = true;
                    if (v > 3600) break;
                } else if (c != ' ' && c != '\r' && c != '\n') {
                    digits = false;
                    break;
                }
            }
            if (digits) r->retry_after = v;
        }
    }
    return size * n;
}

response get(std::string const& url, std::string const& auth) {
    response r;
    std::unique_ptr<CURL, curl_deleter> h(curl_easy_init());
    if (!h) {
        r.transport_error = "curl_easy_init failed";
        return r;
    }
    std::unique_ptr<curl_slist, slist_deleter> headers(curl_slist_append(nullptr, auth.c_str()));
    curl_slist_append(headers.get(), "Accept: application/json");
    curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h.get(), CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h.get(), CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h.get(), CURLOPT_USERAGENT, "latchkey-import");
    auto const rc = curl_easy_perform(h.get());
    if (rc != CURLE_OK) {
        r.transport_error = curl_easy_strerror(rc);
        return r;
    }
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &r.status);
    return r;
}

}  // namespace

std::string fetch_list(std::string const& base_in, std::string_view path, std::string const& secret_key,
                       std::function<void(json::value, std::size_t)> const& each, std::ostream& err) {
    std::string base = base_in;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (base.ends_with("/v1")) base.resize(base.size() - 3);
    std::string const auth = "Authorization: Bearer " + secret_key;
    constexpr std::size_t limit = 100;
    std::size_t offset = 0;
    std::size_t total = 0;
    int throttled = 0;
    int failures = 0;
    while (true) {
        std::string const url = base + std::string(path) + (path.find('?') == std::string_view::npos ? "?" : "&") +
                                "limit=" + std::to_string(limit) + "&offset=" + std::to_string(offset);
        auto r = get(url, auth);
        std::string problem;
        if (!r.transport_error.empty()) {
            problem = r.transport_error;
        } else if (r.status == 429) {
            if (++throttled > 20) return "still rate-limited (429) after 20 waits";
            long const wait = r.retry_after >= 0 ? std::min(r.retry_after, 60L) : 1L;
            err << "source rate-limited the import (429): waiting " << wait << " s\n";
            std::this_thread::sleep_for(std::chrono::seconds(wait));
            continue;
        } else if (r.status == 401 || r.status == 403) {
            return "the secret key was refused (" + std::to_string(r.status) + ")";
        } else if (r.status == 404) {
            return std::string(not_found);
        } else if (r.status != 200) {
            problem = "answered " + std::to_string(r.status);
        }
        json::value page;
        if (problem.empty()) {
            boost::system::error_code ec;
            auto v = json::parse(r.body, ec);
            if (ec) {
                problem = "answered something that is not JSON";
            } else if (v.is_array()) {
                page = std::move(v);
            } else if (v.is_object() && v.get_object().contains("data") && v.get_object().at("data").is_array()) {
                if (auto const* tc = v.get_object().if_contains("total_count");
                    tc && tc->is_int64() && tc->get_int64() >= 0)
                    total = static_cast<std::size_t>(tc->get_int64());
                page = std::move(v.get_object()["data"]);
            } else {
                problem = "answered JSON that is not a list";
            }
        }
        if (!problem.empty()) {
            if (++failures > 3) return problem + " (offset " + std::to_string(offset) + ", after 3 retries)";
            err << "source " << problem << " at offset " << offset << ": retrying\n";
            std::this_thread::sleep_for(std::chrono::milliseconds(200 * (1 << failures)));
            continue;
        }
        throttled = 0;
        failures = 0;
        auto& users = page.get_array();
        std::size_t const n = users.size();
        for (auto& u : users) each(std::move(u), total);
        if (n < limit) return {};
        offset += n;
    }
}

std::string fetch_users(std::string const& base, std::string const& secret_key,
                        std::function<void(json::value, std::size_t)> const& each, std::ostream& err) {
    return fetch_list(base, "/v1/users?order_by=%2Bcreated_at", secret_key, each, err);
}

}  // namespace latchkey::server::migrate
