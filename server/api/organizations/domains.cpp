// Organization domains, suggestions and membership requests (issue 13), as clerk-js 6.40 and @clerk/backend 3.25
// call them (clerk-wire-2.md §1):
// - FAPI /v1/organizations/{id}/domains: create, list, get, delete, update_enrollment_mode and the affiliation
//   verification by an emailed code (org:sys_domains:read to read, org:sys_domains:manage to change).
// - A verified domain reaches the users whose verified email address is on it: `automatic_suggestion` lists the
//   organization in the user's /v1/me/organization_suggestions (accepting one files a membership request that the
//   organization's managers accept or reject), `automatic_invitation` lists an invitation in the user's
//   /v1/me/organization_invitations (accepting it joins with the instance's default role). Both are derived from
//   the domains at read time, so a user who signs up or verifies an address later sees them too; their ids are a
//   digest of (domain, user), stable across reads.
// - BAPI /v1/organizations/{id}/domains: create (verified unless told otherwise), list, update, delete.
#include "server/api/organizations/domains.hpp"
#include "server/api/organizations/fapi_scope.hpp"
#include "server/api/organizations/handlers.hpp"
#include "server/api/organizations/orgs.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/events.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <algorithm>

namespace latchkey::server::api::orgs {

namespace json = boost::json;

namespace {

constexpr std::string_view manual = "manual_invitation";
constexpr std::string_view auto_invitation = "automatic_invitation";
constexpr std::string_view auto_suggestion = "automatic_suggestion";

/// A host name: 2+ labels of a-z 0-9 '-', at most 253 bytes, lowercased.
std::optional<std::string> normalize_domain(std::string_view in) {
    std::string d;
    for (char c : in) d.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (d.empty() || d.size() > 253 || d.find('.') == std::string::npos) return std::nullopt;
    std::size_t start = 0;
    while (start <= d.size()) {
        auto end = d.find('.', start);
        if (end == std::string::npos) end = d.size();
        auto label = std::string_view(d).substr(start, end - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return std::nullopt;
        for (char c : label)
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return std::nullopt;
        start = end + 1;
    }
    return d;
}

std::string domain_of_email(std::string_view email) {
    auto at = email.rfind('@');
    return at == std::string_view::npos ? std::string{} : std::string(email.substr(at + 1));
}

/// Whether the instance offers `mode` (manual_invitation always; the automatic ones as the config says).
bool mode_offered(app const& a, std::string_view mode) {
    if (mode == manual) return true;
    auto const& m = a.cfg.organizations.domain_enrollment_modes;
    return (mode == auto_invitation || mode == auto_suggestion) && std::find(m.begin(), m.end(), mode) != m.end();
}

api_result<std::string> mode_param(app const& a, std::optional<std::string> const& v, bool required) {
    if (!v || v->empty()) {
        if (required) return param_error(code::form_param_missing, "enrollment_mode");
        return std::string(manual);
    }
    if (!mode_offered(a, *v))
        return param_error(code::form_param_value_invalid, "enrollment_mode",
                           "enrollment_mode must be manual_invitation, automatic_invitation or automatic_suggestion "
                           "(as the instance offers them).");
    return *v;
}

std::optional<api_error> domains_on(app const& a) {
    if (a.cfg.organizations.domains_enabled) return std::nullopt;
    auto e = make_error(code::not_allowed_access);
    e.long_message = "Organization domains are not enabled for this instance.";
    return e;
}

json::value opt_int(std::int64_t v) { return v == 0 ? json::value(nullptr) : json::value(v); }

/// The derived id of what domain `d` offers user `user_id` (a suggestion or an automatic invitation).
std::string derived_id(std::string_view prefix, std::string_view domain_id, std::string_view user_id) {
    std::string in(domain_id);
    in += '\n';
    in += user_id;
    return std::string(prefix) + "_" + crypto::hex_encode(crypto::sha256(in)).substr(0, 27);
}

api_result<store::org_domain_record> domain_in(store::read_txn const& t, std::string_view org_id,
                                               std::string_view domain_id) {
    auto d = t.organizations().domain(domain_id);
    if (!d) return store_error(d.error(), "get_domain");
    if (!*d || (*d)->organization_id != org_id) return not_found();
    return std::move(**d);
}

/// A new domain of the organization (its id, timestamps and enrollment mode set), refused with 422
/// form_identifier_exists when the organization has that domain already.
api_result<store::org_domain_record> new_domain(store::read_txn const& t, std::string const& org_id,
                                                std::string const& name, std::string const& mode, std::int64_t now) {
    auto ds = t.organizations().domains_of_org(org_id);
    if (!ds) return store_error(ds.error(), "create_domain");
    for (auto const& d : *ds)
        if (d.name == name)
            return param_error(code::form_identifier_exists, "name",
                               "This domain is already added to the organization.");
    store::org_domain_record d;
    d.id = crypto::new_id("orgdmn", static_cast<std::uint64_t>(now));
    d.organization_id = org_id;
    d.name = name;
    d.enrollment_mode = mode;
    d.created_at = d.updated_at = now;
    return d;
}

/// Stores the new domain and announces it (organizationDomain.created); its view is the answer.
api_result<json::value> add_domain(app& a, store::write_txn& w, store::org_domain_record const& d,
                                   store::organization_record const* org) {
    if (auto r = w.organizations().put_domain(d); !r) return store_error(r.error(), "create_domain");
    auto j = domain_json(w, d, org);
    if (auto e = events::emit(a, w, "organizationDomain.created", j); !e) return store_error(e.error(), "webhook");
    return json::value(std::move(j));
}

/// Revokes the organization's pending invitations to addresses on the domain and rejects the membership requests
/// filed through it (update_enrollment_mode with delete_pending).
api_result<void> drop_pending(store::write_txn& w, store::org_domain_record const& d, std::int64_t now) {
    auto invs = w.organizations().invitations_of_org(d.organization_id);
    if (!invs) return store_error(invs.error(), "update_enrollment_mode");
    for (auto i : *invs) {
        if (i.status != "pending" || domain_of_email(i.email_address) != d.name) continue;
        i.status = "revoked";
        i.updated_at = now;
        if (auto r = w.organizations().put_invitation(i); !r) return store_error(r.error(), "update_enrollment_mode");
    }
    auto reqs = w.organizations().membership_requests_of_org(d.organization_id);
    if (!reqs) return store_error(reqs.error(), "update_enrollment_mode");
    for (auto q : *reqs) {
        if (q.status != "pending" || q.domain_id != d.id) continue;
        q.status = "rejected";
        q.updated_at = now;
        if (auto r = w.organizations().put_membership_request(q); !r)
            return store_error(r.error(), "update_enrollment_mode");
    }
    return {};
}

/// The user's pending membership request to the organization, if any, and whether one was rejected.
struct request_state {
    std::optional<store::org_membership_request_record> pending;
    bool rejected = false;
};
api_result<request_state> requests_of(store::read_txn const& t, std::string_view user_id, std::string_view org_id) {
    auto rs = t.organizations().membership_requests_of_user(user_id);
    if (!rs) return store_error(rs.error(), "membership_requests");
    request_state out;
    for (auto& q : *rs) {
        if (q.organization_id != org_id) continue;
        if (q.status == "pending") out.pending = q;
        if (q.status == "rejected") out.rejected = true;
    }
    return out;
}

/// What the verified domains offer the user: one entry per (domain, organization) the user is not a member of.
struct offer {
    store::org_domain_record domain;
    store::organization_record org;
};
api_result<std::vector<offer>> offers_for(store::read_txn const& t, store::user_record const& u,
                                          std::string_view mode) {
    std::vector<offer> out;
    std::vector<std::string> seen_orgs;
    for (auto const& e : verified_emails(u)) {
        auto ds = t.organizations().domains_named(domain_of_email(e));
        if (!ds) return store_error(ds.error(), "domain_offers");
        for (auto& d : *ds) {
            if (!d.verified || d.enrollment_mode != mode) continue;
            if (std::find(seen_orgs.begin(), seen_orgs.end(), d.organization_id) != seen_orgs.end()) continue;
            auto m = t.organizations().membership(d.organization_id, u.id);
            if (!m) return store_error(m.error(), "domain_offers");
            if (*m) continue;
            auto o = t.organizations().get(d.organization_id);
            if (!o) return store_error(o.error(), "domain_offers");
            if (!*o) continue;
            seen_orgs.push_back(d.organization_id);
            out.push_back({std::move(d), std::move(**o)});
        }
    }
    return out;
}

json::object suggestion_json(offer const& f, std::string_view user_id, bool accepted) {
    json::object j;
    j["object"] = "organization_suggestion";
    j["id"] = derived_id("orgsug", f.domain.id, user_id);
    j["public_organization_data"] = public_organization_data(f.org);
    j["status"] = accepted ? "accepted" : "pending";
    j["created_at"] = f.domain.updated_at;
    j["updated_at"] = f.domain.updated_at;
    return j;
}

store::org_invitation_record domain_invitation(app const& a, offer const& f, store::user_record const& u,
                                               std::string_view email) {
    store::org_invitation_record i;
    i.id = derived_id("orginv", f.domain.id, u.id);
    i.organization_id = f.org.id;
    i.email_address = std::string(email);
    i.role = a.cfg.organizations.default_role;
    i.status = "pending";
    i.created_at = i.updated_at = f.domain.updated_at;
    i.expires_at = 0;
    return i;
}

json::object request_json(store::org_membership_request_record const& q, store::user_record const* u) {
    json::object j;
    j["object"] = "organization_membership_request";
    j["id"] = q.id;
    j["organization_id"] = q.organization_id;
    j["status"] = q.status;
    if (u != nullptr) {
        j["public_user_data"] = views::public_user_data(*u);
    } else {
        j["public_user_data"] = nullptr;
    }
    j["created_at"] = q.created_at;
    j["updated_at"] = q.updated_at;
    return j;
}

}  // namespace

// ---- shared with fapi.cpp (declared in domains.hpp) ----

json::object domain_json(store::read_txn const& t, store::org_domain_record const& d,
                         store::organization_record const* o) {
    json::object j{{"object", "organization_domain"}, {"id", d.id}};
    j["organization_id"] = d.organization_id;
    j["name"] = d.name;
    j["enrollment_mode"] = d.enrollment_mode;
    j["affiliation_email_address"] =
        d.affiliation_email_address.empty() ? json::value(nullptr) : json::value(d.affiliation_email_address);
    json::value v = nullptr;
    if (!d.affiliation_status.empty()) {
        json::object a;
        a["status"] = d.affiliation_status;
        a["strategy"] = d.affiliation_strategy;
        a["attempts"] = d.affiliation_attempts;
        a["expire_at"] = opt_int(d.affiliation_expire_at);   // the spec's name
        a["expires_at"] = opt_int(d.affiliation_expire_at);  // the name clerk-js 6.40's OrganizationDomain reads
        a["verified_at"] = opt_int(d.affiliation_verified_at);
        v = std::move(a);
    }
    j["affiliation_verification"] = v;
    j["verification"] = v;
    j["ownership_verification"] = nullptr;
    // Pending invitations to addresses on the domain; pending membership requests filed through it.
    std::int64_t invitations = 0;
    std::int64_t suggestions = 0;
    if (auto invs = t.organizations().invitations_of_org(d.organization_id))
        for (auto const& i : *invs)
            invitations += (i.status == "pending" && domain_of_email(i.email_address) == d.name);
    if (auto rs = t.organizations().membership_requests_of_org(d.organization_id))
        for (auto const& q : *rs) suggestions += (q.status == "pending" && q.domain_id == d.id);
    j["total_pending_invitations"] = invitations;
    j["total_pending_suggestions"] = suggestions;
    if (o != nullptr) j["public_organization_data"] = public_organization_data(*o);
    j["created_at"] = d.created_at;
    j["updated_at"] = d.updated_at;
    return j;
}

api_result<std::vector<json::object>> domain_invitations_for(app const& a, store::read_txn const& t,
                                                             store::user_record const& u) {
    auto offers = offers_for(t, u, auto_invitation);
    if (!offers) return offers.error();
    std::vector<json::object> out;
    auto const emails = verified_emails(u);
    for (auto const& f : *offers) {
        // An ordinary pending invitation from the same organization is listed instead.
        bool invited = false;
        for (auto const& e : emails) {
            auto invs = t.organizations().invitations_to(e);
            if (!invs) return store_error(invs.error(), "my_invitations");
            for (auto const& i : *invs) invited |= (i.organization_id == f.org.id && i.status == "pending");
        }
        if (invited) continue;
        std::string email;
        for (auto const& e : emails)
            if (domain_of_email(e) == f.domain.name) email = e;
        auto j = invitation_json(a, domain_invitation(a, f, u, email), &f.org, audience::frontend);
        j["expires_at"] = nullptr;
        out.push_back(std::move(j));
    }
    return out;
}

api_result<std::optional<json::object>> accept_domain_invitation(app& a, store::write_txn& w,
                                                                 store::user_record const& u,
                                                                 std::string_view invitation_id, std::int64_t now) {
    auto offers = offers_for(w, u, auto_invitation);
    if (!offers) return offers.error();
    for (auto const& f : *offers) {
        if (derived_id("orginv", f.domain.id, u.id) != invitation_id) continue;
        auto m = add_member(a, w, f.org, u.id, a.cfg.organizations.default_role, now);
        if (!m) return m.error();
        std::string email;
        for (auto const& e : verified_emails(u))
            if (domain_of_email(e) == f.domain.name) email = e;
        auto inv = domain_invitation(a, f, u, email);
        inv.status = "accepted";
        inv.updated_at = now;
        auto j = invitation_json(a, inv, &f.org, audience::frontend);
        j["expires_at"] = nullptr;
        return std::optional<json::object>(std::move(j));
    }
    return std::optional<json::object>{};
}

// ---- FAPI: domains ----

api_result<reply> fapi_list_domains(app& a, request_ctx& ctx) {
    return read_and_reply(a, ctx, "list_domains", [&](store::read_txn& t) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, t, "org:sys_domains:read");
        if (!s) return s.error();
        auto ds = t.organizations().domains_of_org(s->org.id);
        if (!ds) return store_error(ds.error(), "list_domains");
        std::string mode;
        if (auto const* m = ctx.query.find("enrollment_mode")) mode = *m;
        std::optional<bool> verified;
        if (auto const* v = ctx.query.find("verified"); v && !v->empty()) verified = *v == "true";
        json::array all;
        for (auto const& d : *ds) {
            if (!mode.empty() && d.enrollment_mode != mode) continue;
            if (verified && d.verified != *verified) continue;
            all.push_back(domain_json(t, d, &s->org));
        }
        return json::value(page_of(ctx, std::move(all)));
    });
}

