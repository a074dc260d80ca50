#include "server/api/domain/waitlist.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "server/api/domain/client_credentials.hpp"
#include "server/api/events.hpp"
#include "server/api/txn.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace latchkey::server::api::domain {

namespace json = boost::json;

std::string ticket_url(app const& a, std::string_view ticket, std::string_view redirect_url) {
    std::string base(redirect_url);
    if (base.empty()) base = a.cfg.sign_up_url;
    if (base.empty()) {
        base = a.inst.frontend_api;
        while (!base.empty() && base.back() == '/') base.pop_back();
        base += "/sign-up";
    }
    base += base.find('?') == std::string::npos ? '?' : '&';
    base += "__clerk_ticket=";
    base += boost::urls::encode(ticket, boost::urls::unreserved_chars);
    base += "&__clerk_status=sign_up";
    return base;
}

json::object waitlist_entry_json(app const& a, store::waitlist_entry_record const& e) {
    json::object o;
    o["object"] = "waitlist_entry";
    o["id"] = e.id;
    o["email_address"] = e.email_address;
    o["status"] = e.status;
    o["is_locked"] = false;
    o["created_at"] = e.created_at;
    o["updated_at"] = e.updated_at;
    if (e.invitation_id.empty()) {
        o["invitation"] = nullptr;
    } else {
        json::object inv;
        inv["object"] = "invitation";
        inv["id"] = e.invitation_id;
        inv["email_address"] = e.email_address;
        inv["public_metadata"] = json::object{};
        inv["revoked"] = e.invitation_status == "revoked";
        inv["status"] = e.invitation_status;
        // The link holds the ticket, which only the invitation message carries: the entry keeps its digest.
        inv["url"] = nullptr;
        inv["expires_at"] = nullptr;
        inv["created_at"] = e.invited_at;
        inv["updated_at"] = e.updated_at;
        o["invitation"] = std::move(inv);
    }
    (void)a;
    return o;
}

api_result<store::waitlist_entry_record> join_waitlist(app& a, std::string const& email, std::int64_t now,
                                                       bool* created) {
    return txn::write<store::waitlist_entry_record>(
        a, "join_waitlist", txn::on_client_error::abort,
        [&](store::write_txn& w) -> store::result<api_result<store::waitlist_entry_record>> {
            auto existing = w.waitlist().by_email(email);
            if (!existing) return existing.error();
            if (created) *created = !*existing;
            if (*existing) return api_result<store::waitlist_entry_record>(std::move(**existing));
            store::waitlist_entry_record e;
            e.id = crypto::new_id("wle", static_cast<std::uint64_t>(now));
            e.email_address = email;
            e.status = "pending";
            e.created_at = e.updated_at = now;
            if (auto r = w.waitlist().put(e, true); !r) return r.error();
            if (auto ev = events::emit(a, w, "waitlistEntry.created", waitlist_entry_json(a, e)); !ev)
                return ev.error();
            return api_result<store::waitlist_entry_record>(std::move(e));
        });
}

api_result<store::waitlist_entry_record> invite_waitlist_entry(app& a, std::string_view id, bool ignore_existing,
                                                               std::int64_t now) {
    std::string ticket;
    auto r = txn::write<store::waitlist_entry_record>(
        a, "invite_waitlist_entry", txn::on_client_error::abort,
        [&](store::write_txn& w) -> store::result<api_result<store::waitlist_entry_record>> {
            using out = api_result<store::waitlist_entry_record>;
            auto e = w.waitlist().get(id);
            if (!e) return e.error();
            if (!*e) return out(make_error(code::resource_not_found));
            auto& entry = **e;
            if (entry.status == "completed") return out(make_error(code::waitlist_entry_conflict));
            if (entry.status == "invited" && !ignore_existing) return out(std::move(entry));
            if (!ignore_existing) {
                auto owner = w.users().id_by_email(entry.email_address);
                if (!owner) return owner.error();
                if (*owner)
                    return out(param_error(code::form_identifier_exists, "email_address",
                                           "That email address already belongs to a user."));
            }
            std::string const secret = crypto::random_token(32);
            ticket = entry.id + "." + secret;
            entry.status = "invited";
            entry.invitation_id = crypto::new_id("inv", static_cast<std::uint64_t>(now));
            entry.invitation_status = "pending";
            entry.ticket_digest = secret_digest_hex(secret);
            entry.invited_at = entry.updated_at = now;
            if (auto x = w.waitlist().put(entry, false); !x) return x.error();
            if (auto ev = events::emit(a, w, "waitlistEntry.updated", waitlist_entry_json(a, entry)); !ev)
                return ev.error();
            // The invitation goes out with the change: never for a write that did not land.
            message m;
            m.channel = "email";
            m.to = entry.email_address;
            m.kind = "waitlist_invitation";
            m.code = ticket_url(a, ticket);
            if (auto x = events::send_invitation(a, w, m, now); !x) return x.error();
            return out(std::move(entry));
        });
    return r;
}

api_result<store::waitlist_entry_record> entry_for_ticket(app& /*a*/, store::read_txn const& t,
                                                          std::string_view ticket) {
    auto p = split_ticket(ticket);
    if (!p) return invalid_ticket();
    auto e = t.waitlist().get(p->id);
    if (!e) return store_error(e.error(), "waitlist_ticket");
    if (!*e || (*e)->status != "invited" || (*e)->invitation_status != "pending" ||
        !crypto::equal_ct(p->digest, (*e)->ticket_digest))
        return invalid_ticket();
    return std::move(**e);
}

api_result<void> check_invited(app& a, std::string_view email) {
    auto e = a.db.with_read([&](store::read_txn& t) { return t.waitlist().by_email(email); });
    if (!e) return store_error(e.error(), "waitlist_by_email");
    if (!*e || (*e)->status != "invited") return make_error(code::sign_up_restricted_waitlist);
    return {};
}

api_result<void> admit_sign_up(app& a, store::write_txn& w, std::string_view email, std::int64_t now) {
    bool const gated = a.cfg.sign_up_mode == "waitlist";
    if (email.empty()) {
        if (gated) return make_error(code::sign_up_restricted_waitlist);
        return {};
    }
    auto e = w.waitlist().by_email(email);
    if (!e) return store_error(e.error(), "waitlist_by_email");
    if (!*e || (*e)->status != "invited") {
        if (gated) return make_error(code::sign_up_restricted_waitlist);
        return {};
    }
    auto& entry = **e;
    entry.status = "completed";
    entry.invitation_status = "accepted";
    entry.updated_at = now;
    if (auto r = w.waitlist().put(entry, false); !r) return store_error(r.error(), "waitlist_complete");
    if (auto ev = events::emit(a, w, "waitlistEntry.updated", waitlist_entry_json(a, entry)); !ev)
        return store_error(ev.error(), "webhook");
    return {};
}

}  // namespace latchkey::server::api::domain
