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
    auto w = txn::write(a, "external_account_begin", txn::on_client_error::abort,
                        [&](store::write_txn& tx) { return tx.meta().put(link_key(me->user.id), to_json(l)); });
    if (!w) return w.error();
    return frontend::envelope(a, ctx, pending_json(ea, flow));
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
    // 1. The pending round trip (read only; nothing is held across the exchange).
    auto pending = txn::read(a, "oauth_link", [&](store::read_txn& t) -> store::result<std::optional<pending_link>> {
        auto v = t.meta().get(link_key(user_id));
        if (!v) return v.error();
        if (!*v) return std::optional<pending_link>{};
        auto l = from_json(**v);
        if (!l || l->state.empty() || !crypto::equal_ct(l->state, state) || l->expire_at < ctx.now ||
            !same_browser(a, ctx, t, l->client_id))
            return std::optional<pending_link>{};
        return l;
    });
    if (!pending) return pending.error();
    if (!*pending) return param_error(code::oauth_callback_invalid, "state");
    auto const& l = **pending;
    auto const* p = find_provider(a, l.strategy);
    if (p == nullptr) return param_error(code::oauth_callback_invalid, "state");

    // 2. The exchange, outside any txn (the callback runs on the pool).
    exchange_outcome out;
    if (!error_param.empty()) {
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
    //    user already has it.
    auto w = txn::write(
        a, "oauth_link_callback", txn::on_client_error::commit,
        [&](store::write_txn& tx) -> store::result<api_result<void>> {
            auto v = tx.meta().get(link_key(user_id));
            if (!v) return v.error();
            auto now_pending = *v ? from_json(**v) : std::nullopt;
            if (!now_pending || !crypto::equal_ct(now_pending->state, state))
                return api_result<void>(param_error(code::oauth_callback_invalid, "state"));
            if (auto r = tx.meta().remove(link_key(user_id)); !r) return r.error();
            auto u = tx.users().get(user_id);
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
            std::string failure = out.who ? std::string{} : out.error;
            std::string key;
            if (out.who) {
                key = identity_key(out.who->identity.provider, out.who->identity.provider_user_id);
                auto owner = tx.users().id_by_identification(key);
                if (!owner) return owner.error();
                // Another user signs in with this identity: it is not moved.
                if (*owner && **owner != user_id) failure = std::string(code_name(code::external_account_exists));
            }
            if (!failure.empty()) {
                log::info("oauth_link_failed", {{"user_id", user_id}, {"error", failure}});
                return api_result<void>();
            }
            auto const& who = out.who->identity;
            auto it = std::find_if(accounts.begin(), accounts.end(), [&](auto const& e) {
                return e.provider == who.provider && e.provider_user_id == who.provider_user_id;
            });
            if (it == accounts.end()) {
                auto ea = who;
                ea.id =
                    std::any_of(accounts.begin(), accounts.end(), [&](auto const& e) { return e.id == l.account_id; })
                        ? crypto::new_id("eac")  // a reauthorization that proved another identity: a new account
                        : l.account_id;
                ea.identification_id = key;
                // The token answer's scope; else what was asked for (RFC 6749 5.1: omitted = as requested).
                ea.approved_scopes = !out.scopes.empty() ? out.scopes
                                     : !l.scopes.empty() ? l.scopes
                                                         : who.approved_scopes;
                ea.created_at = ea.updated_at = ctx.now;
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
                if (!out.scopes.empty() || !l.scopes.empty())
                    it->approved_scopes = !out.scopes.empty() ? out.scopes : l.scopes;
            }
            return save();
        });
    if (!w) return w.error();
    return redirect_see_other(l.redirect_url);
}

}  // namespace latchkey::server::api::federation
