// Profile images and organization logos over HTTP (issue 14): uploads as clerk-js and @clerk/backend send them
// (multipart/form-data `file`; a raw application/octet-stream body), the image served back from its URL with
// its caching and safety headers, replacement and deletion, and every refusal (wrong magic bytes, too large,
// empty, not multipart, no `file` part, broken framing, no permission) leaving nothing stored.
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::test;

namespace {

using verb = http::verb;

constexpr std::size_t image_limit = 4096;

/// Images up to 4 KiB, other bodies up to 2 KiB: an upload may be larger than max_body_bytes.
void small_images(conf::config& c) {
    c.max_image_bytes = image_limit;
    c.max_body_bytes = 2048;
}

void orgs_and_small_images(conf::config& c) {
    small_images(c);
    c.organizations.enabled = true;
}

std::string png(std::size_t size = 64) {
    std::string s("\x89PNG\r\n\x1a\n", 8);
    for (std::size_t i = s.size(); i < size; ++i) s += static_cast<char>(i * 31 % 256);
    return s;
}

std::string jpeg() {
    static char const bytes[] = "\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9";
    return std::string(bytes, sizeof bytes - 1);
}

std::string const boundary = "----latchkeyBoundary7MA4YWxkTrZu0gW";

struct part {
    std::string name;
    std::string data;
    std::string filename = "me.png";
    bool file = true;
};

std::string multipart(std::vector<part> const& parts) {
    std::string b;
    for (auto const& p : parts) {
        b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
        if (p.file) b += "; filename=\"" + p.filename + "\"\r\nContent-Type: application/octet-stream";
        b += "\r\n\r\n" + p.data + "\r\n";
    }
    return b + "--" + boundary + "--\r\n";
}

/// A FAPI upload the way clerk-js sends one: POST (?_method= for other verbs), multipart body, the cookie jar.
http_result fapi_upload(http_client& c, std::string const& method, std::string const& path, std::string const& body,
                        std::string const& type = "multipart/form-data; boundary=" + boundary) {
    std::string target = path + "?__clerk_api_version=2025-11-10&_clerk_js_version=6.40.0";
    if (method != "POST") target += "&_method=" + method;
    return c.request(verb::post, target, body, {{"Content-Type", type}});
}

http_result bapi_upload(http_client& b, verb method, std::string const& path, std::string const& body,
                        std::string const& type = "multipart/form-data; boundary=" + boundary) {
    return b.request(method, path, body, {{"Authorization", "Bearer " + b.secret_key}, {"Content-Type", type}});
}

/// The path of an image URL on the FAPI (after the origin).
std::string path_of(std::string const& url) {
    auto at = url.find("/v1/images/");
    BOOST_TEST_REQUIRE(at != std::string::npos, url);
    return url.substr(at);
}

json::object client_user(http_result const& r, std::string const& sid) {
    auto s = client_session(r, sid);
    BOOST_TEST_REQUIRE(s.is_object(), r.body);
    return s.at("user").as_object();
}

void expect_no_image(test_server& s, std::string const& user_id) {
    auto u = load_user(s, user_id);
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST(u->image_url.empty());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(images)

BOOST_AUTO_TEST_CASE(profile_image_upload_serve_replace_delete) {
    test_server s(small_images);
    auto [c, who] = browser(s, "pic@example.com");
    auto const bytes = png(300);

    auto r = fapi_upload(c, "POST", "/v1/me/profile_image", multipart({{"file", bytes}}));
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const& img = response(r);
    BOOST_TEST(img.at("object") == "image");
    BOOST_TEST(str(img.at("id")).starts_with("img_"));
    BOOST_TEST(img.at("name") == "me.png");
    std::string const url = str(img.at("public_url"));
    BOOST_TEST(url.starts_with(s.inst().frontend_api + "/v1/images/img_"), url);
    // The piggy-backed client already shows it (the UI does not reload).
    auto user = client_user(r, who.session_id);
    BOOST_TEST(user.at("has_image") == true);
    BOOST_TEST(str(user.at("image_url")) == url);
    BOOST_TEST(str(user.at("profile_image_url")) == url);

    // Served back: same bytes, its type, caching and the headers that keep it from running as a page.
    http_client anon(s.fapi_port());
    auto got = anon.request(verb::get, path_of(url));
    BOOST_TEST_REQUIRE(got.status == 200u, got.body);
    BOOST_TEST(got.body == bytes);
    BOOST_TEST(got.headers["content-type"] == "image/png");
    BOOST_TEST(got.headers["x-content-type-options"] == "nosniff");
    BOOST_TEST(got.headers["content-security-policy"].find("sandbox") != std::string::npos);
    BOOST_TEST(got.headers["content-disposition"].starts_with("inline"));
    BOOST_TEST(got.headers["cache-control"].find("max-age=") != std::string::npos);
    std::string const etag = got.headers["etag"];
    BOOST_TEST(etag.size() == 66u, etag);                              // a quoted SHA-256
    auto sized = anon.request(verb::get, path_of(url) + "?width=80");  // clerk-js srcset
    BOOST_TEST(sized.status == 200u);
    BOOST_TEST(sized.body == bytes);
    auto cached = anon.request(verb::get, path_of(url), {}, {{"If-None-Match", etag}});
    BOOST_TEST(cached.status == 304u);
    BOOST_TEST(cached.body.empty());
    BOOST_TEST(anon.request(verb::head, path_of(url)).status == 200u);
    expect_error(anon.request(verb::get, "/v1/images/img_missing"), 404, "resource_not_found");
    expect_error(anon.request(verb::get, "/v1/images/user_1"), 404, "resource_not_found");

    // A new upload (JPEG, sent raw) replaces the image: a new URL; the old one is gone.
    auto r2 = fapi_upload(c, "POST", "/v1/me/profile_image", jpeg(), "application/octet-stream");
    BOOST_TEST_REQUIRE(r2.status == 200u, r2.body);
    std::string const url2 = str(response(r2).at("public_url"));
    BOOST_TEST(url2 != url);
    expect_error(anon.request(verb::get, path_of(url)), 404, "resource_not_found");
    auto got2 = anon.request(verb::get, path_of(url2));
    BOOST_TEST(got2.body == jpeg());
    BOOST_TEST(got2.headers["content-type"] == "image/jpeg");
    // GET /v1/me agrees.
    auto me = c.fapi("GET", "/v1/me");
    BOOST_TEST(str(response(me).at("image_url")) == url2);

    // Base64 text as the raw body (the spec's format: base64) works too.
    auto r3 = fapi_upload(c, "POST", "/v1/me/profile_image",
                          "data:image/gif;base64,R0lGODlhAQABAAAAACw=", "application/octet-stream");
    BOOST_TEST_REQUIRE(r3.status == 200u, r3.body);
    auto got3 = anon.request(verb::get, path_of(str(response(r3).at("public_url"))));
    BOOST_TEST(got3.headers["content-type"] == "image/gif");
    expect_error(anon.request(verb::get, path_of(url2)), 404, "resource_not_found");

    // Delete: the default avatar is back, has_image false, the image is gone; a second delete is 404.
    std::string const url3 = str(response(r3).at("public_url"));
    auto d = c.fapi("DELETE", "/v1/me/profile_image");
    BOOST_TEST_REQUIRE(d.status == 200u, d.body);
    BOOST_TEST(response(d).at("deleted") == true);
    user = client_user(d, who.session_id);
    BOOST_TEST(user.at("has_image") == false);
    BOOST_TEST(str(user.at("image_url")).ends_with("/v1/avatar/default"));
    expect_error(anon.request(verb::get, path_of(url3)), 404, "resource_not_found");
    expect_error(c.fapi("DELETE", "/v1/me/profile_image"), 404, "resource_not_found");
    expect_no_image(s, who.user_id);
}

BOOST_AUTO_TEST_CASE(profile_image_refusals_store_nothing) {
    test_server s(small_images);
    auto [c, who] = browser(s, "bad@example.com");
    auto const path = "/v1/me/profile_image";

    expect_error(fapi_upload(c, "POST", path, multipart({{"file", "<html><script>alert(1)</script></html>"}})), 422,
                 "form_param_format_invalid", "file");  // wrong magic bytes
    expect_error(fapi_upload(c, "POST", path, multipart({{"file", std::string("GIF8")}})), 422,
                 "form_param_format_invalid", "file");  // a truncated signature
    expect_error(fapi_upload(c, "POST", path, multipart({{"file", ""}})), 422, "form_param_value_invalid", "file");
    expect_error(fapi_upload(c, "POST", path, multipart({{"file", png(image_limit + 1)}})), 413,
                 "request_body_too_large", "file");
    expect_error(fapi_upload(c, "POST", path, multipart({{"other", png(), "x.png"}})), 422, "form_param_missing",
                 "file");
    expect_error(fapi_upload(c, "POST", path, multipart({{"name", "x", "", false}})), 422, "form_param_missing",
                 "file");
    expect_error(c.fapi("POST", path, {{"file", "R0lGODlhAQABAAAAACw="}}), 422, "form_param_missing",
                 "file");  // not multipart
    expect_error(fapi_upload(c, "POST", path, "--" + boundary + "\r\nno headers\r\n"), 400, "request_body_invalid");
    expect_error(fapi_upload(c, "POST", path, multipart({{"file", png()}}), "multipart/form-data"), 400,
                 "request_body_invalid");  // no boundary
    expect_error(fapi_upload(c, "POST", path, png(), "image/png"), 415, "unsupported_content_type");
    // An upload may be larger than max_body_bytes (2 KiB here); another body may not.
    BOOST_TEST_REQUIRE(fapi_upload(c, "POST", path, multipart({{"file", png(3000)}})).status == 200u);
    BOOST_TEST_REQUIRE(c.fapi("DELETE", path).status == 200u);
    expect_error(c.fapi("PATCH", "/v1/me", {{"first_name", std::string(3000, 'a')}}), 413, "request_body_too_large");
    // Far over the upload limit: the transport refuses the body before any handler runs.
    auto huge = fapi_upload(c, "POST", path, multipart({{"file", png(image_limit + 128 * 1024)}}));
    BOOST_TEST(huge.status == 413u, huge.body);
    expect_no_image(s, who.user_id);

    // Signed out: 401 whatever the file.
    http_client out(s.fapi_port());
    expect_error(fapi_upload(out, "POST", path, multipart({{"file", png()}})), 401, "authentication_invalid");
    expect_error(fapi_upload(out, "POST", path, multipart({{"file", "junk"}})), 401, "authentication_invalid");
    // Still usable afterwards (nothing half-written), and a multipart body with text fields reaches other routes.
    BOOST_TEST(fapi_upload(c, "POST", path, multipart({{"file", png()}})).status == 200u);
    auto upd = fapi_upload(c, "PATCH", "/v1/me", multipart({{"first_name", "Ada", "", false}}));
    BOOST_TEST_REQUIRE(upd.status == 200u, upd.body);
    BOOST_TEST(response(upd).at("first_name") == "Ada");
}

BOOST_AUTO_TEST_CASE(bapi_user_profile_image_and_user_deletion) {
    test_server s(small_images);
    auto b = bapi_client(s);
    auto u = create_user(b, {{"email_address", json::array{"bapi-pic@example.com"}}});
    std::string const id = str(u.at("id"));
    BOOST_TEST(u.at("has_image") == false);

    auto r = bapi_upload(b, verb::post, "/v1/users/" + id + "/profile_image", multipart({{"file", png()}}));
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.json.at("object") == "user");
    BOOST_TEST(r.json.at("has_image") == true);
    std::string const url = str(r.json.at("image_url"));
    BOOST_TEST(str(r.json.at("profile_image_url")) == url);
    http_client anon(s.fapi_port());
    BOOST_TEST(anon.request(verb::get, path_of(url)).body == png());

    expect_error(bapi_upload(b, verb::post, "/v1/users/user_missing/profile_image", multipart({{"file", png()}})), 404,
                 "resource_not_found");
    expect_error(bapi_upload(b, verb::post, "/v1/users/" + id + "/profile_image", multipart({{"file", "nope"}})), 422,
                 "form_param_format_invalid", "file");
    expect_error(
        bapi_upload(b, verb::post, "/v1/users/" + id + "/profile_image", multipart({{"file", png(image_limit + 1)}})),
        413, "request_body_too_large", "file");
    expect_error(b.bapi(verb::post, "/v1/users/" + id + "/profile_image", json::object{{"file", "x"}}), 422,
                 "form_param_missing", "file");
    BOOST_TEST(anon.request(verb::get, path_of(url)).status == 200u);  // the refusals left it alone

    auto d = b.bapi(verb::delete_, "/v1/users/" + id + "/profile_image");
    BOOST_TEST_REQUIRE(d.status == 200u, d.body);
    BOOST_TEST(d.json.at("has_image") == false);
    expect_error(anon.request(verb::get, path_of(url)), 404, "resource_not_found");
    expect_error(b.bapi(verb::delete_, "/v1/users/user_missing/profile_image"), 404, "resource_not_found");

    // Deleting the user deletes its image in the same txn.
    auto r2 = bapi_upload(b, verb::post, "/v1/users/" + id + "/profile_image", multipart({{"file", jpeg()}}));
    BOOST_TEST_REQUIRE(r2.status == 200u, r2.body);
    std::string const url2 = str(r2.json.at("image_url"));
    BOOST_TEST(b.bapi(verb::delete_, "/v1/users/" + id).status == 200u);
    expect_error(anon.request(verb::get, path_of(url2)), 404, "resource_not_found");

    // And a user deleting their own account (FAPI) takes the image along.
    auto [c, who] = browser(s, "selfdelete@example.com");
    auto up = fapi_upload(c, "POST", "/v1/me/profile_image", multipart({{"file", png()}}));
    BOOST_TEST_REQUIRE(up.status == 200u, up.body);
    std::string const url3 = str(response(up).at("public_url"));
    auto gone = c.fapi("DELETE", "/v1/me");
    BOOST_TEST_REQUIRE(gone.status == 200u, gone.body);
    expect_error(anon.request(verb::get, path_of(url3)), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(organization_logo_fapi_and_bapi) {
    test_server s(orgs_and_small_images);
    auto b = bapi_client(s);
    auto [alice, a] = browser(s, "alice-logo@example.com");
    http_client bob(s.fapi_port());
    auto bb = sign_in_browser(s, bob, "bob-logo@example.com");
    auto created = alice.fapi("POST", "/v1/organizations", {{"name", "Logo Co"}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    std::string const org = str(response(created).at("id"));
    BOOST_TEST(response(created).at("has_image") == false);
    auto m = b.bapi(verb::post, "/v1/organizations/" + org + "/memberships",
                    json::object{{"user_id", bb.user_id}, {"role", "org:member"}});
    BOOST_TEST_REQUIRE(m.status == 200u, m.body);
    std::string const logo = "/v1/organizations/" + org + "/logo";
    http_client anon(s.fapi_port());

    // The admin sets the logo (PUT as clerk-js sends it: POST ?_method=PUT).
    auto r = fapi_upload(alice, "PUT", logo, multipart({{"file", png()}}));
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(response(r).at("object") == "organization");
    BOOST_TEST(response(r).at("has_image") == true);
    std::string const url = str(response(r).at("image_url"));
    BOOST_TEST(anon.request(verb::get, path_of(url)).body == png());
    // The piggy-backed user's memberships show the new logo.
    auto ms = client_user(r, a.session_id).at("organization_memberships").as_array();
    BOOST_TEST_REQUIRE(ms.size() == 1u);
    BOOST_TEST(str(ms[0].at("organization").at("image_url")) == url);
    BOOST_TEST(ms[0].at("organization").at("has_image") == true);

    // A member without org:sys_profile:manage may not; bad files are refused; nothing changes.
    expect_error(fapi_upload(bob, "PUT", logo, multipart({{"file", png()}})), 403, "not_allowed_access");
    expect_error(fapi_upload(bob, "PUT", logo, multipart({{"file", "junk"}})), 403, "not_allowed_access");
    expect_error(bob.fapi("DELETE", logo), 403, "not_allowed_access");
    expect_error(fapi_upload(alice, "PUT", logo, multipart({{"file", "junk"}})), 422, "form_param_format_invalid",
                 "file");
    expect_error(fapi_upload(alice, "PUT", logo, multipart({{"file", png(image_limit + 1)}})), 413,
                 "request_body_too_large", "file");
    expect_error(fapi_upload(alice, "PUT", "/v1/organizations/org_missing/logo", multipart({{"file", png()}})), 404,
                 "organization_not_found_or_unauthorized");
    BOOST_TEST(str(response(alice.fapi("GET", "/v1/organizations/" + org)).at("image_url")) == url);

    auto d = alice.fapi("DELETE", logo);
    BOOST_TEST_REQUIRE(d.status == 200u, d.body);
    BOOST_TEST(response(d).at("deleted") == true);
    expect_error(anon.request(verb::get, path_of(url)), 404, "resource_not_found");
    BOOST_TEST(response(alice.fapi("GET", "/v1/organizations/" + org)).at("has_image") == false);
    expect_error(alice.fapi("DELETE", logo), 404, "resource_not_found");

    // BAPI: PUT (multipart `file` + `uploader_user_id`) and DELETE reply with the organization.
    auto p = bapi_upload(b, verb::put, logo, multipart({{"file", jpeg()}, {"uploader_user_id", a.user_id, "", false}}));
    BOOST_TEST_REQUIRE(p.status == 200u, p.body);
    BOOST_TEST(p.json.at("has_image") == true);
    std::string const url2 = str(p.json.at("image_url"));
    BOOST_TEST(anon.request(verb::get, path_of(url2)).headers["content-type"] == "image/jpeg");
    expect_error(bapi_upload(b, verb::put, logo, multipart({{"file", ""}})), 422, "form_param_value_invalid", "file");
    expect_error(bapi_upload(b, verb::put, "/v1/organizations/org_missing/logo", multipart({{"file", png()}})), 404,
                 "resource_not_found");
    auto bd = b.bapi(verb::delete_, logo);
    BOOST_TEST_REQUIRE(bd.status == 200u, bd.body);
    BOOST_TEST(bd.json.at("has_image") == false);
    expect_error(anon.request(verb::get, path_of(url2)), 404, "resource_not_found");

    // Deleting the organization deletes its logo in the same txn.
    auto p2 = bapi_upload(b, verb::put, logo, multipart({{"file", png()}}));
    BOOST_TEST_REQUIRE(p2.status == 200u, p2.body);
    std::string const url3 = str(p2.json.at("image_url"));
    BOOST_TEST(b.bapi(verb::delete_, "/v1/organizations/" + org).status == 200u);
    expect_error(anon.request(verb::get, path_of(url3)), 404, "resource_not_found");
}

BOOST_AUTO_TEST_SUITE_END()
