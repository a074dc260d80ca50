#include "server/delivery/history.hpp"

#include "server/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <sys/stat.h>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace latchkey::server::delivery {

namespace json = boost::json;

namespace {

std::string text(json::object const& o, std::string_view k) {
    auto const* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string{};
}

std::int64_t number(json::object const& o, std::string_view k) {
    auto const* v = o.if_contains(k);
    return v != nullptr && v->is_int64() ? v->get_int64() : 0;
}

}  // namespace

json::object entry_json(history_entry const& e, std::int64_t next_attempt_at) {
    auto or_null = [](std::int64_t v) { return v == 0 ? json::value(nullptr) : json::value(v); };
    return {{"object", "webhook_delivery"},
            {"id", e.id},
            {"url", e.url},
            {"event_type", e.event_type},
            {"msg_id", e.msg_id},
            {"status", e.status},
            {"attempts", e.attempts},
            {"response_code", or_null(e.response_code)},
            {"last_error", e.last_error},
            {"next_attempt_at", or_null(next_attempt_at)},
            {"created_at", e.created_at},
            {"delivered_at", or_null(e.delivered_at)}};
}

history_entry webhook_entry(store::job_record const& job, std::string status) {
    boost::system::error_code ec;
    auto const p = json::parse(job.payload, ec);
    json::object const none;
    auto const& o = !ec && p.is_object() ? p.get_object() : none;
    history_entry e;
    e.id = job.id;
    e.url = text(o, "url");
    e.event_type = text(o, "type");
    e.msg_id = text(o, "msg_id");
    e.status = std::move(status);
    e.attempts = job.attempts;
    e.last_error = job.last_error;
    e.created_at = job.created_at;
    return e;
}

history::history(std::string file, std::size_t per_endpoint) : file_(std::move(file)), per_endpoint_(per_endpoint) {
    if (file_.empty()) return;
    std::ifstream in(file_);
    std::string line;
    while (std::getline(in, line)) {
        boost::system::error_code ec;
        auto v = json::parse(line, ec);
        if (ec || !v.is_object()) continue;
        auto const& o = v.get_object();
        history_entry e{text(o, "id"),
                        text(o, "url"),
                        text(o, "event_type"),
                        text(o, "msg_id"),
                        text(o, "status"),
                        static_cast<std::int32_t>(number(o, "attempts")),
                        static_cast<std::int32_t>(number(o, "response_code")),
                        text(o, "last_error"),
                        number(o, "created_at"),
                        number(o, "delivered_at")};
        if (e.id.empty() || e.url.empty()) continue;
        auto& q = by_url_[e.url];
        q.push_back(std::move(e));
        if (q.size() > per_endpoint_) q.pop_front();
    }
}

void history::record(history_entry e) {
    std::lock_guard lock(mu_);
    auto& q = by_url_[e.url];
    q.push_back(std::move(e));
    if (q.size() > per_endpoint_) q.pop_front();
    dirty_ = true;
}

void history::save() {
    if (file_.empty()) return;
    std::string out;
    {
        std::lock_guard lock(mu_);
        if (!dirty_) return;
        dirty_ = false;
        for (auto const& [url, q] : by_url_)
            for (auto const& e : q) {
                out += json::serialize(entry_json(e));
                out += '\n';
            }
    }
    std::string const tmp = file_ + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << out;
        f.close();
        if (!f) {
            log::error("webhook_history_write_failed", {{"file", file_}});
            return;
        }
    }
    ::chmod(tmp.c_str(), 0600);
    std::error_code ec;
    std::filesystem::rename(tmp, file_, ec);
    if (ec) log::error("webhook_history_write_failed", {{"file", file_}, {"error", ec.message()}});
}

std::vector<history_entry> history::list(std::string_view url, std::string_view status, std::size_t limit) const {
    std::vector<history_entry> out;
    {
        std::lock_guard lock(mu_);
        for (auto const& [u, q] : by_url_) {
            if (!url.empty() && u != url) continue;
            for (auto const& e : q)
                if (status.empty() || e.status == status) out.push_back(e);
        }
    }
    std::sort(out.begin(), out.end(), [](history_entry const& a, history_entry const& b) {
        return a.delivered_at != b.delivered_at ? a.delivered_at > b.delivered_at : a.id > b.id;
    });
    if (out.size() > limit) out.resize(limit);
    return out;
}

}  // namespace latchkey::server::delivery
