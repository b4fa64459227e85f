//! Tessera as an OAuth 2.1 / OpenID Connect provider, per instance, on its Frontend API host.
//!
//! * [`applications`]: the OAuth applications (clients) the Backend API manages.
//! * [`tokens`]: access and refresh tokens — issuing, verification (opaque `oat_…` and `at+jwt` JWTs), revocation.
//! * [`provider`]: the authorization server itself — authorization codes with PKCE, consent, the token endpoint's
//!   grants, ID tokens, userinfo and introspection.
//!
//! Client secrets, authorization codes and tokens are stored only as keyed digests (`ctx.secrets.digest`), so a
//! lookup by digest is the constant-time comparison: the digest of a wrong secret finds no row.

pub mod applications;
pub mod claims;
pub mod grants;
pub mod provider;
pub mod tokens;

pub use applications::OAuthApplication;

/// The scopes Tessera's provider knows (Clerk's: custom scopes are a dashboard-only feature).
pub const KNOWN_SCOPES: &[&str] =
    &["openid", "profile", "email", "public_metadata", "private_metadata", "offline_access", "user:org:read"];

/// Access tokens live one day (Clerk's lifetime).
pub const ACCESS_TOKEN_LIFETIME_MS: i64 = 24 * 3600 * 1000;
/// ID tokens live one day.
pub const ID_TOKEN_LIFETIME_MS: i64 = 24 * 3600 * 1000;
/// Authorization codes live ten minutes.
pub const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// Splits a space-separated scope string into its distinct scopes, in order.
pub fn split_scopes(scopes: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scopes.split([' ', '\t', '\n']).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// The issuer URL of an instance's provider as the Backend API names it: `https://{frontend host}`.
pub fn frontend_url(instance: &crate::instances::Instance) -> String {
    format!("https://{}", instance.frontend_host())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_split_on_whitespace_without_duplicates() {
        assert_eq!(split_scopes(" profile  email profile\topenid"), ["profile", "email", "openid"]);
        assert!(split_scopes("").is_empty());
    }
}
