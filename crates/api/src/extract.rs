//! Request extractors that turn every client mistake into a Clerk error: the secret-key guard, JSON bodies
//! (empty body = `{}`, field-level errors with `meta.param_name`) and query strings (repeated keys, lenient
//! numbers).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use tessera_core::instances::Instance;
use tessera_core::{Error, ErrorCode};

use crate::AppState;
use crate::error::ApiError;

/// The path parameters a [`crate::route_table::RouteTable`] matched, percent-decoded, in the path's order.
#[derive(Debug, Clone)]
pub struct PathParams(Vec<(Box<str>, String)>);

impl PathParams {
    /// The parameters of a match, if it has any (`None`: the request gets no extension). A value that does not
    /// decode to UTF-8 stays as written: the edge answers such paths 404 before any route sees them.
    pub(crate) fn of<'k, 'v>(params: impl Iterator<Item = (&'k str, &'v str)>) -> Option<Self> {
        let params: Vec<_> = params
            .map(|(name, value)| {
                let decoded = percent_encoding::percent_decode_str(value).decode_utf8();
                (Box::from(name), decoded.map_or_else(|_| value.to_owned(), |v| v.into_owned()))
            })
            .collect();
        (!params.is_empty()).then_some(Self(params))
    }
}

/// The parameters of the request's path (`{user_id}`…), as a `String` (one parameter), a tuple of two (in the
/// path's order) or a map by name. A route that has other parameters than the handler asks for is a mistake of the
/// route table: answered 500.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T> std::ops::Deref for Path<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// What [`Path`] can hold.
pub trait FromPathParams: Sized {
    /// The value, if the parameters have its shape.
    fn from_params(params: &[(Box<str>, String)]) -> Option<Self>;
}

impl FromPathParams for String {
    fn from_params(params: &[(Box<str>, String)]) -> Option<Self> {
        match params {
            [(_, value)] => Some(value.clone()),
            _ => None,
        }
    }
}

impl FromPathParams for (String, String) {
    fn from_params(params: &[(Box<str>, String)]) -> Option<Self> {
        match params {
            [(_, a), (_, b)] => Some((a.clone(), b.clone())),
            _ => None,
        }
    }
}

impl FromPathParams for std::collections::HashMap<String, String> {
    fn from_params(params: &[(Box<str>, String)]) -> Option<Self> {
        Some(params.iter().map(|(name, value)| (name.to_string(), value.clone())).collect())
    }
}

impl<T: FromPathParams, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let params = parts.extensions.get::<PathParams>().map_or(&[][..], |p| &p.0[..]);
        T::from_params(params).map(Path).ok_or_else(|| {
            ApiError(Error::internal(std::io::Error::other(format!(
                "the route's path parameters ({}) do not fit the handler's",
                params.iter().map(|(name, _)| &**name).collect::<Vec<_>>().join(", ")
            ))))
        })
    }
}

/// Largest JSON body accepted.
const MAX_JSON_BODY: usize = 1024 * 1024;

/// The instance selected by `Authorization: Bearer <secret key>`.
#[derive(Debug, Clone)]
pub struct SecretKey(pub Instance);

/// The bearer token of a request, if any: `Bearer` (any case), one space, the token (surrounding blanks ignored;
/// visible ASCII only, as a header value's `to_str` allows). Read as bytes: every Backend API request comes here,
/// and the string searches and trims it replaces were a tenth of the request's own work above HTTP (callgrind).
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(axum::http::header::AUTHORIZATION)?.as_bytes().trim_ascii();
    let (scheme, rest) = value.split_at_checked(b"bearer ".len())?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = rest.trim_ascii();
    let visible = token.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b));
    if token.is_empty() || !visible {
        return None;
    }
    std::str::from_utf8(token).ok()
}

impl FromRequestParts<AppState> for SecretKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(ErrorCode::ClerkKeyInvalid)?;
        Ok(Self(tessera_core::instances::authenticate(&state.ctx, token).await?))
    }
}

/// The caller of the machine-auth endpoints (`/m2m_tokens…`): `Authorization: Bearer` with the instance secret key
/// or a machine secret key (`ak_…`). 401 `clerk_key_invalid` / `machine_secret_key_invalid` otherwise.
#[derive(Debug, Clone)]
pub struct MachineOrSecretKey(pub tessera_core::machines::Caller);

impl FromRequestParts<AppState> for MachineOrSecretKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(ErrorCode::ClerkKeyInvalid)?;
        Ok(Self(tessera_core::machines::authenticate_caller(&state.ctx, token).await?))
    }
}

/// A JSON request body of type `T`. An empty body counts as `{}`.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), MAX_JSON_BODY)
            .await
            .map_err(|_| Error::new(ErrorCode::RequestBodyTooLarge))?;
        parse_json_body(&bytes).map(Body)
    }
}