api_result<reply> fapi_create_domain(app& a, request_ctx& ctx) {
    if (auto e = enabled(a)) return *e;
    if (auto e = domains_on(a)) return *e;
    auto raw = frontend::field(ctx, "name");
    if (!raw || raw->empty()) return param_error(code::form_param_missing, "name");
    auto name = normalize_domain(*raw);
    if (!name)
        return param_error(code::form_param_format_invalid, "name", "name must be a domain such as example.com.");
    auto mode = mode_param(a, frontend::field(ctx, "enrollment_mode"), false);
    if (!mode) return mode.error();
    return write_and_reply(a, ctx, "create_domain", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_domains:manage");
        if (!s) return s.error();
        auto made = new_domain(w, s->org.id, *name, *mode, ctx.now);
        if (!made) return made.error();
        auto& d = *made;
        // As Clerk: an admin who already holds a verified address on the domain has proven the affiliation.
        for (auto const& e : verified_emails(s->who.user))
            if (domain_of_email(e) == d.name && !d.verified) {
                d.verified = true;
                d.affiliation_email_address = e;
                d.affiliation_status = "verified";
                d.affiliation_strategy = "email_code";
                d.affiliation_verified_at = ctx.now;
            }
        return add_domain(a, w, d, &s->org);
    });
}

