#include "server/api/backend/handlers.hpp"

namespace latchkey::server::api::backend {

api_result<reply> create_email_address(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> get_email_address(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> update_email_address(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> delete_email_address(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> create_phone_number(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> get_phone_number(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> update_phone_number(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> delete_phone_number(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

}  // namespace latchkey::server::api::backend
