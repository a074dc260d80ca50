#include "server/api/backend/handlers.hpp"

namespace latchkey::server::api::backend {

api_result<reply> list_users(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> create_user(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> count_users(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> get_user(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> update_user(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> delete_user(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> ban_user(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> unban_user(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> lock_user(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> unlock_user(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> update_user_metadata(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> verify_password(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> remove_user_password(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

}  // namespace latchkey::server::api::backend
