#pragma once
// The FAPI organizations handlers' shared plumbing (fapi.cpp, domains.cpp): the acting user of the request's
// session, the organization of the path with the actor's membership and permission check, paging, and the
// one-txn write/read that replies with the response and the full client.
#include "server/api/organizations/orgs.hpp"

#include "server/api/frontend/common.hpp"
#include "server/api/txn.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::server::api::orgs {

struct actor {
    store::session_record session;
    store::user_record user;
};

/// The signed-in user acting (401 authentication_invalid otherwise: clerk-js then re-fetches its client).
api_result<actor> load_actor(app& a, request_ctx const& ctx, store::read_txn const& t);

/// 403 organization_not_enabled_in_instance unless the config enables organizations.
std::optional<api_error> enabled(app const& a);

/// The organization of the path and the actor's membership in it. Not a member: 404
/// organization_not_found_or_unauthorized (as for an unknown id: nothing is told about others' organizations).
/// A role without `permission` (when given): 403 not_allowed_access.
struct scoped {
    actor who;
    store::organization_record org;
    store::org_membership_record membership;
};
api_result<scoped> load_scoped(app& a, request_ctx const& ctx, store::read_txn const& t,
                               std::string_view permission = {});

/// {"data": [...], "total_count": n} of `all` after the query's limit (default 10, at most 500) and offset.
boost::json::object page_of(request_ctx const& ctx, boost::json::array all);

/// The user's verified email addresses.
std::vector<std::string> verified_emails(store::user_record const& u);

/// Writes one FAPI org change in one txn and replies with its response and the full client, both staged in the
/// write txn after its writes (frontend::stage_reply) and rendered after the commit without another txn.
template <class F>
api_result<reply> write_and_reply(app& a, request_ctx& ctx, char const* what, F&& f) {
    if (auto e = enabled(a)) return *e;
    auto r = txn::write<frontend::staged_reply>(a, what, txn::on_client_error::abort,
                                                [&](store::write_txn& w) -> api_result<frontend::staged_reply> {
                                                    auto j = f(w);
                                                    if (!j) return j.error();
                                                    return frontend::stage_reply(a, ctx, w, std::move(*j));
                                                });
    if (!r) return r.error();
    return frontend::envelope(a, ctx, *r);
}

/// The same for a read: the response and the client from one read txn.
template <class F>
api_result<reply> read_and_reply(app& a, request_ctx& ctx, char const* what, F&& f) {
    if (auto e = enabled(a)) return *e;
    auto r = txn::read<frontend::staged_reply>(a, what, [&](store::read_txn& t) -> api_result<frontend::staged_reply> {
        auto j = f(t);
        if (!j) return j.error();
        return frontend::stage_reply(a, ctx, t, std::move(*j));
    });
    if (!r) return r.error();
    return frontend::envelope(a, ctx, *r);
}

}  // namespace latchkey::server::api::orgs
