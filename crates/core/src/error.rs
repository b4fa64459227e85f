//! The one error type on the request path, and the table of Clerk error codes.

use std::fmt;

/// Declares [`ErrorCode`] from one table: variant => HTTP status, wire code, message, long message.
macro_rules! error_codes {
    ($($variant:ident => $status:literal, $code:literal, $message:literal, $long:literal;)*) => {
        /// A Clerk error code. The wire `code` is the snake_case string; each has one HTTP status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $(#[doc = $long] $variant,)* }

        impl ErrorCode {
            /// Every code, for tests that check the table.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];
            /// The HTTP status this code is answered with.
            pub fn status(self) -> u16 { match self { $(Self::$variant => $status,)* } }
            /// The wire code.
            pub fn as_str(self) -> &'static str { match self { $(Self::$variant => $code,)* } }
            /// The default short message.
            pub fn message(self) -> &'static str { match self { $(Self::$variant => $message,)* } }
            /// The default long message.
            pub fn long_message(self) -> &'static str { match self { $(Self::$variant => $long,)* } }
        }
    };
}

error_codes! {
    ClerkKeyInvalid => 401, "clerk_key_invalid", "Secret Key invalid",
        "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.";
    MachineSecretKeyInvalid => 401, "machine_secret_key_invalid", "Machine Secret Key invalid",
        "The provided Machine Secret Key is invalid.";
    AuthorizationInvalid => 403, "authorization_invalid", "Unauthorized request",
        "You are not authorized to perform this request.";
    ResourceNotFound => 404, "resource_not_found", "not found", "Resource not found";
    OperationNotImplemented => 404, "operation_not_implemented", "not implemented",
        "This operation is not implemented by this Tessera server yet.";
    OperationSuperseded => 410, "operation_superseded", "operation superseded",
        "This operation is no longer offered; the error says what to use instead.";
    MethodNotAllowed => 405, "method_not_allowed", "method not allowed",
        "The HTTP method is not allowed for this path.";
    RequestBodyInvalid => 400, "request_body_invalid", "invalid request body",
        "The request body could not be parsed as JSON.";
    UnsupportedContentType => 415, "unsupported_content_type", "unsupported content type",
        "The request body must be sent as application/json.";
    RequestBodyTooLarge => 413, "request_body_too_large", "request body too large",
        "The request body is too large.";
    BadRequest => 400, "bad_request", "Bad Request", "The request could not be processed.";
    FormParamMissing => 422, "form_param_missing", "missing required parameter", "A required parameter is missing.";
    FormParamFormatInvalid => 422, "form_param_format_invalid", "is invalid", "A parameter has an invalid format.";
    FormParamValueInvalid => 422, "form_param_value_invalid", "is invalid", "A parameter has an invalid value.";
    FormParamUnknown => 422, "form_param_unknown", "is unknown", "A parameter is not a valid parameter for this request.";
    FormIdentifierExists => 422, "form_identifier_exists", "already exists", "That value is already taken.";
    FormPasswordLengthTooShort => 422, "form_password_length_too_short", "Passwords must be 8 characters or more.",
        "The password is shorter than the password policy allows.";
    FormPasswordSizeInBytesExceeded => 422, "form_password_size_in_bytes_exceeded", "password too long",
        "The password is longer, in bytes, than the password policy allows.";
    FormPasswordPwned => 422, "form_password_pwned", "password found in a data breach",
        "Password has been found in an online data breach. For account safety, please use a different password.";
    FormPasswordDigestInvalid => 422, "form_password_digest_invalid_code", "invalid password digest",
        "The provided password_digest is not valid for the provided password_hasher.";
    FormPasswordIncorrect => 422, "form_password_incorrect", "Password is incorrect. Try again, or use another method.",
        "The provided password was incorrect.";
    FormCodeIncorrect => 422, "form_code_incorrect", "Incorrect code", "The provided TOTP or backup code was incorrect.";
    FormUsernameCannotBePhoneNumber => 422, "form_username_cannot_be_phone_number", "username cannot be a phone number.",
        "username cannot be a phone number. Please choose a different username.";
    UserLocked => 403, "user_locked", "Account locked",
        "Your account is locked. Please try again later or contact support.";
    PasswordNotSet => 400, "password_not_set", "no password set", "The user does not have a password set.";
    TotpNotEnabled => 400, "totp_not_enabled", "TOTP not enabled",
        "The user does not have TOTP configured for their account.";
    TotpAlreadyEnabled => 400, "totp_already_enabled", "TOTP already enabled",
        "The user already has TOTP configured for their account. Delete it before creating a new one.";
    QueryParamMissing => 400, "query_param_missing", "missing query parameter", "A required query parameter is missing.";
    QueryParamInvalid => 400, "query_param_invalid", "invalid query parameter", "A query parameter has an invalid value.";
    Conflict => 409, "conflict", "conflict", "The request conflicts with the current state of the resource.";
    PrimaryDomainCannotBeDeleted => 403, "primary_domain_cannot_be_deleted", "cannot delete primary domain",
        "The primary domain of an instance cannot be deleted. Only satellite domains can be deleted.";
    ProductionInstanceRequired => 400, "production_instance_required", "production instance required",
        "This operation is only available for production instances. Development instances use a Clerk-assigned domain.";
    // Organizations
    OrganizationNotEnabledInInstance => 403, "organization_not_enabled_in_instance", "access denied",
        "The organizations feature is not enabled for this instance. You can enable it at https://dashboard.clerk.com.";
    OrganizationMembershipQuotaExceeded => 403, "organization_membership_quota_exceeded",
        "membership quota exceeded", "The organization has reached its maximum number of memberships.";
    OrganizationCreationNotAllowed => 403, "organization_creation_not_allowed", "not allowed",
        "You are not allowed to create organizations.";
    OrganizationQuotaExceeded => 403, "organization_quota_exceeded", "organization quota exceeded",
        "You have exceeded the maximum number of organizations you can create.";
    AlreadyAMemberInOrganization => 400, "already_a_member_in_organization", "already a member",
        "The user is already a member of this organization.";
    // Organization invitations and domains.
    NotAnAdminInOrganization => 403, "not_an_admin_in_organization", "not an admin",
        "The user must be a member of the organization who can manage its memberships.";
    OrganizationInvitationNotPending => 400, "organization_invitation_not_pending", "invitation not pending",
        "Only pending organization invitations can be revoked.";
    OrganizationDomainsNotEnabled => 403, "organization_domains_not_enabled", "domains not enabled",
        "Verified domains are not enabled for the organizations of this instance.";
    OrganizationDomainAlreadyExists => 422, "organization_domain_already_exists", "domain already exists",
        "This domain is already used by an organization of this instance.";
    OrganizationDomainQuotaExceeded => 403, "organization_domain_quota_exceeded", "domain quota exceeded",
        "The organization has reached its maximum number of domains.";
    // Enrollment by verified domains: suggestions and membership requests.
    OrganizationSuggestionAlreadyAccepted => 422, "organization_suggestion_already_accepted",
        "suggestion already accepted", "This organization suggestion has already been accepted.";
    OrganizationMembershipRequestNotPending => 422, "organization_membership_request_not_pending",
        "membership request not pending", "Only pending membership requests can be accepted or rejected.";
    // The Frontend API's organization operations, acting for a signed-in member.
    OrganizationNotFoundOrUnauthorized => 404, "organization_not_found_or_unauthorized", "not found or unauthorized",
        "Given organization not found, or you don't have permission to access the organization";
    MissingOrganizationPermission => 403, "missing_organization_permission", "missing permission",
        "Current user is missing an organization permission.";
    OrganizationMinimumPermissionsNeeded => 400, "organization_minimum_permissions_needed",
        "minimum organization permissions needed",
        "There has to be at least one organization member with the minimum required permissions";
    OrganizationRoleQuotaExceeded => 403, "organization_role_quota_exceeded", "role quota exceeded",
        "The instance has reached its maximum number of custom organization roles (max_allowed_roles).";
    // Sessions, clients, session tokens and JWT templates.
    DevelopmentInstanceRequired => 400, "development_instance_required", "development instance required",
        "Sessions can only be created through the Backend API on development instances. Use sign-in tokens instead.";
    UserBanned => 400, "user_banned", "user banned", "The user is banned and cannot sign in.";
    GroupRoleMappingDisabled => 422, "group_role_mapping_disabled", "group role mapping disabled",
        "Group role mapping is not enabled on this directory; enable it with group_role_mapping_enabled first.";
    UserDeprovisioned => 400, "user_deprovisioned", "user deprovisioned",
        "The user was deactivated by their organization's directory and cannot sign in.";
    TokenInvalid => 400, "token_invalid", "invalid token",
        "The token is malformed or was not signed by this instance.";
    TokenExpired => 400, "token_expired", "token expired", "The token has expired.";
    // Invitation tickets (the `__clerk_ticket` of instance and organization invitations).
    TicketInvalid => 400, "ticket_invalid_code", "is invalid",
        "This ticket is invalid. Make sure you're using a valid ticket generated by Clerk.";
    TicketExpired => 400, "ticket_expired_code", "is expired", "This ticket has expired.";
    InvitationAccountNotExists => 400, "invitation_account_not_exists", "no account for the invitation",
        "No user holds the invited e-mail address: sign up with this ticket instead.";
    ActorTokenCannotBeRevoked => 400, "actor_token_cannot_be_revoked", "cannot revoke",
        "Only pending actor tokens can be revoked.";
    SignInTokenCannotBeRevoked => 400, "sign_in_token_cannot_be_revoked", "cannot revoke",
        "Only pending sign-in tokens can be revoked.";
    AgentTaskCannotBeRevoked => 400, "agent_task_cannot_be_revoked", "cannot revoke",
        "Only a pending agent task can be revoked.";
    SessionRefreshInvalid => 401, "session_refresh_invalid", "session refresh refused",
        "The session cannot be refreshed with these tokens; fall back to the handshake flow.";
    JwtTemplateReservedClaim => 400, "jwt_template_reserved_claim", "reserved claim",
        "The JWT template uses a claim that is reserved for the server.";
    SvixAppExists => 400, "svix_app_exists", "Svix app already exists", "A Svix app already exists for this instance.";
    SvixAppMissing => 400, "svix_app_missing", "Svix app missing",
        "There is no Svix app for this instance. Create one first with POST /webhooks/svix.";
    // Identifiers: verification codes and their delivery.
    VerificationAlreadyVerified => 400, "verification_already_verified", "already verified",
        "This verification has already been verified.";
    VerificationMissing => 422, "verification_missing", "no verification",
        "No code was sent yet: prepare the verification first.";
    // Sign-ups (the Frontend API's sign-up flow, and UpdateSignUp).
    SignUpCannotBeUpdated => 403, "sign_up_cannot_be_updated", "Sign up cannot be updated",
        "This sign up has reached a terminal state and cannot be updated";
    VerificationFailed => 422, "verification_failed", "Too many failed attempts",
        "Too many failed attempts. You have to try again with the same or another method.";
    VerificationExpired => 422, "verification_expired", "verification expired",
        "This verification has expired. You must create a new one.";
    NotAllowedAccess => 422, "not_allowed_access", "Access not allowed",
        "This identifier is not allowed to access this application.";
    DuplicateRecord => 400, "duplicate_record", "duplicate record", "A record with this value already exists.";
    // Billing.
    BillingInvalidState => 422, "billing_invalid_state", "invalid subscription item state",
        "The subscription item cannot do this in its current state.";
    BillingPaymentFailed => 422, "billing_payment_failed", "payment failed",
        "The payment method was declined; nothing was changed.";
    InsufficientCreditBalance => 422, "insufficient_credit_balance", "insufficient credit balance",
        "The payer's credit balance cannot go below zero.";
    DeliveryNotConfigured => 400, "delivery_not_configured", "delivery not configured",
        "No delivery is configured for this channel.";
    // Frontend API: the browser's client and sessions.
    DevBrowserUnauthenticated => 401, "dev_browser_unauthenticated", "Browser unauthenticated",
        "Unable to authenticate this browser for your development instance. Check that the dev browser is set up.";
    ClientNotFound => 404, "client_not_found", "Client not found", "No client was found for this browser.";
    SessionExists => 400, "session_exists", "You're already signed in",
        "You're already signed in. Sign out first, or switch to multi-session mode.";
    NotAMemberInOrganization => 403, "not_a_member_in_organization", "not a member",
        "The user is not a member of this organization.";
    // Frontend API: sign-ins.
    SamlResponseInvalid => 400, "saml_response_invalid", "invalid SAML response",
        "The identity provider's SAML response was refused.";
    SamlJitProvisioningDisabled => 403, "saml_jit_provisioning_disabled", "sign-ups disabled for this connection",
        "This enterprise connection does not create users on first sign-in; ask an administrator to create your account.";
    OidcCallbackInvalid => 400, "oidc_callback_invalid", "invalid OIDC answer",
        "The identity provider's OpenID Connect answer was refused.";
    EnterpriseSsoIdpUnavailable => 400, "enterprise_sso_idp_unavailable", "identity provider unavailable",
        "The enterprise connection's identity provider could not be reached, or its configuration is unusable.";
    // In a `transferable` verification's `error` (clerk-js continues with the other kind of attempt).
    ExternalAccountExists => 422, "external_account_exists", "account exists",
        "An account already exists for this identity: continue by signing in.";
    ExternalAccountNotFound => 422, "external_account_not_found", "account not found",
        "No account exists for this identity yet: continue by signing up.";
    EnterpriseConnectionNotFound => 422, "enterprise_sso_connection_not_found", "no enterprise connection",
        "No active enterprise connection signs in this e-mail address's domain.";
    FormIdentifierNotFound => 422, "form_identifier_not_found", "Couldn't find your account.",
        "Couldn't find your account.";
    StrategyForUserInvalid => 422, "strategy_for_user_invalid", "Invalid verification strategy",
        "The verification strategy is not valid for this account.";
    SignInCannotBeUpdated => 403, "sign_in_cannot_be_updated", "Sign in cannot be updated",
        "This sign in has reached a terminal state and cannot be updated.";
    SignedOut => 401, "signed_out", "Signed out", "You are signed out.";
    RedirectUrlNotAllowed => 400, "redirect_url_not_allowed", "redirect URL not allowed",
        "The redirect URL is not one of the instance's allowed origins or redirect URLs.";
    OriginInvalid => 400, "origin_invalid", "Invalid origin",
        "This request's Origin is not one of the instance's allowed origins.";
    TooManyRequests => 429, "too_many_requests", "Too many requests",
        "Too many requests. Retry after the number of seconds in the Retry-After header.";
    // OAuth provider (Frontend API host).
    OAuthAccessTokenInvalid => 401, "oauth_access_token_invalid", "invalid access token",
        "The OAuth access token is invalid, expired or revoked.";
    OAuthConsentForged => 403, "oauth_consent_invalid", "invalid consent",
        "This consent decision did not come from the consent screen shown to you. Start the authorization again.";
    ServiceUnavailable => 503, "service_unavailable", "service unavailable",
        "The server is temporarily unable to handle the request. Please retry.";
    InternalClerkError => 500, "internal_clerk_error", "Oops, an unexpected error occurred",
        "There was an internal error on our servers. We've been notified and are working on fixing it.";
}

