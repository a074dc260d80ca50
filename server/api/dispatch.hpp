#pragma once
// Where transport meets the API: parses the request into a request_ctx, applies CORS, auth and limits,
// runs the handler (hopping to the hash pool when the route says so), and renders Clerk's envelopes.
#include "server/api/context.hpp"
#include "server/http/server.hpp"

#include <boost/asio/any_io_executor.hpp>

namespace latchkey::server::api {

enum class api_kind { frontend, backend };

class api_service final : public service {
public:
    api_service(app& a, route_table const& routes, api_kind kind, net::any_io_executor hash_pool);

    net::awaitable<void> handle(request& req, response& res, connection_info const& ci,
                                std::string_view* static_body = nullptr) override;
    void transport_error(response& res, transport_failure failure, std::string_view detail) override;
    /// With a store whose commits wait on the network (PostgreSQL, issue 16): every request that may write (not
    /// GET/HEAD/OPTIONS, and not a session token mint, which only reads) runs on the pool, off the I/O threads.
    void offload_writes(bool on) noexcept { offload_writes_ = on; }

private:
    /// Runs parsing, auth and the handler synchronously; returns false when `res` is already final.
    api_result<reply> invoke(route_entry const& route, request_ctx& ctx);
    void finish(response& res, request_ctx& ctx, api_result<reply>& r);

    app& app_;
    route_table const& routes_;
    api_kind kind_;
    net::any_io_executor hash_pool_;
    std::string default_image_url_;  ///< <frontend_api>/v1/avatar/default
    std::size_t metric_base_ = 0;    ///< the metrics slot of route 0; route i is base + i, unmatched base + size
    bool offload_writes_ = false;    ///< see offload_writes
};

/// True when `origin` (an exact serialised origin) is on the instance's site (inst.site_domain): the same
/// scheme and port as the FAPI and a host that is the site domain or a subdomain of it.
bool on_site(app const& a, std::string_view origin);

/// True when `origin` may make credentialed requests to the FAPI: allowed_origins, the FAPI's own origin, an
/// origin on the instance's site (on_site), and in a development instance without a list, local origins.
bool origin_allowed(app const& a, std::string_view origin);

/// THE check for every redirect target the API accepts or stores (`redirect_url`,
/// `action_complete_redirect_url`, `after_*_url`): `url` re-serialised from its parse (server/http/guard.hpp)
/// when it is an absolute http(s) URL without userinfo or control characters whose origin is the instance's
/// own, an app origin (origin_allowed) or one of `allowed_redirect_origins`; nullopt otherwise.
std::optional<std::string> allowed_redirect(app const& a, std::string_view url);

}  // namespace latchkey::server::api