/// Parses a JSON body, mapping serde's complaints to Clerk errors naming the parameter.
pub fn parse_json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = if bytes.iter().all(u8::is_ascii_whitespace) { &b"{}"[..] } else { bytes };
    reject_nul(text)?;
    let de = &mut serde_json::Deserializer::from_slice(text);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ApiError(match inner.classify() {
            serde_json::error::Category::Data => data_error(&path, &inner.to_string()),
            _ => Error::with(
                ErrorCode::RequestBodyInvalid,
                "invalid request body",
                format!("The request body is not valid JSON: {inner}"),
                None,
            ),
        })
    })?;
    // Trailing characters after the document (`{} x`, `{}{}`) make the body invalid, as in any JSON parser.
    de.end().map_err(|e| {
        ApiError(Error::with(
            ErrorCode::RequestBodyInvalid,
            "invalid request body",
            format!("The request body is not valid JSON: {e}"),
            None,
        ))
    })?;
    Ok(value)
}

/// Refuses a NUL character (`\u0000`) anywhere in a JSON body, naming the field: no Clerk field has a use for it,
/// and PostgreSQL cannot store it in text (it would fail the write with a 500). The cheap byte scan comes first;
/// the document is walked only when it might contain one.
fn reject_nul(text: &[u8]) -> Result<(), ApiError> {
    if !text.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    // Unparsable documents are reported by the typed parse.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(text) else { return Ok(()) };
    match nul_at(&value, String::new()) {
        Some(path) => {
            let param = if path.is_empty() { "body".to_owned() } else { path };
            Err(ApiError(Error::param_format_invalid(&param, format!("{param} must not contain NUL characters."))))
        }
        None => Ok(()),
    }
}

/// The dotted path of the first string or key containing NUL (`""` for the root).
fn nul_at(value: &serde_json::Value, path: String) -> Option<String> {
    let join = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
    match value {
        serde_json::Value::String(s) => s.contains('\0').then_some(path),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| nul_at(item, format!("{path}[{i}]")))
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') { Some(join(&key.replace('\0', ""))) } else { nul_at(item, join(key)) }
        }),
        _ => None,
    }
}

/// Maps a serde data error to the Clerk error for the field it concerns.
pub fn data_error(path: &str, message: &str) -> Error {
    // serde_path_to_error reports "missing field `x`" at the parent's path, "unknown field `x`" at the field's.
    let quoted = message.split('`').nth(1).unwrap_or_default();
    let join = |field: &str| if path == "." || path.is_empty() { field.to_owned() } else { format!("{path}.{field}") };
    if message.starts_with("missing field") {
        Error::param_missing(&join(quoted))
    } else if message.starts_with("unknown field") {
        Error::param_unknown(if path == "." || path.is_empty() { quoted } else { path })
    } else {
        let param = if path == "." { "body" } else { path };
        let why = message.split(" at line ").next().unwrap_or(message);
        Error::param_format_invalid(param, format!("{param}: {why}"))
    }
}

/// A JSON body for operations whose spec declares only 400 for client errors (the machine-auth family: API keys,
/// M2M tokens): errors are 400 `bad_request` with the same messages and `meta.param_name` as [`Body`].
#[derive(Debug)]
pub struct BadRequestBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for BadRequestBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Body::<T>::from_request(req, state).await {
            Ok(Body(value)) => Ok(Self(value)),
            Err(ApiError(e)) => Err(ApiError(as_bad_request(e))),
        }
    }
}

/// Turns 422 parameter errors into 400 `bad_request` items, keeping their messages and parameter names.
pub fn as_bad_request(e: Error) -> Error {
    if e.status() != 422 {
        return e;
    }
    let converted = e
        .items()
        .iter()
        .map(|item| {
            let param = item.meta.as_ref().and_then(|m| m.param_name.as_deref());
            Error::with(ErrorCode::BadRequest, item.message.clone(), item.long_message.clone(), param)
        })
        .reduce(Error::and);
    converted.unwrap_or(e)
}

/// Query-string parameters of type `T`. Repeated keys fill `Vec` fields.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        // NUL can reach no column (PostgreSQL refuses it in text): name the parameter instead of failing the query.
        if query.contains("%00") {
            let pairs: Vec<(String, String)> = serde_html_form::from_str(query).unwrap_or_default();
            if let Some((key, _)) = pairs.iter().find(|(k, v)| k.contains('\0') || v.contains('\0')) {
                let key = key.replace('\0', "");
                return Err(ApiError(Error::query_param_invalid(
                    &key,
                    format!("Invalid query parameter {key}: must not contain NUL characters."),
                )));
            }
        }
        let de = serde_html_form::Deserializer::from_bytes(query.as_bytes());
        serde_path_to_error::deserialize(de).map(Params).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            let quoted = message.split('`').nth(1).unwrap_or("query");
            ApiError(if message.starts_with("missing field") {
                Error::query_param_missing(quoted)
            } else {
                let field = if path == "." || path.is_empty() { quoted } else { path.as_str() };
                Error::query_param_invalid(field, format!("Invalid query parameter {field}: {message}"))
            })
        })
    }
}