api_result<reply> fapi_get_domain(app& a, request_ctx& ctx) {
    return read_and_reply(a, ctx, "get_domain", [&](store::read_txn& t) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, t, "org:sys_domains:read");
        if (!s) return s.error();
        auto d = domain_in(t, s->org.id, ctx.params.get("domain_id"));
        if (!d) return d.error();
        return json::value(domain_json(t, *d, &s->org));
    });
}

api_result<reply> fapi_delete_domain(app& a, request_ctx& ctx) {
    return write_and_reply(a, ctx, "delete_domain", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_domains:manage");
        if (!s) return s.error();
        auto d = domain_in(w, s->org.id, ctx.params.get("domain_id"));
        if (!d) return d.error();
        if (auto r = w.organizations().remove_domain(d->id); !r) return store_error(r.error(), "delete_domain");
        auto j = views::deleted_object("organization_domain", d->id);
        if (auto e = events::emit(a, w, "organizationDomain.deleted", j); !e) return store_error(e.error(), "webhook");
        return json::value(std::move(j));
    });
}

api_result<reply> fapi_update_enrollment_mode(app& a, request_ctx& ctx) {
    auto mode = mode_param(a, frontend::field(ctx, "enrollment_mode"), true);
    if (!mode) return mode.error();
    auto const dp = frontend::field(ctx, "delete_pending");
    bool const delete_pending = dp && *dp == "true";
    return write_and_reply(a, ctx, "update_enrollment_mode", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_domains:manage");
        if (!s) return s.error();
        auto d = domain_in(w, s->org.id, ctx.params.get("domain_id"));
        if (!d) return d.error();
        d->enrollment_mode = *mode;
        d->updated_at = std::max(ctx.now, d->updated_at + 1);
        if (auto r = w.organizations().put_domain(*d); !r) return store_error(r.error(), "update_enrollment_mode");
        if (delete_pending)
            if (auto r = drop_pending(w, *d, ctx.now); !r) return r.error();
        auto j = domain_json(w, *d, &s->org);
        if (auto e = events::emit(a, w, "organizationDomain.updated", j); !e) return store_error(e.error(), "webhook");
        return json::value(std::move(j));
    });
}

