#include "server/delivery/worker.hpp"

#include "crypto/random.hpp"
#include "server/delivery/message.hpp"
#include "server/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>

namespace latchkey::server::delivery {

namespace json = boost::json;

namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct easy_deleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using easy_handle = std::unique_ptr<CURL, easy_deleter>;

struct slist_deleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using slist = std::unique_ptr<curl_slist, slist_deleter>;

slist append(slist l, char const* s) {
    auto* raw = curl_slist_append(l.get(), s);
    if (raw == nullptr) return l;
    (void)l.release();
    return slist(raw);
}

/// The upload source for an SMTP message.
struct upload {
    std::string_view data;
};

std::size_t read_upload(char* buf, std::size_t size, std::size_t n, void* user) {
    auto* u = static_cast<upload*>(user);
    std::size_t const take = std::min(size * n, u->data.size());
    std::memcpy(buf, u->data.data(), take);
    u->data.remove_prefix(take);
    return take;
}

/// Response bodies are read and dropped (at most 64 KiB counted; more is not an error).
std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

/// Cuts a transfer when the worker stops.
int progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<std::atomic<bool> const*>(user)->load(std::memory_order_relaxed) ? 1 : 0;
}

void common_options(CURL* h, std::atomic<bool> const* stop, std::chrono::milliseconds connect_timeout,
                    std::chrono::milliseconds timeout, std::string const& ca_file, char* errbuf) {
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,smtp,smtps");
    if (!ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, ca_file.c_str());
    if (stop != nullptr) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(stop));
    }
}

outcome curl_outcome(CURLcode rc, char const* errbuf, char const* what) {
    if (rc == CURLE_OK) return {true, {}};
    std::string e = what;
    e += ": ";
    e += (errbuf != nullptr && errbuf[0] != '\0') ? errbuf : curl_easy_strerror(rc);
    return {false, std::move(e)};
}

std::string str(json::object const& o, std::string_view key) {
    auto const* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

outcome send_email(CURL* h, std::atomic<bool> const* stop, conf::email_delivery const& e, json::object const& p) {
    mail m;
    m.from = e.from;
    m.to = str(p, "to");
    m.subject = str(p, "subject");
    m.text = str(p, "text");
    m.message_id = str(p, "message_id");
    m.date_s = wall_ms() / 1000;
    std::string why;
    auto mime = build_mime(m, why);
    if (!mime) return {false, "refused: " + why};
    char errbuf[CURL_ERROR_SIZE] = {};
    common_options(h, stop, e.connect_timeout, e.timeout, e.ca_file, errbuf);
    std::string const url =
        std::string(e.tls == "implicit" ? "smtps://" : "smtp://") + e.host + ":" + std::to_string(e.port);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    // One SMTP session per message: a cached session may have been cut by the server (idle timeout) meanwhile.
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    if (e.tls == "starttls") curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!e.user.empty()) {
        curl_easy_setopt(h, CURLOPT_USERNAME, e.user.c_str());
        curl_easy_setopt(h, CURLOPT_PASSWORD, e.password.c_str());
    }
    std::string const from = "<" + address_of(e.from) + ">";
    std::string const to = "<" + m.to + ">";
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
    slist rcpt = append(nullptr, to.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
    upload u{*mime};
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &read_upload);
    curl_easy_setopt(h, CURLOPT_READDATA, &u);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    auto const rc = curl_easy_perform(h);
    return curl_outcome(rc, errbuf, "smtp");
}

