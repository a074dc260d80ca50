#include "server/api/frontend/flow.hpp"

#include "server/api/views.hpp"

namespace latchkey::server::api::frontend::flow {

std::optional<api_error> rate_limit(app& a, request_ctx const& ctx, std::string_view action,
                                    std::string_view identifier) {
    std::int64_t retry = 0;
    std::string key = "ip:";
    key += ctx.remote_ip;
    key += ':';
    key += action;
    if (!a.limiter.hit(key, a.cfg.protection.rate_per_ip_per_minute, std::chrono::seconds(60), ctx.now, retry)) {
        auto e = make_error(code::too_many_requests);
        e.meta["retry_after"] = retry;
        return e;
    }
    if (!identifier.empty()) {
        std::string ik = "id:";
        ik += identifier;
        if (!a.limiter.hit(ik, a.cfg.protection.rate_per_identifier_per_minute, std::chrono::seconds(60), ctx.now,
                           retry)) {
            auto e = make_error(code::too_many_requests);
            e.meta["retry_after"] = retry;
            return e;
        }
    }
    return std::nullopt;
}

bool client_has_live_session(app& a, store::txn const& t, store::client_record const& c, std::int64_t now) {
    for (auto const& id : c.session_ids) {
        auto s = a.db.get_session(t, id);
        if (s && *s && views::session_live(**s, now)) return true;
    }
    return false;
}

std::string live_session_of_user(app& a, store::txn const& t, store::client_record const& c,
                                 std::string_view user_id, std::int64_t now) {
    for (auto const& id : c.session_ids) {
        auto s = a.db.get_session(t, id);
        if (s && *s && (*s)->user_id == user_id && views::session_live(**s, now)) return id;
    }
    return {};
}

std::optional<api_error> user_blocked(app const&, store::user_record const& u, std::int64_t now) {
    if (u.banned) return make_error(code::user_banned);
    if (u.locked || u.lockout_expires_at > now) {
        auto e = make_error(code::user_locked);
        std::int64_t left = u.lockout_expires_at > now ? (u.lockout_expires_at - now + 999) / 1000 : 0;
        e.meta["lockout_expires_in_seconds"] = u.locked && u.lockout_expires_at == 0 ? boost::json::value(nullptr)
                                                                                     : boost::json::value(left);
        return e;
    }
    return std::nullopt;
}

std::optional<api_error> check_username(std::string_view name) {
    if (name.size() < 4 || name.size() > 64) return param_error(code::form_username_invalid_length, "username");
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return param_error(code::form_username_invalid_character, "username");
    return std::nullopt;
}

}  // namespace latchkey::server::api::frontend::flow
