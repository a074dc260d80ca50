// GET /metrics: the operator metrics in the Prometheus text format (server/metrics.hpp), on the backend listener
// behind the BAPI's secret key (Prometheus: `authorization: {credentials: sk_...}`).
#include "server/metrics.hpp"
#include "server/api/backend/handlers.hpp"

namespace latchkey::server::api::backend {

api_result<reply> get_metrics(app& a, request_ctx&) {
    reply out;
    out.content_type = "text/plain; version=0.0.4; charset=utf-8";
    if (a.metrics != nullptr) out.body = a.metrics->render();
    return out;
}

}  // namespace latchkey::server::api::backend
