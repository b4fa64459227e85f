//! THE route table: one line per Clerk operation, grouped like Clerk's API reference. Handler names are the
//! snake_case of the operationId. Operations of the spec that are not listed here answer 404
//! `operation_not_implemented` (see [`fallback`]).

use crate::lazy_route::{delete, get, patch, post, put};

use crate::AppState;
use crate::lazy_route::MakeHandlers;

pub mod admin_portal_link_tokens;
pub mod agent_tasks;
pub mod api_keys;
pub mod beta_features;
pub mod billing;
pub mod directories;
pub mod domains;
pub mod emails;
pub mod enterprise_connections;
pub mod fallback;
pub mod identifications;
pub mod instance;
pub mod interstitial;
pub mod invitations;
pub mod jwks;
pub mod jwt_templates;
pub mod m2m_tokens;
pub mod machines;
pub mod oauth_applications;
pub mod organization_domains;
pub mod organization_invitations;
pub mod organization_memberships;
pub mod organization_permissions;
pub mod organization_roles;
pub mod organizations;
pub mod proxy_checks;
pub mod redirect_urls;
pub mod role_sets;
pub mod saml_connections;
pub mod sessions;
pub mod sign_ups;
pub mod superseded;
pub mod templates;
pub mod tickets;
pub mod user_account;
pub mod user_credentials;
pub mod users;
pub mod waitlist_entries;
pub mod webhooks;

/// One route: a spec path (relative to `/v1`), its handlers, and whether the SDKs also call it without `/v1`.
pub struct Route {
    /// Path relative to `/v1`, in axum syntax (`{param}`).
    pub path: &'static str,
    /// Makes the handlers by method: called when the route is first requested (see [`crate::lazy_route`]).
    pub handlers: MakeHandlers<AppState>,
    /// Also served at the bare path (`/api_keys…`, `/m2m_tokens…`, OAuth token verify).
    pub unversioned: bool,
}

fn v1(path: &'static str, handlers: MakeHandlers<AppState>) -> Route {
    Route { path, handlers, unversioned: false }
}

fn v1_and_bare(path: &'static str, handlers: MakeHandlers<AppState>) -> Route {
    Route { path, handlers, unversioned: true }
}