api_result<reply> fapi_prepare_affiliation_verification(app& a, request_ctx& ctx) {
    auto raw = frontend::field(ctx, "affiliation_email_address");
    if (!raw || raw->empty()) return param_error(code::form_param_missing, "affiliation_email_address");
    auto email = frontend::normalize_email(*raw);
    if (!email)
        return param_error(code::form_param_format_invalid, "affiliation_email_address",
                           "affiliation_email_address must be a valid email address.");
    return write_and_reply(a, ctx, "prepare_affiliation", [&](store::write_txn& w) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, w, "org:sys_domains:manage");
        if (!s) return s.error();
        auto d = domain_in(w, s->org.id, ctx.params.get("domain_id"));
        if (!d) return d.error();
        if (domain_of_email(*email) != d->name)
            return param_error(code::form_param_value_invalid, "affiliation_email_address",
                               "The email address must be on the domain " + d->name + ".");
        store::verification_record v;
        if (auto r = frontend::prepare_code(a, ctx, w, v, "email_code", "email", *email, d->id, s->who.user.id); !r)
            return r.error();
        d->affiliation_email_address = *email;
        d->affiliation_status = v.status;
        d->affiliation_strategy = v.strategy;
        d->affiliation_code_digest = v.code_digest;
        d->affiliation_expire_at = v.expire_at;
        d->affiliation_attempts = 0;
        d->affiliation_verified_at = 0;
        d->updated_at = std::max(ctx.now, d->updated_at + 1);
        if (auto r = w.organizations().put_domain(*d); !r) return store_error(r.error(), "prepare_affiliation");
        return json::value(domain_json(w, *d, &s->org));
    });
}

