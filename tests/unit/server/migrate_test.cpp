#include "server/migrate/clerk.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

namespace migrate = latchkey::server::migrate;

namespace {

std::vector<migrate::csv_record> read_all(std::string_view text) {
    migrate::csv_reader r(text);
    std::vector<migrate::csv_record> out;
    while (auto rec = r.next()) out.push_back(std::move(*rec));
    return out;
}

std::vector<std::string> header() { return {std::begin(migrate::csv_columns), std::end(migrate::csv_columns)}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(migrate_csv)

BOOST_AUTO_TEST_CASE(rfc4180_quoting_bom_crlf_and_line_numbers) {
    auto recs = read_all(
        "\xEF\xBB\xBF"
        "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n\"two\nlines\",z\nlast,\n");
    BOOST_TEST_REQUIRE(recs.size() == 4u);
    BOOST_TEST(recs[0].fields == (std::vector<std::string>{"a", "b"}));
    BOOST_TEST(recs[1].fields == (std::vector<std::string>{"x, y", "say \"hi\""}));
    BOOST_TEST(recs[1].line == 2u);
    BOOST_TEST(recs[2].fields == (std::vector<std::string>{"two\nlines", "z"}));
    BOOST_TEST(recs[2].line == 4u);
    BOOST_TEST(recs[3].fields == (std::vector<std::string>{"last", ""}));
    BOOST_TEST(recs[3].line == 6u);
}

BOOST_AUTO_TEST_CASE(broken_records_are_errors_and_reading_goes_on) {
    auto recs = read_all("a\"b,c\n\"ok\"x,d\ngood,row\n\"open,never\nclosed\n");
    BOOST_TEST_REQUIRE(recs.size() == 4u);
    BOOST_TEST(recs[0].error == "a quote inside an unquoted field");
    BOOST_TEST(recs[1].error == "text after a closing quote");
    BOOST_TEST(recs[2].fields == (std::vector<std::string>{"good", "row"}));
    BOOST_TEST(recs[3].error.find("unbalanced quote") == 0u);
    BOOST_TEST(recs[3].line == 4u);
    std::string big = "x," + std::string(migrate::max_cell_bytes + 1, 'a') + "\nnext,row\n";
    auto b = read_all(big);
    BOOST_TEST_REQUIRE(b.size() == 2u);
    BOOST_TEST(b[0].error.find("longer than") != std::string::npos);
    BOOST_TEST(b[1].fields == (std::vector<std::string>{"next", "row"}));
}

BOOST_AUTO_TEST_CASE(header_is_checked) {
    BOOST_TEST(migrate::check_csv_header(header()).empty());
    BOOST_TEST(migrate::check_csv_header({"id", "first_name"}).empty());  // a subset is fine
    BOOST_TEST(migrate::check_csv_header({"id", "nickname"}).find("unknown column 'nickname'") == 0u);
    BOOST_TEST(migrate::check_csv_header({"id", "id"}) == "column 'id' twice");
    BOOST_TEST(migrate::check_csv_header({"first_name"}) == "no id column");
}

BOOST_AUTO_TEST_CASE(a_row_becomes_a_user) {
    migrate::csv_record rec;
    rec.line = 7;
    rec.fields = {"user_2abc",
                  "Ada",
                  "L",
                  "Ada",
                  "ada@example.com",
                  "",
                  "ADA@example.com|b@example.com",
                  "c@example.com",
                  "+15555550100",
                  "",
                  "JBSWY3DPEHPK3PXP",
                  "3cb4e732631f47e6eb961f34554b7cde",
                  ""};
    auto r = migrate::user_from_csv(rec, header(), 1000);
    BOOST_TEST_REQUIRE(r.error.empty(), r.error);
    BOOST_TEST(r.user.id == "user_2abc");
    BOOST_TEST(r.user.username == "ada");
    BOOST_TEST(r.user.identifications.size() == 4u);                           // ada (once), b, c, the phone
    BOOST_TEST(r.user.password_digest == "3cb4e732631f47e6eb961f34554b7cde");  // md5, detected
    BOOST_TEST(r.totp_secret == "JBSWY3DPEHPK3PXP");
    for (auto const& i : r.user.identifications) {
        BOOST_TEST((i.verification.status == "verified") == (i.value != "c@example.com"));
        if (i.value == "ada@example.com") BOOST_TEST(r.user.primary_email_address_id == i.id);
        if (i.kind == "phone_number") BOOST_TEST(r.user.primary_phone_number_id == i.id);  // the only verified phone
    }
    // A hasher the digest does not fit, kept with its name.
    rec.fields[11] = "abc";
    rec.fields[12] = "md5";
    BOOST_TEST(migrate::user_from_csv(rec, header(), 1000).error == "password_digest is not a valid md5 digest");
    rec.fields[11] = "3cb4e732631f47e6eb961f34554b7cde";
    rec.fields[12] = "pbkdf2_sha256";
    BOOST_TEST(migrate::user_from_csv(rec, header(), 1000).error ==
               "password_digest is not a valid pbkdf2_sha256 digest");
    rec.fields[12] = "md5";
    rec.fields[10] = "not base32!";
    BOOST_TEST(migrate::user_from_csv(rec, header(), 1000).error == "totp_secret is not a base32 secret");
}

BOOST_AUTO_TEST_CASE(list_cells_split_on_pipes_and_commas) {
    // Clerk's migration tooling splits these cells on '|' or ','; a quoted "a,b" cell is two addresses.
    migrate::csv_record rec;
    rec.line = 3;
    rec.fields = {"user_2lists",
                  "",
                  "",
                  "",
                  "a@example.com",
                  "",
                  "a@example.com, b@example.com|c@example.com",
                  "d@example.com,e@example.com",
                  "+15555550100,+15555550101",
                  "",
                  "",
                  "",
                  ""};
    auto r = migrate::user_from_csv(rec, header(), 1000);
    BOOST_TEST_REQUIRE(r.error.empty(), r.error);
    std::vector<std::string> verified, unverified;
    for (auto const& i : r.user.identifications)
        (i.verification.status == "verified" ? verified : unverified).push_back(i.value);
    BOOST_TEST(verified == (std::vector<std::string>{"a@example.com", "b@example.com", "c@example.com", "+15555550100",
                                                     "+15555550101"}),
               boost::test_tools::per_element());
    BOOST_TEST(unverified == (std::vector<std::string>{"d@example.com", "e@example.com"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(json_users_and_times) {
    auto v = boost::json::parse(R"({"id":"user_2x","email_addresses":[{"id":"idn_1","email_address":"a@example.com",
        "verification":null},{"id":"idn_2","email_address":"b@example.com","verification":{"status":"verified"}}],
        "primary_email_address_id":"idn_2","created_at":"2020-02-29T12:00:00.5+01:00","banned":false})");
    auto r = migrate::user_from_json(v, 1, 5);
    BOOST_TEST_REQUIRE(r.error.empty(), r.error);
    BOOST_TEST(r.user.identifications[0].verification.status != "verified");
    BOOST_TEST(r.user.primary_email_address_id == "idn_2");
    BOOST_TEST(r.user.created_at == 1582974000500);
    BOOST_TEST(migrate::rfc3339(1582974000500) == "2020-02-29T11:00:00.500Z");
    BOOST_TEST(!migrate::parse_rfc3339("2020-13-01T00:00:00Z"));
    BOOST_TEST(!migrate::parse_rfc3339("yesterday"));
    auto bad = boost::json::parse(R"({"id":"user_2x","email_addresses":["a@example.com"],"banned":"yes"})");
    BOOST_TEST(migrate::user_from_json(bad, 1, 5).error == "banned must be true or false");
}

BOOST_AUTO_TEST_SUITE_END()
