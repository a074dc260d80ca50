#pragma once
// The outbound HTTP client for OAuth providers (server/api/federation): libcurl, certificate verification on,
// a whole-transfer timeout per provider, answers bounded to max_fetch_bytes, no redirects followed, and plain
// http only for providers configured with allow_http. Blocking: call it off the I/O threads.
#include "server/api/federation/federation.hpp"

namespace latchkey::server::federation {

class curl_fetcher final : public api::federation::fetcher {
public:
    ~curl_fetcher() override { stop_revocations(); }
    api::federation::fetch_reply fetch(conf::oauth_provider const& p, api::federation::fetch_request const& r) override;
};

}  // namespace latchkey::server::federation
