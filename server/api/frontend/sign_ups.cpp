#include "server/api/frontend/handlers.hpp"

namespace latchkey::server::api::frontend {

api_result<reply> create_sign_up(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> get_sign_up(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> update_sign_up(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> prepare_sign_up_verification(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> attempt_sign_up_verification(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

}  // namespace latchkey::server::api::frontend
