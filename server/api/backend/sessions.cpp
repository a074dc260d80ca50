#include "server/api/backend/handlers.hpp"

namespace latchkey::server::api::backend {

api_result<reply> list_sessions(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> get_session(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> revoke_session(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> verify_session(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> create_session_token(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> create_session_template_token(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

}  // namespace latchkey::server::api::backend
