#include "server/api/backend/common.hpp"

#include "server/api/domain/identifiers.hpp"
#include "server/api/views.hpp"
#include "server/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>

namespace latchkey::server::api::backend {

namespace json = boost::json;

namespace {
json::value const* find(request_ctx const& ctx, std::string_view key) {
    if (!ctx.body.is_object()) return nullptr;
    auto const* v = ctx.body.get_object().if_contains(key);
    return v;
}
}  // namespace

api_result<std::optional<std::string>> body_string(request_ctx const& ctx, std::string_view key, std::size_t max) {
    auto const* v = find(ctx, key);
    if (v == nullptr || v->is_null()) return std::optional<std::string>{};
    if (!v->is_string())
        return param_error(code::form_param_type_invalid, key, std::string(key) + " must be a string.");
    if (v->get_string().size() > max) return param_error(code::form_param_max_length_exceeded, key);
    return std::optional<std::string>{std::string(v->get_string())};
}

api_result<std::optional<bool>> body_bool(request_ctx const& ctx, std::string_view key) {
    auto const* v = find(ctx, key);
    if (v == nullptr || v->is_null()) return std::optional<bool>{};
    if (v->is_bool()) return std::optional<bool>{v->get_bool()};
    if (v->is_string() && (v->get_string() == "true" || v->get_string() == "false"))
        return std::optional<bool>{v->get_string() == "true"};
    return param_error(code::form_param_type_invalid, key, std::string(key) + " must be a boolean.");
}

api_result<std::optional<std::int64_t>> body_int(request_ctx const& ctx, std::string_view key) {
    auto const* v = find(ctx, key);
    if (v == nullptr || v->is_null()) return std::optional<std::int64_t>{};
    if (v->is_int64()) return std::optional<std::int64_t>{v->get_int64()};
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return std::optional<std::int64_t>{static_cast<std::int64_t>(v->get_uint64())};
    return param_error(code::form_param_type_invalid, key, std::string(key) + " must be an integer.");
}

api_result<std::optional<std::vector<std::string>>> body_strings(request_ctx const& ctx, std::string_view key) {
    auto const* v = find(ctx, key);
    if (v == nullptr || v->is_null()) return std::optional<std::vector<std::string>>{};
    std::vector<std::string> out;
    if (v->is_string()) {
        out.emplace_back(v->get_string());
    } else if (v->is_array()) {
        if (v->get_array().size() > 100) return param_error(code::form_param_max_length_exceeded, key);
        for (auto const& e : v->get_array()) {
            if (!e.is_string())
                return param_error(code::form_param_type_invalid, key,
                                   std::string(key) + " must be an array of strings.");
            out.emplace_back(e.get_string());
        }
    } else {
        return param_error(code::form_param_type_invalid, key, std::string(key) + " must be an array of strings.");
    }
    return std::optional<std::vector<std::string>>{std::move(out)};
}

api_result<std::optional<json::object>> body_object(request_ctx const& ctx, std::string_view key) {
    auto const* v = find(ctx, key);
    if (v == nullptr || v->is_null()) return std::optional<json::object>{};
    json::value parsed;
    if (v->is_string()) {
        boost::system::error_code ec;
        parsed = json::parse(v->get_string(), ec);
        if (ec) return param_error(code::form_param_format_invalid, key, std::string(key) + " must be a JSON object.");
        v = &parsed;
    }
    if (!v->is_object())
        return param_error(code::form_param_type_invalid, key, std::string(key) + " must be an object.");
    if (json::serialize(*v).size() > 8192)
        return param_error(code::form_param_max_length_exceeded, key, std::string(key) + " must be at most 8 KB.");
    return std::optional<json::object>{v->get_object()};
}

api_result<std::pair<std::size_t, std::size_t>> paging(request_ctx const& ctx) {
    auto num = [&](std::string_view key, std::size_t def, std::size_t lo, std::size_t hi) -> api_result<std::size_t> {
        auto const* v = ctx.query.find(key);
        if (v == nullptr || v->empty()) return def;
        std::size_t n = 0;
        auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec != std::errc{} || p != v->data() + v->size() || n < lo || n > hi)
            return param_error(code::form_param_value_invalid, key,
                               std::string(key) + " must be an integer between " + std::to_string(lo) + " and " +
                                   std::to_string(hi) + ".");
        return n;
    };
    auto limit = num("limit", 10, 1, 500);
    if (!limit) return limit.error();
    auto offset = num("offset", 0, 0, 1'000'000'000);
    if (!offset) return offset.error();
    return std::pair{*limit, *offset};
}

reply json_reply(json::value const& v) { return reply{http::status::ok, json::serialize(v), {}}; }

reply deleted_reply(std::string_view object, std::string_view id) {
    return json_reply(views::deleted_object(object, id));
}

api_result<std::string> required_body_string(request_ctx const& ctx, std::string_view key, std::size_t max) {
    auto v = body_string(ctx, key, max);
    if (!v) return v.error();
    if (!*v || (*v)->empty()) return param_error(code::form_param_missing, key);
    return std::move(**v);
}

api_result<std::optional<std::int64_t>> body_int_in(request_ctx const& ctx, std::string_view key, std::int64_t min,
                                                    std::int64_t max, std::string_view long_message) {
    auto v = body_int(ctx, key);
    if (v && *v && (**v < min || **v > max)) return param_error(code::form_param_value_invalid, key, long_message);
    return v;
}

api_result<std::string> email_address_of(json::value const* v) {
    if (v == nullptr || v->is_null() || (v->is_string() && v->get_string().empty()))
        return param_error(code::form_param_missing, "email_address");
    if (!v->is_string()) return param_error(code::form_param_type_invalid, "email_address");
    auto e = domain::normalize_email(v->get_string());
    if (!e)
        return param_error(code::form_param_format_invalid, "email_address",
                           "email_address must be a valid email address.");
    return std::move(*e);
}

api_error not_found() { return make_error(code::resource_not_found); }

bool paginated(request_ctx const& ctx) {
    auto const* p = ctx.query.find("paginated");
    return p != nullptr && *p == "true";
}

std::string_view effective_status(store::session_record const& s, std::int64_t now_ms) {
    if ((s.status == "active" || s.status == "pending") && !views::session_live(s, now_ms)) return "expired";
    return s.status;
}

json::object session_view(store::session_record const& s, std::int64_t now_ms) {
    json::object o = views::backend_session(s);
    o["status"] = effective_status(s, now_ms);
    return o;
}

}  // namespace latchkey::server::api::backend