api_result<reply> fapi_attempt_affiliation_verification(app& a, request_ctx& ctx) {
    auto code_in = frontend::field(ctx, "code");
    if (!code_in || code_in->empty()) return param_error(code::form_param_missing, "code");
    if (auto e = enabled(a)) return *e;
    // A wrong code's attempt counter lands with its error (on_client_error::commit); permission errors write nothing.
    auto r =
        txn::write<frontend::staged_reply>(a, "attempt_affiliation", txn::on_client_error::commit,
                                           [&](store::write_txn& w) -> api_result<frontend::staged_reply> {
                                               auto s = load_scoped(a, ctx, w, "org:sys_domains:manage");
                                               if (!s) return s.error();
                                               auto d = domain_in(w, s->org.id, ctx.params.get("domain_id"));
                                               if (!d) return d.error();
                                               store::verification_record v;
                                               v.status = d->affiliation_status;
                                               v.strategy = d->affiliation_strategy;
                                               v.code_digest = d->affiliation_code_digest;
                                               v.expire_at = d->affiliation_expire_at;
                                               v.attempts = d->affiliation_attempts;
                                               v.verified_at = d->affiliation_verified_at;
                                               auto checked = frontend::attempt_code(a, ctx, v, *code_in);
                                               d->affiliation_status = v.status;
                                               d->affiliation_code_digest = v.code_digest;
                                               d->affiliation_attempts = v.attempts;
                                               d->affiliation_verified_at = v.verified_at;
                                               if (checked) d->verified = true;
                                               d->updated_at = std::max(ctx.now, d->updated_at + 1);
                                               if (auto p = w.organizations().put_domain(*d); !p)
                                                   return store_error(p.error(), "attempt_affiliation");
                                               if (!checked) return checked.error();
                                               auto j = domain_json(w, *d, &s->org);
                                               if (auto e = events::emit(a, w, "organizationDomain.updated", j); !e)
                                                   return store_error(e.error(), "webhook");
                                               return frontend::stage_reply(a, ctx, w, json::value(std::move(j)));
                                           });
    if (!r) return r.error();
    return frontend::envelope(a, ctx, *r);
}

