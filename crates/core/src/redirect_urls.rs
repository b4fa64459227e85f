//! Redirect URLs: the instance's allowed redirect targets for native applications and OAuth flows.

use serde::Deserialize;
use tessera_store::redirect_urls::{self as store, RedirectUrlRow};

use crate::ids::new_id;
use crate::{Ctx, Error, OnUnique, Result};

/// A redirect URL.
pub type RedirectUrl = RedirectUrlRow;

/// Body of `POST /redirect_urls`.
#[derive(Debug, Deserialize)]
pub struct NewRedirectUrl {
    /// `https://…` or a custom scheme (`my-app://callback`).
    pub url: Option<String>,
}

/// Schemes that can run code or read local files in the browser: never a redirect target.
const FORBIDDEN_SCHEMES: &[&str] = &["javascript", "data", "file", "vbscript", "blob", "about"];

/// Checks a redirect URL: absolute, with a host or a custom scheme; plain `http` only for loopback hosts (local
/// development), as Clerk asks for `https://` or a custom scheme.
fn validate_url(raw: &str) -> Result<String> {
    let invalid = || Error::param_format_invalid("url", "url must be prefixed with https:// or a custom scheme");
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.len() > 2048 || trimmed.chars().any(char::is_control) {
        return Err(invalid());
    }
    let parsed = url::Url::parse(trimmed).map_err(|_| invalid())?;
    let scheme = parsed.scheme();
    if FORBIDDEN_SCHEMES.contains(&scheme) {
        return Err(invalid());
    }
    match scheme {
        "https" if parsed.host_str().is_some_and(|h| !h.is_empty()) => {}
        "https" => return Err(invalid()),
        "http" => {
            let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            if !loopback {
                return Err(invalid());
            }
        }
        // A custom scheme (`my-app://oauth-callback`) must be followed by something.
        _ if trimmed.len() > scheme.len() + 1 => {}
        _ => return Err(invalid()),
    }
    Ok(trimmed.to_owned())
}

/// `POST /redirect_urls`: a URL already present answers 422 `form_identifier_exists`.
pub async fn create(ctx: &Ctx, instance_id: &str, input: NewRedirectUrl) -> Result<RedirectUrl> {
    let url = validate_url(input.url.as_deref().ok_or_else(|| Error::param_missing("url"))?)?;
    let now = ctx.now_ms();
    let row =
        RedirectUrlRow { id: new_id("ru"), instance_id: instance_id.to_owned(), url, created_at: now, updated_at: now };
    let mut tx = ctx.db.begin().await?;
    store::insert(&mut tx, &row).await.on_unique(|| Error::identifier_exists("url"))?;
    tx.commit().await?;
    Ok(row)
}

/// `GET /redirect_urls/{id}`.
pub async fn get(ctx: &Ctx, instance_id: &str, id: &str) -> Result<RedirectUrl> {
    store::get(&ctx.db, instance_id, id).await?.ok_or_else(|| Error::not_found("redirect_url"))
}

/// `GET /redirect_urls`: a page, oldest first, and the total.
pub async fn list(ctx: &Ctx, instance_id: &str, limit: i64, offset: i64) -> Result<(Vec<RedirectUrl>, i64)> {
    Ok(store::list(&ctx.db, instance_id, limit, offset).await?)
}

/// `DELETE /redirect_urls/{id}`.
pub async fn delete(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    if store::delete(&mut tx, instance_id, id).await? == 0 {
        return Err(Error::not_found("redirect_url"));
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate_url;

    #[test]
    fn https_custom_schemes_and_loopback_http_are_accepted() {
        for ok in [
            "https://my-app.com/oauth-callback",
            "my-app://oauth-callback",
            "com.example.app:/cb",
            "http://localhost:3000/cb",
            "http://127.0.0.1/cb",
        ] {
            assert!(validate_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn scripts_plain_http_and_garbage_are_refused() {
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "http://example.com/cb",
            "https://",
            "not a url",
            "",
            "my-app:",
            "file:///etc/passwd",
        ] {
            assert!(validate_url(bad).is_err(), "{bad}");
        }
    }
}
