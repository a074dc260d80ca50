// BAPI /v1/waitlist_entries: list (query, status, order_by, limit, offset), create (one or a bulk array),
// invite, reject, delete; as @clerk/backend's waitlistEntries calls them.
#include "server/api/domain/waitlist.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/backend/handlers.hpp"
#include "server/api/domain/identifiers.hpp"
#include "server/api/events.hpp"
#include "server/api/txn.hpp"

#include <set>

namespace latchkey::server::api::backend {

namespace json = boost::json;

namespace {

api_result<bool> notify_of(json::value const* v) {
    if (v == nullptr || v->is_null()) return true;
    if (!v->is_bool()) return param_error(code::form_param_type_invalid, "notify");
    return v->get_bool();
}

/// Joins and, for a new entry with notify, tells the person they are on the list.
api_result<store::waitlist_entry_record> add(app& a, std::string const& email, bool notify, std::int64_t now) {
    bool created = false;
    auto e = domain::join_waitlist(a, email, now, &created);
    if (e && created && notify) {
        message m;
        m.channel = "email";
        m.to = email;
        m.kind = "waitlist_confirmation";
        a.sink.send(m);
    }
    return e;
}

/// Runs `step` on the entry in one write txn (404 when missing) and renders the result.
template <class Step>
api_result<reply> change(app& a, request_ctx& ctx, char const* what, Step step) {
    auto r = txn::write<store::waitlist_entry_record>(
        a, what, txn::on_client_error::abort,
        [&](store::write_txn& w) -> store::result<api_result<store::waitlist_entry_record>> {
            using out = api_result<store::waitlist_entry_record>;
            auto e = w.waitlist().get(ctx.params.get("waitlist_entry_id"));
            if (!e) return e.error();
            if (!*e) return out(not_found());
            if (auto bad = step(w, **e)) return out(std::move(*bad));
            return out(std::move(**e));
        });
    if (!r) return r.error();
    return json_reply(domain::waitlist_entry_json(a, *r));
}

}  // namespace

api_result<reply> list_waitlist_entries(app& a, request_ctx& ctx) {
    auto p = paging(ctx);
    if (!p) return p.error();
    store::waitlist_filter f;
    f.limit = p->first;
    f.offset = p->second;
    if (auto const* q = ctx.query.find("query")) f.query = *q;
    if (auto const* st = ctx.query.find("status")) f.status = *st;
    if (!f.status.empty() && f.status != "pending" && f.status != "invited" && f.status != "completed" &&
        f.status != "rejected")
        return param_error(code::form_param_value_invalid, "status",
                           "status must be pending, invited, completed or rejected.");
    if (auto const* o = ctx.query.find("order_by"); o && !o->empty()) {
        std::string_view field = *o;
        if (field.front() == '+' || field.front() == '-') field.remove_prefix(1);
        if (field != "created_at" && field != "email_address" && field != "invited_at")
            return param_error(code::form_param_value_invalid, "order_by",
                               "order_by must be [+|-]created_at, email_address or invited_at.");
        f.order_by = *o;
        if (f.order_by.front() != '+' && f.order_by.front() != '-') f.order_by.insert(0, "+");
    }
    std::size_t total = 0;
    auto list = txn::read<std::vector<store::waitlist_entry_record>>(
        a, "list_waitlist_entries", [&](store::read_txn& t) -> api_result<std::vector<store::waitlist_entry_record>> {
            auto l = t.waitlist().list(f, &total);
            if (!l) return store_error(l.error(), "list_waitlist_entries");
            return std::move(*l);
        });
    if (!list) return list.error();
    json::array data;
    for (auto const& e : *list) data.push_back(domain::waitlist_entry_json(a, e));
    json::object o;
    o["data"] = std::move(data);
    o["total_count"] = total;
    return json_reply(o);
}

api_result<reply> create_waitlist_entry(app& a, request_ctx& ctx) {
    json::object const empty;
    auto const& body = ctx.body.is_object() ? ctx.body.get_object() : empty;
    auto email = email_address_of(body.if_contains("email_address"));
    if (!email) return email.error();
    auto notify = notify_of(body.if_contains("notify"));
    if (!notify) return notify.error();
    auto e = add(a, *email, *notify, ctx.now);
    if (!e) return e.error();
    return json_reply(domain::waitlist_entry_json(a, *e));
}

api_result<reply> create_waitlist_entries(app& a, request_ctx& ctx) {
    if (!ctx.body.is_array() || ctx.body.get_array().empty() || ctx.body.get_array().size() > 50)
        return param_error(code::form_param_value_invalid, "body",
                           "The body must be an array of 1 to 50 waitlist entries.");
    // Everything is validated before anything is written.
    std::vector<std::pair<std::string, bool>> items;
    std::set<std::string> seen;
    for (auto const& v : ctx.body.get_array()) {
        if (!v.is_object()) return param_error(code::form_param_type_invalid, "body", "Each item must be an object.");
        auto email = email_address_of(v.get_object().if_contains("email_address"));
        if (!email) return email.error();
        auto notify = notify_of(v.get_object().if_contains("notify"));
        if (!notify) return notify.error();
        if (!seen.insert(*email).second)
            return param_error(code::form_param_value_invalid, "email_address",
                               "The same email address appears twice in the request.");
        items.emplace_back(std::move(*email), *notify);
    }
    json::array out;
    for (auto const& [email, notify] : items) {
        auto e = add(a, email, notify, ctx.now);
        if (!e) return e.error();
        out.push_back(domain::waitlist_entry_json(a, *e));
    }
    return json_reply(out);
}

api_result<reply> invite_waitlist_entry(app& a, request_ctx& ctx) {
    auto ignore = body_bool(ctx, "ignore_existing");
    if (!ignore) return ignore.error();
    auto e = domain::invite_waitlist_entry(a, ctx.params.get("waitlist_entry_id"), ignore->value_or(false), ctx.now);
    if (!e) return e.error();
    return json_reply(domain::waitlist_entry_json(a, *e));
}

api_result<reply> reject_waitlist_entry(app& a, request_ctx& ctx) {
    return change(a, ctx, "reject_waitlist_entry",
                  [&](store::write_txn& w, store::waitlist_entry_record& e) -> std::optional<api_error> {
                      if (e.status == "completed") return make_error(code::waitlist_entry_conflict);
                      if (e.status == "rejected") return std::nullopt;
                      e.status = "rejected";
                      if (!e.invitation_id.empty())
                          e.invitation_status = "revoked";  // its ticket no longer signs anyone up
                      e.updated_at = ctx.now;
                      if (auto r = w.waitlist().put(e, false); !r)
                          return store_error(r.error(), "reject_waitlist_entry");
                      if (auto ev = events::emit(a, w, "waitlistEntry.updated", domain::waitlist_entry_json(a, e)); !ev)
                          return store_error(ev.error(), "webhook");
                      return std::nullopt;
                  });
}

api_result<reply> delete_waitlist_entry(app& a, request_ctx& ctx) {
    std::string id;
    auto r = change(a, ctx, "delete_waitlist_entry",
                    [&](store::write_txn& w, store::waitlist_entry_record& e) -> std::optional<api_error> {
                        if (e.status != "pending") return make_error(code::waitlist_entry_conflict);
                        id = e.id;
                        if (auto x = w.waitlist().remove(e); !x) return store_error(x.error(), "delete_waitlist_entry");
                        return std::nullopt;
                    });
    if (!r) return r.error();
    return deleted_reply("waitlist_entry", id);
}

}  // namespace latchkey::server::api::backend
