// Linking provider identities to the signed-in user (issue 15): clerk-js's `user.createExternalAccount({strategy,
// redirectUrl})` (POST /v1/me/external_accounts), `externalAccount.reauthorize()` (PATCH .../{id}/reauthorize),
// and DELETE .../{id}/tokens; the callback half of the round trip (/v1/oauth_callback with a state naming a user).
//
// The pending round trip of a user lives under the meta key "oauth_link:<user id>" (one per user: a new one
// replaces the last), as JSON: the client that started it, the account it links (a new eac_ id or the
// reauthorized one), the strategy, state, PKCE verifier, nonce and where the browser goes back to.
#include "server/api/federation/accounts.hpp"
#include "server/api/federation/links.hpp"
#include "server/api/federation/oauth2.hpp"

#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "server/api/app.hpp"
#include "server/api/events.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/frontend/identity.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"
#include "server/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace latchkey::server::api::federation {

namespace json = boost::json;

namespace {

std::string link_key(std::string_view user_id) { return "oauth_link:" + std::string(user_id); }

struct pending_link {
    std::string client_id, account_id, strategy, state, code_verifier, nonce, redirect_url;
    std::int64_t expire_at = 0;
    std::string scopes{};  ///< what the authorization request asked for (space-separated)
};

std::string to_json(pending_link const& l) {
    return json::serialize(json::object{{"client_id", l.client_id},
                                        {"account_id", l.account_id},
                                        {"strategy", l.strategy},
                                        {"state", l.state},
                                        {"code_verifier", l.code_verifier},
                                        {"nonce", l.nonce},
                                        {"redirect_url", l.redirect_url},
                                        {"expire_at", l.expire_at},
                                        {"scopes", l.scopes}});
}

std::optional<pending_link> from_json(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    auto const& o = v.get_object();
    auto s = [&](std::string_view k) {
        auto const* x = o.if_contains(k);
        return x != nullptr && x->is_string() ? std::string(x->get_string()) : std::string();
    };
    pending_link l{s("client_id"),     s("account_id"), s("strategy"),    s("state"),
                   s("code_verifier"), s("nonce"),      s("redirect_url")};
    if (auto const* e = o.if_contains("expire_at"); e != nullptr && e->is_int64()) l.expire_at = e->get_int64();
    l.scopes = s("scopes");
    return l;
}

/// An account a linking round trip started and has not proven (no provider identity yet).
bool unproven(store::external_account_record const& e) { return e.provider_user_id.empty(); }

/// The client of this browser: its __client cookie, or (development instances) its dev browser's client.
store::result<std::optional<std::string>> browser_client(app& a, request_ctx const& ctx, store::read_txn const& t) {
    if (auto const* cookie = frontend::find_cookie(a, ctx, "__client"); cookie != nullptr && !cookie->empty())
        return frontend::verify_client_token(a, t, *cookie);
    auto const* db = frontend::find_cookie(a, ctx, "__clerk_db_jwt");
    if (a.inst.production || db == nullptr || db->empty()) return std::optional<std::string>{};
    auto rec = t.dev_browsers().get(*db);
    if (!rec) return rec.error();
    if (!*rec) return std::optional<std::string>{};
    return std::optional<std::string>((*rec)->client_id);
}

/// The user signed in on client `client_id` (its last active session, live), or "".
store::result<std::string> signed_in_user(store::read_txn const& t, std::string const& client_id, std::int64_t now) {
    auto c = t.clients().get(client_id);
    if (!c) return c.error();
    if (!*c || (*c)->last_active_session_id.empty()) return std::string{};
    auto s = t.sessions().get((*c)->last_active_session_id);
    if (!s) return s.error();
    if (!*s || (*s)->client_id != client_id || !views::session_live(**s, now)) return std::string{};
    return (*s)->user_id;
}

/// A pending round trip as the callback found it: `valid` when the state matches, it has not lapsed and the
/// browser may finish it; else the browser that started it came back with a wrong or missing state.
struct found_link {
    pending_link l;
    std::string user_id;
    bool valid = false;
};

/// The account JSON while its round trip is pending: Clerk's verification says unverified and where to go.
json::object pending_json(store::external_account_record const& ea, store::oauth_flow_record const& flow) {
    auto o = external_account_json(ea);
    o["verification"] = verification_json(flow, flow.verification);
    return o;
}

/// clerk-js's additionalScopes: `additional_scope` repeated (or comma/space-separated). Scope tokens are RFC 6749
/// NQCHAR runs; at most 20 of 128 characters each.
api_result<std::vector<std::string>> additional_scopes(request_ctx const& ctx) {
    std::vector<std::string> out;
    for (auto const& v : ctx.form.all("additional_scope", true)) {
        std::string_view rest = v;
        while (!rest.empty()) {
            auto const sp = rest.find(' ');
            auto const word = rest.substr(0, sp);
            if (!word.empty()) {
                bool ok = word.size() <= 128 && std::all_of(word.begin(), word.end(), [](char c) {
                              return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
                          });
                if (!ok || out.size() >= 20) return param_error(code::form_param_value_invalid, "additional_scope");
                out.emplace_back(word);
            }
            if (sp == std::string_view::npos) break;
            rest.remove_prefix(sp + 1);
        }
    }
    return out;
}

/// Starts the round trip for the signed-in user: `account_id` "" links a new account for `strategy`, else
/// reauthorizes that account (its provider is the strategy).
api_result<reply> begin(app& a, request_ctx& ctx, std::string strategy, std::string const& account_id) {
    auto me = txn::read(a, "external_account_begin", [&](store::read_txn& t) -> api_result<frontend::current_user> {
        return frontend::load_current_user(a, ctx, t);
    });
    if (!me) return me.error();
    store::external_account_record ea;
    if (!account_id.empty()) {
        auto const& accounts = me->user.external_accounts;
        auto it = std::find_if(accounts.begin(), accounts.end(), [&](auto const& e) { return e.id == account_id; });
        if (it == accounts.end()) return make_error(code::resource_not_found);
        ea = *it;
        strategy = ea.provider;
    } else {
        if (strategy.empty()) return param_error(code::form_param_missing, "strategy");
        ea.id = crypto::new_id("eac");
        ea.provider = strategy;
        ea.created_at = ea.updated_at = ctx.now;
    }
    auto extra = additional_scopes(ctx);
    if (!extra) return extra.error();
    store::oauth_flow_record flow;
    if (auto r = start(a, ctx, strategy, me->user.id, flow, *extra); !r) return r.error();
    auto const* p = find_provider(a, strategy);
    pending_link l{me->client.id,
                   ea.id,
                   strategy,
                   flow.state,
                   flow.code_verifier,
                   flow.nonce,
                   flow.redirect_url,
                   flow.verification.expire_at,
                   p != nullptr ? scope_string(*p, *extra) : std::string{}};
    if (account_id.empty()) {
        // A new link shows on the user as an unverified account until its round trip ends (Clerk's shape).
        ea.identification_id = crypto::new_id("idn");
        ea.verification_status = "unverified";
        ea.verification_expire_at = flow.verification.expire_at;
    }
    // The reply (the pending account and the client showing the user with it) is staged in the write.
    auto staged = txn::write<frontend::staged_reply>(
        a, "external_account_begin", txn::on_client_error::abort,
        [&](store::write_txn& tx) -> store::result<api_result<frontend::staged_reply>> {
            if (auto r = tx.meta().put(link_key(me->user.id), to_json(l)); !r) return r.error();
            if (account_id.empty()) {
                auto u = tx.users().get(me->user.id);
                if (!u) return u.error();
                if (!*u) return api_result<frontend::staged_reply>(make_error(code::authentication_invalid));
                store::user_record user = std::move(**u);
                store::user_record const before = user;
                // One unproven account per provider: a new round trip replaces the last one's.
                std::erase_if(user.external_accounts,
                              [&](auto const& e) { return e.provider == strategy && unproven(e); });
                user.external_accounts.push_back(ea);
                user.updated_at = ctx.now;
                if (auto r = tx.users().put(user, &before); !r) return r.error();
            }
            return frontend::stage_reply(a, ctx, tx, pending_json(ea, flow));
        });
    if (!staged) return staged.error();
    return frontend::envelope(a, ctx, *staged);
}

}  // namespace

