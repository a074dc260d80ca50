// multipart/form-data (RFC 7578 / RFC 2046 5.1.1): boundaries, framing, part headers, limits.
#include "server/http/multipart.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace latchkey::server;

namespace {

std::string const ct = "multipart/form-data; boundary=----WebKitFormBoundaryX3b";

std::string part(std::string_view headers, std::string_view data) {
    std::string s = "------WebKitFormBoundaryX3b\r\n";
    s += headers;
    s += "\r\n\r\n";
    s += data;
    s += "\r\n";
    return s;
}

std::string const closing = "------WebKitFormBoundaryX3b--\r\n";

multipart_status parse(std::string const& body, std::vector<multipart_part>& out, multipart_limits l = {}) {
    return parse_multipart(ct, body, out, l);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(multipart)

BOOST_AUTO_TEST_CASE(boundary_parameter) {
    BOOST_TEST(multipart_boundary("multipart/form-data; boundary=abc").value() == "abc");
    BOOST_TEST(multipart_boundary("Multipart/Form-Data;BOUNDARY=\"a b:c\"").value() == "a b:c");
    BOOST_TEST(multipart_boundary("multipart/form-data; charset=utf-8; boundary=x").value() == "x");
    multipart_status st{};
    BOOST_TEST(!multipart_boundary("application/json", &st));
    BOOST_TEST((st == multipart_status::not_multipart));
    BOOST_TEST(!multipart_boundary("multipart/mixed; boundary=x", &st));
    BOOST_TEST((st == multipart_status::not_multipart));
    for (std::string const& bad : std::vector<std::string>{
             "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"",
             "multipart/form-data; boundary=\"ab \"", "multipart/form-data; boundary=a;boundary=b",
             "multipart/form-data; boundary=\"a\\\"b\"", "multipart/form-data; boundary=\"a@b\"",
             "multipart/form-data; boundary=\"unterminated", "multipart/form-data; boundary=" + std::string(71, 'a')}) {
        BOOST_TEST(!multipart_boundary(bad, &st), bad);
        BOOST_TEST((st == multipart_status::bad_boundary), bad);
    }
    BOOST_TEST(multipart_boundary("multipart/form-data; boundary=" + std::string(70, 'a')).has_value());
}

BOOST_AUTO_TEST_CASE(file_and_field_parts) {
    std::string const png("\x89PNG\r\n\x1a\n\0\0\r\n--not-the-boundary", 29);
    std::string body =
        "preamble is ignored\r\n" +
        part("Content-Disposition: form-data; name=\"file\"; filename=\"me.png\"\r\nContent-Type: image/png", png) +
        part("content-disposition: FORM-DATA; name=uploader_user_id", "user_1") + closing + "epilogue";
    std::vector<multipart_part> parts;
    BOOST_TEST((parse(body, parts) == multipart_status::ok));
    BOOST_TEST_REQUIRE(parts.size() == 2u);
    BOOST_TEST(parts[0].name == "file");
    BOOST_TEST(parts[0].has_filename);
    BOOST_TEST(parts[0].filename == "me.png");
    BOOST_TEST(parts[0].content_type == "image/png");
    BOOST_TEST(parts[0].data == png);  // CRLFs and dashes inside the data are data
    BOOST_TEST(parts[1].name == "uploader_user_id");
    BOOST_TEST(!parts[1].has_filename);
    BOOST_TEST(parts[1].data == "user_1");
    BOOST_TEST(find_part(parts, "file") == &parts[0]);
    BOOST_TEST(find_part(parts, "nope") == nullptr);
}

BOOST_AUTO_TEST_CASE(empty_data_padding_and_no_parts) {
    std::vector<multipart_part> parts;
    // Transport padding after the boundary, an empty part, an empty filename.
    std::string body =
        "------WebKitFormBoundaryX3b \t\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\n\r\n" +
        closing;
    BOOST_TEST((parse(body, parts) == multipart_status::ok));
    BOOST_TEST_REQUIRE(parts.size() == 1u);
    BOOST_TEST(parts[0].data.empty());
    BOOST_TEST(parts[0].has_filename);
    BOOST_TEST((parse(closing, parts) == multipart_status::ok));
    BOOST_TEST(parts.empty());
}

BOOST_AUTO_TEST_CASE(malformed_bodies) {
    std::vector<multipart_part> parts;
    std::string const good = part("Content-Disposition: form-data; name=\"a\"", "1");
    for (std::string bad : {
             std::string(""),  // no delimiter at all
             std::string("hello"),
             good,                                             // no closing delimiter
             good + "------WebKitFormBoundaryX3bjunk\r\n",     // a delimiter followed by neither -- nor CRLF
             part("Content-Type: text/plain", "x") + closing,  // no Content-Disposition
             part("Content-Disposition: attachment; name=\"a\"", "x") + closing,
             part("Content-Disposition: form-data", "x") + closing,  // no name
             part("Content-Disposition: form-data; name=\"a\"; name=\"b\"", "x") + closing,
             part("Content-Disposition: form-data; name=\"a\"\r\n folded", "x") + closing,
             part("Content-Disposition: form-data; name=\"a\"\r\nno colon here", "x") + closing,
             part("Content-Disposition: form-data; name=\"a\"\r\nContent-Disposition: form-data; name=\"b\"", "x") +
                 closing,
             part("Content-Disposition: form-data; name=\"a", "x") + closing,
             std::string("------WebKitFormBoundaryX3b\r\n\r\nx\r\n") + closing,  // no headers
             std::string(
                 "------WebKitFormBoundaryX3b\r\nContent-Disposition: form-data; name=\"a\"\r\n"),  // header block
                                                                                                    // never ends
         }) {
        BOOST_TEST((parse(bad, parts) == multipart_status::malformed), bad);
        BOOST_TEST(parts.empty());
    }
}

BOOST_AUTO_TEST_CASE(limits) {
    std::vector<multipart_part> parts;
    std::string body;
    for (int i = 0; i < 3; ++i) body += part("Content-Disposition: form-data; name=\"a\"", "x");
    body += closing;
    BOOST_TEST((parse(body, parts, {.max_parts = 3}) == multipart_status::ok));
    BOOST_TEST((parse(body, parts, {.max_parts = 2}) == multipart_status::too_many_parts));
    BOOST_TEST(parts.empty());
    std::string big =
        part("Content-Disposition: form-data; name=\"a\"\r\nX-Pad: " + std::string(5000, 'p'), "x") + closing;
    BOOST_TEST((parse(big, parts) == multipart_status::header_too_large));
    BOOST_TEST((parse(big, parts, {.max_header_bytes = 8192}) == multipart_status::ok));
    BOOST_TEST((parse_multipart("text/plain", body, parts) == multipart_status::not_multipart));
    BOOST_TEST((parse_multipart("multipart/form-data", body, parts) == multipart_status::bad_boundary));
}

BOOST_AUTO_TEST_CASE(adversarial_near_delimiters_stay_linear) {
    // Many near-misses of the delimiter: the search must not go quadratic (bounded by the test's time).
    std::string data;
    for (int i = 0; i < 200000; ++i) data += "\r\n------WebKitFormBoundaryX3";
    std::vector<multipart_part> parts;
    std::string body = part("Content-Disposition: form-data; name=\"file\"; filename=\"f\"", data) + closing;
    BOOST_TEST((parse(body, parts) == multipart_status::ok));
    BOOST_TEST_REQUIRE(parts.size() == 1u);
    BOOST_TEST(parts[0].data.size() == data.size());
}

BOOST_AUTO_TEST_SUITE_END()
