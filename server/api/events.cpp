#include "server/api/events.hpp"

#include "crypto/random.hpp"
#include "server/api/views.hpp"
#include "server/delivery/message.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace latchkey::server::api::events {

namespace json = boost::json;

namespace {

/// Queues one job of `kind` in w and nudges the worker (its claim waits for this txn's commit).
store::result<void> enqueue(app& a, store::write_txn& w, std::string_view kind, json::object const& payload,
                            std::int64_t now) {
    store::job_record j;
    j.id = crypto::new_id("job");
    j.kind = std::string(kind);
    j.payload = json::serialize(payload);
    j.created_at = now;
    j.next_attempt_at = now;
    if (auto r = a.jobs->enqueue(w, j); !r) return r;
    if (a.wake_delivery) w.after_commit(a.wake_delivery);  // once the job is there to claim
    return {};
}

using template_vars = std::vector<std::pair<std::string_view, std::string>>;

/// The subject of `tmpl` as one header line, whatever the variables (an application name, an address) hold.
std::string render_subject(conf::message_template const& tmpl, template_vars const& vars) {
    std::string subject = delivery::render(tmpl.subject, vars);
    std::replace_if(
        subject.begin(), subject.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
    return subject;
}

/// The payload of an email job for `m`.
json::object email_job(message const& m, std::string subject, std::string text) {
    return {{"to", m.to},
            {"kind", m.kind},
            {"subject", std::move(subject)},
            {"text", std::move(text)},
            {"message_id", crypto::new_id("msg")}};
}

/// The development outbox: `m` is appended once `w` has committed, never from inside the txn nor for a change
/// that aborts.
void to_outbox_after_commit(app& a, store::write_txn& w, message const& m) {
    w.after_commit([&sink = a.sink, m] { sink.send(m); });
}

bool wants(conf::webhook_endpoint const& ep, std::string_view type) {
    if (ep.events.empty()) return true;
    return std::any_of(ep.events.begin(), ep.events.end(), [&](std::string const& e) { return e == type; });
}

std::string user_agent(request_ctx const& ctx) {
    if (auto it = ctx.req.find(boost::beast::http::field::user_agent); it != ctx.req.end())
        return std::string(it->value().substr(0, 512));
    return {};
}

}  // namespace

store::result<void> emit(app& a, store::write_txn& w, std::string_view type, json::object data,
                         request_ctx const* ctx) {
    if (a.jobs == nullptr || a.cfg.webhooks.empty()) return {};
    if (std::none_of(a.cfg.webhooks.begin(), a.cfg.webhooks.end(),
                     [&](conf::webhook_endpoint const& ep) { return wants(ep, type); }))
        return {};
    auto const now = ctx != nullptr ? ctx->now : a.now_ms();
    json::object ev;
    ev["data"] = std::move(data);
    json::object http_request;
    http_request["client_ip"] = ctx != nullptr ? ctx->remote_ip : std::string();
    http_request["user_agent"] = ctx != nullptr ? user_agent(*ctx) : std::string();
    ev["event_attributes"] = json::object{{"http_request", std::move(http_request)}};
    ev["instance_id"] = a.inst.id;
    ev["object"] = "event";
    ev["timestamp"] = now;
    ev["type"] = type;
    auto const body = json::serialize(ev);
    for (auto const& ep : a.cfg.webhooks) {
        if (!wants(ep, type)) continue;
        // One svix-id per endpoint delivery, kept across its retries (receivers deduplicate on it).
        json::object p{{"url", ep.url}, {"msg_id", crypto::new_id("msg")}, {"body", body}, {"type", type}};
        if (auto r = enqueue(a, w, "webhook", p, now); !r) return r;
    }
    return {};
}

store::result<void> user_changed(app& a, store::write_txn& w, std::string_view type, store::user_record const& u,
                                 request_ctx const* ctx) {
    if (a.jobs == nullptr || a.cfg.webhooks.empty()) return {};
    auto const now = ctx != nullptr ? ctx->now : a.now_ms();
    return emit(a, w, type,
                views::user(u, views::audience::backend, views::lockout_of(u, now, a.cfg.protection.max_attempts)),
                ctx);
}

store::result<void> user_deleted(app& a, store::write_txn& w, store::user_record const& u, request_ctx const* ctx) {
    if (a.jobs == nullptr || a.cfg.webhooks.empty()) return {};
    json::object d{{"object", "user"}, {"id", u.id}, {"deleted", true}};
    if (!u.external_id.empty()) d["external_id"] = u.external_id;
    return emit(a, w, "user.deleted", std::move(d), ctx);
}

store::result<void> session_changed(app& a, store::write_txn& w, std::string_view type, store::session_record const& s,
                                    request_ctx const* ctx) {
    if (a.jobs == nullptr || a.cfg.webhooks.empty()) return {};
    auto d = views::backend_session(s);
    auto u = w.users().get(s.user_id);
    if (!u) return u.error();
    auto const now = ctx != nullptr ? ctx->now : a.now_ms();
    if (*u)
        d["user"] =
            views::user(**u, views::audience::backend, views::lockout_of(**u, now, a.cfg.protection.max_attempts));
    else
        d["user"] = nullptr;
    return emit(a, w, type, std::move(d), ctx);
}

store::result<void> session_ended(app& a, store::write_txn& w, store::session_record const& s, request_ctx const* ctx) {
    if (s.status != "ended" && s.status != "removed" && s.status != "revoked") return {};
    return session_changed(a, w, "session." + s.status, s, ctx);
}

store::result<void> send_code(app& a, store::write_txn& w, request_ctx const& ctx, message const& m,
                              std::string_view user_id, std::string_view identification_id) {
    auto const& d = a.cfg.delivery;
    bool const email = m.channel == "email";
    bool const queued = a.jobs != nullptr && (email ? d.email.mode == "smtp" : d.sms.mode == "twilio");
    auto const ttl_minutes = std::to_string(std::max<std::int64_t>(1, a.cfg.protection.code_ttl.count() / 60));
    bool const link = m.kind == "email_link";  // issue 14: `code` is the link
    template_vars const vars{{"code", m.code},
                             {"url", link ? m.code : std::string{}},
                             {"app_name", a.cfg.application_name},
                             {"to", m.to},
                             {"ttl_minutes", ttl_minutes}};
    bool const reset = m.kind.starts_with("reset_password");
    auto const& tmpl = email ? (link ? d.email_link : reset ? d.password_reset : d.verification_code) : d.sms_code;
    std::string const subject = render_subject(tmpl, vars);
    auto const text = delivery::render(tmpl.text, vars);
    std::string_view const slug = link ? "magic_link_sign_in" : reset ? "reset_password_code" : "verification_code";
    if (queued) {
        json::object const p =
            email ? email_job(m, subject, text) : json::object{{"to", m.to}, {"kind", m.kind}, {"body", text}};
        if (auto r = enqueue(a, w, email ? "email" : "sms", p, ctx.now); !r) return r;
    } else {
        to_outbox_after_commit(a, w, m);  // once the digest the code matches has landed
    }
    if (a.jobs == nullptr || a.cfg.webhooks.empty()) return {};
    json::object data;
    if (email) {
        data = {{"object", "email"},
                {"id", crypto::new_id("ema")},
                {"slug", slug},
                {"from_email_name", "notifications"},
                {"to_email_address", m.to},
                {"email_address_id", identification_id.empty() ? json::value(nullptr) : json::value(identification_id)},
                {"user_id", user_id.empty() ? json::value(nullptr) : json::value(user_id)},
                {"subject", subject},
                {"body", text},
                {"body_plain", text},
                {"status", queued ? "queued" : "delivered"},
                {"data", json::object{{"otp_code", m.code}, {"app", json::object{{"name", a.cfg.application_name}}}}},
                {"delivered_by_clerk", true}};
        return emit(a, w, "email.created", std::move(data), &ctx);
    }
    data = {{"object", "sms_message"},
            {"id", crypto::new_id("sms")},
            {"slug", slug},
            {"from_phone_number", d.sms.from},
            {"to_phone_number", m.to},
            {"phone_number_id", identification_id.empty() ? json::value(nullptr) : json::value(identification_id)},
            {"user_id", user_id.empty() ? json::value(nullptr) : json::value(user_id)},
            {"message", text},
            {"status", queued ? "queued" : "delivered"},
            {"data", json::object{{"otp_code", m.code}, {"app", json::object{{"name", a.cfg.application_name}}}}},
            {"delivered_by_clerk", true}};
    return emit(a, w, "sms.created", std::move(data), &ctx);
}

store::result<void> send_invitation(app& a, store::write_txn& w, message const& m, std::int64_t now) {
    auto const& d = a.cfg.delivery;
    if (a.jobs == nullptr || d.email.mode != "smtp") {
        to_outbox_after_commit(a, w, m);
        return {};
    }
    template_vars const vars{{"url", m.code}, {"app_name", a.cfg.application_name}, {"to", m.to}};
    return enqueue(a, w, "email",
                   email_job(m, render_subject(d.invitation, vars), delivery::render(d.invitation.text, vars)), now);
}

}  // namespace latchkey::server::api::events
