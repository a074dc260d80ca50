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
