//! The server's deliberate deviations from the spec, each with the reason (an SDK that needs it): statuses
//! ([`DEVIATIONS`]), bodies where the spec declares none ([`CONTENT_DEVIATIONS`]) and fields a closed schema
//! forbids ([`FIELD_DEVIATIONS`]).

use serde_json::Value;

/// Deliberate deviations from the spec that the server makes because the official SDKs require
/// them.
///
/// Each entry says: for operation `operation_id` the server answers `actual_status` where the
/// spec declares `spec_status`; the body is validated against the schema of `spec_status`. An error status
/// the operation does not declare at all is listed with `spec_status == actual_status`; its body must be the
/// `ClerkErrors` envelope.
/// While a deviation is in force, `spec_status` itself is *not* accepted for that operation (the
/// server is expected to answer `actual_status`; answering the spec's status would break the SDK
/// that motivated the deviation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deviation {
    /// The `operationId` exactly as written in the spec.
    pub operation_id: &'static str,
    /// The status the server answers.
    pub actual_status: u16,
    /// The status declared by the spec whose response schema applies.
    pub spec_status: u16,
    /// Why the server deviates.
    pub reason: &'static str,
}

/// The single documented list of deviations from Clerk's OpenAPI spec.
///
/// Every place where Tessera knowingly answers differently from the spec must be listed here,
/// with its reason; nothing else in the server or in the tests may relax spec conformance.
/// The list was established by comparing each operation's success status in the spec with the
/// exact success status the `clerk-backend-api` Python SDK accepts
/// (`docs/sdk-reference/py-ops.tsv`); every other operation agrees with the spec
/// (`createM2MToken`, for example, is declared 201 in the spec, as the SDK expects).
pub const DEVIATIONS: &[Deviation] = &[
    Deviation {
        operation_id: "startSessionReverification",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404, but a session id that is unknown or another client's is answered 404 \
                 resource_not_found (a ClerkErrors body) as on the other /v1/client/sessions/{session_id} operations \
                 (a 401 would make clerk-js sign the browser out)",
    },
    Deviation {
        operation_id: "prepareSessionReverificationFirstFactor",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404, but a session id that is unknown or another client's is answered 404 \
                 resource_not_found (a ClerkErrors body) as on the other /v1/client/sessions/{session_id} operations \
                 (a 401 would make clerk-js sign the browser out)",
    },
    Deviation {
        operation_id: "attemptSessionReverificationFirstFactor",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404, but a session id that is unknown or another client's is answered 404 \
                 resource_not_found (a ClerkErrors body) as on the other /v1/client/sessions/{session_id} operations \
                 (a 401 would make clerk-js sign the browser out)",
    },
    Deviation {
        operation_id: "prepareSessionReverificationSecondFactor",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404, but a session id that is unknown or another client's is answered 404 \
                 resource_not_found (a ClerkErrors body) as on the other /v1/client/sessions/{session_id} operations \
                 (a 401 would make clerk-js sign the browser out)",
    },
    Deviation {
        operation_id: "attemptSessionReverificationSecondFactor",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404, but a session id that is unknown or another client's is answered 404 \
                 resource_not_found (a ClerkErrors body) as on the other /v1/client/sessions/{session_id} operations \
                 (a 401 would make clerk-js sign the browser out)",
    },
    Deviation {
        operation_id: "revokePendingOrganizationInvitation",
        actual_status: 400,
        spec_status: 400,
        reason: "the Frontend API spec declares no 400, but revoking an invitation that is no longer pending is \
                 answered 400 organization_invitation_not_pending (a ClerkErrors body), as the Backend API's \
                 RevokeOrganizationInvitation declares",
    },
    Deviation {
        operation_id: "prepareSignInFactorTwo",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404, but a sign-in id that is unknown or another client's is answered 404 \
                 resource_not_found (a ClerkErrors body) as on the other /v1/client/sign_ins/{sign_in_id} operations",
    },
    Deviation {
        operation_id: "resetPassword",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404, but a sign-in id that is unknown or another client's is answered 404 \
                 resource_not_found (a ClerkErrors body) as on the other /v1/client/sign_ins/{sign_in_id} operations",
    },
    Deviation {
        operation_id: "attemptSignInFactorTwo",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404, but a sign-in id that is unknown or another client's is answered 404 \
                 resource_not_found (a ClerkErrors body) as on the other /v1/client/sign_ins/{sign_in_id} operations",
    },
    Deviation {
        operation_id: "ListOrganizationDomains",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404 for this operation, but an unknown organization id is answered 404 \
                 resource_not_found (a ClerkErrors body) as on every other /organizations/{organization_id} operation",
    },
    Deviation {
        operation_id: "ListOrganizationDomains",
        actual_status: 400,
        spec_status: 400,
        reason: "the spec declares no 400 for this operation, but an out-of-range limit or offset or an invalid filter \
                 is answered 400 query_param_invalid (a ClerkErrors body) as on the other lists",
    },
    Deviation {
        operation_id: "ListAllOrganizationDomains",
        actual_status: 400,
        spec_status: 400,
        reason: "the spec declares no 400 for this operation, but an out-of-range limit or offset or an invalid filter \
                 is answered 400 query_param_invalid (a ClerkErrors body) as on the other lists",
    },
    Deviation {
        operation_id: "ListWaitlistEntries",
        actual_status: 400,
        spec_status: 400,
        reason: "the spec declares only 200, but an out-of-range limit or offset or an invalid filter is answered 400 \
                 query_param_invalid (a ClerkErrors body) as on the other lists",
    },
    Deviation {
        operation_id: "GetTemplateList",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404, but a {template_type} that no path segment can hold (NUL, control \
                 characters, invalid UTF-8) is answered 404 resource_not_found before routing, as on every path",
    },
    Deviation {
        operation_id: "ListEnterpriseConnections",
        actual_status: 400,
        spec_status: 400,
        reason: "the spec declares no 400 for this operation, but an out-of-range limit or offset is answered 400 \
                 query_param_invalid (a ClerkErrors body) as on the other lists",
    },
    Deviation {
        operation_id: "ListSAMLConnections",
        actual_status: 400,
        spec_status: 400,
        reason: "the spec declares no 400 for this operation, but an out-of-range limit or offset is answered 400 \
                 query_param_invalid (a ClerkErrors body) as on the other lists",
    },
    Deviation {
        operation_id: "ListDirectories",
        actual_status: 400,
        spec_status: 400,
        reason: "the spec declares no 400 for this operation, but an out-of-range limit or offset is answered 400 \
                 query_param_invalid (a ClerkErrors body) as on the other lists",
    },
    Deviation {
        operation_id: "ListSCIMDirectories",
        actual_status: 400,
        spec_status: 400,
        reason: "the spec declares no 400 for this operation, but an out-of-range limit or offset is answered 400 \
                 query_param_invalid (a ClerkErrors body) as on the other lists",
    },
    Deviation {
        operation_id: "ListRedirectURLs",
        actual_status: 400,
        spec_status: 400,
        reason: "the spec declares only 200, but an out-of-range limit or offset is answered 400 \
                 query_param_invalid (a ClerkErrors body) as on the other lists",
    },
    Deviation {
        operation_id: "createApiKey",
        actual_status: 201,
        spec_status: 200,
        reason: "the spec declares 200 for POST /api_keys, but the clerk-backend-api Python SDK \
             (api_keys.create_api_key) accepts only 201 as success and raises SDKError on 200",
    },
    Deviation {
        operation_id: "BanUser",
        actual_status: 404,
        spec_status: 402,
        reason: "the spec declares no 404 for this operation, but an unknown user id is answered 404 resource_not_found \
                 (a ClerkErrors body) as on every other /users/{user_id} operation",
    },
    Deviation {
        operation_id: "UnbanUser",
        actual_status: 404,
        spec_status: 402,
        reason: "the spec declares no 404 for this operation, but an unknown user id is answered 404 resource_not_found \
                 (a ClerkErrors body) as on every other /users/{{user_id}} operation",
    },
    Deviation {
        operation_id: "LockUser",
        actual_status: 404,
        spec_status: 403,
        reason: "the spec declares no 404 for this operation, but an unknown user id is answered 404 resource_not_found \
                 (a ClerkErrors body) as on every other /users/{{user_id}} operation",
    },
    Deviation {
        operation_id: "UnlockUser",
        actual_status: 404,
        spec_status: 403,
        reason: "the spec declares no 404 for this operation, but an unknown user id is answered 404 resource_not_found \
                 (a ClerkErrors body) as on every other /users/{{user_id}} operation",
    },
    Deviation {
        operation_id: "UsersGetOrganizationMemberships",
        actual_status: 404,
        spec_status: 403,
        reason: "the spec declares no 404 for this operation, but an unknown user id is answered 404 resource_not_found \
                 (a ClerkErrors body) as on every other /users/{{user_id}} operation",
    },
    Deviation {
        operation_id: "VerifyPassword",
        actual_status: 400,
        spec_status: 500,
        reason: "the spec declares this error status without a body; Tessera answers it with the ClerkErrors envelope \
                 (as Clerk does), validated against the ClerkErrors schema of the declared 500",
    },
    Deviation {
        operation_id: "VerifyPassword",
        actual_status: 404,
        spec_status: 500,
        reason: "the spec declares this error status without a body; Tessera answers it with the ClerkErrors envelope \
                 (as Clerk does), validated against the ClerkErrors schema of the declared 500",
    },
    Deviation {
        operation_id: "VerifyPassword",
        actual_status: 422,
        spec_status: 500,
        reason: "the spec declares this error status without a body; Tessera answers it with the ClerkErrors envelope \
                 (as Clerk does), validated against the ClerkErrors schema of the declared 500",
    },
    Deviation {
        operation_id: "VerifyPassword",
        actual_status: 403,
        spec_status: 500,
        reason: "a locked user is refused with 403 user_locked (Clerk's lockout error), which the spec does \
                 not declare here; validated against the ClerkErrors schema of the declared 500",
    },
    Deviation {
        operation_id: "VerifyTOTP",
        actual_status: 400,
        spec_status: 500,
        reason: "the spec declares this error status without a body; Tessera answers it with the ClerkErrors envelope \
                 (as Clerk does), validated against the ClerkErrors schema of the declared 500",
    },
    Deviation {
        operation_id: "VerifyTOTP",
        actual_status: 404,
        spec_status: 500,
        reason: "the spec declares this error status without a body; Tessera answers it with the ClerkErrors envelope \
                 (as Clerk does), validated against the ClerkErrors schema of the declared 500",
    },
    Deviation {
        operation_id: "VerifyTOTP",
        actual_status: 422,
        spec_status: 500,
        reason: "the spec declares this error status without a body; Tessera answers it with the ClerkErrors envelope \
                 (as Clerk does), validated against the ClerkErrors schema of the declared 500",
    },
    Deviation {
        operation_id: "VerifyTOTP",
        actual_status: 403,
        spec_status: 500,
        reason: "a locked user is refused with 403 user_locked (Clerk's lockout error), which the spec does \
                 not declare here; validated against the ClerkErrors schema of the declared 500",
    },
    Deviation {
        operation_id: "ListOrganizationMemberships",
        actual_status: 404,
        spec_status: 404,
        reason: "the members of an organization that does not exist (or belongs to another instance) are answered \
                 404 resource_not_found like every other organization path, which this list does not declare",
    },
    Deviation {
        operation_id: "ListJWTTemplates",
        actual_status: 400,
        spec_status: 400,
        reason: "the spec declares only 200, but an out-of-range limit or offset is answered 400 \
                 query_param_invalid (a ClerkErrors body) as on the other lists",
    },
    Deviation {
        operation_id: "UpdateJWTTemplate",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404 for this operation, but an unknown template id is answered 404 \
                 resource_not_found (a ClerkErrors body) as by GetJWTTemplate and DeleteJWTTemplate",
    },
    Deviation {
        operation_id: "RefreshSession",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404 for this operation, but an unknown session id is answered 404 \
                 resource_not_found (a ClerkErrors body) as on every other /sessions/{{session_id}} operation",
    },
    Deviation {
        operation_id: "GetSignUp",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares only 200 and 403, but an unknown sign-up id (or another instance's) is answered \
                 404 resource_not_found (a ClerkErrors body), as Clerk answers unknown ids everywhere",
    },
    Deviation {
        operation_id: "UpdateSignUp",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares only 200 and 403, but an unknown sign-up id (or another instance's) is answered \
                 404 resource_not_found (a ClerkErrors body), as by GetSignUp",
    },
    Deviation {
        operation_id: "UpdateSignUp",
        actual_status: 422,
        spec_status: 422,
        reason: "the spec declares only 200 and 403, but a body of the wrong type, an external_id a user already \
                 has, or an identifier taken by a user or refused by the allow/block lists when the sign-up would \
                 convert is answered 422 (a ClerkErrors body: form_param_format_invalid, form_identifier_exists, \
                 not_allowed_access), as CreateUser answers them",
    },
    Deviation {
        operation_id: "prepareSignUpsVerification",
        actual_status: 403,
        spec_status: 403,
        reason: "the spec declares no 403 here, but a complete or abandoned sign-up is answered 403 \
                 sign_up_cannot_be_updated (a ClerkErrors body), as attemptSignUpsVerification and updateSignUps \
                 answer it",
    },
    Deviation {
        operation_id: "prepareSignUpsVerification",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404 here, but an unknown sign-up id, or another client's, is answered 404 \
                 resource_not_found (a ClerkErrors body), as getSignUps answers it",
    },
    Deviation {
        operation_id: "attemptSignUpsVerification",
        actual_status: 404,
        spec_status: 404,
        reason: "the spec declares no 404 here, but an unknown sign-up id, or another client's, is answered 404 \
                 resource_not_found (a ClerkErrors body), as getSignUps answers it",
    },
    Deviation {
        operation_id: "acs",
        actual_status: 200,
        spec_status: 302,
        reason: "the IdP's cross-site POST does not carry a production browser's SameSite=Lax __client cookie, which \
                 binds the sign-in to the browser that started it: Tessera answers that first POST with a page that \
                 posts the same response again from the frontend host (same-site, so the cookie comes); the spec \
                 declares no 200, and Tessera never answers 302 here (its redirects are 303)",
    },
];

/// What a [`ContentDeviation`] answers where the spec declares no content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviationBody {
    /// The `ClerkErrors` envelope, validated against its schema.
    ClerkErrors,
    /// A body with exactly this Content-Type (not validated further).
    Media(&'static str),
}

/// A response the spec declares without content (`description` only) that Tessera answers with a body. These
/// belong to the deviation list as much as [`DEVIATIONS`]: they keep the status, and say what the body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentDeviation {
    /// The `operationId` exactly as written in the spec.
    pub operation_id: &'static str,
    /// The declared status (with no content) the body is given to.
    pub status: u16,
    /// What the body is.
    pub body: DeviationBody,
    /// Why the server deviates.
    pub reason: &'static str,
}

/// The documented responses with a body where the spec declares none (see [`ContentDeviation`]).
pub const CONTENT_DEVIATIONS: &[ContentDeviation] = &[
    ContentDeviation {
        operation_id: "GetPublicInterstitial",
        status: 200,
        body: DeviationBody::Media("text/html; charset=utf-8"),
        reason: "the spec describes the 200 as \"the interstitial page markup\" but declares no content; the page is \
                 HTML, as Clerk serves it",
    },
    ContentDeviation {
        operation_id: "GetPublicInterstitial",
        status: 400,
        body: DeviationBody::ClerkErrors,
        reason: "the spec declares the 400 (\"a required query parameter is missing\") without content; Tessera \
                 answers it with the ClerkErrors envelope, as every other error",
    },
    ContentDeviation {
        operation_id: "requestOAuthAuthorize",
        status: 200,
        body: DeviationBody::Media("text/html; charset=utf-8"),
        reason: "the spec declares the 200 (\"success for form_post\") without content; it is the consent screen \
                 or the auto-submitting form of response_mode=form_post, both HTML",
    },
    ContentDeviation {
        operation_id: "requestOAuthAuthorizePOST",
        status: 200,
        body: DeviationBody::Media("text/html; charset=utf-8"),
        reason: "as requestOAuthAuthorize: the consent screen or the form_post page, HTML",
    },
    ContentDeviation {
        operation_id: "requestOAuthAuthorize",
        status: 400,
        body: DeviationBody::Media("text/html; charset=utf-8"),
        reason: "a request whose client or redirect_uri cannot be trusted is answered to the person (RFC 6749 \
                 §4.1.2.1), as an HTML error page",
    },
    ContentDeviation {
        operation_id: "requestOAuthAuthorizePOST",
        status: 400,
        body: DeviationBody::Media("text/html; charset=utf-8"),
        reason: "as requestOAuthAuthorize: the HTML error page of an untrusted client or redirect_uri",
    },
    ContentDeviation {
        operation_id: "submitOAuthConsent",
        status: 200,
        body: DeviationBody::Media("text/html; charset=utf-8"),
        reason: "the spec declares the form_post 200 without content; it is the auto-submitting HTML form",
    },
    ContentDeviation {
        operation_id: "getOAuthTokenInfo",
        status: 401,
        body: DeviationBody::Media("application/json"),
        reason: "the spec declares the 401 without content; Tessera answers RFC 6749's {error, error_description} \
                 (invalid_client), as the token and revocation endpoints declare it",
    },
    ContentDeviation {
        operation_id: "registerOAuthClient",
        status: 422,
        body: DeviationBody::ClerkErrors,
        reason: "the spec declares the 422 (dynamic registration disabled) without content; Tessera answers the \
                 ClerkErrors envelope",
    },
    ContentDeviation {
        operation_id: "acs",
        status: 302,
        body: DeviationBody::Media("text/html; charset=utf-8"),
        reason: "the re-post page (see the acs entry of DEVIATIONS, answered 200): an auto-submitting HTML form",
    },
];

/// A top-level field Tessera adds to a JSON answer whose schema forbids it (`additionalProperties: false`),
/// because an official SDK reads it. The field is checked for its shape, then taken out before the body is
/// validated against the declared schema; a body without it is validated as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDeviation {
    /// The `operationId` exactly as written in the spec.
    pub operation_id: &'static str,
    /// The declared status whose body carries the field.
    pub status: u16,
    /// The field's name.
    pub field: &'static str,
    /// What the field must hold.
    pub shape: FieldShape,
    /// Why the server deviates.
    pub reason: &'static str,
}

