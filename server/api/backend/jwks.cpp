#include "server/api/backend/handlers.hpp"

#include "crypto/keys.hpp"

namespace latchkey::server::api::backend {

api_result<reply> get_jwks(app& a, request_ctx&) { return reply{http::status::ok, crypto::jwks_json(a.keys), {}}; }

}  // namespace latchkey::server::api::backend
