#include "server/api/domain/sessions.hpp"

#include "server/api/events.hpp"
#include "server/api/views.hpp"

namespace latchkey::server::api::domain {

void drop_tokens_after_commit(app& a, store::write_txn& w, std::vector<std::string> session_ids) {
    if (session_ids.empty()) return;
    w.after_commit([&tokens = a.tokens, ids = std::move(session_ids)] {
        for (auto const& id : ids) tokens.erase(id);
    });
}

store::result<std::vector<std::string>> end_sessions(app& a, store::write_txn& w,
                                                     std::vector<store::session_record>& sessions, std::int64_t now,
                                                     std::string_view status, std::string_view keep) {
    std::vector<std::string> ended;
    std::vector<std::string> touched;
    for (auto& s : sessions) {
        if (!keep.empty() && s.id == keep) continue;
        touched.push_back(s.id);
        if (!views::session_live(s, now)) continue;
        s.status = std::string(status);
        s.updated_at = now;
        if (auto r = w.sessions().put(s); !r) return r.error();
        if (auto e = events::session_ended(a, w, s); !e) return e.error();
        ended.push_back(s.id);
    }
    drop_tokens_after_commit(a, w, std::move(touched));
    return ended;
}

store::result<std::vector<std::string>> end_user_sessions(app& a, store::write_txn& w, std::string_view user_id,
                                                          std::int64_t now, std::string_view status,
                                                          std::string_view keep) {
    auto sessions = w.sessions().of_user(user_id);
    if (!sessions) return sessions.error();
    return end_sessions(a, w, *sessions, now, status, keep);
}

store::result<std::vector<std::string>> end_client_sessions(app& a, store::write_txn& w,
                                                            store::client_record const& client, std::int64_t now,
                                                            std::string_view status) {
    std::vector<store::session_record> sessions;
    std::vector<std::string> missing;
    sessions.reserve(client.session_ids.size());
    for (auto const& id : client.session_ids) {
        auto s = w.sessions().get(id);
        if (!s) return s.error();
        if (*s)
            sessions.push_back(std::move(**s));
        else
            missing.push_back(id);
    }
    drop_tokens_after_commit(a, w, std::move(missing));
    return end_sessions(a, w, sessions, now, status);
}

}  // namespace latchkey::server::api::domain
