#include "server/api/domain/identifiers.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace latchkey::server::api::domain {

std::optional<std::string> normalize_email(std::string_view in) {
    while (!in.empty() && std::isspace(static_cast<unsigned char>(in.front()))) in.remove_prefix(1);
    while (!in.empty() && std::isspace(static_cast<unsigned char>(in.back()))) in.remove_suffix(1);
    if (in.size() < 3 || in.size() > 320) return std::nullopt;
    auto at = in.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 >= in.size()) return std::nullopt;
    auto domain = in.substr(at + 1);
    if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.')
        return std::nullopt;
    std::string out;
    out.reserve(in.size());
    for (char ch : in) {
        auto u = static_cast<unsigned char>(ch);
        if (u <= 0x20 || ch == '<' || ch == '>' || ch == '"' || ch == ',' || ch == ';' || ch == '\\')
            return std::nullopt;
        out.push_back(static_cast<char>(std::tolower(u)));
    }
    if (std::count(out.begin(), out.end(), '@') != 1) return std::nullopt;
    return out;
}

std::optional<std::string> normalize_phone(std::string_view in) {
    std::string digits;
    bool plus = false;
    for (std::size_t i = 0; i < in.size(); ++i) {
        char ch = in[i];
        if (ch == '+' && digits.empty() && !plus) {
            plus = true;
        } else if (ch >= '0' && ch <= '9') {
            digits.push_back(ch);
        } else if (ch == ' ' || ch == '-' || ch == '(' || ch == ')' || ch == '.') {
            continue;
        } else {
            return std::nullopt;
        }
    }
    if (!plus && digits.size() == 10) digits = "1" + digits;  // a bare North American number
    if (digits.size() < 8 || digits.size() > 15 || digits.front() == '0') return std::nullopt;
    return "+" + digits;
}

namespace {
// The most common passwords in public breach corpora; refused when reject_common is on.
constexpr std::array<std::string_view, 40> common_passwords = {
    "password", "password1",  "password123", "12345678",      "123456789", "1234567890", "qwerty123", "qwertyuiop",
    "iloveyou", "11111111",   "00000000",    "abc12345",      "abcd1234",  "passw0rd",   "p@ssw0rd",  "letmein1",
    "welcome1", "welcome123", "admin123",    "administrator", "sunshine",  "princess",   "football",  "baseball",
    "starwars", "trustno1",   "superman",    "1q2w3e4r",      "1qaz2wsx",  "zaq12wsx",   "qwerty12",  "asdfghjkl",
    "87654321", "12341234",   "11223344",    "changeme",      "monkey123", "dragon123",  "master123", "password!"};
}  // namespace

std::optional<api_error> check_password_policy(app const& a, std::string_view pw) {
    auto const& p = a.cfg.passwords;
    if (pw.size() < p.min_length)
        return param_error(code::form_password_length_too_short, "password",
                           "Passwords must be " + std::to_string(p.min_length) + " characters or more.");
    if (pw.size() > p.max_length)
        return param_error(code::form_password_length_too_long, "password",
                           "Passwords must be less than " + std::to_string(p.max_length + 1) + " characters.");
    bool lower = false, upper = false, digit = false, special = false;
    for (char ch : pw) {
        auto u = static_cast<unsigned char>(ch);
        if (std::islower(u))
            lower = true;
        else if (std::isupper(u))
            upper = true;
        else if (std::isdigit(u))
            digit = true;
        else
            special = true;
    }
    if ((p.require_lowercase && !lower) || (p.require_uppercase && !upper) || (p.require_numbers && !digit) ||
        (p.require_special_char && !special))
        return param_error(code::form_password_not_strong_enough, "password");
    if (p.reject_common) {
        std::string lowered(pw);
        std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        for (auto c : common_passwords)
            if (lowered == c) return param_error(code::form_password_pwned, "password");
    }
    return std::nullopt;
}

}  // namespace latchkey::server::api::domain