/// The shape of a [`FieldDeviation`]'s value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldShape {
    /// A non-empty array of non-empty strings.
    NonEmptyStrings,
}

impl FieldShape {
    fn holds(self, value: &Value) -> bool {
        match self {
            FieldShape::NonEmptyStrings => value
                .as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(|v| v.as_str().is_some_and(|s| !s.is_empty()))),
        }
    }
}

/// The documented fields added to bodies whose schema forbids them (see [`FieldDeviation`]).
pub const FIELD_DEVIATIONS: &[FieldDeviation] = &[FieldDeviation {
    operation_id: "verifyOAuthAccessToken",
    status: 200,
    field: "aud",
    shape: FieldShape::NonEmptyStrings,
    reason: "@clerk/backend 3.25 reads `aud` from the verify answer: `idPOAuthAccessToken.verify(token, {audience})` \
             and `authenticateRequest({acceptsToken: 'oauth_token', audience})` refuse a token without it. It is \
             sent only for tokens issued for an RFC 8707 resource",
}];

/// Takes the [`FIELD_DEVIATIONS`] fields of this operation and status out of `instance`; an error names a field
/// of the wrong shape.
pub(crate) fn strip_field_deviations(operation_id: &str, status: u16, instance: &mut Value) -> Result<(), String> {
    let Some(object) = instance.as_object_mut() else { return Ok(()) };
    for d in FIELD_DEVIATIONS.iter().filter(|d| d.operation_id == operation_id && d.status == status) {
        if let Some(value) = object.remove(d.field)
            && !d.shape.holds(&value)
        {
            return Err(format!("`{}` must be {:?} (field deviation: {}), got {value}", d.field, d.shape, d.reason));
        }
    }
    Ok(())
}

pub(crate) fn content_deviation(operation_id: &str, status: u16) -> Option<&'static ContentDeviation> {
    CONTENT_DEVIATIONS.iter().find(|d| d.operation_id == operation_id && d.status == status)
}

pub(crate) fn deviation(operation_id: &str, actual_status: u16) -> Option<&'static Deviation> {
    DEVIATIONS.iter().find(|d| d.operation_id == operation_id && d.actual_status == actual_status)
}
