#include "server/delivery/message.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "server/utc_time.hpp"

namespace latchkey::server::delivery {

bool header_safe(std::string_view v) noexcept {
    for (unsigned char ch : v)
        if (ch < 0x20 || ch == 0x7f) return false;
    return true;
}

std::string render(std::string_view tmpl, std::vector<std::pair<std::string_view, std::string>> const& vars) {
    std::string out;
    out.reserve(tmpl.size() + 64);
    while (!tmpl.empty()) {
        auto open = tmpl.find("{{");
        if (open == std::string_view::npos) break;
        auto close = tmpl.find("}}", open + 2);
        if (close == std::string_view::npos) break;
        out.append(tmpl.substr(0, open));
        auto name = tmpl.substr(open + 2, close - open - 2);
        while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
        while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
        bool found = false;
        for (auto const& [k, v] : vars)
            if (k == name) {
                out += v;
                found = true;
                break;
            }
        if (!found) out.append(tmpl.substr(open, close + 2 - open));
        tmpl.remove_prefix(close + 2);
    }
    out.append(tmpl);
    return out;
}

std::string address_of(std::string_view mailbox) {
    auto lt = mailbox.rfind('<');
    if (lt != std::string_view::npos) {
        auto gt = mailbox.find('>', lt);
        if (gt == std::string_view::npos) return {};
        return std::string(mailbox.substr(lt + 1, gt - lt - 1));
    }
    while (!mailbox.empty() && mailbox.front() == ' ') mailbox.remove_prefix(1);
    while (!mailbox.empty() && mailbox.back() == ' ') mailbox.remove_suffix(1);
    return std::string(mailbox);
}

namespace {

bool ascii_printable(std::string_view v) noexcept {
    for (unsigned char ch : v)
        if (ch < 0x20 || ch >= 0x7f) return false;
    return true;
}

/// An RFC 2047 encoded word for a non-ASCII subject (base64, UTF-8), split so no word exceeds 75 characters.
std::string encode_subject(std::string_view s) {
    if (ascii_printable(s)) return std::string(s);
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        // 45 input bytes -> 60 base64 characters; never split a UTF-8 sequence.
        std::size_t n = std::min<std::size_t>(45, s.size() - i);
        while (n > 0 && i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) --n;
        if (n == 0) n = std::min<std::size_t>(45, s.size() - i);
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?" + crypto::base64_encode(s.substr(i, n)) + "?=";
        i += n;
    }
    return out;
}

std::string rfc5322_date(std::int64_t t) { return format_utc(t, "%a, %d %b %Y %H:%M:%S +0000"); }

}  // namespace

std::optional<std::string> build_mime(mail const& m, std::string& why) {
    for (auto const& [name, v] : {std::pair{"from", &m.from}, std::pair{"to", &m.to}, std::pair{"subject", &m.subject},
                                  std::pair{"message_id", &m.message_id}})
        if (!header_safe(*v)) {
            why = std::string(name) + " has a control character (CR/LF)";
            return std::nullopt;
        }
    auto const from_addr = address_of(m.from);
    if (from_addr.find('@') == std::string::npos) {
        why = "from has no address";
        return std::nullopt;
    }
    if (m.to.find('@') == std::string::npos || m.to.find_first_of("<>,; ") != std::string::npos) {
        why = "to is not one address";
        return std::nullopt;
    }
    auto const domain = from_addr.substr(from_addr.rfind('@') + 1);
    std::string out;
    out += "Date: " + rfc5322_date(m.date_s) + "\r\n";
    out += "From: " + m.from + "\r\n";
    out += "To: <" + m.to + ">\r\n";
    out += "Subject: " + encode_subject(m.subject) + "\r\n";
    out += "Message-ID: <" + m.message_id + "@" + domain + ">\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\n";
    out += "Content-Transfer-Encoding: base64\r\n";
    out += "\r\n";
    // The body with CRLF line ends, then base64 in lines of 76.
    std::string text;
    text.reserve(m.text.size() + 16);
    for (std::size_t i = 0; i < m.text.size(); ++i) {
        char ch = m.text[i];
        if (ch == '\r') continue;
        if (ch == '\n')
            text += "\r\n";
        else
            text.push_back(ch);
    }
    auto const b64 = crypto::base64_encode(text);
    for (std::size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
    return out;
}

std::string svix_signature(std::vector<std::string> const& secrets, std::string_view msg_id, std::int64_t timestamp_s,
                           std::string_view body) {
    std::string signed_content;
    signed_content.reserve(msg_id.size() + body.size() + 24);
    signed_content.append(msg_id);
    signed_content.push_back('.');
    signed_content += std::to_string(timestamp_s);
    signed_content.push_back('.');
    signed_content.append(body);
    std::string out;
    for (auto const& s : secrets) {
        std::string_view b64 = s;
        if (b64.starts_with("whsec_")) b64.remove_prefix(6);
        auto key = crypto::base64_decode(b64);
        if (!key) continue;
        if (!out.empty()) out.push_back(' ');
        out += "v1," + crypto::base64_encode(crypto::hmac_sha256(*key, signed_content));
    }
    return out;
}

}  // namespace latchkey::server::delivery
