#include "server/api/domain/tickets.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "server/api/domain/waitlist.hpp"
#include "server/api/organizations/orgs.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace latchkey::server::api::domain {

namespace json = boost::json;

namespace {

std::string digest_hex(std::string_view secret) { return crypto::hex_encode(crypto::sha256(secret)); }

api_error invalid_ticket() { return param_error(code::form_param_value_invalid, "ticket", "The ticket is invalid."); }

/// The state error of a tickets-family record that cannot be redeemed now, or nothing.
std::optional<api_error> unusable(store::ticket_record const& r, std::int64_t now) {
    bool const sit = r.kind == "sign_in_token", act = r.kind == "actor_token";
    if (r.status == "revoked")
        return make_error(sit   ? code::sign_in_token_revoked
                          : act ? code::actor_token_revoked
                                : code::invitation_already_revoked);
    if (r.status != "pending")
        return make_error(sit   ? code::sign_in_token_already_used
                          : act ? code::actor_token_already_used
                                : code::invitation_already_accepted);
    if (r.expires_at > 0 && r.expires_at <= now) return make_error(code::ticket_expired);
    return std::nullopt;
}

std::string strip_slash(std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
}

std::string with_ticket(std::string base, std::string_view ticket, std::string_view status) {
    base += base.find('?') == std::string::npos ? '?' : '&';
    base += "__clerk_ticket=";
    base += boost::urls::encode(ticket, boost::urls::unreserved_chars);
    base += "&__clerk_status=";
    base += status;
    return base;
}

}  // namespace

std::optional<ticket_kind> ticket_kind_of(std::string_view ticket) {
    auto const dot = ticket.find('.');
    if (dot == std::string_view::npos || dot == 0 || ticket.size() > 256) return std::nullopt;
    auto const id = ticket.substr(0, dot);
    if (id.starts_with("orginv_")) return ticket_kind::organization_invitation;
    if (id.starts_with("inv_")) return ticket_kind::invitation;
    if (id.starts_with("sit_")) return ticket_kind::sign_in_token;
    if (id.starts_with("act_")) return ticket_kind::actor_token;
    if (id.starts_with("wle_")) return ticket_kind::waitlist_invitation;  // the waitlist entry's id
    return std::nullopt;
}

std::string found_ticket::email() const {
    if (waitlist) return waitlist->email_address;
    if (org_invitation) return org_invitation->email_address;
    if (ticket) return ticket->email_address;
    return {};
}

api_result<found_ticket> find_ticket(app& a, store::read_txn const& t, std::string_view ticket, std::int64_t now) {
    if (ticket.empty()) return param_error(code::form_param_missing, "ticket");
    auto kind = ticket_kind_of(ticket);
    if (!kind) return invalid_ticket();
    found_ticket f;
    f.kind = *kind;
    switch (*kind) {
        case ticket_kind::waitlist_invitation: {
            auto e = entry_for_ticket(a, t, ticket);
            if (!e) return e.error();
            f.waitlist = std::move(*e);
            return f;
        }
        case ticket_kind::organization_invitation: {
            auto i = orgs::invitation_for_ticket(t, ticket, now);
            if (!i) return i.error();
            f.org_invitation = std::move(*i);
            return f;
        }
        default:
            break;
    }
    auto const dot = ticket.find('.');
    auto r = t.tickets().get(ticket.substr(0, dot));
    if (!r) return store_error(r.error(), "find_ticket");
    if (!*r || !crypto::equal_ct(digest_hex(ticket.substr(dot + 1)), (*r)->digest)) return invalid_ticket();
    if (auto bad = unusable(**r, now)) return *bad;
    f.ticket = std::move(**r);
    return f;
}

api_result<store::ticket_record> redeem_ticket(store::write_txn& w, std::string_view id, std::int64_t now) {
    auto r = w.tickets().get(id);
    if (!r) return store_error(r.error(), "redeem_ticket");
    if (!*r) return invalid_ticket();
    if (auto bad = unusable(**r, now)) return *bad;
    store::ticket_record used = **r;
    used.status = "accepted";
    used.updated_at = now;
    if (auto x = w.tickets().put(used); !x) return store_error(x.error(), "redeem_ticket");
    return std::move(**r);
}

