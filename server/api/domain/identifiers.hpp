#pragma once
// Identifier and password rules shared by the FAPI (sign-up, sign-in, me) and the BAPI (users, identifications,
// waitlist, invitations, organizations): neither includes the other, both include this.
#include "server/api/app.hpp"
#include "server/api/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace latchkey::server::api::domain {

std::optional<std::string> normalize_email(std::string_view in);  ///< lowercase, must look like a@b.c
std::optional<std::string> normalize_phone(std::string_view in);  ///< E.164 (+ and 8..15 digits)
/// Validates a password against the policy; returns the error (param_name "password") or nothing.
std::optional<api_error> check_password_policy(app const& a, std::string_view password);

}  // namespace latchkey::server::api::domain
