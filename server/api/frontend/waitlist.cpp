// POST /v1/waitlist: Clerk.joinWaitlist({emailAddress}) and <Waitlist/>. Public (no client is made or needed).
#include "server/api/domain/waitlist.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/frontend/handlers.hpp"

#include <boost/json/serialize.hpp>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

api_result<reply> join_waitlist(app& a, request_ctx& ctx) {
    // A flood is cut per IP before anything is parsed or written, then per address.
    if (auto limited = rate_limit_ip(a, ctx, "waitlist", "join")) return *limited;
    auto given = field(ctx, "email_address");
    if (!given || given->empty()) return param_error(code::form_param_missing, "email_address");
    auto email = normalize_email(*given);
    if (!email)
        return param_error(code::form_param_format_invalid, "email_address",
                           "email_address must be a valid email address.");
    if (auto limited = rate_limit(a, ctx, "waitlist:id:" + *email, a.cfg.protection.rate_per_identifier_per_minute))
        return *limited;
    auto e = domain::join_waitlist(a, *email, ctx.now);
    if (!e) return e.error();
    // Bare, as Clerk answers: clerk-js builds its WaitlistEntry from the whole payload.
    json::object o;
    o["object"] = "waitlist_entry";
    o["id"] = e->id;
    o["created_at"] = e->created_at;
    o["updated_at"] = e->updated_at;
    return reply{http::status::ok, json::serialize(o), {}};
}

}  // namespace latchkey::server::api::frontend
