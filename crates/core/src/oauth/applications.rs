//! OAuth applications: create, list, get, update, delete, logo, secret rotation. The client secret is shown once
//! (create, rotate) and stored as a keyed digest; public clients have none.

use tessera_store::oauth_applications::{ListOrder, OAuthApplicationRow};

use super::{KNOWN_SCOPES, split_scopes};
use crate::ids::{new_id, random_base62};
use crate::users::images;
use crate::{Ctx, Error, Result};

/// Longest name.
const MAX_NAME: usize = 256;
/// Longest redirect URI and scope string.
const MAX_URI: usize = 1024;
/// Most redirect URIs per application.
const MAX_REDIRECT_URIS: usize = 100;
/// Scopes of an application created without any.
pub const DEFAULT_SCOPES: &str = "profile email";

/// An OAuth application.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthApplication {
    /// `oa_…`.
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Display name.
    pub name: String,
    /// OAuth `client_id`.
    pub client_id: String,
    /// Home page.
    pub client_uri: Option<String>,
    /// Uploaded logo.
    pub image_id: Option<String>,
    /// Registered through RFC 7591.
    pub dynamically_registered: bool,
    /// Ask for consent.
    pub consent_screen_enabled: bool,
    /// PKCE required.
    pub pkce_required: bool,
    /// Public client (no secret).
    pub public: bool,
    /// Allowed scopes, space-separated.
    pub scopes: String,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl From<OAuthApplicationRow> for OAuthApplication {
    fn from(r: OAuthApplicationRow) -> Self {
        Self {
            id: r.id,
            instance_id: r.instance_id,
            name: r.name,
            client_id: r.client_id,
            client_uri: r.client_uri,
            image_id: r.image_id,
            dynamically_registered: r.dynamically_registered,
            consent_screen_enabled: r.consent_screen_enabled,
            pkce_required: r.pkce_required,
            public: r.public,
            scopes: r.scopes,
            redirect_uris: serde_json::from_str(&r.redirect_uris).unwrap_or_default(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl OAuthApplication {
    /// Whether `scope` is one the application may be granted.
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.split(' ').any(|s| s == scope)
    }

    /// PKCE is required: public clients and applications that ask for it.
    pub fn requires_pkce(&self) -> bool {
        self.public || self.pkce_required
    }
}

/// An application with its secret, as create and rotate answer (`""` for public clients).
#[derive(Debug)]
pub struct WithSecret {
    /// The application.
    pub application: OAuthApplication,
    /// The client secret, shown this once.
    pub client_secret: String,
}

/// Input of [`create`].
#[derive(Debug, Default)]
pub struct NewApplication {
    /// Name (required).
    pub name: Option<String>,
    /// Redirect URIs.
    pub redirect_uris: Option<Vec<String>>,
    /// Deprecated single redirect URI.
    pub callback_url: Option<String>,
    /// Scopes, space-separated.
    pub scopes: Option<String>,
    /// Consent screen (default on).
    pub consent_screen_enabled: Option<bool>,
    /// PKCE required (default off).
    pub pkce_required: Option<bool>,
    /// Public client.
    pub public: Option<bool>,
    /// Home page (dynamic registration).
    pub client_uri: Option<String>,
    /// Registered through RFC 7591.
    pub dynamically_registered: bool,
}

/// Input of [`update`]: `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ApplicationPatch {
    /// Name.
    pub name: Option<String>,
    /// Redirect URIs.
    pub redirect_uris: Option<Vec<String>>,
    /// Deprecated single redirect URI.
    pub callback_url: Option<String>,
    /// Scopes.
    pub scopes: Option<String>,
    /// Consent screen.
    pub consent_screen_enabled: Option<bool>,
    /// PKCE required.
    pub pkce_required: Option<bool>,
    /// Public client.
    pub public: Option<bool>,
}

/// Orders of [`list`].
pub use tessera_store::oauth_applications::ListOrder as Order;

fn not_found() -> Error {
    Error::not_found("oauth application")
}

fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::param_missing("name"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(Error::param_value_invalid("name", format!("name must be at most {MAX_NAME} characters.")));
    }
    Ok(name.to_owned())
}

/// Validates scopes: known scope names, space-separated, at most 1024 characters. Empty means none.
pub fn validate_scopes(param: &str, scopes: &str) -> Result<String> {
    if scopes.len() > MAX_URI {
        return Err(Error::param_value_invalid(param, format!("{param} must be at most {MAX_URI} characters.")));
    }
    let list = split_scopes(scopes);
    if let Some(bad) = list.iter().find(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
        return Err(Error::param_value_invalid(
            param,
            format!("`{bad}` is not a supported scope. Supported scopes: {}.", KNOWN_SCOPES.join(", ")),
        ));
    }
    Ok(list.join(" "))
}

/// Validates redirect URIs: absolute URIs of any scheme (`https://`, `http://`, `myapp://`), without fragment.
pub fn validate_redirect_uris(param: &str, uris: &[String]) -> Result<Vec<String>> {
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(Error::param_value_invalid(param, format!("At most {MAX_REDIRECT_URIS} redirect URIs.")));
    }
    let mut out: Vec<String> = Vec::with_capacity(uris.len());
    for uri in uris {
        let uri = uri.trim();
        if uri.len() > MAX_URI {
            return Err(Error::param_value_invalid(
                param,
                format!("A redirect URI must be at most {MAX_URI} characters."),
            ));
        }
        let parsed = url::Url::parse(uri)
            .map_err(|_| Error::param_value_invalid(param, format!("`{uri}` is not a valid absolute URI.")))?;
        if parsed.fragment().is_some() {
            return Err(Error::param_value_invalid(param, "A redirect URI must not contain a fragment."));
        }
        if !out.iter().any(|o| o == uri) {
            out.push(uri.to_owned());
        }
    }
    Ok(out)
}

