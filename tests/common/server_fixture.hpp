#pragma once
// Integration-test fixture: the real server (all of it: listeners, store, keys, API) on 127.0.0.1:0 with a
// fresh temporary data dir, plus a small HTTP/1.1 client with a cookie jar and FAPI/BAPI helpers.
#include "conf/config.hpp"
#include "server/api/app.hpp"
#include "server/instance.hpp"
#include "server/run.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::test {

namespace http = boost::beast::http;
namespace json = boost::json;

/// A temporary directory removed (recursively) on destruction.
struct tmp_dir {
    tmp_dir();
    ~tmp_dir();
    tmp_dir(tmp_dir const&) = delete;
    tmp_dir& operator=(tmp_dir const&) = delete;
    std::string path;
};

/// The default config for tests: ports 0, 2 threads, small limits/timeouts, test mode, dev instance.
conf::config test_config(std::string const& data_dir);

class test_server {
public:
    /// `tweak` edits the config before start (instance type, single session, limits...). The fresh data dir
    /// starts with an instance id and the process's fixture signing key (generated once per process); a tweak
    /// that points `data_dir` elsewhere gets a real first start there instead (key generation included).
    explicit test_server(std::function<void(conf::config&)> const& tweak = {});
    ~test_server();

    unsigned short fapi_port() const;
    unsigned short bapi_port() const;
    server::api::app& app();
    server::instance const& inst() const;
    std::string const& secret_key() const;
    std::string const& data_dir() const { return dir_.path; }
    /// Every message sent so far (parsed lines of <data_dir>/outbox.jsonl).
    std::vector<json::object> outbox() const;
    /// The last code sent to `to` ("" if none).
    std::string last_code(std::string const& to) const;
    /// Moves the server clock forward.
    void advance(std::chrono::milliseconds d);
    /// What SIGHUP does: reloads the TLS certificate files ("" on success).
    std::string reload_tls() { return srv_->reload_tls(); }

private:
    tmp_dir dir_;
    std::unique_ptr<server::running_server> srv_;
};

struct http_result {
    unsigned status = 0;
    std::string body;
    json::value json;                            ///< parsed body (null if not JSON)
    std::map<std::string, std::string> headers;  ///< lower-case names; last value wins
    std::vector<std::string> set_cookies;
    /// errors[0].code or "".
    std::string error_code() const;
    /// errors[0].meta.param_name or "".
    std::string param_name() const;
};

/// One raw request on a fresh connection (for bad-input tests): returns what came back, or status 0 if the
/// server closed the connection without answering.
http_result raw_exchange(unsigned short port, std::string const& bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

class http_client {
public:
    explicit http_client(unsigned short port) : port_(port) {}

    http_result request(http::verb method, std::string const& target, std::string const& body = {},
                        std::vector<std::pair<std::string, std::string>> const& headers = {});

    /// FAPI call the way clerk-js makes it: GET or POST only (PATCH/PUT/DELETE become POST ?_method=),
    /// form body, `_clerk_js_version` query, the cookie jar, and the dev-browser token when set.
    http_result fapi(std::string const& method, std::string const& path,
                     std::vector<std::pair<std::string, std::string>> const& form = {});

    /// BAPI call: Bearer secret key, JSON body.
    http_result bapi(http::verb method, std::string const& path, json::value const& body = nullptr);

    std::string secret_key;                      ///< for bapi()
    std::string dev_browser;                     ///< when set, appended as __clerk_db_jwt
    std::string origin;                          ///< when set, sent as Origin
    std::map<std::string, std::string> cookies;  ///< the jar (name -> value)

private:
    unsigned short port_;
};

/// URL-encodes a form.
std::string form_encode(std::vector<std::pair<std::string, std::string>> const& form);

/// The latchkey binary as a child process: `serve` on 127.0.0.1:0 (both listeners) with `data_dir`, the extra
/// arguments and environment ("NAME=value") given; returns once the child printed its listening line.
/// Throws std::runtime_error if it cannot start or prints no ports. The caller owns (kills/waits) the pid.
struct spawned_server {
    int pid = -1;
    unsigned short fapi = 0;
    unsigned short bapi = 0;
};
spawned_server spawn_server(std::string const& bin, std::string const& data_dir,
                            std::vector<std::string> const& extra_args, std::vector<std::string> const& env);

}  // namespace latchkey::test

namespace latchkey::test {

/// Seeds a user with a verified primary email (and a password digest when `password` is non-empty) directly
/// in the store; returns its id.
std::string seed_user(server::api::app& a, std::string const& email, std::string const& password = {});

/// Seeds an active session for `user_id` on `client_id` (which must exist) and makes it the client's last
/// active session; returns the session id.
std::string seed_session(server::api::app& a, std::string const& client_id, std::string const& user_id);

/// Decodes a JWT's payload (no verification).
json::object jwt_payload(std::string const& jwt);
json::object jwt_header(std::string const& jwt);

}  // namespace latchkey::test

namespace latchkey::test {

// Shared helpers of the integration tests. They report a failed expectation by throwing std::runtime_error
// (Boost.Test fails the test case with the message): this file is also linked where Boost.Test is not.

/// The value of a JSON string.
std::string str(json::value const& v);

/// An http_client for `s`'s BAPI port carrying its secret key.
http_client bapi_client(test_server& s);

/// Expects a Clerk error reply: `status`, errors[0].code `code`, meta.param_name `param` (when non-empty) and
/// Content-Type application/json.
void expect_error(http_result const& r, unsigned status, std::string const& code, std::string const& param = {});

/// POST /v1/users; requires 200 and returns the user.
json::object create_user(http_client& b, json::object const& body);

/// Seeds an empty client record directly in the store; returns its id.
std::string seed_client(server::api::app& a);

/// The stored user / session with `id` (nullopt if none).
std::optional<store::user_record> load_user(test_server& s, std::string const& id);
std::optional<store::session_record> load_session(test_server& s, std::string const& id);

/// Edits the stored user `id` in place (it must exist).
void edit_user(test_server& s, std::string const& id, std::function<void(store::user_record&)> const& f);

/// A FAPI reply's `response` object.
json::object const& response(http_result const& r);

/// The piggy-backed client's session with `id`, or null.
json::value client_session(http_result const& r, std::string const& id);

struct signed_in {
    std::string client_id, user_id, session_id;
};

/// Creates a client for browser `c` (POST /v1/client) and seeds a signed-in session on it for `user_id`.
signed_in sign_in_browser_as(test_server& s, http_client& c, std::string const& user_id);

/// Same, for a new user seeded with `email` and `password`.
signed_in sign_in_browser(test_server& s, http_client& c, std::string const& email,
                          std::string const& password = "correct horse battery staple");

}  // namespace latchkey::test
