#include "server/api/frontend/handlers.hpp"

namespace latchkey::server::api::frontend {

api_result<reply> create_sign_in(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> get_sign_in(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> reset_password(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> prepare_first_factor(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> attempt_first_factor(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> prepare_second_factor(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> attempt_second_factor(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

}  // namespace latchkey::server::api::frontend
