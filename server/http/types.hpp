#pragma once
// Transport aliases shared by server/http and server/api. Include <boost/beast/http/message.hpp>, not
// verb.hpp/status.hpp, which are not self-contained in 1.81 with GCC 12.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace latchkey::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

}  // namespace latchkey::server
