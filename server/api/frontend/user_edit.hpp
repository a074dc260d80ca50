#pragma once
// THE write of the signed-in user's own account (/v1/me, its second factors, passkeys and web3 wallets): load the
// current user in one write txn, apply the handler's edit, save the user, and stage the reply (the response and the
// client its envelope shows) in that same txn, so the reply is rendered after the commit without another read.
#include "server/api/frontend/common.hpp"
#include "server/api/txn.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string_view>
#include <utility>

namespace latchkey::server::api::frontend {

/// Saves the edited current user `u` (was `previous`): a newer updated_at, the put (a taken unique field is 422
/// form_identifier_exists naming that field, or `taken_param` when given), the setup-mfa task's sessions
/// activated when the edit enabled a second factor, and — when `announce` — the user.updated event.
api_result<void> save_current_user(app& a, request_ctx const& ctx, store::write_txn& w, store::user_record& u,
                                   store::user_record const& previous, bool announce,
                                   std::string_view taken_param = {});

/// Runs `edit(current_user&, write_txn&, bool& spent) -> api_result<boost::json::value>` (the response) on the
/// current user in one write txn and replies with the envelope staged in it. The user's updated_at is already
/// the request's time when `edit` renders. A refusal (an error) lands nothing unless the edit set `spent` (a used
/// challenge, a counted attempt): then the user is saved, unannounced, and the refusal answers.
template <class Edit>
api_result<reply> edit_current_user(app& a, request_ctx& ctx, std::string_view what, Edit&& edit,
                                    std::string_view taken_param = {}) {
    // What the write ends with: the staged reply, or a spent refusal that commits (any other refusal aborts).
    struct outcome {
        std::optional<staged_reply> staged;
        std::optional<api_error> spent_refusal;
    };
    auto done =
        txn::write<outcome>(a, what, txn::on_client_error::abort, [&](store::write_txn& w) -> api_result<outcome> {
            auto m = load_current_user(a, ctx, w);
            if (!m) return m.error();
            store::user_record const previous = m->user;
            m->user.updated_at = ctx.now;
            bool spent = false;
            api_result<boost::json::value> r = edit(*m, w, spent);
            if (!r && !spent) return r.error();
            if (auto s = save_current_user(a, ctx, w, m->user, previous, r.has_value(), taken_param); !s)
                return s.error();
            if (!r) return outcome{std::nullopt, r.error()};
            auto staged = stage_reply(a, ctx, w, std::move(*r));
            if (!staged) return staged.error();
            return outcome{std::move(*staged), std::nullopt};
        });
    if (!done) return done.error();
    if (done->spent_refusal) return std::move(*done->spent_refusal);
    return envelope(a, ctx, *done->staged);
}

/// Replies with `view(current_user&) -> api_result<boost::json::value>` (the response) of the current user and the
/// client, both read in one read txn.
template <class View>
api_result<reply> view_current_user(app& a, request_ctx& ctx, std::string_view what, View&& view) {
    auto staged = txn::read<staged_reply>(a, what, [&](store::read_txn& t) -> api_result<staged_reply> {
        auto m = load_current_user(a, ctx, t);
        if (!m) return m.error();
        api_result<boost::json::value> r = view(*m);
        if (!r) return r.error();
        return stage_reply(a, ctx, t, std::move(*r));
    });
    if (!staged) return staged.error();
    return envelope(a, ctx, *staged);
}

/// Replies with `render(item)` (the response) of the current user's item `find(user_record&)` points at (404
/// resource_not_found when it finds none) and the client, both read in one read txn.
template <class Find, class Render>
api_result<reply> view_user_item(app& a, request_ctx& ctx, std::string_view what, Find&& find, Render&& render) {
    return view_current_user(a, ctx, what, [&](current_user& m) -> api_result<boost::json::value> {
        auto const* item = find(m.user);
        if (item == nullptr) return make_error(code::resource_not_found);
        return boost::json::value(render(*item));
    });
}

}  // namespace latchkey::server::api::frontend
