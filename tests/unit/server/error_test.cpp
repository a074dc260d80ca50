// The API error table: every code's status and text, the named constructors, and the Clerk error envelope.
#include "server/api/error.hpp"
#include "store/error.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace latchkey::server::api;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

struct code_row {
    code c;
    std::string_view name;
    http::status status;
};

/// Every code, from the X-macro itself (so a new code is covered without editing this test).
std::vector<code_row> all_codes() {
    return {
#define LATCHKEY_X(name, st, msg, long_msg) {code::name, #name, http::status::st},
        LATCHKEY_API_ERRORS(LATCHKEY_X)
#undef LATCHKEY_X
    };
}

/// Parses an envelope and checks its exact shape; returns errors[0].
json::object envelope_first(std::string const& body, std::string_view trace_id) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    BOOST_TEST_REQUIRE(!ec, body);
    BOOST_TEST_REQUIRE(v.is_object());
    auto const& root = v.get_object();
    BOOST_TEST(root.size() == 2u);
    BOOST_TEST_REQUIRE(root.contains("errors"));
    BOOST_TEST_REQUIRE(root.contains("clerk_trace_id"));
    BOOST_TEST(root.at("clerk_trace_id").as_string() == trace_id);
    auto const& errors = root.at("errors");
    BOOST_TEST_REQUIRE(errors.is_array());
    BOOST_TEST_REQUIRE(errors.get_array().size() == 1u);
    auto const& first = errors.get_array()[0];
    BOOST_TEST_REQUIRE(first.is_object());
    auto const& e = first.get_object();
    BOOST_TEST(e.size() == 4u);
    for (auto const* k : {"code", "message", "long_message"}) {
        BOOST_TEST_REQUIRE(e.contains(k), k);
        BOOST_TEST(e.at(k).is_string(), k);
    }
    BOOST_TEST_REQUIRE(e.contains("meta"));
    BOOST_TEST(e.at("meta").is_object());
    return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(error_table)

BOOST_AUTO_TEST_CASE(every_code_has_its_status_name_and_text) {
    std::set<std::string_view> names;
    for (auto const& row : all_codes()) {
        BOOST_TEST(code_name(row.c) == row.name);
        BOOST_TEST((code_status(row.c) == row.status), row.name);
        BOOST_TEST(static_cast<unsigned>(row.status) >= 400u, row.name);
        BOOST_TEST(names.insert(row.name).second, row.name << " is listed twice");
        for (char ch : row.name) BOOST_TEST(((ch >= 'a' && ch <= 'z') || ch == '_'), row.name);

        auto e = make_error(row.c);
        BOOST_TEST((e.code == row.c), row.name);
        BOOST_TEST(error_object(e).at("code").as_string() == row.name);
        BOOST_TEST((e.status == row.status), row.name);
        BOOST_TEST(!e.message.empty(), row.name);
        BOOST_TEST(!e.long_message.empty(), row.name);
        BOOST_TEST(e.meta.empty(), row.name);

        auto first = envelope_first(render_errors(e, "req_trace"), "req_trace");
        BOOST_TEST(first.at("code").as_string() == row.name);
        BOOST_TEST(first.at("message").as_string() == e.message);
        BOOST_TEST(first.at("long_message").as_string() == e.long_message);
        BOOST_TEST(first.at("meta").as_object().empty());
    }
    BOOST_TEST(names.size() >= 40u);
}

BOOST_AUTO_TEST_CASE(statuses_clerk_js_and_the_transport_rely_on) {
    struct row {
        code c;
        unsigned status;
    };
    row const rows[] = {
        {code::resource_not_found, 404},
        {code::method_not_allowed, 405},
        {code::form_param_missing, 422},
        {code::form_param_format_invalid, 422},
        {code::form_param_max_length_exceeded, 422},
        {code::form_identifier_not_found, 422},
        {code::form_password_incorrect, 422},
        {code::form_code_incorrect, 422},
        {code::session_exists, 400},
        {code::identifier_already_signed_in, 400},
        {code::authentication_invalid, 401},
        {code::dev_browser_unauthenticated, 401},
        {code::clerk_key_invalid, 401},
        {code::authorization_header_missing, 401},
        {code::user_locked, 403},
        {code::origin_invalid, 403},
        {code::too_many_requests, 429},
        {code::request_body_invalid, 400},
        {code::request_body_too_large, 413},
        {code::request_header_too_large, 431},
        {code::request_timeout, 408},
        {code::malformed_request, 400},
        {code::unsupported_content_type, 415},
        {code::too_many_connections, 503},
        {code::storage_full, 507},
        {code::internal_clerk_error, 500},
        {code::store_unavailable, 503},
    };
    for (auto const& r : rows) {
        BOOST_TEST(static_cast<unsigned>(code_status(r.c)) == r.status, code_name(r.c));
        BOOST_TEST(static_cast<unsigned>(make_error(r.c).status) == r.status, code_name(r.c));
    }
}

