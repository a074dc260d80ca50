#include "server/api/backend/handlers.hpp"

namespace latchkey::server::api::backend {

api_result<reply> list_clients(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> verify_client(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> get_client(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> get_handshake_payload(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

}  // namespace latchkey::server::api::backend
