//! `GET /npm/@clerk/clerk-js@{version}/dist/{file…}` and `GET /npm/@clerk/ui@{version}/dist/{file…}`: clerk-js and
//! its UI, where Clerk's CDN would serve them, from the `dist` directories `tessera serve` was given
//! (`--clerk-js-dir`, `--clerk-ui-dir`, each any number of times). `{version}` (a major, a range, a tag, an exact
//! version) picks the installed directory that answers it (`tessera_api::dists`): `@clerk/clerk-react` 5 asks for
//! `@5`, `@clerk/react` 6 for `@6`, and the scripts load their chunks under their exact version (`@6.40.0`).
//! Answered on every host, with `Access-Control-Allow-Origin: *` (the SDKs inject the scripts
//! with `crossorigin="anonymous"`).

use std::path::Path;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use tessera_api::AppState;
use tessera_api::dists::Dists;
use tessera_api::error::ApiError;
use tessera_api::extract::Path as UrlPath;
use tessera_core::{Error, ErrorCode};
use tower::ServiceExt as _;
use tower_http::services::ServeDir;

/// Chunk names carry a content hash and the exact version (`10_clerk.browser_a68c22_6.40.0.js`): cacheable for
/// good. Entry points (`clerk.browser.js`) change under the same URL when the directory is upgraded.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const ENTRY: &str = "public, max-age=300";

/// `GET /npm/@clerk/{package}@{version}/dist/{file…}`.
pub async fn get_clerk_asset(
    State(app): State<AppState>,
    UrlPath((package, file)): UrlPath<(String, String)>,
    request: Request,
) -> Response {
    let (name, version) = package.split_once('@').unwrap_or((package.as_str(), ""));
    let dists = match name {
        "clerk-js" => &app.clerk_js,
        "ui" => &app.clerk_ui,
        _ => return not_found(),
    };
    let Some(file) = safe_relative_path(&file) else { return not_found() };
    let Some(dir) = dists.resolve(version) else { return version_not_installed(name, version, dists) };
    serve_file(dir, file, request).await
}

/// `file` if it is a plain relative path inside the directory: segments of ASCII letters, digits and `._-+~@`,
/// none empty or starting with a dot (so no `..`, no hidden files, no absolute path, no NUL, no backslash).
fn safe_relative_path(file: &str) -> Option<&str> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'~' | b'@');
    let ok = !file.is_empty()
        && file
            .split('/')
            .all(|segment| !segment.is_empty() && !segment.starts_with('.') && segment.bytes().all(plain));
    ok.then_some(file)
}

async fn serve_file(dir: &Path, file: &str, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    // The file path was checked above: it needs no percent-encoding.
    let Ok(uri) = format!("/{file}").parse::<axum::http::Uri>() else { return not_found() };
    let mut inner = Request::new(Body::empty());
    *inner.method_mut() = parts.method;
    *inner.uri_mut() = uri;
    for name in [header::RANGE, header::IF_MODIFIED_SINCE, header::IF_UNMODIFIED_SINCE, header::IF_RANGE] {
        if let Some(value) = parts.headers.get(&name) {
            inner.headers_mut().insert(name, value.clone());
        }
    }
    let service = ServeDir::new(dir).append_index_html_on_directories(false).redirect_to_trailing_slash(false);
    let response = match service.oneshot(inner).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        return not_found();
    }
    let mut response = response;
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let cache = if is_versioned_chunk(file) { IMMUTABLE } else { ENTRY };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    if let Some(ct) = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
        && ct.starts_with("text/javascript")
        && !ct.contains("charset")
    {
        let value = HeaderValue::from_static("text/javascript; charset=utf-8");
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// Whether the file name ends in `_<6 hex>_<version>.js` (a webpack chunk of one exact build).
fn is_versioned_chunk(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    let Some(stem) = name.strip_suffix(".js") else { return false };
    let mut parts = stem.rsplitn(3, '_');
    let (Some(version), Some(hash), Some(_)) = (parts.next(), parts.next(), parts.next()) else { return false };
    hash.len() == 6
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && version.split('.').count() >= 3
        && version.split('.').take(3).all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// 404 naming the versions that are installed: serving another major instead would break the page in a confusing
/// way (clerk-js 6 has no UI of its own, `@clerk/clerk-react` 5 cannot drive it).
fn version_not_installed(name: &str, version: &str, dists: &Dists) -> Response {
    let installed: Vec<String> =
        dists.all().iter().filter_map(|d| d.version.as_ref().map(ToString::to_string)).collect();
    let long = if installed.is_empty() {
        format!("@clerk/{name} is not installed on this server (tessera serve --clerk-js-dir / --clerk-ui-dir).")
    } else {
        format!("@clerk/{name}@{version} is not installed on this server; it has {}.", installed.join(", "))
    };
    ApiError(Error::with(ErrorCode::ResourceNotFound, "not found", long, None)).into_response()
}

fn not_found() -> Response {
    ApiError(Error::with(ErrorCode::ResourceNotFound, "not found", "No file has this path.", None)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_served() {
        for ok in ["clerk.browser.js", "common/x.js", "10_clerk.browser_a68c22_6.40.0.js", "a@b+c~d-e.js"] {
            assert_eq!(safe_relative_path(ok), Some(ok));
        }
        for bad in
            ["", "..", "../x", "a/../b", "/etc/passwd", "a//b", ".env", "a/.hidden", "a\\b", "a\0b", "c:x", "a b"]
        {
            assert_eq!(safe_relative_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn chunks_of_one_build_are_immutable() {
        assert!(is_versioned_chunk("10_clerk.browser_a68c22_6.40.0.js"));
        assert!(is_versioned_chunk("apiKeys_ui_1124a2_1.36.0.js"));
        assert!(!is_versioned_chunk("clerk.browser.js"));
        assert!(!is_versioned_chunk("ui.browser.js"));
        assert!(!is_versioned_chunk("10_clerk.browser_a68c22_6.40.0.js.map"));
    }
}
