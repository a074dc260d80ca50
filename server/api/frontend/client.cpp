#include "server/api/frontend/handlers.hpp"

namespace latchkey::server::api::frontend {

api_result<reply> get_client(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> create_client(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> delete_client(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

api_result<reply> handshake(app&, request_ctx&) {  // PENDING
    return make_error(code::resource_not_found);
}

}  // namespace latchkey::server::api::frontend
