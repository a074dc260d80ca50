#include "server/api/error.hpp"

#include "server/log.hpp"
#include "store/error.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/throw_exception.hpp>

#include <stdexcept>

namespace latchkey::server::api {

namespace {

struct code_entry {
    std::string_view name;
    http::status status;
    std::string_view message;
    std::string_view long_message;
};

constexpr code_entry table[] = {
#define LATCHKEY_X(name, st, msg, long_msg) {#name, http::status::st, msg, long_msg},
    LATCHKEY_API_ERRORS(LATCHKEY_X)
#undef LATCHKEY_X
};

code_entry const& entry(code c) noexcept { return table[static_cast<std::size_t>(c)]; }

}  // namespace

api_error store_error(boost::system::error_code ec, std::string_view what, std::string_view param) {
    if (ec == store::make_error_code(store::errc::key_exists))
        return param_error(code::form_identifier_exists, param.empty() ? "identifier" : param);
    log::error("store_error", {{"op", what}, {"error", ec.message()}});
    if (ec == store::make_error_code(store::errc::map_full)) return make_error(code::storage_full);
    if (ec == store::make_error_code(store::errc::unavailable) || ec == store::make_error_code(store::errc::conflict))
        return make_error(code::store_unavailable);
    return make_error(code::internal_clerk_error);
}

void throw_exception_from_error(api_error const& e, boost::source_location const& loc) {
    boost::throw_exception(std::runtime_error(std::string(code_name(e.code))), loc);
}

std::string_view code_name(code c) noexcept { return entry(c).name; }

http::status code_status(code c) noexcept { return entry(c).status; }

api_error make_error(code c) {
    auto const& e = entry(c);
    return api_error{e.status, c, std::string(e.message), std::string(e.long_message), {}};
}

api_error param_error(code c, std::string_view param_name, std::string_view long_message) {
    api_error e = make_error(c);
    e.meta["param_name"] = param_name;
    if (!long_message.empty())
        e.long_message = std::string(long_message);
    else if (code_name(c).starts_with("form_param_"))
        e.long_message = std::string(param_name) + " " + e.message;
    return e;
}

boost::json::object error_object(api_error const& e) {
    boost::json::object err;
    err["code"] = code_name(e.code);
    err["message"] = e.message;
    err["long_message"] = e.long_message;
    err["meta"] = e.meta;
    return err;
}

std::string render_errors(api_error const& e, std::string_view trace_id) {
    boost::json::object root;
    root["errors"] = boost::json::array{error_object(e)};
    root["clerk_trace_id"] = trace_id;
    return boost::json::serialize(root);
}

}  // namespace latchkey::server::api