api_result<reply> create_external_account(app& a, request_ctx& ctx) {
    return begin(a, ctx, frontend::field(ctx, "strategy").value_or(""), {});
}

api_result<reply> reauthorize_external_account(app& a, request_ctx& ctx) {
    std::string const id(ctx.params.get("external_account_id"));
    return begin(a, ctx, {}, id);
}

api_result<reply> revoke_external_account_tokens(app& a, request_ctx& ctx) {
    std::string const id(ctx.params.get("external_account_id"));
    std::optional<store::user_record> after;
    auto w = txn::write(a, "revoke_external_account_tokens", txn::on_client_error::abort,
                        [&](store::write_txn& tx) -> store::result<api_result<void>> {
                            auto me = frontend::load_current_user(a, ctx, tx);
                            if (!me) return api_result<void>(me.error());
                            store::user_record const before = me->user;
                            auto& accounts = me->user.external_accounts;
                            auto it = std::find_if(accounts.begin(), accounts.end(),
                                                   [&](auto const& e) { return e.id == id; });
                            if (it == accounts.end()) return api_result<void>(make_error(code::resource_not_found));
                            revoke_after_commit(a, tx, *it);
                            forget_tokens(*it);
                            it->updated_at = me->user.updated_at = ctx.now;
                            if (auto r = tx.users().put(me->user, &before); !r) return r.error();
                            after = std::move(me->user);
                            return api_result<void>();
                        });
    if (!w) return w.error();
    return frontend::envelope(
        a, ctx, views::user(*after, views::audience::frontend, frontend::lockout_now(a, *after, ctx.now)));
}

