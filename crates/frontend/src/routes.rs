//! THE Frontend API route table: one line per FAPI operation (paths as the FAPI spec writes them, with `/v1`).
//! Handler names are the snake_case of the operationId. Paths of the spec not listed here answer 404
//! `operation_not_implemented`.

use tessera_api::AppState;
use tessera_api::lazy_route::{LazyRoute, MakeHandlers};
use tessera_api::lazy_route::{delete, get, patch, post, put};
use tessera_api::route_table::RouteTable;

pub mod billing;
pub mod clerk_js;
pub mod client;
pub mod dev_browser;
pub mod environment;
pub mod fallback;
pub mod handshake;
pub mod health;
pub mod me;
pub mod me_account;
pub mod me_identifiers;
pub mod me_mfa;
pub mod me_organizations;
pub mod oauth;
pub mod oauth_authorize;
pub mod oauth_callback;
pub mod organization_domain_verification;
pub mod organization_domains;
pub mod organization_invitations;
pub mod organization_membership_requests;
pub mod organization_memberships;
pub mod organizations;
pub mod saml;
pub mod session_reverification;
pub mod sessions;
pub mod sign_ins;
pub mod sign_ups;
pub mod site;
pub mod sso_test;
pub mod tickets;
pub mod waitlist;
pub mod well_known;

fn v1(path: &'static str, handlers: MakeHandlers<AppState>) -> (&'static str, MakeHandlers<AppState>) {
    (path, handlers)
}

