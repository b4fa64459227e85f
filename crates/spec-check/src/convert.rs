//! OpenAPI 3.0 Schema Object → JSON Schema 2020-12.
//!
//! The conversion is strict: a keyword that is neither understood nor known to be safe to drop
//! is an error, so that a new spec version using something unexpected is noticed by the tests
//! instead of being silently ignored.

use serde_json::{Map, Value, json};

/// Keywords copied verbatim: their meaning is the same in OpenAPI 3.0 and JSON Schema 2020-12.
const VERBATIM: &[&str] = &[
    "type",
    "enum",
    "required",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    // Kept as annotation; format validation is turned off in the validator.
    "format",
    "title",
    "description",
    "default",
];

/// OpenAPI-only keywords (or annotations) the validator must not interpret.
const DROPPED: &[&str] =
    &["discriminator", "example", "examples", "xml", "externalDocs", "deprecated", "readOnly", "writeOnly"];

/// Converts one schema (and, recursively, its subschemas).
pub(crate) fn schema(value: &Value) -> Result<Value, String> {
    convert(value, "#")
}

fn convert(value: &Value, at: &str) -> Result<Value, String> {
    let obj = match value {
        Value::Object(obj) => obj,
        Value::Bool(_) => return Ok(value.clone()),
        other => return Err(format!("{at}: a schema must be an object, got {other}")),
    };
    let mut out = Map::new();
    let mut nullable = false;
    for (key, v) in obj {
        let here = format!("{at}/{key}");
        match key.as_str() {
            "$ref" => {
                let r = v.as_str().ok_or_else(|| format!("{here}: $ref must be a string"))?;
                if !r.starts_with("#/components/schemas/") {
                    return Err(format!("{here}: unsupported $ref {r}"));
                }
                out.insert(key.clone(), v.clone());
            }
            "nullable" => {
                nullable = v.as_bool().ok_or_else(|| format!("{here}: nullable must be a boolean"))?;
            }
            "type" => {
                let t = v.as_str().ok_or_else(|| format!("{here}: type must be a string"))?;
                if !matches!(t, "string" | "number" | "integer" | "boolean" | "array" | "object") {
                    return Err(format!("{here}: unknown type {t:?}"));
                }
                out.insert(key.clone(), v.clone());
            }
            "properties" => {
                let props = v.as_object().ok_or_else(|| format!("{here}: properties must be a map"))?;
                let mut converted = Map::new();
                for (name, s) in props {
                    converted.insert(name.clone(), convert(s, &format!("{here}/{name}"))?);
                }
                out.insert(key.clone(), Value::Object(converted));
            }
            "items" | "not" => {
                out.insert(key.clone(), convert(v, &here)?);
            }
            "additionalProperties" => {
                // `true`/`false` stay as they are (`false` is enforced); a map is a schema.
                let converted = match v {
                    Value::Bool(_) => v.clone(),
                    _ => convert(v, &here)?,
                };
                out.insert(key.clone(), converted);
            }
            "allOf" | "anyOf" | "oneOf" => {
                let list = v.as_array().ok_or_else(|| format!("{here}: must be an array"))?;
                let converted = list
                    .iter()
                    .enumerate()
                    .map(|(i, s)| convert(s, &format!("{here}/{i}")))
                    .collect::<Result<Vec<_>, _>>()?;
                out.insert(key.clone(), Value::Array(converted));
            }
            "exclusiveMinimum" | "exclusiveMaximum" => {
                // OpenAPI 3.0 (draft 4 style): a boolean modifying minimum/maximum.
                let bound = if key == "exclusiveMinimum" { "minimum" } else { "maximum" };
                match v {
                    Value::Bool(true) => {
                        let limit = obj.get(bound).ok_or_else(|| format!("{here}: true without {bound}"))?;
                        out.insert(key.clone(), limit.clone());
                    }
                    Value::Bool(false) => {}
                    _ => return Err(format!("{here}: must be a boolean in OpenAPI 3.0")),
                }
            }
            k if VERBATIM.contains(&k) => {
                out.insert(key.clone(), v.clone());
            }
            k if DROPPED.contains(&k) || k.starts_with("x-") => {}
            other => return Err(format!("{here}: unsupported schema keyword {other:?}")),
        }
    }
    // `minimum` made redundant by a numeric `exclusiveMinimum` (same limit) is harmless, but drop
    // it for clarity.
    for (exclusive, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if out.contains_key(exclusive) {
            out.remove(bound);
        }
    }
    Ok(if nullable { make_nullable(out) } else { Value::Object(out) })
}

/// `nullable: true`: the value may also be `null`.
///
/// For a plain schema (no composition, no `$ref`) `null` is added to `type` and to `enum`, which
/// keeps error messages precise. Anything else is wrapped: `anyOf: [schema, {type: null}]`.
fn make_nullable(mut out: Map<String, Value>) -> Value {
    let composite = ["$ref", "allOf", "anyOf", "oneOf", "not"].iter().any(|k| out.contains_key(*k));
    if composite {
        let description = out.remove("description");
        let mut wrapped = Map::new();
        if let Some(d) = description {
            wrapped.insert("description".to_owned(), d);
        }
        wrapped.insert("anyOf".to_owned(), json!([Value::Object(out), { "type": "null" }]));
        return Value::Object(wrapped);
    }
    if let Some(t) = out.get_mut("type") {
        *t = json!([t.clone(), "null"]);
    }
    if let Some(Value::Array(values)) = out.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    Value::Object(out)
}
