#pragma once
// What goes on the wire for a delivery, built without I/O: message templates, the MIME text of an email (every
// header value checked: no CR, LF or control character ever reaches a header), and Svix webhook signatures.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::server::delivery {

/// True when `v` may be written into a mail header or an SMTP command: no CR, LF, NUL or other control character.
bool header_safe(std::string_view v) noexcept;

/// `tmpl` with every {{name}} replaced by its value from `vars`; unknown placeholders are left as they are.
std::string render(std::string_view tmpl, std::vector<std::pair<std::string_view, std::string>> const& vars);

/// The addr-spec of "Name <a@b.c>" or "a@b.c" (empty when there is none).
std::string address_of(std::string_view mailbox);

struct mail {
    std::string from;         ///< "Name <a@b.c>" or "a@b.c"
    std::string to;           ///< an address
    std::string subject;      ///< UTF-8; encoded as an RFC 2047 word when not plain ASCII
    std::string text;         ///< UTF-8 plain text (LF or CRLF line ends)
    std::string message_id;   ///< unique local part for Message-ID (the domain is the sender's)
    std::int64_t date_s = 0;  ///< unix seconds for the Date header
};

/// The RFC 5322 message (CRLF line ends): Date, From, To, Subject, Message-ID, MIME-Version, a text/plain UTF-8
/// body in base64 (so no line is too long and no line starts with a dot). Empty optional, with `why`, when a
/// header value is unsafe (CR/LF/control characters) or an address is missing: nothing is built.
std::optional<std::string> build_mime(mail const& m, std::string& why);

/// The `svix-signature` header value: "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" per secret, space
/// separated (the first secret first), the key being the base64-decoded part of each `whsec_` secret. Secrets that
/// do not decode are skipped (config validation refuses them).
std::string svix_signature(std::vector<std::string> const& secrets, std::string_view msg_id, std::int64_t timestamp_s,
                           std::string_view body);

}  // namespace latchkey::server::delivery