BOOST_AUTO_TEST_CASE(shared_store_failures_are_503_store_unavailable) {
    // issue 16: PostgreSQL unreachable, or a write that kept losing to other nodes' commits.
    for (auto e : {latchkey::store::errc::unavailable, latchkey::store::errc::conflict}) {
        auto err = store_error(latchkey::store::make_error_code(e), "test");
        BOOST_TEST((err.code == code::store_unavailable));
        BOOST_TEST(static_cast<unsigned>(err.status) == 503u);
        BOOST_TEST(!err.long_message.empty());
    }
    BOOST_TEST((store_error(latchkey::store::make_error_code(latchkey::store::errc::lmdb), "test").code ==
                code::internal_clerk_error));
}

BOOST_AUTO_TEST_CASE(param_error_sets_meta_and_long_message) {
    auto missing = param_error(code::form_param_missing, "email_address");
    BOOST_TEST((missing.code == code::form_param_missing));
    BOOST_TEST(static_cast<unsigned>(missing.status) == 422u);
    BOOST_TEST(missing.meta.at("param_name").as_string() == "email_address");
    BOOST_TEST(missing.long_message == "email_address is missing");  // form_param_*: "<param> <message>"
    BOOST_TEST(missing.message == "is missing");

    auto custom = param_error(code::form_param_format_invalid, "query", "The query string is malformed.");
    BOOST_TEST(custom.long_message == "The query string is malformed.");
    BOOST_TEST(custom.meta.at("param_name").as_string() == "query");

    // Other codes keep the table's long message.
    auto pw = param_error(code::form_password_incorrect, "password");
    BOOST_TEST(pw.long_message == make_error(code::form_password_incorrect).long_message);
    BOOST_TEST(pw.meta.at("param_name").as_string() == "password");

    auto first = envelope_first(render_errors(missing, "req_1"), "req_1");
    BOOST_TEST(first.at("meta").as_object().size() == 1u);
    BOOST_TEST(first.at("meta").at("param_name").as_string() == "email_address");
    BOOST_TEST(first.at("long_message").as_string() == "email_address is missing");
}

BOOST_AUTO_TEST_CASE(render_escapes_and_keeps_extra_meta) {
    api_error e = make_error(code::identifier_already_signed_in);
    e.meta["session_id"] = "sess_1";
    e.message = "quote \" backslash \\ newline \n control \x01 unicode \xC3\xA9";
    auto first = envelope_first(render_errors(e, "trace \"x\""), "trace \"x\"");
    BOOST_TEST(first.at("message").as_string() == e.message);
    BOOST_TEST(first.at("meta").at("session_id").as_string() == "sess_1");
    BOOST_TEST(first.at("code").as_string() == "identifier_already_signed_in");
    // An empty trace id still renders the key.
    auto empty = envelope_first(render_errors(make_error(code::resource_not_found), ""), "");
    BOOST_TEST(empty.at("code").as_string() == "resource_not_found");
}

BOOST_AUTO_TEST_CASE(api_result_value_throws_the_code) {
    api_result<int> r = make_error(code::user_banned);
    BOOST_TEST(!r.has_value());
    BOOST_TEST((r.error().code == code::user_banned));
    try {
        (void)r.value();
        BOOST_FAIL("value() did not throw");
    } catch (std::runtime_error const& ex) {
        BOOST_TEST(std::string(ex.what()) == "user_banned");
    }
}

BOOST_AUTO_TEST_SUITE_END()