/// Every implemented operation.
pub fn table() -> Vec<Route> {
    vec![
        // JWKS
        v1("/jwks", || get(jwks::get_jwks)),
        // API Keys
        v1_and_bare("/api_keys", || get(api_keys::get_api_keys).post(api_keys::create_api_key)),
        // The router prefers this static segment to `{apiKeyID}`; the other methods treat `verify` as an id (404).
        v1_and_bare("/api_keys/verify", || {
            post(api_keys::verify_api_key)
                .get(api_keys::get_api_key)
                .patch(api_keys::update_api_key)
                .delete(api_keys::delete_api_key)
        }),
        v1_and_bare("/api_keys/{apiKeyID}", || {
            get(api_keys::get_api_key).patch(api_keys::update_api_key).delete(api_keys::delete_api_key)
        }),
        v1_and_bare("/api_keys/{apiKeyID}/secret", || get(api_keys::get_api_key_secret)),
        v1_and_bare("/api_keys/{apiKeyID}/revoke", || post(api_keys::revoke_api_key)),
        // Beta Features
        v1("/beta_features/instance_settings", || patch(beta_features::update_instance_auth_config)),
        v1("/beta_features/domain", || put(beta_features::update_production_instance_domain)),
        // Domains
        v1("/domains", || get(domains::list_domains).post(domains::add_domain)),
        v1("/domains/{domain_id}", || patch(domains::update_domain).delete(domains::delete_domain)),
        // Email Addresses
        v1("/email_addresses", || post(identifications::create_email_address)),
        v1("/email_addresses/{email_address_id}", || {
            get(identifications::get_email_address)
                .patch(identifications::update_email_address)
                .delete(identifications::delete_email_address)
        }),
        v1("/email_addresses/{email_address_id}/prepare_verification", || {
            post(identifications::prepare_email_address_verification)
        }),
        v1("/email_addresses/{email_address_id}/attempt_verification", || {
            post(identifications::attempt_email_address_verification)
        }),
        v1("/users/{user_id}/email_address", || put(identifications::replace_user_email_address)),
        // Phone Numbers
        v1("/phone_numbers", || post(identifications::create_phone_number)),
        v1("/phone_numbers/{phone_number_id}", || {
            get(identifications::get_phone_number)
                .patch(identifications::update_phone_number)
                .delete(identifications::delete_phone_number)
        }),
        v1("/phone_numbers/{phone_number_id}/prepare_verification", || {
            post(identifications::prepare_phone_number_verification)
        }),
        v1("/phone_numbers/{phone_number_id}/attempt_verification", || {
            post(identifications::attempt_phone_number_verification)
        }),
        v1("/users/{user_id}/phone_number", || put(identifications::replace_user_phone_number)),
        // Invitations
        v1("/invitations", || get(invitations::list_invitations).post(invitations::create_invitation)),
        v1("/invitations/bulk", || post(invitations::create_bulk_invitations)),
        v1("/invitations/{invitation_id}/revoke", || post(invitations::revoke_invitation)),
        // Not in the spec: `invitations.deleteInvitation` of @clerk/backend 3.x (erasure)
        v1("/invitations/{invitation_id}", || delete(invitations::delete_invitation)),
        // Allow-list / Block-list
        v1("/allowlist_identifiers", || {
            get(invitations::list_allowlist_identifiers).post(invitations::create_allowlist_identifier)
        }),
        v1("/allowlist_identifiers/{identifier_id}", || delete(invitations::delete_allowlist_identifier)),
        v1("/blocklist_identifiers", || {
            get(invitations::list_blocklist_identifiers).post(invitations::create_blocklist_identifier)
        }),
        v1("/blocklist_identifiers/{identifier_id}", || delete(invitations::delete_blocklist_identifier)),
        // Instance Settings
        v1("/instance", || get(instance::get_instance).patch(instance::update_instance)),
        v1("/instance/restrictions", || patch(instance::update_instance_restrictions)),
        v1("/instance/protect", || get(instance::get_instance_protect).patch(instance::update_instance_protect)),
        v1("/instance/communication", || {
            get(instance::get_instance_communication).patch(instance::update_instance_communication)
        }),
        v1("/instance/oauth_application_settings", || {
            get(instance::get_instance_o_auth_application_settings)
                .patch(instance::update_instance_o_auth_application_settings)
        }),
        v1("/instance/change_domain", || post(instance::change_production_instance_domain)),
        // Tessera's session settings (not in the spec: Clerk sets them in its dashboard)
        v1("/instance/session_settings", || {
            get(instance::get_instance_session_settings).patch(instance::update_instance_session_settings)
        }),
        v1("/instance/organization_settings", || {
            get(instance::get_instance_organization_settings).patch(instance::update_instance_organization_settings)
        }),
        // Machines
        v1("/machines", || get(machines::list_machines).post(machines::create_machine)),
        v1("/machines/{machine_id}", || {
            get(machines::get_machine).patch(machines::update_machine).delete(machines::delete_machine)
        }),
        v1("/machines/{machine_id}/secret_key", || get(machines::get_machine_secret_key)),
        v1("/machines/{machine_id}/secret_key/rotate", || post(machines::rotate_machine_secret_key)),
        v1("/machines/{machine_id}/scopes", || post(machines::create_machine_scope)),
        v1("/machines/{machine_id}/scopes/{other_machine_id}", || delete(machines::delete_machine_scope)),
        // M2M Tokens
        v1_and_bare("/m2m_tokens", || get(m2m_tokens::get_m2m_tokens).post(m2m_tokens::create_m2m_token)),
        v1_and_bare("/m2m_tokens/{m2m_token_id}/revoke", || post(m2m_tokens::revoke_m2m_token)),
        v1_and_bare("/m2m_tokens/verify", || post(m2m_tokens::verify_m2m_token)),
        // OAuth Applications and OAuth Access Tokens
        v1("/oauth_applications", || {
            get(oauth_applications::list_o_auth_applications).post(oauth_applications::create_o_auth_application)
        }),
        v1("/oauth_applications/{oauth_application_id}", || {
            get(oauth_applications::get_o_auth_application)
                .patch(oauth_applications::update_o_auth_application)
                .delete(oauth_applications::delete_o_auth_application)
        }),
        // Logos may be up to 10 MB (plus multipart framing).
        v1("/oauth_applications/{oauth_application_id}/logo", || {
            put(oauth_applications::upload_o_auth_application_logo).body_limit(11 * 1024 * 1024)
        }),
        v1("/oauth_applications/{oauth_application_id}/rotate_secret", || {
            post(oauth_applications::rotate_o_auth_application_secret)
        }),
        v1("/oauth_applications/{oauth_application_id}/revoke_token", || {
            post(oauth_applications::revoke_o_auth_application_token)
        }),
        v1_and_bare("/oauth_applications/access_tokens/verify", || {
            post(oauth_applications::verify_o_auth_access_token)
        }),
        v1("/oauth_application_images/{image_id}", || get(oauth_applications::get_o_auth_application_image)),
        // JWT Templates
        v1("/jwt_templates", || get(jwt_templates::list_jwt_templates).post(jwt_templates::create_jwt_template)),
        v1("/jwt_templates/{template_id}", || {
            get(jwt_templates::get_jwt_template)
                .patch(jwt_templates::update_jwt_template)
                .delete(jwt_templates::delete_jwt_template)
        }),
        // Redirect URLs
        v1("/redirect_urls", || get(redirect_urls::list_redirect_urls).post(redirect_urls::create_redirect_url)),
        v1("/redirect_urls/{id}", || get(redirect_urls::get_redirect_url).delete(redirect_urls::delete_redirect_url)),
        // Organizations
        v1("/organizations", || get(organizations::list_organizations).post(organizations::create_organization)),
        v1("/organizations/{organization_id}", || {
            get(organizations::get_organization)
                .patch(organizations::update_organization)
                .delete(organizations::delete_organization)
        }),
        v1("/organizations/{organization_id}/metadata", || {
            patch(organizations::merge_organization_metadata).put(organizations::replace_organization_metadata)
        }),
        // Logos may be up to 10 MB (plus multipart framing).
        v1("/organizations/{organization_id}/logo", || {
            put(organizations::upload_organization_logo)
                .body_limit(11 * 1024 * 1024)
                .delete(organizations::delete_organization_logo)
        }),
        v1("/organization_images/{image_id}", || get(organizations::get_organization_image)),
        // Organization Permissions
        v1("/organization_permissions", || {
            get(organization_permissions::list_organization_permissions)
                .post(organization_permissions::create_organization_permission)
        }),
        v1("/organization_permissions/{permission_id}", || {
            get(organization_permissions::get_organization_permission)
                .patch(organization_permissions::update_organization_permission)
                .delete(organization_permissions::delete_organization_permission)
        }),
        // Organization Roles
        v1("/organization_roles", || {
            get(organization_roles::list_organization_roles).post(organization_roles::create_organization_role)
        }),
        v1("/organization_roles/{organization_role_id}", || {
            get(organization_roles::get_organization_role)
                .patch(organization_roles::update_organization_role)
                .delete(organization_roles::delete_organization_role)
        }),
        v1("/organization_roles/{organization_role_id}/permissions/{permission_id}", || {
            post(organization_roles::assign_permission_to_organization_role)
                .delete(organization_roles::remove_permission_from_organization_role)
        }),
        // Organization Memberships
        v1("/organizations/{organization_id}/memberships", || {
            get(organization_memberships::list_organization_memberships)
                .post(organization_memberships::create_organization_membership)
        }),
        v1("/organizations/{organization_id}/memberships/{user_id}", || {
            patch(organization_memberships::update_organization_membership)
                .delete(organization_memberships::delete_organization_membership)
        }),
        v1("/organizations/{organization_id}/memberships/{user_id}/metadata", || {
            patch(organization_memberships::update_organization_membership_metadata)
        }),
        v1("/organization_memberships", || get(organization_memberships::instance_get_organization_memberships)),
        // Role Sets
        v1("/role_sets", || get(role_sets::list_role_sets).post(role_sets::create_role_set)),
        v1("/role_sets/{role_set_key_or_id}", || get(role_sets::get_role_set).patch(role_sets::update_role_set)),
        v1("/role_sets/{role_set_key_or_id}/replace", || post(role_sets::replace_role_set)),
        v1("/role_sets/{role_set_key_or_id}/roles", || post(role_sets::add_roles_to_role_set)),
        v1("/role_sets/{role_set_key_or_id}/roles/replace", || post(role_sets::replace_role_in_role_set)),
        // Organization Invitations
        v1("/organizations/{organization_id}/invitations", || {
            get(organization_invitations::list_organization_invitations)
                .post(organization_invitations::create_organization_invitation)
        }),
        v1("/organizations/{organization_id}/invitations/bulk", || {
            post(organization_invitations::create_organization_invitation_bulk)
        }),
        v1("/organizations/{organization_id}/invitations/pending", || {
            get(organization_invitations::list_pending_organization_invitations)
        }),
        v1("/organizations/{organization_id}/invitations/{invitation_id}", || {
            get(organization_invitations::get_organization_invitation)
        }),
        v1("/organizations/{organization_id}/invitations/{invitation_id}/revoke", || {
            post(organization_invitations::revoke_organization_invitation)
        }),
        v1("/organization_invitations", || get(organization_invitations::list_instance_organization_invitations)),
        // Organization Domains
        v1("/organizations/{organization_id}/domains", || {
            get(organization_domains::list_organization_domains).post(organization_domains::create_organization_domain)
        }),
        v1("/organizations/{organization_id}/domains/{domain_id}", || {
            patch(organization_domains::update_organization_domain)
                .delete(organization_domains::delete_organization_domain)
        }),
        v1("/organizations/{organization_id}/domains/{domain_id}/verify_ownership", || {
            post(organization_domains::verify_organization_domain_ownership)
        }),
        v1("/organization_domains", || get(organization_domains::list_all_organization_domains)),
        // Waitlist Entries
        v1("/waitlist_entries", || {
            get(waitlist_entries::list_waitlist_entries).post(waitlist_entries::create_waitlist_entry)
        }),
        v1("/waitlist_entries/bulk", || post(waitlist_entries::create_bulk_waitlist_entries)),
        v1("/waitlist_entries/{waitlist_entry_id}", || delete(waitlist_entries::delete_waitlist_entry)),
        v1("/waitlist_entries/{waitlist_entry_id}/invite", || post(waitlist_entries::invite_waitlist_entry)),
        v1("/waitlist_entries/{waitlist_entry_id}/reject", || post(waitlist_entries::reject_waitlist_entry)),
        // Sessions and Clients
        v1("/sessions", || get(sessions::get_session_list).post(sessions::create_session)),
        v1("/sessions/{session_id}", || get(sessions::get_session)),
        v1("/sessions/{session_id}/revoke", || post(sessions::revoke_session)),
        v1("/sessions/{session_id}/tokens", || post(sessions::create_session_token)),
        v1("/sessions/{session_id}/tokens/{template_name}", || post(jwt_templates::create_session_token_from_template)),
        // The router prefers this static segment to `{client_id}`; a GET here is GetClient of the id "verify" (404).
        v1("/clients/handshake_payload", || get(sessions::get_handshake_payload)),
        v1("/clients/verify", || post(sessions::verify_client).get(sessions::get_client)),
        v1("/clients/{client_id}", || get(sessions::get_client)),
        // Users
        v1("/users", || get(users::get_user_list).post(users::create_user)),
        v1("/users/count", || get(users::get_users_count)),
        v1("/users/ban", || post(user_account::users_ban)),
        v1("/users/unban", || post(user_account::users_unban)),
        v1("/users/{user_id}", || get(users::get_user).patch(user_account::update_user).delete(users::delete_user)),
        v1("/users/{user_id}/ban", || post(user_account::ban_user)),
        v1("/users/{user_id}/unban", || post(user_account::unban_user)),
        v1("/users/{user_id}/lock", || post(user_account::lock_user)),
        v1("/users/{user_id}/unlock", || post(user_account::unlock_user)),
        v1("/users/{user_id}/metadata", || {
            patch(user_account::update_user_metadata).put(user_account::replace_user_metadata)
        }),
        // Images may be up to 10 MB (plus multipart framing).
        v1("/users/{user_id}/profile_image", || {
            post(user_account::set_user_profile_image)
                .body_limit(11 * 1024 * 1024)
                .delete(user_account::delete_user_profile_image)
        }),
        v1("/user_images/{image_id}", || get(user_account::get_user_image)),
        v1("/users/{user_id}/verify_password", || post(user_credentials::verify_password)),
        v1("/users/{user_id}/verify_totp", || post(user_credentials::verify_totp)),
        v1("/users/{user_id}/mfa", || delete(user_credentials::disable_mfa)),
        v1("/users/{user_id}/backup_code", || delete(user_credentials::delete_backup_code)),
        v1("/users/{user_id}/totp", || delete(user_credentials::delete_totp)),
        v1("/users/{user_id}/remove_password", || post(user_credentials::remove_user_password)),
        v1("/users/{user_id}/password/set_compromised", || post(user_credentials::set_user_password_compromised)),
        v1("/users/{user_id}/password/unset_compromised", || post(user_credentials::unset_user_password_compromised)),
        v1("/users/{user_id}/web3_wallets/{web3_wallet_identification_id}", || {
            delete(user_credentials::user_web3_wallet_delete)
        }),
        v1("/users/{user_id}/passkeys/{passkey_identification_id}", || delete(user_credentials::user_passkey_delete)),
        v1("/users/{user_id}/external_accounts/{external_account_id}", || {
            delete(user_credentials::delete_external_account)
        }),
        v1("/users/{user_id}/trusted_devices", || get(user_credentials::list_user_trusted_devices)),
        v1("/users/{user_id}/trusted_devices/{trusted_device_id}", || {
            delete(user_credentials::revoke_user_trusted_device)
        }),
        v1("/users/{user_id}/oauth_access_tokens/{provider}", || get(user_credentials::get_o_auth_access_token)),
        v1("/users/{user_id}/organization_memberships", || get(user_credentials::users_get_organization_memberships)),
        v1("/users/{user_id}/organization_invitations", || get(user_credentials::users_get_organization_invitations)),
        // Actor Tokens, Sign-in Tokens, Testing Tokens
        v1("/actor_tokens", || post(tickets::create_actor_token)),
        v1("/actor_tokens/{actor_token_id}/revoke", || post(tickets::revoke_actor_token)),
        v1("/sign_in_tokens", || post(tickets::create_sign_in_token)),
        v1("/sign_in_tokens/{sign_in_token_id}/revoke", || post(tickets::revoke_sign_in_token)),
        v1("/testing_tokens", || post(tickets::create_testing_token)),
        v1("/clients", || get(tickets::get_client_list)),
        v1("/sessions/{session_id}/refresh", || post(tickets::refresh_session)),
        // Sign Ups (created by browsers through the Frontend API)
        v1("/sign_ups/{id}", || get(sign_ups::get_sign_up).patch(sign_ups::update_sign_up)),
        // Agent Tasks
        v1("/agents/tasks", || post(agent_tasks::create_agent_task)),
        v1("/agents/tasks/{agent_task_id}/revoke", || post(agent_tasks::revoke_agent_task)),
        // Proxy Checks
        v1("/proxy_checks", || post(proxy_checks::verify_domain_proxy)),
        // Enterprise Connections, SAML Connections (deprecated view of the SAML ones)
        v1("/enterprise_connections", || {
            get(enterprise_connections::list_enterprise_connections)
                .post(enterprise_connections::create_enterprise_connection)
        }),
        v1("/enterprise_connections/{enterprise_connection_id}", || {
            get(enterprise_connections::get_enterprise_connection)
                .patch(enterprise_connections::update_enterprise_connection)
                .delete(enterprise_connections::delete_enterprise_connection)
        }),
        v1("/enterprise_connections/{enterprise_connection_id}/test_runs", || {
            get(enterprise_connections::list_enterprise_connection_test_runs)
                .post(enterprise_connections::create_enterprise_connection_test_run)
        }),
        v1("/saml_connections", || {
            get(saml_connections::list_saml_connections).post(saml_connections::create_saml_connection)
        }),
        v1("/saml_connections/{saml_connection_id}", || {
            get(saml_connections::get_saml_connection)
                .patch(saml_connections::update_saml_connection)
                .delete(saml_connections::delete_saml_connection)
        }),
        // Directories, SCIM Directories (two views of one directory)
        v1("/directories", || get(directories::list_directories).post(directories::create_directory)),
        v1("/directories/{directory_id}", || {
            get(directories::get_directory).patch(directories::update_directory).delete(directories::delete_directory)
        }),
        v1("/scim_directories", || get(directories::list_scim_directories).post(directories::create_scim_directory)),
        v1("/scim_directories/{scim_directory_id}", || {
            get(directories::get_scim_directory)
                .patch(directories::update_scim_directory)
                .delete(directories::delete_scim_directory)
        }),
        // The ten operations 2026-05-12 added are served under every version: Clerk versions breaking changes only
        // (its versioning overview), and clerk-backend-api 7.0 calls them while it pins `Clerk-API-Version:
        // 2025-11-10` on every request.
        v1("/directories/{directory_id}/rotate_api_key", || post(directories::rotate_directory_api_key)),
        v1("/directories/{directory_id}/group_role_mappings", || {
            get(directories::list_directory_group_role_mappings)
                .post(directories::create_directory_group_role_mapping)
                .put(directories::replace_directory_group_role_mappings)
        }),
        v1("/directories/{directory_id}/group_role_mappings/{mapping_id}", || {
            delete(directories::delete_directory_group_role_mapping)
        }),
        v1("/scim_directories/{scim_directory_id}/rotate_api_key", || post(directories::rotate_scim_directory_api_key)),
        v1("/scim_directories/{scim_directory_id}/group_role_mappings", || {
            get(directories::list_scim_group_role_mappings)
                .post(directories::create_scim_group_role_mapping)
                .put(directories::replace_scim_group_role_mappings)
        }),
        v1("/scim_directories/{scim_directory_id}/group_role_mappings/{mapping_id}", || {
            delete(directories::delete_scim_group_role_mapping)
        }),
        // Admin Portal Link Tokens
        v1("/admin_portal_link_tokens", || post(admin_portal_link_tokens::create_admin_portal_link_token)),
        v1("/admin_portal_link_tokens/{adminPortalLinkTokenID}/revoke", || {
            post(admin_portal_link_tokens::revoke_admin_portal_link_token)
        }),
        // Miscellaneous
        v1("/public/interstitial", || get(interstitial::get_public_interstitial)),
        // Webhooks
        v1("/webhooks/svix", || post(webhooks::create_svix_app).delete(webhooks::delete_svix_app)),
        v1("/webhooks/svix_url", || post(webhooks::generate_svix_auth_url)),
        // Billing
        v1("/billing/plans", || get(billing::get_commerce_plan_list)),
        v1("/billing/prices", || get(billing::get_billing_price_list).post(billing::create_billing_price)),
        v1("/billing/subscription_items", || get(billing::get_commerce_subscription_item_list)),
        v1("/billing/subscription_items/{subscription_item_id}", || delete(billing::cancel_commerce_subscription_item)),
        v1("/billing/subscription_items/{subscription_item_id}/extend_free_trial", || {
            post(billing::extend_billing_subscription_item_free_trial)
        }),
        v1("/billing/subscription_items/{subscription_item_id}/price_transition", || {
            post(billing::create_billing_price_transition)
        }),
        v1("/billing/subscription_items/{subscription_item_id}/discounts", || {
            post(billing::apply_billing_subscription_item_discount)
        }),
        v1("/billing/subscription_items/{subscription_item_id}/discounts/{discount_id}", || {
            delete(billing::remove_billing_subscription_item_discount)
        }),
        v1("/billing/statements", || get(billing::get_billing_statement_list)),
        v1("/billing/statements/{statementID}", || get(billing::get_billing_statement)),
        v1("/billing/statements/{statementID}/payment_attempts", || {
            get(billing::get_billing_statement_payment_attempts)
        }),
        v1("/users/{user_id}/billing/subscription", || get(billing::get_user_billing_subscription)),
        v1("/users/{user_id}/billing/credits", || {
            get(billing::get_user_billing_credit_balance).post(billing::adjust_user_billing_credit_balance)
        }),
        v1("/organizations/{organization_id}/billing/subscription", || {
            get(billing::get_organization_billing_subscription)
        }),
        v1("/organizations/{organization_id}/billing/credits", || {
            get(billing::get_organization_billing_credit_balance)
                .post(billing::adjust_organization_billing_credit_balance)
        }),
        // Email & SMS Templates
        v1("/templates/{template_type}", || get(templates::get_template_list)),
        v1("/templates/{template_type}/{slug}", || get(templates::get_template).put(templates::upsert_template)),
        v1("/templates/{template_type}/{slug}/revert", || post(templates::revert_template)),
        v1("/templates/{template_type}/{slug}/preview", || post(templates::preview_template)),
        v1("/templates/{template_type}/{slug}/toggle_delivery", || post(templates::toggle_template_delivery)),
        // The transactional e-mail API of @clerk/backend 3.x (not in the spec)
        v1("/email", || post(emails::create_email)),
        v1("/email/batch", || post(emails::create_email_batch)),
        v1("/email/{email_id}", || get(emails::get_email)),
        // Calls of @clerk/backend that no spec lists, answered with what to use instead
        v1("/accountless_applications", || post(superseded::accountless_applications)),
        v1("/accountless_applications/complete", || post(superseded::accountless_applications)),
        v1("/sessions/{session_id}/verify", || post(superseded::verify_session)),
        v1("/beta_features/change_domain", || post(superseded::change_domain)),
    ]
}
