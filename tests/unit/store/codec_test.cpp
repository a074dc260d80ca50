#include "store/codec.hpp"

#include "store/records.hpp"

#include <boost/test/unit_test.hpp>

using namespace latchkey::store;

namespace {
user_record sample_user() {
    user_record u;
    u.id = "user_2abc";
    u.username = "ada";
    u.first_name = "Ada";
    u.password_digest = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
    identification_record e;
    e.id = "idn_1";
    e.kind = "email_address";
    e.value = "ada@example.com";
    e.verification.status = "verified";
    e.verification.attempts = -3;  // signed ints survive zigzag
    e.created_at = 1700000000000;
    u.identifications.push_back(e);
    e.id = "idn_2";
    e.kind = "phone_number";
    e.value = "+15555550100";
    u.identifications.push_back(e);
    u.banned = true;
    u.failed_attempts = 7;
    u.lockout_expires_at = -1;
    u.created_at = 1700000000123;
    return u;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(store_codec)

BOOST_AUTO_TEST_CASE(round_trips_every_record_type) {
    auto u = sample_user();
    auto du = decode<user_record>(encode(u));
    BOOST_TEST_REQUIRE(du.has_value());
    BOOST_TEST(du->id == u.id);
    BOOST_TEST(du->identifications.size() == 2u);
    BOOST_TEST(du->identifications[1].value == "+15555550100");
    BOOST_TEST(du->identifications[0].verification.attempts == -3);
    BOOST_TEST(du->banned);
    BOOST_TEST(du->lockout_expires_at == -1);
    BOOST_TEST(du->created_at == 1700000000123);
    BOOST_TEST(du->password_digest == u.password_digest);

    session_record s{"sess_1", "client_1", "user_1", "active", "", "", 1, 2, 3, 4, 5, 6, 7};
    auto ds = decode<session_record>(encode(s));
    BOOST_TEST_REQUIRE(ds.has_value());
    BOOST_TEST(ds->status == "active");
    BOOST_TEST(ds->updated_at == 7);

    client_record c;
    c.id = "client_1";
    c.session_ids = {"sess_1", "sess_2"};
    auto dc = decode<client_record>(encode(c));
    BOOST_TEST_REQUIRE(dc.has_value());
    BOOST_TEST(dc->session_ids.size() == 2u);

    sign_up_record su;
    su.id = "sua_1";
    su.email_verification.code_digest = "abc";
    auto dsu = decode<sign_up_record>(encode(su));
    BOOST_TEST_REQUIRE(dsu.has_value());
    BOOST_TEST(dsu->email_verification.code_digest == "abc");

    sign_in_record si;
    si.first_factor.expire_at = 99;
    BOOST_TEST(decode<sign_in_record>(encode(si))->first_factor.expire_at == 99);
    jwt_template_record j;
    j.claims = R"({"a":1})";
    BOOST_TEST(decode<jwt_template_record>(encode(j))->claims == j.claims);
    dev_browser_record d{"dvb_1", "client_1", 5};
    BOOST_TEST(decode<dev_browser_record>(encode(d))->client_id == "client_1");
}

BOOST_AUTO_TEST_CASE(every_truncation_is_corrupted_never_ub) {
    auto bytes = encode(sample_user());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        auto r = decode<user_record>(std::string_view(bytes).substr(0, n));
        BOOST_TEST(r.has_error(), "prefix of length " << n << " decoded");
    }
    // Trailing garbage and a wrong version byte are refused too.
    BOOST_TEST(decode<user_record>(bytes + "x").has_error());
    std::string wrong = bytes;
    wrong[0] = 2;
    BOOST_TEST(decode<user_record>(wrong).has_error());
    BOOST_TEST(decode<user_record>(std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11)).has_error());
}

BOOST_AUTO_TEST_CASE(old_records_missing_trailing_fields_decode_with_defaults) {
    // A record written when dev_browser_record had only its first two members.
    std::string old;
    old.push_back(1);    // version
    old.push_back(2);    // member count
    old.push_back(5);
    old += "dvb_1";
    old.push_back(8);
    old += "client_9";
    auto d = decode<dev_browser_record>(old);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->id == "dvb_1");
    BOOST_TEST(d->client_id == "client_9");
    BOOST_TEST(d->created_at == 0);
    // More members than the reader knows: refused rather than misread.
    std::string newer = old;
    newer[1] = 9;
    BOOST_TEST(decode<dev_browser_record>(newer).has_error());
}

BOOST_AUTO_TEST_SUITE_END()
