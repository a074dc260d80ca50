#include "server/api/backend/handlers.hpp"

namespace latchkey::server::api::backend {

api_result<reply> get_instance(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

}  // namespace latchkey::server::api::backend
