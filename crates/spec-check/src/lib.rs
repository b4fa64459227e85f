//! Validates HTTP responses against Clerk's official Backend API OpenAPI specs.
//!
//! The specs of both live Backend API versions (`spec/clerk-bapi-2025-11-10.yml` and `…-2026-05-12.yml`,
//! OpenAPI 3.0.3) are embedded at compile time and parsed once each ([`backend_spec`]; [`spec`] is
//! 2025-11-10's). Integration tests send every response through
//! [`Spec::validate_response`]: a status the operation does not declare, or a body that does not
//! match the schema declared for that status, is reported as an error.
//!
//! # How schemas are checked
//!
//! Every response schema of the spec is converted from the OpenAPI 3.0 dialect to JSON Schema
//! 2020-12: `nullable: true` becomes "or null", OpenAPI-only keywords
//! (`discriminator`, `example`, `deprecated`, `readOnly`, `x-*`, ...) are dropped, boolean
//! `exclusiveMinimum`/`exclusiveMaximum` become their numeric form, `$ref`s keep pointing at
//! `#/components/schemas/...`. All converted schemas live in one JSON document registered once in
//! a [`jsonschema::Registry`]; a validator per declared response body is compiled on first use and
//! cached. `format` is treated as an annotation only (not validated), so OpenAPI formats such as
//! `int64` never cause failures.
//!
//! Deliberate deviations of the server from the spec are listed in [`DEVIATIONS`] (statuses),
//! [`CONTENT_DEVIATIONS`] (bodies where none is declared) and [`FIELD_DEVIATIONS`] (fields a closed schema forbids).

#![warn(missing_docs)]

mod convert;
mod deviations;
mod webhooks;

pub use deviations::{
    CONTENT_DEVIATIONS, ContentDeviation, DEVIATIONS, Deviation, DeviationBody, FIELD_DEVIATIONS, FieldDeviation,
    FieldShape,
};
use deviations::{content_deviation, deviation, strip_field_deviations};
pub use webhooks::{validate_webhook_event, webhook_event_types};

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use jsonschema::error::TypeKind;
use jsonschema::{Draft, JsonType, Registry, ValidationError, Validator};
use serde_json::{Map, Value, json};

/// The vendored Backend API documents, embedded so that tests in any crate can use them.
const SPEC_YAML: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/clerk-bapi-2025-11-10.yml"));
const BAPI_2026_05_12_YAML: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/clerk-bapi-2026-05-12.yml"));

/// The Backend API versions whose specs are vendored, oldest first.
pub const BACKEND_VERSIONS: &[&str] = &["2025-11-10", "2026-05-12"];

/// Operations whose spec declares no body for a success, where the server must send a JSON body because the SDKs
/// read one. The body is checked to be JSON only.
pub const BODIES_WHERE_NONE_DECLARED: &[(&str, &str)] = &[(
    "createDevBrowser",
    "clerk-js reads the new dev browser's token from the JSON body's `id` (packages/clerk-js/src/core/auth/devBrowser.ts)",
)];

/// The vendored Frontend API specs, by version.
const FAPI_2025_11_10_YAML: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/clerk-fapi-2025-11-10.yml"));
const FAPI_2026_05_12_YAML: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/clerk-fapi-2026-05-12.yml"));

/// The Frontend API versions whose specs are vendored.
pub const FRONTEND_VERSIONS: &[&str] = &["2025-11-10", "2026-05-12"];

/// The parsed Frontend API spec of a version (`2025-11-10` or `2026-05-12`), loaded once. Its paths keep their
/// `/v1` prefix (the FAPI spec writes it).
///
/// # Panics
///
/// Panics for another version, or if the embedded spec cannot be parsed.
pub fn frontend_spec(version: &str) -> &'static Spec {
    static V2025: OnceLock<Spec> = OnceLock::new();
    static V2026: OnceLock<Spec> = OnceLock::new();
    let (cell, yaml) = match version {
        "2025-11-10" => (&V2025, FAPI_2025_11_10_YAML),
        "2026-05-12" => (&V2026, FAPI_2026_05_12_YAML),
        other => panic!("no vendored Frontend API spec for version {other}"),
    };
    cell.get_or_init(|| Spec::parse(yaml).unwrap_or_else(|e| panic!("Clerk FAPI spec {version}: {e}")))
}

/// URI under which the converted schema document is registered. Never fetched.
const BASE_URI: &str = "https://tessera.invalid/clerk-bapi-2025-11-10.json";

