// THE route tables, in the order of the spec files. Auth and execution policy live here, not in handlers.
#include "server/api/backend/handlers.hpp"
#include "server/api/console/handlers.hpp"
#include "server/api/context.hpp"
#include "server/api/email_links/email_links.hpp"
#include "server/api/federation/accounts.hpp"
#include "server/api/federation/federation.hpp"
#include "server/api/federation/links.hpp"
#include "server/api/frontend/handlers.hpp"
#include "server/api/images/images.hpp"
#include "server/api/oauth/handlers.hpp"
#include "server/api/organizations/handlers.hpp"
#include "server/api/saml/saml.hpp"
#include "server/api/tickets/handlers.hpp"

namespace latchkey::server::api {

namespace {
constexpr auto none = auth_policy::none;
constexpr auto fapi = auth_policy::fapi;
constexpr auto sk = auth_policy::secret_key;
constexpr auto io = exec_policy::io;
constexpr auto pool = exec_policy::hash_pool;
}  // namespace

route_table frontend_routes() {
    namespace f = frontend;
    namespace o = orgs;
    using enum http::verb;
    route_table r;
    // clang-format off
    //     method   path                                                          handler                              auth  exec
    r.add(get,     "/.well-known/jwks.json",                                     {f::get_jwks,                         none, io});
    r.add(get,     "/.well-known/openid-configuration",                          {oauth::openid_configuration,         none, io});
    // ---- latchkey as an OAuth 2.0 / OIDC provider (issue 15; server/api/oauth/) ----
    r.add(get,     "/.well-known/oauth-authorization-server",                    {oauth::authorization_server_metadata, none, io});
    r.add(get,     "/oauth/authorize",                                           {oauth::authorize,                    fapi, io});
    r.add(post,    "/oauth/authorize",                                           {oauth::authorize,                    fapi, io});
    r.add(post,    "/oauth/token",                                               {oauth::token,                        none, io});
    r.add(get,     "/oauth/userinfo",                                            {oauth::userinfo,                     none, io});
    r.add(post,    "/oauth/userinfo",                                            {oauth::userinfo,                     none, io});
    r.add(post,    "/oauth/token_info",                                          {oauth::token_info,                   none, io});
    r.add(post,    "/oauth/token/revoke",                                        {oauth::revoke,                       none, io});
    r.add(post,    "/oauth/register",      /* RFC 7591, where enabled */         {oauth::register_client,              none, io});
    r.add(get,     "/v1/me/oauth/consent/{client_id}",                           {oauth::get_consent,                  fapi, io});
    r.add(post,    "/v1/me/oauth/consent/{client_id}",                           {oauth::post_consent,                 fapi, io});
    r.add(get,     "/v1/environment",                                            {f::get_environment,                  none, io});
    r.add(patch,   "/v1/environment",                                            {f::patch_environment,                fapi, io});
    r.add(get,     "/v1/health",                                                 {f::get_health,                       none, io});
    r.add(get,     "/v1/proxy-health",                                           {f::get_health,                       none, io});
    r.add(get,     "/v1/client",                                                 {f::get_client,                       fapi, io});
    r.add(put,     "/v1/client",                                                 {f::create_client,                    fapi, io});
    r.add(post,    "/v1/client",                                                 {f::create_client,                    fapi, io});
    r.add(delete_, "/v1/client",                                                 {f::delete_client,                    fapi, io});
    r.add(post,    "/v1/client/sign_ins",                                        {f::create_sign_in,                   fapi, pool});
    r.add(get,     "/v1/client/sign_ins/{sign_in_id}",                           {f::get_sign_in,                      fapi, io});
    r.add(post,    "/v1/client/sign_ins/{sign_in_id}/reset_password",            {f::reset_password,                   fapi, pool});
    r.add(post,    "/v1/client/sign_ins/{sign_in_id}/prepare_first_factor",      {f::prepare_first_factor,             fapi, io});
    r.add(post,    "/v1/client/sign_ins/{sign_in_id}/attempt_first_factor",      {f::attempt_first_factor,             fapi, pool});
    r.add(post,    "/v1/client/sign_ins/{sign_in_id}/prepare_second_factor",     {f::prepare_second_factor,            fapi, io});
    r.add(post,    "/v1/client/sign_ins/{sign_in_id}/attempt_second_factor",     {f::attempt_second_factor,            fapi, io});
    r.add(post,    "/v1/client/sign_ups",                                        {f::create_sign_up,                   fapi, pool});
    r.add(get,     "/v1/client/sign_ups/{sign_up_id}",                           {f::get_sign_up,                      fapi, io});
    r.add(patch,   "/v1/client/sign_ups/{sign_up_id}",                           {f::update_sign_up,                   fapi, pool});
    r.add(post,    "/v1/client/sign_ups/{sign_up_id}/prepare_verification",     {f::prepare_sign_up_verification,     fapi, io});
    r.add(post,    "/v1/client/sign_ups/{sign_up_id}/attempt_verification",     {f::attempt_sign_up_verification,     fapi, io});
    r.add(get,     "/v1/client/handshake",                                       {f::handshake,                        fapi, io});
    r.add(post,    "/v1/dev_browser",                                            {f::create_dev_browser,               none, io});
    r.add(post,    "/v1/waitlist",                                               {f::join_waitlist,                    none, io});
    r.add(get,     "/v1/avatar/default",                                         {f::get_default_avatar,               none, io});
    r.add(get,     "/npm/{scope}/{package}/dist/{file}",                         {f::get_npm_file,                     none, io});
    r.add(get,     "/npm/{package}/dist/{file}",                                 {f::get_npm_file,                     none, io});
    r.add(get,     "/sign-in",             /* the Account Portal */               {f::get_portal_sign_in,               none, io});
    r.add(get,     "/sign-up",                                                   {f::get_portal_sign_up,               none, io});
    r.add(get,     "/user",                                                      {f::get_portal_user,                  none, io});
    r.add(get,     "/waitlist",                                                  {f::get_portal_waitlist,              none, io});
    r.add(get,     "/portal/portal.js",                                          {f::get_portal_script,                none, io});
    r.add(get,     "/organization",                                              {f::get_portal_organization,          none, io});
    r.add(get,     "/create-organization",                                       {f::get_portal_create_organization,   none, io});
    r.add(delete_, "/v1/client/sessions",                                        {f::end_all_sessions,                 fapi, io});
    r.add(get,     "/v1/client/sessions/{session_id}",                           {f::get_session,                      fapi, io});
    r.add(post,    "/v1/client/sessions/{session_id}/touch",                     {f::touch_session,                    fapi, io});
    r.add(post,    "/v1/client/sessions/{session_id}/end",                       {f::end_session,                      fapi, io});
    r.add(post,    "/v1/client/sessions/{session_id}/remove",                    {f::remove_session,                   fapi, io});
    r.add(get,     "/v1/me/sessions/active",                                     {f::me_active_sessions,               fapi, io});
    r.add(post,    "/v1/me/sessions/{session_id}/revoke",                        {f::me_revoke_session,                fapi, io});
    r.add(post,    "/v1/client/sessions/{session_id}/tokens",                    {f::create_session_token,             fapi, io});
    r.add(post,    "/v1/client/sessions/{session_id}/tokens/{template_name}",    {f::create_session_template_token,    fapi, io});
    r.add(get,     "/v1/me/sessions",                                            {f::me_sessions,                      fapi, io});
    r.add(get,     "/v1/me/email_addresses",                                     {f::list_email_addresses,             fapi, io});
    r.add(post,    "/v1/me/email_addresses",                                     {f::create_email_address,             fapi, io});
    r.add(post,    "/v1/me/email_addresses/",  /* clerk-js create path */         {f::create_email_address,             fapi, io});
    r.add(post,    "/v1/me/email_addresses/{email_id}/attempt_verification",     {f::attempt_email_verification,       fapi, io});
    r.add(post,    "/v1/me/email_addresses/{email_id}/prepare_verification",     {f::prepare_email_verification,       fapi, io});
    r.add(get,     "/v1/me/email_addresses/{email_id}",                          {f::get_email_address,                fapi, io});
    r.add(delete_, "/v1/me/email_addresses/{email_id}",                          {f::delete_email_address,             fapi, io});
    r.add(get,     "/v1/me/phone_numbers",                                       {f::list_phone_numbers,               fapi, io});
    r.add(post,    "/v1/me/phone_numbers",                                       {f::create_phone_number,              fapi, io});
    r.add(post,    "/v1/me/phone_numbers/",    /* clerk-js create path */         {f::create_phone_number,              fapi, io});
    r.add(post,    "/v1/me/phone_numbers/{phone_number_id}/attempt_verification",{f::attempt_phone_verification,       fapi, io});
    r.add(post,    "/v1/me/phone_numbers/{phone_number_id}/prepare_verification",{f::prepare_phone_verification,       fapi, io});
    r.add(get,     "/v1/me/phone_numbers/{phone_number_id}",                     {f::get_phone_number,                 fapi, io});
    r.add(patch,   "/v1/me/phone_numbers/{phone_number_id}",                     {f::update_phone_number,              fapi, io});
    r.add(delete_, "/v1/me/phone_numbers/{phone_number_id}",                     {f::delete_phone_number,              fapi, io});
    r.add(get,     "/v1/me",                                                     {f::get_me,                           fapi, io});
    r.add(patch,   "/v1/me",                                                     {f::update_me,                        fapi, io});
    r.add(delete_, "/v1/me",                                                     {f::delete_me,                        fapi, io});
    r.add(patch,   "/v1/me/metadata",                                            {f::update_me_metadata,               fapi, io});
    r.add(post,    "/v1/me/tokens",                                              {f::create_me_token,                  fapi, io});
    r.add(post,    "/v1/me/change_password",                                     {f::change_password,                  fapi, pool});
    r.add(post,    "/v1/me/remove_password",                                     {f::remove_password,                  fapi, pool});
    // ---- organizations (issue 13) ----
    r.add(post,    "/v1/organizations",                                          {o::fapi_create_organization,         fapi, io});
    r.add(get,     "/v1/organizations/{organization_id}",                        {o::fapi_get_organization,            fapi, io});
    r.add(patch,   "/v1/organizations/{organization_id}",                        {o::fapi_update_organization,         fapi, io});
    r.add(delete_, "/v1/organizations/{organization_id}",                        {o::fapi_delete_organization,         fapi, io});
    r.add(get,     "/v1/organizations/{organization_id}/memberships",            {o::fapi_list_memberships,            fapi, io});
    r.add(post,    "/v1/organizations/{organization_id}/memberships",            {o::fapi_create_membership,           fapi, io});
    r.add(patch,   "/v1/organizations/{organization_id}/memberships/{user_id}",  {o::fapi_update_membership,           fapi, io});
    r.add(delete_, "/v1/organizations/{organization_id}/memberships/{user_id}",  {o::fapi_delete_membership,           fapi, io});
    r.add(get,     "/v1/organizations/{organization_id}/invitations",            {o::fapi_list_invitations,            fapi, io});
    r.add(post,    "/v1/organizations/{organization_id}/invitations",            {o::fapi_create_invitation,           fapi, io});
    r.add(post,    "/v1/organizations/{organization_id}/invitations/bulk",       {o::fapi_create_invitations_bulk,     fapi, io});
    r.add(get,     "/v1/organizations/{organization_id}/invitations/pending",    {o::fapi_list_pending_invitations,    fapi, io});
    r.add(post,    "/v1/organizations/{organization_id}/invitations/{invitation_id}/revoke", {o::fapi_revoke_invitation, fapi, io});
    r.add(get,     "/v1/organizations/{organization_id}/roles",                  {o::fapi_list_roles,                  fapi, io});
    r.add(get,     "/v1/me/organization_memberships",                            {o::fapi_my_memberships,              fapi, io});
    r.add(delete_, "/v1/me/organization_memberships/{organization_id}",          {o::fapi_leave_organization,          fapi, io});
    r.add(get,     "/v1/me/organization_invitations",                            {o::fapi_my_invitations,              fapi, io});
    r.add(post,    "/v1/me/organization_invitations/{invitation_id}/accept",     {o::fapi_accept_my_invitation,        fapi, io});
    r.add(get,     "/v1/me/organization_suggestions",                            {o::fapi_my_suggestions,              fapi, io});
    // organization domains, suggestions, membership requests (issue 13)
    r.add(post,    "/v1/me/organization_suggestions/{suggestion_id}/accept",     {o::fapi_accept_my_suggestion,        fapi, io});
    r.add(get,     "/v1/organizations/{organization_id}/domains",                {o::fapi_list_domains,                fapi, io});
    r.add(post,    "/v1/organizations/{organization_id}/domains",                {o::fapi_create_domain,               fapi, io});
    r.add(get,     "/v1/organizations/{organization_id}/domains/{domain_id}",    {o::fapi_get_domain,                  fapi, io});
    r.add(delete_, "/v1/organizations/{organization_id}/domains/{domain_id}",    {o::fapi_delete_domain,               fapi, io});
    r.add(post,    "/v1/organizations/{organization_id}/domains/{domain_id}/update_enrollment_mode", {o::fapi_update_enrollment_mode, fapi, io});
    r.add(post,    "/v1/organizations/{organization_id}/domains/{domain_id}/prepare_affiliation_verification", {o::fapi_prepare_affiliation_verification, fapi, io});
    r.add(post,    "/v1/organizations/{organization_id}/domains/{domain_id}/attempt_affiliation_verification", {o::fapi_attempt_affiliation_verification, fapi, io});
    r.add(get,     "/v1/organizations/{organization_id}/membership_requests",    {o::fapi_list_membership_requests,    fapi, io});
    r.add(post,    "/v1/organizations/{organization_id}/membership_requests/{request_id}/accept", {o::fapi_accept_membership_request, fapi, io});
    r.add(post,    "/v1/organizations/{organization_id}/membership_requests/{request_id}/reject", {o::fapi_reject_membership_request, fapi, io});
    // federation (issue 15): the provider's redirect back; exchanges the code with the provider, off the I/O threads
    r.add(get,     "/v1/oauth_callback",                                         {federation::oauth_callback,          none, pool});
    r.add(post,    "/v1/oauth_callback",   /* response_mode=form_post */          {federation::oauth_callback,          none, pool});
    r.add(delete_, "/v1/me/external_accounts/{external_account_id}",             {f::delete_external_account,          fapi, io});
    // enterprise SSO, SAML (issue 15): the IdP posts its response; validated (XML-DSig) off the I/O threads
    r.add(post,    "/v1/saml/acs/{connection_id}",                               {saml_sso::acs,                       none, pool});
    r.add(get,     "/v1/saml/metadata/{connection_id}",  /* id or id.xml */ {saml_sso::sp_metadata,               none, io});
    // second factors (issue 14)
    r.add(post,    "/v1/me/totp",                                                {f::create_totp,                      fapi, io});
    r.add(delete_, "/v1/me/totp",                                                {f::delete_totp,                      fapi, io});
    r.add(post,    "/v1/me/totp/attempt_verification",                           {f::attempt_totp_verification,        fapi, io});
    r.add(post,    "/v1/me/backup_codes",                                        {f::create_backup_codes,              fapi, io});
    r.add(post,    "/v1/me/backup_codes/", /* clerk-js create path */            {f::create_backup_codes,              fapi, io});
    // session reverification (issue 14)
    r.add(post,    "/v1/client/sessions/{session_id}/verify",                    {f::start_session_verification,       fapi, io});
    r.add(post,    "/v1/client/sessions/{session_id}/verify/prepare_first_factor", {f::prepare_session_verification_first_factor, fapi, io});
    r.add(post,    "/v1/client/sessions/{session_id}/verify/attempt_first_factor", {f::attempt_session_verification_first_factor, fapi, pool});
    r.add(post,    "/v1/client/sessions/{session_id}/verify/prepare_second_factor", {f::prepare_session_verification_second_factor, fapi, io});
    r.add(post,    "/v1/client/sessions/{session_id}/verify/attempt_second_factor", {f::attempt_session_verification_second_factor, fapi, io});
    // profile images and organization logos (issue 14); images are served from the FAPI
    r.add(get,     "/v1/images/{image_id}",                                      {images::get_image,                   none, io});
    r.add(post,    "/v1/me/profile_image",                                       {f::set_profile_image,                fapi, io});
    r.add(delete_, "/v1/me/profile_image",                                       {f::delete_profile_image,             fapi, io});
    r.add(put,     "/v1/organizations/{organization_id}/logo",                   {o::fapi_set_organization_logo,       fapi, io});
    r.add(delete_, "/v1/organizations/{organization_id}/logo",                   {o::fapi_delete_organization_logo,    fapi, io});
    // email links (issue 14): the emailed link's target; reads the opener's client itself, if any
    r.add(get,     "/v1/verify",                                                 {email_links::verify,                 none, io});
    // passkeys (issue 14)
    r.add(post,    "/v1/me/passkeys",                                            {f::create_passkey,                   fapi, io});
    r.add(get,     "/v1/me/passkeys/{passkey_id}",                               {f::get_passkey,                      fapi, io});
    r.add(patch,   "/v1/me/passkeys/{passkey_id}",                               {f::update_passkey,                   fapi, io});
    r.add(delete_, "/v1/me/passkeys/{passkey_id}",                               {f::delete_passkey,                   fapi, io});
    r.add(post,    "/v1/me/passkeys/{passkey_id}/attempt_verification",          {f::attempt_passkey_verification,     fapi, io});
    // web3 wallets (issue 14)
    r.add(get,     "/v1/me/web3_wallets",                                        {f::list_web3_wallets,                fapi, io});
    r.add(post,    "/v1/me/web3_wallets",                                        {f::create_web3_wallet,               fapi, io});
    r.add(post,    "/v1/me/web3_wallets/", /* clerk-js create path */            {f::create_web3_wallet,               fapi, io});
    r.add(get,     "/v1/me/web3_wallets/{web3_wallet_id}",                       {f::get_web3_wallet,                  fapi, io});
    r.add(delete_, "/v1/me/web3_wallets/{web3_wallet_id}",                       {f::delete_web3_wallet,               fapi, io});
    r.add(post,    "/v1/me/web3_wallets/{web3_wallet_id}/prepare_verification",  {f::prepare_web3_wallet_verification, fapi, io});
    r.add(post,    "/v1/me/web3_wallets/{web3_wallet_id}/attempt_verification",  {f::attempt_web3_wallet_verification, fapi, io});
    // tickets (issue 14)
    r.add(get,     "/v1/tickets/accept",                                         {tickets::accept_ticket,              none, io});
    // ---- federation, finished (issue 15; server/api/federation/{well_known,linking}.cpp) ----
    r.add(get,     "/.well-known/assetlinks.json",                               {federation::get_assetlinks,          none, io});
    r.add(get,     "/.well-known/apple-app-site-association",                    {federation::get_apple_app_site_association, none, io});
    r.add(post,    "/v1/me/external_accounts",                                   {federation::create_external_account, fapi, io});
    r.add(patch,   "/v1/me/external_accounts/{external_account_id}/reauthorize", {federation::reauthorize_external_account, fapi, io});
    r.add(delete_, "/v1/me/external_accounts/{external_account_id}/tokens",      {federation::revoke_external_account_tokens, fapi, io});
    // clang-format on
    return r;
}

route_table backend_routes() {
    namespace b = backend;
    namespace o = orgs;
    using enum http::verb;
    route_table r;
    // clang-format off
    r.add(get,     "/metrics",                 /* Prometheus */       {b::get_metrics,                    sk, io});
    r.add(get,     "/v1/jwks",                                        {b::get_jwks,                       sk, io});
    r.add(get,     "/v1/clients",                                     {b::list_clients,                   sk, io});
    r.add(post,    "/v1/clients/verify",                              {b::verify_client,                  sk, io});
    r.add(get,     "/v1/clients/handshake_payload",                   {b::get_handshake_payload,          sk, io});
    r.add(get,     "/v1/clients/{client_id}",                         {b::get_client,                     sk, io});
    r.add(post,    "/v1/email_addresses",                             {b::create_email_address,           sk, io});
    r.add(get,     "/v1/email_addresses/{email_address_id}",          {b::get_email_address,              sk, io});
    r.add(delete_, "/v1/email_addresses/{email_address_id}",          {b::delete_email_address,           sk, io});
    r.add(patch,   "/v1/email_addresses/{email_address_id}",          {b::update_email_address,           sk, io});
    r.add(post,    "/v1/phone_numbers",                               {b::create_phone_number,            sk, io});
    r.add(get,     "/v1/phone_numbers/{phone_number_id}",             {b::get_phone_number,               sk, io});
    r.add(delete_, "/v1/phone_numbers/{phone_number_id}",             {b::delete_phone_number,            sk, io});
    r.add(patch,   "/v1/phone_numbers/{phone_number_id}",             {b::update_phone_number,            sk, io});
    r.add(get,     "/v1/sessions",                                    {b::list_sessions,                  sk, io});
    r.add(get,     "/v1/sessions/{session_id}",                       {b::get_session,                    sk, io});
    r.add(post,    "/v1/sessions/{session_id}/revoke",                {b::revoke_session,                 sk, io});
    r.add(post,    "/v1/sessions/{session_id}/verify",                {b::verify_session,                 sk, io});
    r.add(post,    "/v1/sessions/{session_id}/tokens",                {b::create_session_token,           sk, io});
    r.add(post,    "/v1/sessions/{session_id}/tokens/{template_name}",{b::create_session_template_token,  sk, io});
    r.add(get,     "/v1/users",                                       {b::list_users,                     sk, io});
    r.add(post,    "/v1/users",                                       {b::create_user,                    sk, pool});
    r.add(get,     "/v1/users/count",                                 {b::count_users,                    sk, io});
    r.add(get,     "/v1/users/{user_id}",                             {b::get_user,                       sk, io});
    r.add(patch,   "/v1/users/{user_id}",                             {b::update_user,                    sk, pool});
    r.add(delete_, "/v1/users/{user_id}",                             {b::delete_user,                    sk, io});
    r.add(post,    "/v1/users/{user_id}/ban",                         {b::ban_user,                       sk, io});
    r.add(post,    "/v1/users/{user_id}/unban",                       {b::unban_user,                     sk, io});
    r.add(post,    "/v1/users/{user_id}/lock",                        {b::lock_user,                      sk, io});
    r.add(post,    "/v1/users/{user_id}/unlock",                      {b::unlock_user,                    sk, io});
    r.add(delete_, "/v1/users/{user_id}/external_accounts/{external_account_id}", {b::delete_user_external_account, sk, io});  // issue 15
    r.add(get,     "/v1/users/{user_id}/oauth_access_tokens/{provider}", {federation::get_oauth_access_tokens, sk, pool});  // issue 15
    r.add(patch,   "/v1/users/{user_id}/metadata",                    {b::update_user_metadata,           sk, io});
    r.add(put,     "/v1/users/{user_id}/metadata",                    {b::replace_user_metadata,          sk, io});
    r.add(post,    "/v1/users/{user_id}/remove_password",             {b::remove_user_password,           sk, io});
    r.add(post,    "/v1/users/{user_id}/verify_password",             {b::verify_password,                sk, pool});
    r.add(get,     "/v1/instance",                                    {b::get_instance,                   sk, io});
    r.add(get,     "/v1/waitlist_entries",                            {b::list_waitlist_entries,          sk, io});
    r.add(post,    "/v1/waitlist_entries",                            {b::create_waitlist_entry,          sk, io});
    r.add(post,    "/v1/waitlist_entries/bulk",                       {b::create_waitlist_entries,        sk, io});
    r.add(delete_, "/v1/waitlist_entries/{waitlist_entry_id}",        {b::delete_waitlist_entry,          sk, io});
    r.add(post,    "/v1/waitlist_entries/{waitlist_entry_id}/invite", {b::invite_waitlist_entry,          sk, io});
    r.add(post,    "/v1/waitlist_entries/{waitlist_entry_id}/reject", {b::reject_waitlist_entry,          sk, io});
    r.add(get,     "/v1/jwt_templates",                               {b::list_jwt_templates,             sk, io});
    r.add(post,    "/v1/jwt_templates",                               {b::create_jwt_template,            sk, io});
    r.add(get,     "/v1/jwt_templates/{template_id}",                 {b::get_jwt_template,               sk, io});
    r.add(patch,   "/v1/jwt_templates/{template_id}",                 {b::update_jwt_template,            sk, io});
    r.add(delete_, "/v1/jwt_templates/{template_id}",                 {b::delete_jwt_template,            sk, io});
    // ---- organizations (issue 13) ----
    r.add(get,     "/v1/organizations",                               {o::bapi_list_organizations,        sk, io});
    r.add(post,    "/v1/organizations",                               {o::bapi_create_organization,       sk, io});
    r.add(get,     "/v1/organizations/{organization_id}",             {o::bapi_get_organization,          sk, io});
    r.add(patch,   "/v1/organizations/{organization_id}",             {o::bapi_update_organization,       sk, io});
    r.add(delete_, "/v1/organizations/{organization_id}",             {o::bapi_delete_organization,       sk, io});
    r.add(patch,   "/v1/organizations/{organization_id}/metadata",    {o::bapi_merge_organization_metadata, sk, io});
    r.add(put,     "/v1/organizations/{organization_id}/metadata",    {o::bapi_replace_organization_metadata, sk, io});
    r.add(get,     "/v1/organizations/{organization_id}/memberships", {o::bapi_list_memberships,          sk, io});
    r.add(post,    "/v1/organizations/{organization_id}/memberships", {o::bapi_create_membership,         sk, io});
    r.add(patch,   "/v1/organizations/{organization_id}/memberships/{user_id}", {o::bapi_update_membership, sk, io});
    r.add(delete_, "/v1/organizations/{organization_id}/memberships/{user_id}", {o::bapi_delete_membership, sk, io});
    r.add(get,     "/v1/organizations/{organization_id}/invitations", {o::bapi_list_invitations,          sk, io});
    r.add(post,    "/v1/organizations/{organization_id}/invitations", {o::bapi_create_invitation,         sk, io});
    r.add(post,    "/v1/organizations/{organization_id}/invitations/bulk", {o::bapi_create_invitations_bulk, sk, io});
    r.add(get,     "/v1/organizations/{organization_id}/invitations/{invitation_id}", {o::bapi_get_invitation, sk, io});
    r.add(post,    "/v1/organizations/{organization_id}/invitations/{invitation_id}/revoke", {o::bapi_revoke_invitation, sk, io});
    // organization domains, memberships across organizations, roles, permissions (issue 13)
    r.add(get,     "/v1/organizations/{organization_id}/domains",             {o::bapi_list_domains,              sk, io});
    r.add(post,    "/v1/organizations/{organization_id}/domains",             {o::bapi_create_domain,             sk, io});
    r.add(patch,   "/v1/organizations/{organization_id}/domains/{domain_id}", {o::bapi_update_domain,             sk, io});
    r.add(delete_, "/v1/organizations/{organization_id}/domains/{domain_id}", {o::bapi_delete_domain,             sk, io});
    r.add(patch,   "/v1/organizations/{organization_id}/memberships/{user_id}/metadata", {o::bapi_merge_membership_metadata, sk, io});
    r.add(get,     "/v1/organization_memberships",                            {o::bapi_list_all_memberships,      sk, io});
    r.add(get,     "/v1/users/{user_id}/organization_memberships",            {o::bapi_user_memberships,          sk, io});
    r.add(get,     "/v1/organization_roles",                                  {o::bapi_list_roles,                sk, io});
    r.add(post,    "/v1/organization_roles",                                  {o::bapi_write_role,                sk, io});
    r.add(get,     "/v1/organization_roles/{role_id}",                        {o::bapi_get_role,                  sk, io});
    r.add(patch,   "/v1/organization_roles/{role_id}",                        {o::bapi_write_role,                sk, io});
    r.add(delete_, "/v1/organization_roles/{role_id}",                        {o::bapi_write_role,                sk, io});
    r.add(post,    "/v1/organization_roles/{role_id}/permissions/{permission_id}", {o::bapi_write_role,           sk, io});
    r.add(delete_, "/v1/organization_roles/{role_id}/permissions/{permission_id}", {o::bapi_write_role,           sk, io});
    r.add(get,     "/v1/organization_permissions",                            {o::bapi_list_permissions,          sk, io});
    r.add(get,     "/v1/organization_permissions/{permission_id}",            {o::bapi_get_permission,            sk, io});
    // enterprise SSO, SAML (issue 15)
    r.add(get,     "/v1/saml_connections",                            {saml_sso::list_connections,        sk, io});
    r.add(post,    "/v1/saml_connections",                            {saml_sso::create_connection,       sk, pool});  // fetches metadata
    r.add(get,     "/v1/saml_connections/{saml_connection_id}",       {saml_sso::get_connection,          sk, io});
    r.add(patch,   "/v1/saml_connections/{saml_connection_id}",       {saml_sso::update_connection,       sk, pool});  // fetches metadata
    r.add(delete_, "/v1/saml_connections/{saml_connection_id}",       {saml_sso::delete_connection,       sk, io});
    // profile images and organization logos (issue 14)
    r.add(post,    "/v1/users/{user_id}/profile_image",               {b::set_user_profile_image,         sk, io});
    r.add(delete_, "/v1/users/{user_id}/profile_image",               {b::delete_user_profile_image,      sk, io});
    r.add(put,     "/v1/organizations/{organization_id}/logo",        {o::bapi_set_organization_logo,     sk, io});
    r.add(delete_, "/v1/organizations/{organization_id}/logo",        {o::bapi_delete_organization_logo,  sk, io});
    // ---- tickets and second factors (issue 14) ----
    r.add(post,    "/v1/sign_in_tokens",                              {tickets::create_sign_in_token,     sk, io});
    r.add(post,    "/v1/sign_in_tokens/{sign_in_token_id}/revoke",    {tickets::revoke_sign_in_token,     sk, io});
    r.add(post,    "/v1/actor_tokens",                                {tickets::create_actor_token,       sk, io});
    r.add(post,    "/v1/actor_tokens/{actor_token_id}/revoke",        {tickets::revoke_actor_token,       sk, io});
    r.add(get,     "/v1/invitations",                                 {tickets::list_invitations,         sk, io});
    r.add(post,    "/v1/invitations",                                 {tickets::create_invitation,        sk, io});
    r.add(post,    "/v1/invitations/bulk",                            {tickets::create_invitations_bulk,  sk, io});
    r.add(post,    "/v1/invitations/{invitation_id}/revoke",          {tickets::revoke_invitation,        sk, io});
    r.add(delete_, "/v1/invitations/{invitation_id}",                 {tickets::delete_invitation,        sk, io});
    r.add(delete_, "/v1/users/{user_id}/mfa",                         {tickets::disable_user_mfa,         sk, io});
    r.add(delete_, "/v1/users/{user_id}/totp",                        {tickets::delete_user_totp,         sk, io});
    r.add(delete_, "/v1/users/{user_id}/backup_code",                 {tickets::delete_user_backup_codes, sk, io});
    r.add(post,    "/v1/users/{user_id}/verify_totp",                 {tickets::verify_user_totp,         sk, io});
    // ---- OAuth applications: latchkey as an OAuth 2.0 / OIDC provider (issue 15) ----
    r.add(get,     "/v1/oauth_applications",                          {oauth::list_applications,          sk, io});
    r.add(post,    "/v1/oauth_applications",                          {oauth::create_application,         sk, io});
    r.add(get,     "/v1/oauth_applications/{oauth_application_id}",   {oauth::get_application,            sk, io});
    r.add(patch,   "/v1/oauth_applications/{oauth_application_id}",   {oauth::update_application,         sk, io});
    r.add(delete_, "/v1/oauth_applications/{oauth_application_id}",   {oauth::delete_application,         sk, io});
    r.add(post,    "/v1/oauth_applications/{oauth_application_id}/rotate_secret", {oauth::rotate_secret,  sk, io});
    r.add(post,    "/v1/oauth_applications/access_tokens/verify",     {oauth::verify_access_token,        sk, io});
    // ---- the admin console (issue 23; server/api/console): the backend listener only. Its handlers authorise
    // the console session themselves; the BAPI routes above also accept one in place of the secret key. ----
    r.add(get,     "/console",                                        {console::get_page,                 none, io});
    r.add(get,     "/console/",                                       {console::get_page,                 none, io});
    r.add(get,     "/console/assets/{file}",                          {console::get_asset,                none, io});
    r.add(get,     "/console/link",                                   {console::open_link,                none, io});
    r.add(post,    "/console/api/sign_in",                            {console::sign_in,                  none, pool});
    r.add(post,    "/console/api/sign_out",                           {console::sign_out,                 none, io});
    r.add(get,     "/console/api/session",                            {console::current_session,          none, io});
    r.add(get,     "/console/api/audit",                              {console::list_audit,               none, io});
    r.add(get,     "/console/api/stats",                              {console::get_stats,                none, io});
    // the remaining pages (issue 23; server/api/console/pages.cpp): the console's own, then latchkey BAPI
    // endpoints for what Clerk's Backend API lacks (secret key, or a console session in its place)
    r.add(get,     "/console/api/instance",                           {console::get_instance_page,        none, io});
    r.add(get,     "/console/api/operators",                          {console::list_operators,           none, io});
    r.add(post,    "/console/api/operators",                          {console::create_operator,          none, pool});
    r.add(patch,   "/console/api/operators/{operator_id}",            {console::update_operator,          none, io});
    r.add(delete_, "/console/api/operators/{operator_id}",            {console::delete_operator,          none, io});
    r.add(post,    "/console/api/operators/{operator_id}/reset_totp", {console::reset_operator_totp,      none, io});
    r.add(get,     "/v1/jwt_templates/{template_id}/preview",         {console::preview_jwt_template,     sk, io});
    r.add(get,     "/v1/webhook_deliveries",                          {console::list_webhook_deliveries,  sk, io});
    r.add(post,    "/v1/webhook_deliveries/{delivery_id}/retry",      {console::retry_webhook_delivery,   sk, io});
    r.add(get,     "/v1/exports/users",  /* off the I/O threads */    {console::export_users,             sk, pool});
    // signing-key rotation while serving (server/api/console/keys.cpp; admins only from the console)
    r.add(get,     "/v1/signing_keys",                                {console::list_signing_keys,        sk, io});
    r.add(post,    "/v1/signing_keys",   /* RSA key generation */     {console::rotate_signing_key,       sk, pool});
    r.add(delete_, "/v1/signing_keys/{kid}",                          {console::retire_signing_key,       sk, io});
    // clang-format on
    return r;
}

}  // namespace latchkey::server::api