api_result<reply> link_callback(app& a, request_ctx& ctx, std::string const& user_id, std::string const& state,
                                std::string const& code_param, std::string const& error_param) {
    // 1. The pending round trip (read only; nothing is held across the exchange): the user the state names, else
    //    (no usable state) the one signed in on this browser.
    auto pending = txn::read(a, "oauth_link", [&](store::read_txn& t) -> store::result<std::optional<found_link>> {
        auto browser = browser_client(a, ctx, t);
        if (!browser) return browser.error();
        std::string uid = user_id;
        if (uid.empty() && *browser) {
            auto signed_in = signed_in_user(t, **browser, ctx.now);
            if (!signed_in) return signed_in.error();
            uid = std::move(*signed_in);
        }
        if (uid.empty()) return std::optional<found_link>{};
        auto v = t.meta().get(link_key(uid));
        if (!v) return v.error();
        auto l = *v ? from_json(**v) : std::nullopt;
        if (!l || l->state.empty()) return std::optional<found_link>{};
        found_link f{*l, uid};
        f.valid = !state.empty() && crypto::equal_ct(l->state, state) && l->expire_at >= ctx.now &&
                  (!*browser || **browser == l->client_id);
        // A wrong, missing or lapsed state fails the round trip only for the browser that started it.
        if (!f.valid && !(*browser && crypto::equal_ct(**browser, l->client_id))) return std::optional<found_link>{};
        return f;
    });
    if (!pending) return pending.error();
    if (!*pending) return param_error(code::oauth_callback_invalid, "state");
    auto const& l = (*pending)->l;
    auto const& uid = (*pending)->user_id;
    auto const* p = find_provider(a, l.strategy);

    // 2. The exchange, outside any txn (the callback runs on the pool).
    exchange_outcome out;
    if (!(*pending)->valid || p == nullptr) {
        out.error = std::string(code_name(code::oauth_callback_invalid));
    } else if (!error_param.empty()) {
        out.error = std::string(code_name(code::oauth_access_denied));
    } else if (code_param.empty() || code_param.size() > 2048) {
        return param_error(code::form_param_missing, "code");
    } else {
        store::oauth_flow_record flow;
        flow.strategy = l.strategy;
        flow.code_verifier = l.code_verifier;
        flow.nonce = l.nonce;
        out = exchange(a, *p, code_param, flow, ctx.now / 1000);
    }

    // 3. One write: the round trip is spent whatever happens; a proven identity joins the user unless another
    //    user already has it; a failure shows on the account the round trip started (its verification.error).
    auto w = txn::write(
        a, "oauth_link_callback", txn::on_client_error::commit,
        [&](store::write_txn& tx) -> store::result<api_result<void>> {
            auto v = tx.meta().get(link_key(uid));
            if (!v) return v.error();
            auto now_pending = *v ? from_json(**v) : std::nullopt;
            if (!now_pending || !crypto::equal_ct(now_pending->state, l.state))
                return api_result<void>(param_error(code::oauth_callback_invalid, "state"));
            if (auto r = tx.meta().remove(link_key(uid)); !r) return r.error();
            auto u = tx.users().get(uid);
            if (!u) return u.error();
            if (!*u) return api_result<void>();
            store::user_record user = std::move(**u);
            store::user_record const before = user;
            auto& accounts = user.external_accounts;
            auto save = [&]() -> store::result<api_result<void>> {
                user.updated_at = ctx.now;
                if (auto r = tx.users().put(user, &before); !r) return r.error();
                if (auto e = events::user_changed(a, tx, "user.updated", user, &ctx); !e) return e.error();
                return api_result<void>();
            };
            auto by_id = [&](std::string const& id) {
                return std::find_if(accounts.begin(), accounts.end(), [&](auto const& e) { return e.id == id; });
            };
            std::string failure = out.who ? std::string{} : out.error;
            std::string key;
            if (out.who) {
                key = identity_key(out.who->identity.provider, out.who->identity.provider_user_id);
                auto owner = tx.users().id_by_identification(key);
                if (!owner) return owner.error();
                // Another user signs in with this identity: it is not moved.
                if (*owner && **owner != uid) failure = std::string(code_name(code::external_account_exists));
            }
            if (!failure.empty()) {
                log::info("oauth_link_failed", {{"user_id", uid}, {"error", failure}});
                auto started = by_id(l.account_id);
                if (started == accounts.end()) return api_result<void>();
                started->verification_status = "failed";
                started->verification_error = failure;
                started->verification_expire_at = 0;
                started->updated_at = ctx.now;
                return save();
            }
            auto const& who = out.who->identity;
            // The token answer's scope; else what was asked for (RFC 6749 5.1: omitted = as requested).
            auto const scopes = !out.scopes.empty() ? out.scopes : l.scopes;
            auto it = std::find_if(accounts.begin(), accounts.end(), [&](auto const& e) {
                return e.provider == who.provider && e.provider_user_id == who.provider_user_id;
            });
            auto started = by_id(l.account_id);
            if (it == accounts.end()) {
                store::external_account_record ea = who;
                // The account the round trip started (unproven until now) becomes the proven one; a
                // reauthorization that proved another identity makes a new account.
                bool const reuse = started == accounts.end() || unproven(*started);
                ea.id = reuse ? l.account_id : crypto::new_id("eac");
                ea.identification_id = key;
                ea.approved_scopes = !scopes.empty() ? scopes : who.approved_scopes;
                ea.created_at = reuse && started != accounts.end() ? started->created_at : ctx.now;
                ea.updated_at = ctx.now;
                if (reuse && started != accounts.end())
                    *started = std::move(ea);
                else
                    accounts.push_back(std::move(ea));
            } else {
                // Reauthorized (or linked again): the profile and the tokens are the provider's latest.
                auto const id = it->id;
                auto const created = it->created_at;
                auto const refresh = it->refresh_token_sealed;
                *it = who;
                it->id = id;
                it->identification_id = key;
                it->created_at = created;
                it->updated_at = ctx.now;
                if (it->refresh_token_sealed.empty()) it->refresh_token_sealed = refresh;
                if (!scopes.empty()) it->approved_scopes = scopes;
                // The identity was linked already: the account this round trip started is not needed.
                std::erase_if(accounts, [&](auto const& e) { return e.id == l.account_id && unproven(e); });
            }
            return save();
        });
    if (!w) return w.error();
    return redirect_see_other(l.redirect_url);
}

}  // namespace latchkey::server::api::federation
