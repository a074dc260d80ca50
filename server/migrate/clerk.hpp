#pragma once
// Clerk's user export formats, read and written without I/O (so they can be unit-tested and fuzzed):
// the Dashboard CSV, the CLI / BAPI JSON user objects, and what `latchkey export` writes back.
#include "store/records.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server::migrate {

/// The Dashboard CSV's columns, in Clerk's order.
inline constexpr std::string_view csv_columns[] = {"id",
                                                   "first_name",
                                                   "last_name",
                                                   "username",
                                                   "primary_email_address",
                                                   "primary_phone_number",
                                                   "verified_email_addresses",
                                                   "unverified_email_addresses",
                                                   "verified_phone_numbers",
                                                   "unverified_phone_numbers",
                                                   "totp_secret",
                                                   "password_digest",
                                                   "password_hasher"};

/// Several values in one list cell are separated by this when we write one ("a@x.com|b@x.com"). Reading, a
/// comma separates values too (a quoted "a@x.com,b@x.com" cell), as Clerk's own migration tooling splits these
/// cells on either; neither character can be part of an address or a phone number.
inline constexpr char list_separator = '|';

/// The longest cell the CSV reader keeps; a longer one fails its row (not the file).
inline constexpr std::size_t max_cell_bytes = std::size_t{1} << 20;

/// One CSV record (RFC 4180: quoted fields with "" escapes and line breaks, CRLF or LF, a UTF-8 BOM skipped).
struct csv_record {
    std::size_t line = 0;             ///< the physical line the record starts on (1-based)
    std::vector<std::string> fields;  ///< empty when `error` is set
    std::string error;                ///< why the record could not be read ("" = read)
};

/// Reads records one at a time from a text that stays alive while the reader is used.
class csv_reader {
public:
    explicit csv_reader(std::string_view text) noexcept;
    /// The next record, or nullopt at the end. A record with an error has been skipped up to its end; an
    /// unterminated quoted field consumes the rest of the text (an error, then the end).
    std::optional<csv_record> next();
    /// How far into the text the reader is (bytes), for progress.
    std::size_t offset() const noexcept { return pos_; }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
};

/// One user read from a source, ready to store, or why not.
struct user_row {
    std::size_t line = 0;     ///< line (CSV / JSON lines) or position (JSON array, BAPI page), 1-based
    std::string id;           ///< the source's user id, when one could be read
    store::user_record user;  ///< valid when `error` is empty
    std::string totp_secret;  ///< base32, validated; "" = none
    std::string error;        ///< why the row cannot be imported
};

/// Checks a header row against `csv_columns`: every name known, no duplicate, `id` present. Returns "" or why not.
std::string check_csv_header(std::vector<std::string> const& header);

/// A Dashboard CSV record as a user (ids kept, emails/phones with their verification state and primaries, the
/// digest checked against its hasher). `header` is a checked header; `now` stamps identifications.
user_row user_from_csv(csv_record const& rec, std::vector<std::string> const& header, std::int64_t now);

/// A Clerk user object as the BAPI (`GET /v1/users`) and the CLI export write it (identification ids kept,
/// verification.status read), or the simpler `latchkey users export` line shape (addresses as strings or
/// {email_address, verified}). Metadata must be objects; created_at / legal_accepted_at are ms or RFC 3339.
user_row user_from_json(boost::json::value const& v, std::size_t position, std::int64_t now);

/// An identification of `kind` ("email_address", "phone_number") created at `now` (a new id when `id` is empty),
/// verified by an administrator when `verified`.
store::identification_record identification(std::string id, std::string kind, std::string value, bool verified,
                                            std::int64_t now);

/// Whether `id` is a Clerk user id: "user_" and 1..64 letters and digits.
bool valid_user_id(std::string_view id) noexcept;

/// Whether `secret` is an RFC 4648 base32 TOTP secret of 10..128 bytes (case, spaces and padding ignored).
bool valid_totp_secret(std::string_view secret) noexcept;

/// The stored digest as (hasher, digest) for export: "<hasher>$$<digest>" split, else the detected hasher.
std::pair<std::string, std::string> split_digest(std::string_view stored);

/// The CSV header line (CRLF-terminated) and one user's CSV line. Secrets (digest, hasher, TOTP) only when
/// `with_secrets`.
std::string csv_header_line();
std::string csv_line(store::user_record const& u, bool with_secrets);
/// One user as the JSON object `user_from_json` reads back (no digests: the CLI JSON carries none).
boost::json::object json_user(store::user_record const& u);

/// RFC 3339 text of ms since the epoch ("2024-01-02T03:04:05.678Z") and back (nullopt when malformed).
std::string rfc3339(std::int64_t ms);
std::optional<std::int64_t> parse_rfc3339(std::string_view s);

}  // namespace latchkey::server::migrate