// ---- FAPI: membership requests ----

api_result<reply> fapi_list_membership_requests(app& a, request_ctx& ctx) {
    return read_and_reply(a, ctx, "list_membership_requests", [&](store::read_txn& t) -> api_result<json::value> {
        auto s = load_scoped(a, ctx, t, "org:sys_memberships:manage");
        if (!s) return s.error();
        auto rs = t.organizations().membership_requests_of_org(s->org.id);
        if (!rs) return store_error(rs.error(), "list_membership_requests");
        auto statuses = ctx.query.all("status", true);
        json::array all;
        for (auto it = rs->rbegin(); it != rs->rend(); ++it) {  // newest first
            if (!statuses.empty() && std::find(statuses.begin(), statuses.end(), it->status) == statuses.end())
                continue;
            auto u = t.users().get(it->user_id);
            if (!u) return store_error(u.error(), "list_membership_requests");
            all.push_back(request_json(*it, *u ? &**u : nullptr));
        }
        return json::value(page_of(ctx, std::move(all)));
    });
}

namespace {

api_result<reply> decide_request(app& a, request_ctx& ctx, bool accept) {
    return write_and_reply(
        a, ctx, accept ? "accept_membership_request" : "reject_membership_request",
        [&](store::write_txn& w) -> api_result<json::value> {
            auto s = load_scoped(a, ctx, w, "org:sys_memberships:manage");
            if (!s) return s.error();
            auto q = w.organizations().membership_request(ctx.params.get("request_id"));
            if (!q) return store_error(q.error(), "membership_request");
            if (!*q || (*q)->organization_id != s->org.id) return not_found();
            auto req = **q;
            if (req.status != "pending")
                return param_error(code::form_param_value_invalid, "request_id", "This request is no longer pending.");
            if (accept) {
                auto m = add_member(a, w, s->org, req.user_id, a.cfg.organizations.default_role, ctx.now);
                if (!m) return m.error();
            }
            req.status = accept ? "accepted" : "rejected";
            req.updated_at = std::max(ctx.now, req.updated_at + 1);
            if (auto r = w.organizations().put_membership_request(req); !r)
                return store_error(r.error(), "membership_request");
            auto u = w.users().get(req.user_id);
            if (!u) return store_error(u.error(), "membership_request");
            return json::value(request_json(req, *u ? &**u : nullptr));
        });
}

}  // namespace

