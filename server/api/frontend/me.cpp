#include "server/api/frontend/handlers.hpp"

namespace latchkey::server::api::frontend {

api_result<reply> get_me(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> update_me(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> delete_me(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> update_me_metadata(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> create_me_token(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> change_password(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> remove_password(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> me_sessions(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> me_active_sessions(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> me_revoke_session(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> list_email_addresses(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> create_email_address(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> get_email_address(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> delete_email_address(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> prepare_email_verification(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> attempt_email_verification(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> list_phone_numbers(app&, request_ctx&) {  // PENDING
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

api_result<reply> prepare_phone_verification(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> attempt_phone_verification(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

}  // namespace latchkey::server::api::frontend
