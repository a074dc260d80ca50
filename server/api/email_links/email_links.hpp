#pragma once
// Email links (issue 14, the `email_link` strategy): sign-in first factor, sign-up email verification and the
// signed-in user's email address verification. A prepare stores a challenge in the attempt's verification
// record (the HMAC of a random secret, the expiry, the checked redirect_url) and emails
// <frontend_api>/v1/verify?token=<owner id>.<target>.<secret>, so a token is bound to one attempt and one
// address. GET /v1/verify checks it (constant-time, single use, expiry), marks the verification verified
// with `verified_at_client` (the opener's client, if any), completes the attempt on the attempt's OWN client
// (the original tab's polling sees it) and 303s to the redirect_url with `__clerk_status` (verified | expired
// | failed) and, when a session was created, `__clerk_created_session`, as clerk-js's
// handleEmailLinkVerification reads them. Without a redirect_url it answers a small HTML page.
#include "server/api/context.hpp"
#include "store/store.hpp"

#include <string>
#include <string_view>

namespace latchkey::server::api::email_links {

inline constexpr std::string_view strategy = "email_link";

/// Whether the instance uses email links: "email_link" is one of cfg.first_factors (which also lists it in the
/// environment as a first factor and an email verification strategy).
bool enabled(app const& a);

/// For a prepare: 422 form_param_value_invalid (strategy) unless enabled(); else the `redirect_url`
/// re-serialised by api::allowed_redirect ("" when absent), or 422 form_param_value_invalid (redirect_url) when
/// it points anywhere else.
api_result<std::string> checked_redirect(app const& a, request_ctx const& ctx);

/// Starts a link challenge in `v` for the attempt or user `owner_id` (sia_, sua_, user_) and `target_id`
/// (the identification id; "" for a sign-up's address) and queues the email to `to` in `w`.
api_result<void> prepare(app& a, request_ctx const& ctx, store::write_txn& w, store::verification_record& v,
                         std::string_view owner_id, std::string_view target_id, std::string_view to,
                         std::string redirect_url, std::string_view user_id);

/// FAPI GET /v1/verify?token=.
api_result<reply> verify(app& a, request_ctx& ctx);

/// sign_ins.cpp: the first factor of `si` was proven by a link: complete it (or move it to its second factor)
/// on its own client, writing the user, the client and the session as a password sign-in would.
api_result<void> complete_sign_in(app& a, request_ctx& ctx, store::write_txn& w, store::sign_in_record& si);

}  // namespace latchkey::server::api::email_links