/// Optional structured details of one error item (`meta` on the wire).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ErrorMeta {
    /// The request parameter the error is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param_name: Option<String>,
    /// The organization permissions the request lacked (`missing_organization_permission`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// One item of the `errors` array.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorItem {
    /// The code.
    pub code: ErrorCode,
    /// Short message.
    pub message: String,
    /// Long message.
    pub long_message: String,
    /// Details.
    pub meta: Option<ErrorMeta>,
}

/// An error answered to a client as Clerk's `ClerkErrors` envelope. Boxed so that `Result<T>` stays small.
pub struct Error(Box<Inner>);

struct Inner {
    status: u16,
    items: Vec<ErrorItem>,
    source: Option<anyhow::Error>,
}

/// The result of core operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with one item of this code and its default messages.
    pub fn new(code: ErrorCode) -> Self {
        Self::with(code, code.message(), code.long_message(), None)
    }

    /// An error with one item and explicit messages.
    pub fn with(
        code: ErrorCode,
        message: impl Into<String>,
        long_message: impl Into<String>,
        param: Option<&str>,
    ) -> Self {
        let item = ErrorItem {
            code,
            message: message.into(),
            long_message: long_message.into(),
            meta: param.map(|p| ErrorMeta { param_name: Some(p.to_owned()), permissions: None }),
        };
        Self(Box::new(Inner { status: code.status(), items: vec![item], source: None }))
    }

    /// 404 for a resource of the given kind (`"machine"`, `"api key"`…).
    pub fn not_found(what: &str) -> Self {
        Self::with(ErrorCode::ResourceNotFound, "not found", format!("{what} not found"), None)
    }

    /// 422: a required body parameter is missing.
    pub fn param_missing(param: &str) -> Self {
        Self::with(
            ErrorCode::FormParamMissing,
            "missing required parameter",
            format!("{param} must be included."),
            Some(param),
        )
    }

    /// 422: a body parameter has the wrong type or shape.
    pub fn param_format_invalid(param: &str, why: impl Into<String>) -> Self {
        Self::with(ErrorCode::FormParamFormatInvalid, "is invalid", why, Some(param))
    }

    /// 422: a body parameter is well-formed but its value is not acceptable.
    pub fn param_value_invalid(param: &str, why: impl Into<String>) -> Self {
        Self::with(ErrorCode::FormParamValueInvalid, "is invalid", why, Some(param))
    }

    /// 422: a body parameter the operation does not accept.
    pub fn param_unknown(param: &str) -> Self {
        Self::with(
            ErrorCode::FormParamUnknown,
            "is unknown",
            format!("{param} is not a valid parameter for this request."),
            Some(param),
        )
    }

    /// 422: a unique value is already taken.
    pub fn identifier_exists(param: &str) -> Self {
        Self::with(
            ErrorCode::FormIdentifierExists,
            "That value is taken. Please try another.",
            format!("{param} is already taken."),
            Some(param),
        )
    }

    /// 400: a query parameter is missing.
    pub fn query_param_missing(param: &str) -> Self {
        Self::with(
            ErrorCode::QueryParamMissing,
            "missing query parameter",
            format!("The query parameter {param} is required."),
            Some(param),
        )
    }

    /// 400: a query parameter has an invalid value.
    pub fn query_param_invalid(param: &str, why: impl Into<String>) -> Self {
        Self::with(ErrorCode::QueryParamInvalid, "invalid query parameter", why, Some(param))
    }

    /// 403 `missing_organization_permission`: the member's role lacks `permission`.
    pub fn missing_organization_permission(permission: &str) -> Self {
        let mut e = Self::new(ErrorCode::MissingOrganizationPermission);
        e.0.items[0].meta = Some(ErrorMeta { param_name: None, permissions: Some(vec![permission.to_owned()]) });
        e
    }

    /// 404: an operation of the spec this server does not implement yet.
    pub fn not_implemented(operation_id: &str) -> Self {
        Self::with(
            ErrorCode::OperationNotImplemented,
            "not implemented",
            format!("The operation {operation_id} is not implemented by this Tessera server yet."),
            None,
        )
    }

    /// 500 with a cause that is logged, never shown.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(ErrorCode::InternalClerkError);
        e.0.source = Some(source.into());
        e
    }

    /// Adds another item (Clerk reports several problems of one request together).
    pub fn and(mut self, other: Error) -> Self {
        self.0.items.extend(other.0.items);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.0.status
    }

    /// The items.
    pub fn items(&self) -> &[ErrorItem] {
        &self.0.items
    }

    /// The code of the first item.
    pub fn code(&self) -> ErrorCode {
        self.0.items[0].code
    }

    /// Whether the failure is transient: the server was overloaded (503) or the database busy (SQLite's write lock
    /// held by another process past the busy timeout). Retrying later is the remedy, so background loops log these
    /// quietly.
    pub fn is_transient(&self) -> bool {
        self.code() == ErrorCode::ServiceUnavailable
            || self
                .source_error()
                .and_then(|s| s.downcast_ref::<tessera_store::StoreError>())
                .is_some_and(tessera_store::StoreError::is_busy)
    }

    /// The hidden cause of an internal error.
    pub fn source_error(&self) -> Option<&anyhow::Error> {
        self.0.source.as_ref()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("status", &self.0.status)
            .field("items", &self.0.items)
            .field("source", &self.0.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let item = &self.0.items[0];
        write!(f, "{} ({}): {}", self.0.status, item.code.as_str(), item.long_message)
    }
}