api_result<reply> fapi_accept_membership_request(app& a, request_ctx& ctx) { return decide_request(a, ctx, true); }

api_result<reply> fapi_reject_membership_request(app& a, request_ctx& ctx) { return decide_request(a, ctx, false); }

// ---- FAPI: the user's suggestions ----

api_result<reply> fapi_my_suggestions(app& a, request_ctx& ctx) {
    return read_and_reply(a, ctx, "my_suggestions", [&](store::read_txn& t) -> api_result<json::value> {
        auto who = load_actor(a, ctx, t);
        if (!who) return who.error();
        auto offers = offers_for(t, who->user, auto_suggestion);
        if (!offers) return offers.error();
        auto statuses = ctx.query.all("status", true);
        json::array all;
        for (auto const& f : *offers) {
            auto st = requests_of(t, who->user.id, f.org.id);
            if (!st) return st.error();
            if (st->rejected && !st->pending) continue;
            auto j = suggestion_json(f, who->user.id, st->pending.has_value());
            if (!statuses.empty() &&
                std::find(statuses.begin(), statuses.end(), std::string(j["status"].as_string())) == statuses.end())
                continue;
            all.push_back(std::move(j));
        }
        return json::value(page_of(ctx, std::move(all)));
    });
}

api_result<reply> fapi_accept_my_suggestion(app& a, request_ctx& ctx) {
    return write_and_reply(a, ctx, "accept_suggestion", [&](store::write_txn& w) -> api_result<json::value> {
        auto who = load_actor(a, ctx, w);
        if (!who) return who.error();
        auto offers = offers_for(w, who->user, auto_suggestion);
        if (!offers) return offers.error();
        auto const id = ctx.params.get("suggestion_id");
        for (auto const& f : *offers) {
            if (derived_id("orgsug", f.domain.id, who->user.id) != id) continue;
            auto st = requests_of(w, who->user.id, f.org.id);
            if (!st) return st.error();
            if (st->rejected && !st->pending) return not_found();
            if (!st->pending) {
                store::org_membership_request_record q;
                q.id = crypto::new_id("orgmemreq", static_cast<std::uint64_t>(ctx.now));
                q.organization_id = f.org.id;
                q.user_id = who->user.id;
                q.status = "pending";
                q.domain_id = f.domain.id;
                q.created_at = q.updated_at = ctx.now;
                if (auto r = w.organizations().put_membership_request(q); !r)
                    return store_error(r.error(), "accept_suggestion");
            }
            return json::value(suggestion_json(f, who->user.id, true));
        }
        return not_found();
    });
}

// ---- BAPI: domains ----

namespace {

void mark_verified(store::org_domain_record& d, bool verified, std::int64_t now) {
    d.verified = verified;
    if (verified) {
        d.affiliation_status = "verified";
        d.affiliation_strategy = d.affiliation_strategy.empty() ? "admin" : d.affiliation_strategy;
        d.affiliation_verified_at = now;
        d.affiliation_code_digest.clear();
    } else {
        d.affiliation_status = d.affiliation_status.empty() ? "" : "unverified";
        d.affiliation_verified_at = 0;
    }
}

}  // namespace

