// Fuzz: what a provider answers during the OAuth callback's code exchange (issue 15) — the token endpoint's JSON
// (access/refresh token, expires_in, scope) and a plain OAuth 2.0 provider's userinfo document with GitHub's
// /user/emails array — through the parsers and the field mapping that read them. Input: a JSON document, then
// optionally a NUL byte and a second one (the emails). The ID token path is jws_fuzz's.
#include "server/api/federation/oauth2.hpp"

#include <boost/json/parse.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

namespace fed = latchkey::server::api::federation;
namespace json = boost::json;

namespace {
using provider_t = latchkey::conf::oauth_provider;
/// A provider `strategy` whose userinfo fields are read as `fields` say (member, userinfo key or URL).
provider_t provider(char const* strategy,
                    std::initializer_list<std::pair<std::string provider_t::*, char const*>> fields) {
    provider_t p;
    p.strategy = strategy;
    p.map_email_address = "email";
    for (auto const& [member, value] : fields) p.*member = value;
    return p;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view const in(reinterpret_cast<char const*>(data), size);
    auto const nul = in.find('\0');
    json::parse_options opt;
    opt.max_depth = 32;
    boost::system::error_code ec;
    json::value const doc = json::parse(in.substr(0, nul), ec, {}, opt);
    if (ec || !doc.is_object()) return 0;
    json::value emails;
    if (nul != std::string_view::npos) {
        emails = json::parse(in.substr(nul + 1), ec, {}, opt);
        if (ec) emails = nullptr;
    }
    auto const& o = doc.get_object();
    (void)fed::tokens_from_answer(o, 1'796'000'000'000);
    static auto const gh =
        provider("oauth_github", {{&provider_t::map_user_id, "id"},
                                  {&provider_t::emails_endpoint, "https://api.github.com/user/emails"},
                                  {&provider_t::map_name, "name"},
                                  {&provider_t::map_username, "login"},
                                  {&provider_t::map_image_url, "avatar_url"}});
    static auto const oidc = provider("oauth_custom_idp", {{&provider_t::map_user_id, "sub"},
                                                           {&provider_t::map_email_verified, "email_verified"},
                                                           {&provider_t::map_first_name, "given_name"},
                                                           {&provider_t::map_last_name, "family_name"}});
    (void)fed::map_userinfo(gh, o, emails.is_null() ? nullptr : &emails);
    (void)fed::map_userinfo(oidc, o, nullptr);
    return 0;
}
