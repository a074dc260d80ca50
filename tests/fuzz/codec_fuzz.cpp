// Fuzz: the store's record codec must reject garbage without undefined behaviour.
#include "harness.hpp"
#include "store/codec.hpp"
#include "store/records.hpp"

#include <cstdint>
#include <string>
#include <vector>

std::vector<std::string> fuzz_seeds() {
    using namespace latchkey::store;
    user_record u;
    u.id = "user_1";
    u.identifications.push_back(identification_record{"idn_1", "email_address", "a@b.c", {}, 1, 2, false});
    session_record s;
    s.id = "sess_1";
    return {encode(u), encode(s), encode(client_record{}), std::string("\x01\xff\xff\xff\xff", 5)};
}

void fuzz_one(std::string_view in) {
    using namespace latchkey::store;
    (void)decode<user_record>(in);
    (void)decode<session_record>(in);
    (void)decode<client_record>(in);
    (void)decode<sign_in_record>(in);
    (void)decode<sign_up_record>(in);
}
