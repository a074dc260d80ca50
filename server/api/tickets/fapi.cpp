// FAPI GET /v1/tickets/accept: the link of a sign-in or actor token's `url` (and any invitation ticket) leads
// the browser to where clerk-js redeems it: the sign-in URL with __clerk_ticket and __clerk_status=sign_in, or
// the invitation's sign-up link with __clerk_status=sign_up. The ticket is only looked at, not spent.
#include "server/api/domain/tickets.hpp"
#include "server/api/tickets/handlers.hpp"
#include "server/api/txn.hpp"

namespace latchkey::server::api::tickets {

api_result<reply> accept_ticket(app& a, request_ctx& ctx) {
    std::string ticket;
    if (auto const* t = ctx.query.find("ticket")) ticket = *t;
    if (ticket.empty()) return param_error(code::form_param_missing, "ticket");
    auto found = txn::read<domain::found_ticket>(
        a, "accept_ticket", [&](store::read_txn& t) { return domain::find_ticket(a, t, ticket, ctx.now); });
    if (!found) {
        if (found.error().code == code::form_param_value_invalid) {  // no such ticket: Clerk answers 404
            auto e = make_error(code::resource_not_found);
            e.meta["param_name"] = "ticket";
            return e;
        }
        return found.error();
    }
    reply r;
    r.status = http::status::see_other;
    r.location = domain::ticket_redirect(a, *found, ticket);
    return r;
}

}  // namespace latchkey::server::api::tickets
