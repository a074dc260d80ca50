// Provider-side token revocation (issue 15, RFC 7009): when an account is unlinked or its tokens dropped, the
// provider is told, if it advertises a revocation endpoint. After the commit, on the fetcher's one background
// thread, so an answer never waits for a provider; failures are logged and forgotten.
#include "server/api/federation/accounts.hpp"
#include "server/api/federation/oauth2.hpp"

#include "server/api/app.hpp"
#include "server/log.hpp"

namespace latchkey::server::api::federation {

fetcher::~fetcher() { stop_revocations(); }

void fetcher::revoke_later(conf::oauth_provider const& p, std::string endpoint, std::string_view token,
                           std::string_view hint) {
    fetch_request r;
    r.post = true;
    r.url = std::move(endpoint);
    add_form_param(r.form, "token", token);
    add_form_param(r.form, "token_type_hint", hint);
    r.basic_user = p.client_id;
    r.basic_password = p.client_secret;
    std::lock_guard lk(rq_mu_);
    if (rq_stop_) return;
    if (rq_.size() >= max_queued_revocations) {
        log::warn("oauth_revocation_dropped", {{"provider", p.strategy}, {"reason", "queue full"}});
        return;
    }
    rq_.push_back({p, std::move(r)});
    if (!rq_thread_.joinable()) rq_thread_ = std::thread([this] { run_revocations(); });
    rq_cv_.notify_one();
}

void fetcher::stop_revocations() {
    {
        std::lock_guard lk(rq_mu_);
        rq_stop_ = true;
        rq_.clear();
    }
    rq_cv_.notify_all();
    if (rq_thread_.joinable() && rq_thread_.get_id() != std::this_thread::get_id()) rq_thread_.join();
}

std::size_t fetcher::revocations_sent() const {
    std::lock_guard lk(rq_mu_);
    return rq_sent_;
}

void fetcher::run_revocations() {
    for (;;) {
        revocation next;
        {
            std::unique_lock lk(rq_mu_);
            rq_cv_.wait(lk, [&] { return rq_stop_ || !rq_.empty(); });
            if (rq_stop_) return;
            next = std::move(rq_.front());
            rq_.pop_front();
        }
        auto res = fetch(next.p, next.r);
        bool const ok = res.status >= 200 && res.status < 300;
        if (ok) {
            std::lock_guard lk(rq_mu_);
            ++rq_sent_;
        }
        if (!ok)
            log::warn("oauth_revocation_failed",
                      {{"provider", next.p.strategy}, {"status", res.status}, {"error", res.error}});
    }
}

void revoke_after_commit(app& a, store::write_txn& w, store::external_account_record const& ea) {
    if (a.oauth_fetcher == nullptr) return;
    auto const* p = find_provider(a, ea.provider);
    if (p == nullptr) return;
    auto endpoint = endpoints_of(a, *p).revocation_endpoint;
    if (endpoint.empty()) return;
    // The refresh token ends the grant at most providers (RFC 7009 2.1); the access token otherwise.
    std::string hint = "refresh_token";
    auto token = open_refresh_token(a, ea);
    if (!token) hint = "access_token", token = open_access_token(a, ea);
    if (!token) return;
    w.after_commit([f = a.oauth_fetcher, provider = *p, endpoint = std::move(endpoint), token = std::move(*token),
                    hint = std::move(hint)]() mutable { f->revoke_later(provider, std::move(endpoint), token, hint); });
}

}  // namespace latchkey::server::api::federation