/// At most this many bytes of a response body are quoted in an error message.
const BODY_EXCERPT: usize = 2000;
/// At most this many schema violations are listed in an error message.
const MAX_VIOLATIONS: usize = 25;

/// Returns the parsed spec. It is loaded once (on first call, via a `OnceLock`) and shared by all
/// callers.
///
/// # Panics
///
/// Panics if the embedded spec cannot be parsed or converted; a test of this crate guards that.
pub fn spec() -> &'static Spec {
    backend_spec("2025-11-10")
}

/// The parsed Backend API spec of a version (`2025-11-10` or `2026-05-12`), loaded once.
///
/// # Panics
///
/// Panics for another version, or if the embedded spec cannot be parsed.
pub fn backend_spec(version: &str) -> &'static Spec {
    static V2025: OnceLock<Spec> = OnceLock::new();
    static V2026: OnceLock<Spec> = OnceLock::new();
    let (cell, yaml) = match version {
        "2025-11-10" => (&V2025, SPEC_YAML),
        "2026-05-12" => (&V2026, BAPI_2026_05_12_YAML),
        other => panic!("no vendored Backend API spec for version {other}"),
    };
    cell.get_or_init(|| Spec::parse(yaml).unwrap_or_else(|e| panic!("Clerk BAPI spec {version}: {e}")))
}

/// Error statuses any operation may answer although the spec does not declare them for every operation, because
/// they come from the layer in front of all handlers: 401 (missing or wrong secret key), 405 (method not
/// allowed), 413 (body too large), 429 (rate limited), 503 (overloaded; retry). Their bodies must still be a
/// valid `ClerkErrors` envelope.
pub const UNIVERSAL_ERROR_STATUSES: &[u16] = &[401, 405, 413, 429, 503];

/// The parsed spec: operations, their declared responses, and lazily compiled validators.
pub struct Spec {
    operations: Vec<Operation>,
    bodies: Vec<BodySchema>,
    registry: Registry<'static>,
    /// The body index of the `ClerkErrors` envelope (taken from a declared 401), for [`UNIVERSAL_ERROR_STATUSES`].
    clerk_errors_body: Option<usize>,
    /// The spec's paths carry `/v1` themselves (the Frontend API's); otherwise a request's `/v1` is stripped.
    versioned_paths: bool,
    /// Paths the spec lists with no operation.
    operationless_paths: Vec<String>,
}

/// An operation found by [`Spec::find_operation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationRef<'a> {
    /// HTTP method in upper case, e.g. `GET`.
    pub method: &'a str,
    /// Path template as written in the spec, without `/v1`, e.g. `/users/{user_id}`.
    pub path_template: &'a str,
    /// The spec's `operationId`, e.g. `GetUser`.
    pub operation_id: &'a str,
}

struct Operation {
    method: String,
    path_template: String,
    operation_id: String,
    segments: Vec<Segment>,
    /// Ranking among templates matching the same concrete path: static segments win over
    /// parameters, left to right (lower is better).
    rank: Vec<u8>,
    responses: Vec<DeclaredResponse>,
}

enum Segment {
    Static(String),
    Param,
}

struct DeclaredResponse {
    /// The key in the spec's `responses` map: `200`, `4XX`, `default`, ...
    status: String,
    body: DeclaredBody,
}

enum DeclaredBody {
    /// No `content`: the body must be empty.
    Empty,
    /// `application/json`; the index into `Spec::bodies`, if a schema is given.
    Json(Option<usize>),
    /// Only other media types (none in the current spec; see also [`CONTENT_DEVIATIONS`]): the Content-Type must be
    /// one of them.
    Other(Vec<String>),
}

struct BodySchema {
    /// Where the converted schema lives in the registered document, e.g.
    /// `/responses/GetUser_200` (named after the first response using it).
    pointer: String,
    validator: OnceLock<Result<Validator, String>>,
}

