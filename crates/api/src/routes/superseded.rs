//! Calls `@clerk/backend` can still make that no spec revision lists and that Tessera does not serve: each is
//! answered 410 `operation_superseded` in the Clerk envelope, saying what to call instead, so that an app's error
//! log points at the fix (an unknown path would only say "not found").

use tessera_core::{Error, ErrorCode};

use crate::error::ApiError;
use crate::extract::Path;
use crate::extract::SecretKey;

fn superseded(long_message: &str) -> ApiError {
    ApiError(Error::with(ErrorCode::OperationSuperseded, ErrorCode::OperationSuperseded.message(), long_message, None))
}

/// `POST /v1/accountless_applications` and `POST /v1/accountless_applications/complete`
/// (`accountlessApplications.*`, the keyless development flow of Clerk's hosted service). Keyless apps have no
/// secret key yet, so no key is asked for.
pub async fn accountless_applications() -> ApiError {
    superseded(
        "Tessera creates no accountless (keyless) applications. Use the keys `tessera serve` printed on first \
         start, or create an instance with `tessera instance create`, and set CLERK_SECRET_KEY and \
         CLERK_PUBLISHABLE_KEY.",
    )
}

/// `POST /v1/sessions/{session_id}/verify` (`sessions.verifySession`, removed by Clerk).
pub async fn verify_session(SecretKey(_): SecretKey, Path(_session_id): Path<String>) -> ApiError {
    superseded(
        "Verifying a session token through the API is no longer offered. Verify session tokens networklessly \
         against GET /v1/jwks (authenticateRequest / verifyToken), or read the session with \
         GET /v1/sessions/{session_id}.",
    )
}

/// `POST /v1/beta_features/change_domain` (`betaFeatures.changeDomain`, the beta endpoint of old).
pub async fn change_domain(SecretKey(_): SecretKey) -> ApiError {
    superseded("Use POST /v1/instance/change_domain (instance.changeDomain) to change a production instance's domain.")
}
