#include "server/api/frontend/handlers.hpp"

namespace latchkey::server::api::frontend {

api_result<reply> get_environment(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> patch_environment(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

}  // namespace latchkey::server::api::frontend