impl Spec {
    fn parse(yaml: &str) -> Result<Spec, String> {
        let doc: Value = serde_norway::from_str(yaml).map_err(|e| format!("YAML: {e}"))?;
        let components = doc.get("components");
        let schemas =
            components.and_then(|c| c.get("schemas")).and_then(Value::as_object).ok_or("no components.schemas")?;
        let component_responses = components.and_then(|c| c.get("responses")).and_then(Value::as_object);

        let mut converted_schemas = Map::new();
        for (name, schema) in schemas {
            let converted = convert::schema(schema).map_err(|e| format!("components.schemas.{name}: {e}"))?;
            converted_schemas.insert(name.clone(), converted);
        }

        let mut operations = Vec::new();
        let mut bodies: Vec<BodySchema> = Vec::new();
        let mut body_schemas = Map::new();
        let mut dedup: HashMap<String, usize> = HashMap::new();

        let paths = doc.get("paths").and_then(Value::as_object).ok_or("no paths")?;
        for (template, item) in paths {
            let item = item.as_object().ok_or_else(|| format!("path {template}: not a map"))?;
            for (method, op) in item {
                if !matches!(
                    method.as_str(),
                    "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
                ) {
                    continue; // `parameters`, `summary`, `servers`, ...
                }
                let operation_id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{method} {template}: no operationId"))?
                    .to_owned();
                let declared = op
                    .get("responses")
                    .and_then(Value::as_object)
                    .ok_or_else(|| format!("{operation_id}: no responses"))?;
                let mut responses = Vec::new();
                for (status, response) in declared {
                    let context = format!("{operation_id} response {status}");
                    let response = resolve_response(response, component_responses, &context)?;
                    let body = match response.get("content").and_then(Value::as_object) {
                        None => DeclaredBody::Empty,
                        Some(content) if content.is_empty() => DeclaredBody::Empty,
                        Some(content) => match content.get("application/json") {
                            Some(media) => match media.get("schema") {
                                None => DeclaredBody::Json(None),
                                Some(schema) => {
                                    let converted = convert::schema(schema).map_err(|e| format!("{context}: {e}"))?;
                                    let key = converted.to_string();
                                    let index = *dedup.entry(key).or_insert_with(|| {
                                        // Named after the first response using it, so that
                                        // schema locations in messages are meaningful.
                                        let name = format!("{operation_id}_{status}")
                                            .replace(|c: char| !c.is_ascii_alphanumeric(), "_");
                                        let name = if body_schemas.contains_key(&name) {
                                            format!("{name}_{}", bodies.len())
                                        } else {
                                            name
                                        };
                                        bodies.push(BodySchema {
                                            pointer: format!("/responses/{name}"),
                                            validator: OnceLock::new(),
                                        });
                                        body_schemas.insert(name, converted);
                                        bodies.len() - 1
                                    });
                                    DeclaredBody::Json(Some(index))
                                }
                            },
                            None => DeclaredBody::Other(content.keys().cloned().collect()),
                        },
                    };
                    responses.push(DeclaredResponse { status: status.clone(), body });
                }
                let segments: Vec<Segment> = split_path(template)
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Param
                        } else {
                            Segment::Static(s.to_owned())
                        }
                    })
                    .collect();
                let rank = segments.iter().map(|s| matches!(s, Segment::Param) as u8).collect();
                operations.push(Operation {
                    method: method.to_ascii_uppercase(),
                    path_template: template.clone(),
                    operation_id,
                    segments,
                    rank,
                    responses,
                });
            }
        }

        let root = json!({
            "components": { "schemas": converted_schemas },
            "responses": body_schemas,
        });
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(BASE_URI, root)
            .and_then(|b| b.prepare())
            .map_err(|e| format!("schema registry: {e}"))?;
        let clerk_errors_body = operations.iter().flat_map(|op| &op.responses).find_map(|r| match r.body {
            DeclaredBody::Json(Some(index)) if r.status == "401" => Some(index),
            _ => None,
        });
        let versioned_paths = paths.keys().any(|p| p.starts_with("/v1/"));
        let operationless_paths = paths
            .iter()
            .filter(|(_, item)| item.as_object().is_some_and(serde_json::Map::is_empty))
            .map(|(p, _)| p.clone())
            .collect();
        Ok(Spec { operations, bodies, registry, clerk_errors_body, versioned_paths, operationless_paths })
    }

    /// Finds the operation for a method and a concrete request path.
    ///
    /// The method is matched case-insensitively. The path may start with `/v1` or not (e.g.
    /// `/v1/instance`, `/api_keys/verify`, `/v1/machines/mch_123/scopes/mch_456`); a query string
    /// or fragment is ignored, and so is a leading `scheme://host`. Static segments win over
    /// `{param}` segments, left to right (e.g. `/users/count` matches the `/users/count`
    /// operation, not `/users/{user_id}`). A parameter never matches an empty segment.
    pub fn find_operation(&self, method: &str, path: &str) -> Option<OperationRef<'_>> {
        self.find(method, path).map(Operation::as_ref)
    }

    /// Validates one response.
    ///
    /// Returns `Err` with a readable explanation (operationId, status, the JSON pointer of each
    /// schema violation, and the offending body, truncated) when:
    /// - no operation matches `method` and `path`;
    /// - `status` is not among the operation's declared responses, after applying
    ///   [`DEVIATIONS`] (an exact status is looked up first, then a range key such as `4XX`, then
    ///   `default`);
    /// - the declared response has an `application/json` body but `content_type` is not exactly
    ///   `application/json` (parameters such as `; charset=utf-8` are rejected), or the body is
    ///   not JSON, or it fails schema validation;
    /// - the declared response has no content (e.g. 204) but the body is not empty.
    pub fn validate_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), String> {
        let Some(op) = self.find(method, path) else {
            return Err(format!(
                "{} {path}: no operation in the Clerk OpenAPI spec matches this request \
                 (response status {status})",
                method.to_ascii_uppercase()
            ));
        };
        let head =
            format!("{} ({} {}, request path {path}), status {status}", op.operation_id, op.method, op.path_template);
        let fail = |msg: String| Err(format!("{head}: {msg}\nbody: {}", excerpt(body)));

        // Which declared status governs this response.
        let mut spec_status = status;
        let mut note = String::new();
        if let Some(d) = deviation(&op.operation_id, status) {
            spec_status = d.spec_status;
            note = format!(" (deviation: validated against spec status {spec_status}; {})", d.reason);
        } else if let Some(d) = DEVIATIONS.iter().find(|d| d.operation_id == op.operation_id && d.spec_status == status)
        {
            return fail(format!(
                "the spec declares {status}, but per DEVIATIONS the server must answer {} \
                 instead ({})",
                d.actual_status, d.reason
            ));
        }
        let universal;
        let declared = match op.response_for(spec_status) {
            Some(d) => Some(d),
            // A universal error, or a deviation to an error status this operation does not declare at all: the
            // body must be the ClerkErrors envelope.
            None if (UNIVERSAL_ERROR_STATUSES.contains(&status)
                || (status >= 400 && spec_status == status && !note.is_empty()))
                && self.clerk_errors_body.is_some() =>
            {
                universal =
                    DeclaredResponse { status: status.to_string(), body: DeclaredBody::Json(self.clerk_errors_body) };
                Some(&universal)
            }
            None => None,
        };
        let Some(declared) = declared else {
            let list: Vec<&str> = op.responses.iter().map(|r| r.status.as_str()).collect();
            return fail(format!(
                "status {spec_status} is not declared for this operation (declared: {}){note}",
                list.join(", ")
            ));
        };
        let substituted;
        let declared_body = match (&declared.body, content_deviation(&op.operation_id, spec_status)) {
            (DeclaredBody::Empty, Some(d)) => {
                let _ = write!(note, " (content deviation: {})", d.reason);
                substituted = match d.body {
                    DeviationBody::ClerkErrors => DeclaredBody::Json(self.clerk_errors_body),
                    DeviationBody::Media(media) => DeclaredBody::Other(vec![media.to_owned()]),
                };
                &substituted
            }
            (b, _) => b,
        };
        let head = format!("{head}{note}");
        let fail = |msg: String| Err(format!("{head}: {msg}\nbody: {}", excerpt(body)));

        match declared_body {
            DeclaredBody::Empty => {
                if let Some((_, why)) = BODIES_WHERE_NONE_DECLARED.iter().find(|(id, _)| *id == op.operation_id) {
                    if content_type != Some("application/json") || serde_json::from_slice::<Value>(body).is_err() {
                        return fail(format!("the body must be JSON ({why})"));
                    }
                    return Ok(());
                }
                if !body.is_empty() {
                    return fail(format!(
                        "the spec declares no content for response {}, but the body has {} bytes",
                        declared.status,
                        body.len()
                    ));
                }
                Ok(())
            }
            DeclaredBody::Other(types) => {
                let ct = content_type.unwrap_or("");
                if !types.iter().any(|t| t == ct) {
                    return fail(format!("Content-Type {ct:?} is not one of the declared media types {types:?}"));
                }
                Ok(())
            }
            DeclaredBody::Json(schema) => {
                if content_type != Some("application/json") {
                    return fail(format!(
                        "Content-Type must be exactly \"application/json\", got {}",
                        match content_type {
                            Some(ct) => format!("{ct:?}"),
                            None => "no Content-Type".to_owned(),
                        }
                    ));
                }
                let instance: Value = match serde_json::from_slice(body) {
                    Ok(v) => v,
                    Err(e) => return fail(format!("body is not valid JSON: {e}")),
                };
                let Some(index) = *schema else { return Ok(()) };
                let envelope = if self.versioned_paths { None } else { paginated_envelope(path, status, &instance) };
                let (mut instance, paginated_note) = match envelope {
                    Some(Ok(data)) => (data, " (the `data` of a paginated=true answer)"),
                    Some(Err(why)) => return fail(why),
                    None => (instance, ""),
                };
                if let Err(why) = strip_field_deviations(&op.operation_id, spec_status, &mut instance) {
                    return fail(why);
                }
                let validator = match self.validator(index) {
                    Ok(v) => v,
                    Err(e) => return fail(format!("cannot compile the response schema: {e}")),
                };
                let mut violations = String::new();
                let mut lines = 0;
                let mut count = 0;
                for error in validator.iter_errors(&instance) {
                    count += 1;
                    describe(&error, 1, &mut violations, &mut lines);
                }
                if count == 0 {
                    return Ok(());
                }
                if lines > MAX_VIOLATIONS {
                    let _ = write!(violations, "\n  - ... ({} lines left out)", lines - MAX_VIOLATIONS);
                }
                if paginated_note.is_empty() && validator.is_valid(&json!([])) && !instance.is_array() {
                    // An array response answered as an object: name the rule the server probably missed.
                    return fail(format!(
                        "body does not match the schema of response {}:{violations}\n  (lists answer \
                         {{data, total_count}} only when the request says paginated=true)",
                        declared.status
                    ));
                }
                fail(format!(
                    "body does not match the schema of response {}{paginated_note}:{violations}",
                    declared.status
                ))
            }
        }
    }

    /// Every operation of the spec as `(METHOD, path template, operationId)`, in spec order.
    pub fn operations(&self) -> Vec<(&str, &str, &str)> {
        self.operations.iter().map(|o| (o.method.as_str(), o.path_template.as_str(), o.operation_id.as_str())).collect()
    }

    fn find(&self, method: &str, path: &str) -> Option<&Operation> {
        let path = if self.versioned_paths { strip_origin_and_query(path) } else { normalize_path(path) };
        // A path the spec lists without operations (`/clients/handshake_payload: {}`) is not a parameter value of
        // a neighbouring template.
        if self.operationless_paths.iter().any(|p| p == path) {
            return None;
        }
        let segments: Vec<&str> = split_path(path).collect();
        self.operations
            .iter()
            .filter(|op| op.method.eq_ignore_ascii_case(method) && op.matches(&segments))
            .min_by(|a, b| a.rank.cmp(&b.rank))
    }

    /// The cached validator of response body schema `index`, compiled on first use.
    fn validator(&self, index: usize) -> Result<&Validator, String> {
        let body = &self.bodies[index];
        body.validator
            .get_or_init(|| {
                let schema = json!({ "$ref": format!("{BASE_URI}#{}", body.pointer) });
                jsonschema::options()
                    .with_draft(Draft::Draft202012)
                    .with_registry(&self.registry)
                    .should_validate_formats(false)
                    .build(&schema)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Compiles every declared JSON response schema; returns `(operationId, status, error)` for
    /// each that fails. Used by the tests to prove the conversion handles the whole spec.
    #[cfg(test)]
    fn compile_all(&self) -> (usize, Vec<(String, String, String)>) {
        let mut compiled = 0;
        let mut failures = Vec::new();
        for op in &self.operations {
            for r in &op.responses {
                if let DeclaredBody::Json(Some(index)) = r.body {
                    compiled += 1;
                    if let Err(e) = self.validator(index) {
                        failures.push((op.operation_id.clone(), r.status.clone(), e));
                    }
                }
            }
        }
        (compiled, failures)
    }
}

impl Operation {
    fn as_ref(&self) -> OperationRef<'_> {
        OperationRef { method: &self.method, path_template: &self.path_template, operation_id: &self.operation_id }
    }

    fn matches(&self, segments: &[&str]) -> bool {
        self.segments.len() == segments.len()
            && self.segments.iter().zip(segments).all(|(t, s)| match t {
                Segment::Static(t) => t == s,
                Segment::Param => !s.is_empty(),
            })
    }

    /// The declared response for a status: exact key, then range key (`4XX`), then `default`.
    fn response_for(&self, status: u16) -> Option<&DeclaredResponse> {
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        let find = |key: &str| self.responses.iter().find(|r| r.status.eq_ignore_ascii_case(key));
        find(&exact).or_else(|| find(&range)).or_else(|| find("default"))
    }
}

/// Renders one violation as `- at <JSON pointer>: <message> (schema: <keyword location>)`.
/// For `anyOf`/`oneOf` failures the errors of each branch follow, indented, so that e.g. a
/// nullable object with a wrong field says which field; the `{type: null}` branch added for
/// `nullable` is left out. At most [`MAX_VIOLATIONS`] lines are written; `lines` counts them all.
fn describe(error: &ValidationError<'_>, depth: usize, out: &mut String, lines: &mut usize) {
    use jsonschema::error::ValidationErrorKind as Kind;
    *lines += 1;
    if *lines <= MAX_VIOLATIONS {
        let pointer = error.instance_path().to_string();
        let pointer = if pointer.is_empty() { "/".to_owned() } else { pointer };
        let _ = write!(
            out,
            "\n{}- at {pointer}: {} (schema: {})",
            "  ".repeat(depth),
            truncate(&error.to_string(), 400),
            error.schema_path()
        );
    }
    let branches = match error.kind() {
        Kind::AnyOf { context } | Kind::OneOfNotValid { context } => context,
        _ => return,
    };
    if depth >= 4 {
        return;
    }
    for branch in branches {
        let only_null = matches!(
            branch.as_slice(),
            [e] if matches!(e.kind(), Kind::Type { kind: TypeKind::Single(JsonType::Null) })
        );
        if only_null {
            continue;
        }
        for e in branch {
            describe(e, depth + 1, out, lines);
        }
    }
}

/// The `paginated` rule of the list endpoints that declare a bare array (spec-digest, "paginated"): with
/// `paginated=true` in the query, a 2xx answer is `{data: [...], total_count: integer}` and `data` must match the
/// declared array schema. Returns `None` when the rule does not apply, else the `data` to validate or why the
/// envelope is wrong.
fn paginated_envelope(path: &str, status: u16, body: &Value) -> Option<Result<Value, String>> {
    let query = path.split_once('?')?.1;
    let paginated = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .any(|(k, v)| k == "paginated" && v.eq_ignore_ascii_case("true"));
    if !paginated || !(200..300).contains(&status) {
        return None;
    }
    let Some(object) = body.as_object() else {
        return Some(Err("with paginated=true the body must be {data, total_count}".to_owned()));
    };
    let keys_ok = object.len() == 2 && object.get("total_count").is_some_and(|t| t.is_i64() && t.as_i64() >= Some(0));
    match object.get("data") {
        Some(data @ Value::Array(_)) if keys_ok => Some(Ok(data.clone())),
        _ => Some(Err(
            "with paginated=true the body must be exactly {data: [...], total_count: integer >= 0}".to_owned()
        )),
    }
}

/// Follows `$ref: '#/components/responses/X'` (possibly chained) to the response object.
fn resolve_response<'a>(
    mut response: &'a Value,
    component_responses: Option<&'a Map<String, Value>>,
    context: &str,
) -> Result<&'a Value, String> {
    for _ in 0..16 {
        let Some(reference) = response.get("$ref").and_then(Value::as_str) else {
            return Ok(response);
        };
        let name = reference
            .strip_prefix("#/components/responses/")
            .ok_or_else(|| format!("{context}: unsupported response $ref {reference}"))?;
        response = component_responses
            .and_then(|r| r.get(name))
            .ok_or_else(|| format!("{context}: dangling response $ref {reference}"))?;
    }
    Err(format!("{context}: response $ref chain too long"))
}

/// Strips `scheme://authority`, query string, fragment and the `/v1` prefix.
fn strip_origin_and_query(path: &str) -> &str {
    let mut path = path;
    if let Some(rest) = path.strip_prefix("http://").or_else(|| path.strip_prefix("https://")) {
        path = rest.find('/').map_or("/", |i| &rest[i..]);
    }
    if let Some(i) = path.find(['?', '#']) {
        path = &path[..i];
    }
    path
}

fn normalize_path(path: &str) -> &str {
    let path = strip_origin_and_query(path);
    match path.strip_prefix("/v1") {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

fn split_path(path: &str) -> impl Iterator<Item = &str> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}

fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "<empty>".to_owned();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT)]);
    if body.len() > BODY_EXCERPT { format!("{text}... ({} bytes in total)", body.len()) } else { text.into_owned() }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests;