/// Deserializes an optional non-negative integer from a query value, leniently: `10`, `10.0` and `1e1` are 10.
pub fn lenient_u64<'de, D: Deserializer<'de>>(de: D) -> Result<Option<u64>, D::Error> {
    let raw: Option<String> = Option::deserialize(de)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => {
            if let Ok(n) = s.parse::<u64>() {
                return Ok(Some(n));
            }
            match s.parse::<f64>() {
                Ok(f) if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= 9.0e15 => Ok(Some(f as u64)),
                _ => Err(serde::de::Error::custom(format!("`{s}` is not a non-negative integer"))),
            }
        }
    }
}

/// Deserializes an optional boolean query value: `true`/`false` (any case), `1`/`0`.
pub fn lenient_bool<'de, D: Deserializer<'de>>(de: D) -> Result<Option<bool>, D::Error> {
    let raw: Option<String> = Option::deserialize(de)?;
    match raw.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) if s == "true" || s == "1" => Ok(Some(true)),
        Some(s) if s == "false" || s == "0" => Ok(Some(false)),
        Some(s) => Err(serde::de::Error::custom(format!("`{s}` is not a boolean"))),
    }
}

/// For PATCH bodies: distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
/// Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(de: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields are only deserialized")]
    struct Sample {
        name: String,
        count: Option<u32>,
    }

    fn code(r: Result<Sample, ApiError>) -> (String, Option<String>) {
        let e = r.unwrap_err().0;
        let item = &e.items()[0];
        (item.code.as_str().to_owned(), item.meta.as_ref().and_then(|m| m.param_name.clone()))
    }

    #[test]
    fn bearer_token_takes_the_bearer_scheme_only() {
        let token = |value: &[u8]| {
            let (parts, ()) = axum::http::Request::builder()
                .header(axum::http::header::AUTHORIZATION, axum::http::HeaderValue::from_bytes(value).unwrap())
                .body(())
                .unwrap()
                .into_parts();
            bearer_token(&parts).map(str::to_owned)
        };
        for (value, expected) in [
            (&b"Bearer sk_test_x"[..], Some("sk_test_x")),
            (b"bearer sk_test_x", Some("sk_test_x")),
            (b"  BEARER   sk_test_x  ", Some("sk_test_x")),
            (b"Bearer a b", Some("a b")),
            (b"Bearer", None),
            (b"Bearer ", None),
            (b"Bearer\tsk_test_x", None),
            (b"Basic sk_test_x", None),
            (b"Bearersk_test_x", None),
            (b"Bearer sk_\xc3\xa9", None),
            (b"", None),
        ] {
            assert_eq!(token(value).as_deref(), expected, "{}", String::from_utf8_lossy(value));
        }
        let (parts, ()) = axum::http::Request::builder().body(()).unwrap().into_parts();
        assert_eq!(bearer_token(&parts), None);
    }

    #[test]
    fn body_errors_name_the_field() {
        assert_eq!(code(parse_json_body(b"")), ("form_param_missing".into(), Some("name".into())));
        assert_eq!(code(parse_json_body(br#"{"name":1}"#)), ("form_param_format_invalid".into(), Some("name".into())));
        assert_eq!(code(parse_json_body(br#"{"name":"a","x":1}"#)), ("form_param_unknown".into(), Some("x".into())));
        assert_eq!(code(parse_json_body(br#"{"name":"#)).0, "request_body_invalid");
        assert!(parse_json_body::<Sample>(br#"{"name":"a","count":null}"#).is_ok());
    }

    #[derive(Debug, Deserialize)]
    struct Paging {
        #[serde(default, deserialize_with = "lenient_u64")]
        limit: Option<u64>,
        #[serde(default, deserialize_with = "lenient_bool")]
        flag: Option<bool>,
    }

    #[tokio::test]
    async fn query_errors_name_the_parameter_not_the_value() {
        let (mut parts, ()) = axum::http::Request::get("/x?limit=1.5").body(()).unwrap().into_parts();
        let err = Params::<Paging>::from_request_parts(&mut parts, &()).await.unwrap_err().0;
        assert_eq!(err.items()[0].meta.as_ref().unwrap().param_name.as_deref(), Some("limit"));
    }

    #[test]
    fn query_numbers_are_lenient() {
        let p: Paging = serde_html_form::from_str("limit=10.0&flag=true").unwrap();
        assert_eq!((p.limit, p.flag), (Some(10), Some(true)));
        assert!(serde_html_form::from_str::<Paging>("limit=1.5").is_err());
        assert!(serde_html_form::from_str::<Paging>("limit=-1").is_err());
    }
}
