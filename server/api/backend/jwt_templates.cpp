#include "server/api/backend/handlers.hpp"

namespace latchkey::server::api::backend {

api_result<reply> list_jwt_templates(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> create_jwt_template(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> get_jwt_template(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> update_jwt_template(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> delete_jwt_template(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

}  // namespace latchkey::server::api::backend
