#include "tests/common/flows.hpp"

#include <stdexcept>

namespace latchkey::test {

signed_in seed_signed_in(test_server& s, std::string const& email, std::string const& password) {
    auto user_id = seed_user(s.app(), email, password);
    auto client_id = seed_client(s.app());
    return {client_id, user_id, seed_session(s.app(), client_id, user_id)};
}

person browser(test_server& s, std::string const& email) {
    person p{http_client(s.fapi_port()), {}};
    p.who = sign_in_browser(s, p.c, email);
    return p;
}

std::string ticket_of(std::string const& link) {
    auto const at = link.find("__clerk_ticket=");
    if (at == std::string::npos) throw std::runtime_error("no __clerk_ticket in " + link);
    auto const end = link.find('&', at);
    return link.substr(at + 15, end == std::string::npos ? std::string::npos : end - at - 15);
}

std::string link_sent_to(test_server& s, std::string const& to, std::string const& kind) {
    std::string link;
    for (auto const& m : s.outbox())
        if (str(m.at("to")) == to && str(m.at("kind")) == kind) link = str(m.at("code"));
    if (link.empty()) throw std::runtime_error("no " + kind + " sent to " + to);
    return link;
}

}  // namespace latchkey::test