api_result<reply> bapi_list_domains(app& a, request_ctx& ctx) {
    auto p = backend::paging(ctx);
    if (!p) return p.error();
    auto r = txn::read<json::value>(a, "list_domains", [&](store::read_txn& t) -> api_result<json::value> {
        auto o = path_organization(t, ctx);
        if (!o) return o.error();
        auto ds = t.organizations().domains_of_org(o->id);
        if (!ds) return store_error(ds.error(), "list_domains");
        std::optional<bool> verified;
        if (auto const* v = ctx.query.find("verified"); v && !v->empty()) verified = *v == "true";
        auto modes = ctx.query.all("enrollment_mode", true);
        json::array all;
        for (auto const& d : *ds) {
            if (verified && d.verified != *verified) continue;
            bool keep = true;
            bool any_include = false;
            bool included = false;
            for (auto const& m : modes) {
                if (m.starts_with("-")) {
                    if (d.enrollment_mode == m.substr(1)) keep = false;
                } else {
                    any_include = true;
                    included |= d.enrollment_mode == m;
                }
            }
            if (!keep || (any_include && !included)) continue;
            all.push_back(domain_json(t, d, nullptr));
        }
        return json::value(page(std::move(all), *p));
    });
    if (!r) return r.error();
    return backend::json_reply(*r);
}

api_result<reply> bapi_create_domain(app& a, request_ctx& ctx) {
    auto raw = backend::required_body_string(ctx, "name", 253);
    if (!raw) return raw.error();
    auto name = normalize_domain(*raw);
    if (!name)
        return param_error(code::form_param_format_invalid, "name", "name must be a domain such as example.com.");
    auto m = backend::body_string(ctx, "enrollment_mode", 64);
    if (!m) return m.error();
    auto mode = mode_param(a, *m, false);
    if (!mode) return mode.error();
    auto verified = backend::body_bool(ctx, "verified");
    if (!verified) return verified.error();
    return backend::write_json(a, "create_domain", [&](store::write_txn& w) -> api_result<json::value> {
        auto o = path_organization(w, ctx);
        if (!o) return o.error();
        auto made = new_domain(w, o->id, *name, *mode, ctx.now);
        if (!made) return made.error();
        auto& d = *made;
        mark_verified(d, verified->value_or(true), ctx.now);
        return add_domain(a, w, d, nullptr);
    });
}

api_result<reply> bapi_update_domain(app& a, request_ctx& ctx) {
    auto m = backend::body_string(ctx, "enrollment_mode", 64);
    if (!m) return m.error();
    std::optional<std::string> mode;
    if (*m && !(*m)->empty()) {
        auto v = mode_param(a, *m, true);
        if (!v) return v.error();
        mode = *v;
    }
    auto verified = backend::body_bool(ctx, "verified");
    if (!verified) return verified.error();
    return backend::write_json(a, "update_domain", [&](store::write_txn& w) -> api_result<json::value> {
        auto o = path_organization(w, ctx);
        if (!o) return o.error();
        auto d = domain_in(w, o->id, ctx.params.get("domain_id"));
        if (!d) return d.error();
        if (mode) d->enrollment_mode = *mode;
        if (*verified) mark_verified(*d, **verified, ctx.now);
        d->updated_at = std::max(ctx.now, d->updated_at + 1);
        if (auto r = w.organizations().put_domain(*d); !r) return store_error(r.error(), "update_domain");
        auto j = domain_json(w, *d, nullptr);
        if (auto e = events::emit(a, w, "organizationDomain.updated", j); !e) return store_error(e.error(), "webhook");
        return json::value(std::move(j));
    });
}

api_result<reply> bapi_delete_domain(app& a, request_ctx& ctx) {
    return backend::write_json(a, "delete_domain", [&](store::write_txn& w) -> api_result<json::value> {
        auto o = path_organization(w, ctx);
        if (!o) return o.error();
        auto d = domain_in(w, o->id, ctx.params.get("domain_id"));
        if (!d) return d.error();
        if (auto r = w.organizations().remove_domain(d->id); !r) return store_error(r.error(), "delete_domain");
        auto j = views::deleted_object("organization_domain", d->id);
        if (auto e = events::emit(a, w, "organizationDomain.deleted", j); !e) return store_error(e.error(), "webhook");
        return json::value(std::move(j));
    });
}

}  // namespace latchkey::server::api::orgs