/// Every implemented Frontend API operation.
pub fn table() -> Vec<(&'static str, MakeHandlers<AppState>)> {
    vec![
        // Tickets (sign-in tokens, actor tokens, agent tasks)
        v1("/v1/tickets/accept", || get(tickets::accept_ticket)),
        // Hosted pages (the Account Portal)
        v1("/sign-in", || get(crate::pages::sign_in)),
        v1("/sign-up", || get(crate::pages::sign_up)),
        v1("/user", || get(crate::pages::user_profile)),
        // Well known
        v1("/.well-known/jwks.json", || get(well_known::get_jwks)),
        // Health
        v1("/v1/health", || get(health::get_health)),
        v1("/v1/proxy-health", || get(health::get_proxy_health)),
        // Checked redirects and clearing the browser's data
        v1("/v1/redirect", || get(site::redirect_to_url)),
        v1("/v1/clear-site-data", || get(site::clear_site_data)),
        // Waitlist
        v1("/v1/waitlist", || post(waitlist::join_waitlist)),
        v1("/.well-known/openid-configuration", || get(well_known::get_open_id_configuration)),
        v1("/.well-known/oauth-authorization-server", || get(well_known::get_o_auth2_authorization_server_metadata)),
        // OAuth2 Identity Provider
        v1("/oauth/authorize", || {
            get(oauth_authorize::request_o_auth_authorize).post(oauth_authorize::request_o_auth_authorize_post)
        }),
        v1("/oauth/token", || post(oauth::get_o_auth_token)),
        v1("/oauth/userinfo", || get(oauth::get_o_auth_user_info).post(oauth::get_o_auth_user_info_post)),
        v1("/oauth/token_info", || post(oauth::get_o_auth_token_info)),
        v1("/oauth/token/revoke", || post(oauth::revoke_o_auth_token)),
        v1("/oauth/register", || post(oauth::register_o_auth_client)),
        v1("/v1/me/oauth/consent/{client_id}", || {
            get(oauth_authorize::get_o_auth_consent)
                .post(oauth_authorize::submit_o_auth_consent)
                .delete(oauth_authorize::revoke_o_auth_consent)
        }),
        // OAuth/OIDC callbacks (OIDC enterprise connections)
        v1("/v1/oauth_callback", || get(oauth_callback::get_oauth_callback).post(oauth_callback::post_oauth_callback)),
        // SAML service provider (enterprise connections)
        v1("/v1/saml/metadata/{saml_connection_id}", || get(saml::saml_metadata)),
        v1("/v1/saml/acs/{saml_connection_id}", || post(saml::acs)),
        // Dev browser
        v1("/v1/dev_browser", || post(dev_browser::create_dev_browser)),
        // Environment
        v1("/v1/environment", || get(environment::get_environment).patch(environment::update_environment)),
        // Client
        v1("/v1/client", || {
            get(client::get_client).put(client::put_client).post(client::post_client).delete(client::delete_client)
        }),
        v1("/v1/client/handshake", || get(handshake::handshake_client)),
        // Sessions
        v1("/v1/client/sessions", || delete(sessions::remove_client_sessions_and_retain_cookie)),
        v1("/v1/client/sessions/{session_id}", || get(sessions::get_session)),
        v1("/v1/client/sessions/{session_id}/touch", || post(sessions::touch_session)),
        v1("/v1/client/sessions/{session_id}/end", || post(sessions::end_session)),
        v1("/v1/client/sessions/{session_id}/remove", || post(sessions::remove_session)),
        v1("/v1/client/sessions/{session_id}/tokens", || post(sessions::create_session_token)),
        v1("/v1/client/sessions/{session_id}/tokens/{template_name}", || {
            post(sessions::create_session_token_with_template)
        }),
        // Session reverification
        v1("/v1/client/sessions/{session_id}/verify", || post(session_reverification::start_session_reverification)),
        v1("/v1/client/sessions/{session_id}/verify/prepare_first_factor", || {
            post(session_reverification::prepare_session_reverification_first_factor)
        }),
        v1("/v1/client/sessions/{session_id}/verify/attempt_first_factor", || {
            post(session_reverification::attempt_session_reverification_first_factor)
        }),
        v1("/v1/client/sessions/{session_id}/verify/prepare_second_factor", || {
            post(session_reverification::prepare_session_reverification_second_factor)
        }),
        v1("/v1/client/sessions/{session_id}/verify/attempt_second_factor", || {
            post(session_reverification::attempt_session_reverification_second_factor)
        }),
        // Sign-ins
        v1("/v1/client/sign_ins", || post(sign_ins::create_sign_in)),
        v1("/v1/client/sign_ins/{sign_in_id}", || get(sign_ins::get_sign_in)),
        v1("/v1/client/sign_ins/{sign_in_id}/prepare_first_factor", || post(sign_ins::prepare_sign_in_factor_one)),
        v1("/v1/client/sign_ins/{sign_in_id}/attempt_first_factor", || post(sign_ins::attempt_sign_in_factor_one)),
        v1("/v1/client/sign_ins/{sign_in_id}/prepare_second_factor", || post(sign_ins::prepare_sign_in_factor_two)),
        v1("/v1/client/sign_ins/{sign_in_id}/attempt_second_factor", || post(sign_ins::attempt_sign_in_factor_two)),
        v1("/v1/client/sign_ins/{sign_in_id}/reset_password", || post(sign_ins::reset_password)),
        // Sign Ups
        v1("/v1/client/sign_ups", || post(sign_ups::create_sign_ups)),
        v1("/v1/client/sign_ups/{sign_up_id}", || get(sign_ups::get_sign_ups).patch(sign_ups::update_sign_ups)),
        v1("/v1/client/sign_ups/{sign_up_id}/prepare_verification", || post(sign_ups::prepare_sign_ups_verification)),
        v1("/v1/client/sign_ups/{sign_up_id}/attempt_verification", || post(sign_ups::attempt_sign_ups_verification)),
        // User (the signed-in session's)
        // Me
        v1("/v1/me", || get(me::get_user).patch(me::patch_user).delete(me_account::delete_user)),
        v1("/v1/me/metadata", || patch(me::patch_user_metadata)),
        v1("/v1/me/email_addresses", || {
            get(me_identifiers::get_email_addresses).post(me_identifiers::create_email_addresses)
        }),
        v1("/v1/me/email_addresses/{email_id}", || {
            get(me_identifiers::get_email_address).delete(me_identifiers::delete_email_address)
        }),
        v1("/v1/me/email_addresses/{email_id}/prepare_verification", || post(me_identifiers::send_verification_email)),
        v1("/v1/me/email_addresses/{email_id}/attempt_verification", || post(me_identifiers::verify_email_address)),
        v1("/v1/me/phone_numbers", || get(me_identifiers::get_phone_numbers).post(me_identifiers::post_phone_numbers)),
        v1("/v1/me/phone_numbers/{phone_number_id}", || {
            get(me_identifiers::read_phone_number)
                .patch(me_identifiers::update_phone_number)
                .delete(me_identifiers::delete_phone_number)
        }),
        v1("/v1/me/phone_numbers/{phone_number_id}/prepare_verification", || {
            post(me_identifiers::send_verification_sms)
        }),
        v1("/v1/me/phone_numbers/{phone_number_id}/attempt_verification", || post(me_identifiers::verify_phone_number)),
        v1("/v1/me/change_password", || post(me_account::change_password)),
        v1("/v1/me/remove_password", || post(me_account::remove_password)),
        // Images may be up to 10 MB (plus multipart framing).
        v1("/v1/me/profile_image", || {
            post(me_account::update_profile_image).body_limit(11 * 1024 * 1024).delete(me_account::delete_profile_image)
        }),
        // Second factors
        v1("/v1/me/totp", || post(me_mfa::post_totp).delete(me_mfa::delete_totp)),
        v1("/v1/me/totp/attempt_verification", || post(me_mfa::verify_totp)),
        v1("/v1/me/backup_codes", || post(me_mfa::create_backup_codes)),
        // clerk-js's `createBackupCode` calls the path with a trailing slash.
        v1("/v1/me/backup_codes/", || post(me_mfa::create_backup_codes)),
        v1("/v1/me/sessions", || get(me_account::get_users_sessions)),
        v1("/v1/me/sessions/active", || get(me_account::get_sessions)),
        v1("/v1/me/sessions/{session_id}/revoke", || post(me_account::revoke_session)),
        // Organization memberships, invitations and suggestions of the user
        v1("/v1/me/organization_memberships", || get(me::get_organization_memberships)),
        v1("/v1/me/organization_memberships/{organization_id}", || {
            delete(me_organizations::delete_organization_memberships)
        }),
        v1("/v1/me/organization_invitations", || get(me::get_users_organization_invitations)),
        v1("/v1/me/organization_invitations/{invitation_id}/accept", || {
            post(me_organizations::accept_organization_invitation)
        }),
        v1("/v1/me/organization_suggestions", || get(me::get_organization_suggestions)),
        v1("/v1/me/organization_suggestions/{suggestion_id}/accept", || {
            post(me_organizations::accept_organization_suggestion)
        }),
        // Organizations
        v1("/v1/organizations", || post(organizations::create_organization)),
        v1("/v1/organizations/{organization_id}", || {
            get(organizations::get_organization)
                .patch(organizations::update_organization)
                .delete(organizations::delete_organization)
        }),
        // Logos may be up to 10 MB (plus multipart framing).
        v1("/v1/organizations/{organization_id}/logo", || {
            put(organizations::update_organization_logo)
                .body_limit(11 * 1024 * 1024)
                .delete(organizations::delete_organization_logo)
        }),
        v1("/v1/organizations/{organization_id}/roles", || get(organizations::list_organization_roles)),
        v1("/v1/organizations/{organization_id}/memberships", || {
            get(organization_memberships::list_organization_memberships)
                .post(organization_memberships::create_organization_membership)
        }),
        v1("/v1/organizations/{organization_id}/memberships/{user_id}", || {
            patch(organization_memberships::update_organization_membership)
                .delete(organization_memberships::remove_organization_member)
        }),
        v1("/v1/organizations/{organization_id}/membership_requests", || {
            get(organization_membership_requests::list_organization_membership_requests)
        }),
        v1("/v1/organizations/{organization_id}/membership_requests/{request_id}/accept", || {
            post(organization_membership_requests::accept_organization_membership_request)
        }),
        v1("/v1/organizations/{organization_id}/membership_requests/{request_id}/reject", || {
            post(organization_membership_requests::reject_organization_membership_request)
        }),
        v1("/v1/organizations/{organization_id}/invitations", || {
            get(organization_invitations::get_organization_invitations)
                .post(organization_invitations::create_organization_invitations)
        }),
        v1("/v1/organizations/{organization_id}/invitations/bulk", || {
            post(organization_invitations::bulk_create_organization_invitations)
        }),
        v1("/v1/organizations/{organization_id}/invitations/pending", || {
            get(organization_invitations::get_all_pending_organization_invitations)
        }),
        v1("/v1/organizations/{organization_id}/invitations/{invitation_id}/revoke", || {
            post(organization_invitations::revoke_pending_organization_invitation)
        }),
        v1("/v1/organizations/{organization_id}/domains", || {
            get(organization_domains::list_organization_domains).post(organization_domains::create_organization_domain)
        }),
        v1("/v1/organizations/{organization_id}/domains/{domain_id}", || {
            get(organization_domains::get_organization_domain).delete(organization_domains::delete_organization_domain)
        }),
        v1("/v1/organizations/{organization_id}/domains/{domain_id}/update_enrollment_mode", || {
            post(organization_domains::update_organization_domain_enrollment_mode)
        }),
        v1("/v1/organizations/{organization_id}/domains/{domain_id}/prepare_affiliation_verification", || {
            post(organization_domain_verification::prepare_organization_domain_verification)
        }),
        v1("/v1/organizations/{organization_id}/domains/{domain_id}/attempt_affiliation_verification", || {
            post(organization_domain_verification::attempt_organization_domain_verification)
        }),
        // Billing: plans, and the subscriptions of the user and of organizations
        v1("/v1/billing/plans", || get(billing::get_billing_plan_list)),
        v1("/v1/billing/plans/{plan_id_or_slug}", || get(billing::get_billing_plan)),
        v1("/v1/me/billing/subscription", || get(billing::get_user_main_billing_subscription)),
        v1("/v1/me/billing/subscription_items", || get(billing::get_user_billing_subscription_items)),
        v1("/v1/organizations/{organization_id}/billing/subscription", || {
            get(billing::get_organization_billing_subscription)
        }),
        v1("/v1/organizations/{organization_id}/billing/subscription_items", || {
            get(billing::get_organization_billing_subscription_items)
        }),
        // clerk-js and its UI (not FAPI operations: what Clerk's CDN serves under the frontend host)
        v1("/npm/@clerk/{package}/dist/{*file}", || get(clerk_js::get_clerk_asset)),
    ]
}

/// The Frontend API's route table (without the shared request steps). The table's routes are bound to `state` on
/// first use (see `LazyRoute`).
pub fn routes(state: &AppState) -> RouteTable<AppState> {
    let lazy = |make| LazyRoute::new(make, fallback::method_not_allowed, state);
    let mut frontend = RouteTable::new(LazyRoute::fallback(fallback::not_found, state));
    for (path, handlers) in table() {
        frontend = frontend.route(path, lazy(handlers));
    }
    // Enterprise connection test runs (pages outside the spec).
    let frontend = frontend
        .route("/enterprise-sso/test/{token}", lazy(|| get(sso_test::open_test_run)))
        .route("/enterprise-sso/test-runs/{run_id}", lazy(|| get(sso_test::test_run_result)));
    // Each directory's SCIM service provider (its own errors and media type).
    crate::scim::routes(frontend, "/scim/v2/{directory_id}", state)
}
