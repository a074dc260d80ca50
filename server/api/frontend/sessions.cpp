#include "server/api/frontend/handlers.hpp"

namespace latchkey::server::api::frontend {

api_result<reply> end_all_sessions(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> get_session(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> touch_session(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> end_session(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> remove_session(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> create_session_token(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> create_session_template_token(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

}  // namespace latchkey::server::api::frontend