std::string new_ticket(store::ticket_record& r, std::string_view kind, std::int64_t now, std::int64_t expires_at) {
    char const* prefix = kind == "sign_in_token" ? "sit" : kind == "actor_token" ? "act" : "inv";
    r.id = crypto::new_id(prefix, static_cast<std::uint64_t>(now));
    r.kind = std::string(kind);
    r.status = "pending";
    std::string const secret = crypto::random_token(32);
    r.digest = digest_hex(secret);
    r.expires_at = expires_at;
    r.created_at = r.updated_at = now;
    return r.id + "." + secret;
}

std::string accept_url(app const& a, std::string_view ticket) {
    std::string u = strip_slash(a.inst.frontend_api);
    u += "/v1/tickets/accept?ticket=";
    u += boost::urls::encode(ticket, boost::urls::unreserved_chars);
    return u;
}

std::string ticket_redirect(app const& a, found_ticket const& f, std::string_view ticket) {
    switch (f.kind) {
        case ticket_kind::waitlist_invitation:
            return ticket_url(a, ticket);
        case ticket_kind::organization_invitation:
            return ticket_url(a, ticket, f.org_invitation->redirect_url);
        case ticket_kind::invitation:
            return ticket_url(a, ticket, f.ticket->redirect_url);
        case ticket_kind::sign_in_token:
        case ticket_kind::actor_token:
            break;
    }
    std::string base = a.cfg.sign_in_url;
    if (base.empty()) base = strip_slash(a.inst.frontend_api) + "/sign-in";
    return with_ticket(std::move(base), ticket, "sign_in");
}

namespace {

/// What a sign-in token and an actor token show: `object`, id, status, user_id, what `between` adds, then the token
/// and its accept URL when it is shown (else, with `null_url`, "url": null), created_at, updated_at.
template <class Between>
json::object token_json(app const& a, std::string_view object, store::ticket_record const& r, std::string_view ticket,
                        bool null_url, Between between) {
    json::object o;
    o["object"] = object;
    o["id"] = r.id;
    o["status"] = r.status;
    o["user_id"] = r.user_id;
    between(o);
    if (!ticket.empty()) {
        o["token"] = ticket;
        o["url"] = accept_url(a, ticket);
    } else if (null_url) {
        o["url"] = nullptr;
    }
    o["created_at"] = r.created_at;
    o["updated_at"] = r.updated_at;
    return o;
}

}  // namespace

json::object sign_in_token_json(app const& a, store::ticket_record const& r, std::string_view ticket) {
    return token_json(a, "sign_in_token", r, ticket, true, [](json::object&) {});
}

json::object actor_token_json(app const& a, store::ticket_record const& r, std::string_view ticket) {
    return token_json(a, "actor_token", r, ticket, false, [&](json::object& o) {
        o["actor"] = r.actor.empty() ? json::value(json::object{}) : views::json_text(r.actor);
    });
}

json::object invitation_json(app const& a, store::ticket_record const& r, std::string_view ticket, std::int64_t now) {
    json::object o;
    o["object"] = "invitation";
    o["id"] = r.id;
    o["email_address"] = r.email_address;
    o["public_metadata"] = views::json_text(r.public_metadata);
    o["revoked"] = r.status == "revoked";
    o["status"] = r.status == "pending" && r.expires_at > 0 && r.expires_at <= now ? "expired" : r.status;
    if (!ticket.empty())
        o["url"] = ticket_url(a, ticket, r.redirect_url);
    else
        o["url"] = nullptr;  // the link holds the ticket, which only the invitation message carries
    o["expires_at"] = r.expires_at > 0 ? json::value(r.expires_at) : json::value(nullptr);
    o["created_at"] = r.created_at;
    o["updated_at"] = r.updated_at;
    return o;
}

api_result<void> accept_invitation(store::write_txn& w, std::string_view id, store::user_record& u, std::int64_t now) {
    auto r = redeem_ticket(w, id, now);
    if (!r) return r.error();
    if (r->public_metadata != "{}" && !r->public_metadata.empty()) u.public_metadata = r->public_metadata;
    return {};
}

}  // namespace latchkey::server::api::domain
