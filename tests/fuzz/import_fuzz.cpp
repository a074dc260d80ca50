// The import readers on arbitrary bytes: the CSV reader (records, then each as a Clerk user under the full
// header) and the JSON user reader. Nothing may crash, hang or leak; every record is either fields or an error.
#include "harness.hpp"
#include "server/migrate/clerk.hpp"

#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

std::vector<std::string> fuzz_seeds() {
    return {
        "id,first_name,verified_email_addresses,password_digest,password_hasher\r\n"
        "user_2a,\"Ada, \"\"L\"\"\",a@example.com|b@example.com,$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0,phpass\r\n",
        "\xEF\xBB\xBFid\nuser_2b\n\"open,\n",
        R"({"id":"user_2c","email_addresses":[{"id":"idn_1","email_address":"c@example.com","verification":null}],)"
        R"("created_at":"2020-01-01T00:00:00Z","public_metadata":{"a":[1]}})",
        "a\"b,\"c\"d\n,,,,\r\n"};
}

void fuzz_one(std::string_view in) {
    namespace migrate = latchkey::server::migrate;
    std::vector<std::string> const header(std::begin(migrate::csv_columns), std::end(migrate::csv_columns));
    migrate::csv_reader r(in);
    std::size_t n = 0;
    while (auto rec = r.next()) {
        if (rec->error.empty() == rec->fields.empty()) __builtin_trap();
        (void)migrate::user_from_csv(*rec, header, 1);
        if (++n > in.size() + 1) __builtin_trap();  // every record consumes input
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(in, ec);
    if (!ec) (void)migrate::user_from_json(v, 1, 1);
}