/// The redirect URIs of a create or update: `redirect_uris`, else the deprecated `callback_url`.
fn redirect_uris_of(redirect_uris: Option<Vec<String>>, callback_url: Option<String>) -> Result<Option<Vec<String>>> {
    match (redirect_uris, callback_url.filter(|c| !c.trim().is_empty())) {
        (Some(uris), _) => validate_redirect_uris("redirect_uris", &uris).map(Some),
        (None, Some(url)) => validate_redirect_uris("callback_url", &[url]).map(Some),
        (None, None) => Ok(None),
    }
}

/// A new secret and its digest.
fn new_secret(ctx: &Ctx) -> (String, Vec<u8>) {
    let secret = random_base62(40);
    let digest = ctx.secrets.digest(&secret);
    (secret, digest)
}

/// Creates an application. Confidential clients get a secret, answered once.
pub async fn create(ctx: &Ctx, instance_id: &str, input: NewApplication) -> Result<WithSecret> {
    let client_id = random_base62(16);
    // A dynamically registered client without `client_name` is shown by its client_id (RFC 7591 via Clerk).
    let name = match input.name.as_deref() {
        None if input.dynamically_registered => client_id.clone(),
        name => validate_name(name.unwrap_or_default())?,
    };
    let redirect_uris = redirect_uris_of(input.redirect_uris, input.callback_url)?.unwrap_or_default();
    let scopes = validate_scopes("scopes", input.scopes.as_deref().unwrap_or(DEFAULT_SCOPES))?;
    let client_uri = match input.client_uri.filter(|u| !u.trim().is_empty()) {
        Some(u) => Some(validate_redirect_uris("client_uri", &[u])?.remove(0)),
        None => None,
    };
    let public = input.public.unwrap_or(false);
    let (secret, digest) = if public {
        (String::new(), None)
    } else {
        let (secret, digest) = new_secret(ctx);
        (secret, Some(digest))
    };
    let now = ctx.now_ms();
    let row = OAuthApplicationRow {
        id: new_id("oa"),
        instance_id: instance_id.to_owned(),
        name,
        client_id,
        client_uri,
        image_id: None,
        dynamically_registered: input.dynamically_registered,
        // Dynamically registered clients always show the consent screen (Clerk's rule).
        consent_screen_enabled: input.dynamically_registered || input.consent_screen_enabled.unwrap_or(true),
        pkce_required: input.pkce_required.unwrap_or(false),
        public,
        scopes,
        redirect_uris: serde_json::to_string(&redirect_uris).map_err(Error::internal)?,
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    tessera_store::oauth_applications::insert(&mut tx, &row, digest.as_deref()).await?;
    tx.commit().await?;
    Ok(WithSecret { application: row.into(), client_secret: secret })
}

/// One application.
pub async fn get(ctx: &Ctx, instance_id: &str, id: &str) -> Result<OAuthApplication> {
    Ok(tessera_store::oauth_applications::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?.into())
}

/// The application with this `client_id` and its secret's digest (the provider authenticates clients with it).
pub async fn by_client_id(
    ctx: &Ctx,
    instance_id: &str,
    client_id: &str,
) -> Result<Option<(OAuthApplication, Option<Vec<u8>>)>> {
    Ok(tessera_store::oauth_applications::by_client_id(&ctx.db, instance_id, client_id)
        .await?
        .map(|(row, secret)| (row.into(), secret)))
}

/// A page of applications: `query` matches names (case-insensitive, partial) or a `client_id` exactly.
pub async fn list(
    ctx: &Ctx,
    instance_id: &str,
    query: Option<&str>,
    order: ListOrder,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OAuthApplication>, i64)> {
    let query = query.map(str::trim).filter(|q| !q.is_empty());
    let rows = tessera_store::oauth_applications::list(&ctx.db, instance_id, query, order, limit, offset).await?;
    let total = tessera_store::oauth_applications::count(&ctx.db, instance_id, query).await?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

/// Updates an application. The consent screen of a dynamically registered application stays on.
pub async fn update(ctx: &Ctx, instance_id: &str, id: &str, patch: ApplicationPatch) -> Result<OAuthApplication> {
    let name = patch.name.as_deref().map(validate_name).transpose()?;
    let redirect_uris = redirect_uris_of(patch.redirect_uris, patch.callback_url)?;
    let scopes = patch.scopes.as_deref().map(|s| validate_scopes("scopes", s)).transpose()?;
    let mut tx = ctx.db.begin().await?;
    let mut row = tessera_store::oauth_applications::get_tx(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if patch.consent_screen_enabled == Some(false) && row.dynamically_registered {
        return Err(Error::param_value_invalid(
            "consent_screen_enabled",
            "The consent screen cannot be disabled for dynamically registered OAuth applications.",
        ));
    }
    if let Some(name) = name {
        row.name = name;
    }
    if let Some(uris) = redirect_uris {
        row.redirect_uris = serde_json::to_string(&uris).map_err(Error::internal)?;
    }
    if let Some(scopes) = scopes {
        row.scopes = scopes;
    }
    if let Some(v) = patch.consent_screen_enabled {
        row.consent_screen_enabled = v;
    }
    if let Some(v) = patch.pkce_required {
        row.pkce_required = v;
    }
    let now = ctx.now_ms();
    if let Some(public) = patch.public
        && public != row.public
    {
        row.public = public;
        // A public client has no secret; one becoming confidential gets its secret from rotate_secret.
        if public {
            tessera_store::oauth_applications::set_secret(&mut tx, instance_id, id, None, now).await?;
        }
    }
    row.updated_at = now;
    tessera_store::oauth_applications::update(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(row.into())
}

/// Deletes an application with everything it was granted.
pub async fn delete(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    if tessera_store::oauth_applications::delete(&mut tx, instance_id, id).await? == 0 {
        return Err(not_found());
    }
    tx.commit().await?;
    Ok(())
}

/// Replaces the client secret (a public client answers `""` and keeps none).
pub async fn rotate_secret(ctx: &Ctx, instance_id: &str, id: &str) -> Result<WithSecret> {
    let mut tx = ctx.db.begin().await?;
    let mut row = tessera_store::oauth_applications::get_tx(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    let now = ctx.now_ms();
    let secret = if row.public {
        String::new()
    } else {
        let (secret, digest) = new_secret(ctx);
        tessera_store::oauth_applications::set_secret(&mut tx, instance_id, id, Some(&digest), now).await?;
        row.updated_at = now;
        secret
    };
    tx.commit().await?;
    Ok(WithSecret { application: row.into(), client_secret: secret })
}

/// Sets the application's logo (JPEG, PNG, GIF or WebP, at most 10 MB). The uploader, when given, must be a user
/// of the instance.
pub async fn set_logo(
    ctx: &Ctx,
    instance_id: &str,
    id: &str,
    data: Vec<u8>,
    uploader_user_id: Option<&str>,
) -> Result<OAuthApplication> {
    if data.len() > images::MAX_IMAGE_BYTES {
        return Err(Error::param_value_invalid("file", "The file size cannot exceed 10MB."));
    }
    let content_type = images::sniff(&data).ok_or_else(|| {
        Error::param_value_invalid("file", "Only image/jpeg, image/png, image/gif and image/webp are supported.")
    })?;
    let image_id = new_id("img");
    let mut tx = ctx.db.begin().await?;
    let mut row = tessera_store::oauth_applications::get_tx(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if let Some(uploader) = uploader_user_id.filter(|u| !u.is_empty())
        && tessera_store::users::lock(&mut tx, instance_id, uploader).await?.is_none()
    {
        return Err(Error::param_value_invalid("uploader_user_id", format!("No user with id {uploader} exists.")));
    }
    let now = ctx.now_ms();
    tessera_store::oauth_applications::set_image(&mut tx, instance_id, id, (&image_id, content_type, &data), now)
        .await?;
    row.image_id = Some(image_id);
    row.updated_at = now;
    tessera_store::oauth_applications::update(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(row.into())
}

/// A stored logo: `(content_type, bytes)`. Like Clerk's image URLs, served without authentication.
pub async fn logo(ctx: &Ctx, image_id: &str) -> Result<(String, Vec<u8>)> {
    tessera_store::oauth_applications::image(&ctx.db, image_id).await?.ok_or_else(|| Error::not_found("image"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_of_any_scheme_but_no_fragment() {
        let ok = validate_redirect_uris("r", &["myapp://cb".into(), "http://localhost:3000/cb".into()]).unwrap();
        assert_eq!(ok.len(), 2);
        assert!(validate_redirect_uris("r", &["https://a.test/cb#x".into()]).is_err());
        assert!(validate_redirect_uris("r", &["/relative".into()]).is_err());
    }

    #[test]
    fn scopes_must_be_known() {
        assert_eq!(validate_scopes("s", "email  profile").unwrap(), "email profile");
        assert!(validate_scopes("s", "email admin").is_err());
    }
}