impl From<tessera_store::StoreError> for Error {
    fn from(e: tessera_store::StoreError) -> Self {
        if let tessera_store::StoreError::Sqlx(sqlx_err) = &e {
            // Pool exhaustion is load, not a bug: answer 503 so that clients back off and retry.
            if sqlx_err.to_string().contains("pool timed out") {
                return Self::new(ErrorCode::ServiceUnavailable);
            }
        }
        Self::internal(e)
    }
}

/// Maps a unique violation of a store call to a chosen error; anything else stays internal.
pub trait OnUnique<T> {
    /// Turns a unique-constraint violation into `f()`.
    fn on_unique(self, f: impl FnOnce() -> Error) -> Result<T>;
}

impl<T> OnUnique<T> for std::result::Result<T, tessera_store::StoreError> {
    fn on_unique(self, f: impl FnOnce() -> Error) -> Result<T> {
        self.map_err(|e| if e.is_unique_violation() { f() } else { e.into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_overload_and_busy_databases_are_transient() {
        assert!(Error::new(ErrorCode::ServiceUnavailable).is_transient());
        assert!(!Error::internal(anyhow::anyhow!("disk I/O error")).is_transient());
        assert!(!Error::internal(tessera_store::StoreError::Config("bad".into())).is_transient());
        assert!(!Error::not_found("user").is_transient());
    }

    #[test]
    fn codes_are_unique_snake_case_with_messages() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {}", code.as_str());
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(!code.message().is_empty() && !code.long_message().is_empty());
            assert!((400..600).contains(&code.status()));
        }
    }

    #[test]
    fn constructors_set_param_name() {
        let e = Error::param_missing("name");
        assert_eq!(e.status(), 422);
        assert_eq!(e.items()[0].meta.as_ref().unwrap().param_name.as_deref(), Some("name"));
    }
}