/// POSTs `body`; success is a 2xx answer.
outcome post(CURL* h, std::atomic<bool> const* stop, std::string const& url, std::string const& body,
             std::vector<std::string> const& headers, std::string const& basic_user, std::string const& basic_pass,
             std::string const& ca_file, std::chrono::milliseconds timeout) {
    char errbuf[CURL_ERROR_SIZE] = {};
    common_options(h, stop, std::min(timeout, std::chrono::milliseconds(10'000)), timeout, ca_file, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    slist hs;
    for (auto const& x : headers) hs = append(std::move(hs), x.c_str());
    hs = append(std::move(hs), "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs.get());
    if (!basic_user.empty()) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, basic_user.c_str());
        curl_easy_setopt(h, CURLOPT_PASSWORD, basic_pass.c_str());
    }
    auto const rc = curl_easy_perform(h);
    if (rc != CURLE_OK) return curl_outcome(rc, errbuf, "http");
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300) return {false, "http: status " + std::to_string(status), status};
    return {true, {}, status};
}

/// application/x-www-form-urlencoded value.
std::string form_escape(CURL* h, std::string const& v) {
    char* e = curl_easy_escape(h, v.c_str(), static_cast<int>(v.size()));
    if (e == nullptr) return {};
    std::string out(e);
    curl_free(e);
    return out;
}

outcome send_sms(CURL* h, std::atomic<bool> const* stop, conf::sms_delivery const& s, json::object const& p) {
    std::string base = s.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string const url = base + "/2010-04-01/Accounts/" + s.account_sid + "/Messages.json";
    std::string const body = "To=" + form_escape(h, str(p, "to")) + "&From=" + form_escape(h, s.from) +
                             "&Body=" + form_escape(h, str(p, "body"));
    return post(h, stop, url, body, {"Content-Type: application/x-www-form-urlencoded"}, s.account_sid, s.auth_token,
                s.ca_file, s.timeout);
}

outcome send_webhook(CURL* h, std::atomic<bool> const* stop, conf::config const& cfg, json::object const& p) {
    auto const url = str(p, "url");
    conf::webhook_endpoint const* ep = nullptr;
    for (auto const& w : cfg.webhooks)
        if (w.url == url) ep = &w;
    if (ep == nullptr) return {false, "endpoint no longer configured"};
    auto const msg_id = str(p, "msg_id");
    auto const body = str(p, "body");
    auto const ts = wall_ms() / 1000;
    std::vector<std::string> headers{
        "Content-Type: application/json", "svix-id: " + msg_id, "svix-timestamp: " + std::to_string(ts),
        "svix-signature: " + svix_signature(ep->secrets, msg_id, ts, body), "User-Agent: latchkey-webhooks"};
    return post(h, stop, url, body, headers, {}, {}, ep->ca_file, std::chrono::milliseconds(15'000));
}

outcome deliver_with(CURL* h, std::atomic<bool> const* stop, conf::config const& cfg, store::job_record const& job) {
    boost::system::error_code ec;
    auto v = json::parse(job.payload, ec);
    if (ec || !v.is_object()) return {false, "corrupt payload"};
    auto const& p = v.get_object();
    if (job.kind == "email") return send_email(h, stop, cfg.delivery.email, p);
    if (job.kind == "sms") return send_sms(h, stop, cfg.delivery.sms, p);
    if (job.kind == "webhook") return send_webhook(h, stop, cfg, p);
    return {false, "unknown job kind"};
}

/// Records a delivered webhook job in the recent history: the queue's entry for it with the receiver's answer and the
/// time it left the queue. (Only successes: a job out of attempts stays in the queue as dead, listed from there, and
/// can still be retried.)
void remember(history* recent, store::job_record const& job, outcome const& o) {
    if (recent == nullptr || job.kind != "webhook") return;
    auto e = webhook_entry(job, "delivered");
    e.response_code = static_cast<std::int32_t>(o.http_status);
    e.last_error = o.error;
    e.delivered_at = wall_ms();
    recent->record(std::move(e));
}

double unit_random() {
    std::array<unsigned char, 4> b{};
    crypto::random_bytes(b);
    std::uint32_t x = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
    return static_cast<double>(x) / 4294967296.0;
}

}  // namespace

std::int64_t lease_ms(conf::config const& cfg) noexcept {
    auto const email = cfg.delivery.email.connect_timeout.count() + cfg.delivery.email.timeout.count();
    auto const sms = cfg.delivery.sms.timeout.count() + 10'000;
    return std::max<std::int64_t>({email, sms, 25'000}) + 30'000;
}

worker::worker(conf::config const& cfg, store::job_queue& queue, history* recent)
    : cfg_(cfg), queue_(queue), recent_(recent) {
    static std::once_flag curl_init;
    std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (auto r = queue_.resume(wall_ms()); r && *r > 0) log::info("delivery_resumed", {{"jobs", std::to_string(*r)}});
    for (std::uint32_t i = 0; i < std::max<std::uint32_t>(1, cfg_.delivery.workers); ++i)
        threads_.emplace_back([this] { run(); });
}

worker::~worker() { stop(); }

void worker::wake() noexcept {
    {
        std::lock_guard lk(mu_);
        ++generation_;
    }
    cv_.notify_all();
}

void worker::stop() noexcept {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
        ++generation_;
    }
    cv_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

stats worker::current() const {
    stats s;
    if (auto c = queue_.counts()) {
        s.pending = c->pending;
        s.dead = c->dead;
    }
    s.delivered = delivered();
    s.failed = failed();
    return s;
}

outcome worker::deliver(store::job_record const& job) const {
    easy_handle h(curl_easy_init());
    if (!h) return {false, "curl_easy_init failed"};
    return deliver_with(h.get(), nullptr, cfg_, job);
}

void worker::run() {
    easy_handle h(curl_easy_init());
    store::retry_policy policy;
    policy.max_attempts = static_cast<std::int32_t>(cfg_.delivery.max_attempts);
    policy.base_ms = cfg_.delivery.backoff_base.count();
    policy.max_ms = cfg_.delivery.backoff_max.count();
    auto const lease = lease_ms(cfg_);
    while (!stop_.load()) {
        std::uint64_t seen = 0;
        {
            std::lock_guard lk(mu_);
            seen = generation_;
        }
        auto jobs = queue_.claim(wall_ms(), lease, 16);
        if (!jobs) {
            log::error("delivery_claim_failed", {{"error", jobs.error().message()}});
            std::unique_lock lk(mu_);
            cv_.wait_for(lk, std::chrono::seconds(1), [&] { return stop_.load(); });
            continue;
        }
        if (jobs->empty()) {
            auto next = queue_.next_due();
            std::unique_lock lk(mu_);
            auto const woken = [&] { return stop_.load() || generation_ != seen; };
            if (next && *next) {
                auto const wait = std::max<std::int64_t>(1, **next - wall_ms());
                cv_.wait_for(lk, std::chrono::milliseconds(wait), woken);
            } else {
                cv_.wait(lk, woken);
            }
            continue;
        }
        // Successes are removed together after the batch: one commit instead of one per job (a crash before it
        // sends them again, which at-least-once allows).
        std::vector<std::string> done;
        for (auto const& job : *jobs) {
            if (stop_.load()) break;  // the rest stay leased: resumed on the next start
            if (h) curl_easy_reset(h.get());
            auto o = h ? deliver_with(h.get(), &stop_, cfg_, job) : outcome{false, "curl_easy_init failed"};
            if (stop_.load() && !o.ok) break;
            if (o.ok) {
                delivered_.fetch_add(1, std::memory_order_relaxed);
                done.push_back(job.id);
                remember(recent_, job, o);
                log::info("delivered",
                          {{"job", job.id}, {"kind", job.kind}, {"attempt", std::to_string(job.attempts)}});
                continue;
            }
            failed_.fetch_add(1, std::memory_order_relaxed);
            bool const dead = job.attempts >= policy.max_attempts;
            auto const next = wall_ms() + store::backoff_ms(policy, job.attempts, unit_random());
            if (auto r = queue_.fail(job.id, next, dead, o.error); !r)
                log::error("delivery_fail_failed", {{"job", job.id}, {"error", r.error().message()}});
            log::warn(
                dead ? "delivery_dead" : "delivery_retry",
                {{"job", job.id}, {"kind", job.kind}, {"attempt", std::to_string(job.attempts)}, {"error", o.error}});
        }
        if (!done.empty())
            if (auto r = queue_.complete(done); !r)
                log::error("delivery_complete_failed", {{"jobs", done.size()}, {"error", r.error().message()}});
        if (recent_ != nullptr) recent_->save();
    }
}

}  // namespace latchkey::server::delivery
