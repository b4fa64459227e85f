//! Validates webhook events against Clerk's webhook spec (`spec/clerk-webhooks-2025-04-15.yml`): each event type
//! of `x-webhooks` declares the schema of its request body (the event), converted like the Backend API schemas.

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Map, Value, json};

use crate::convert;

const WEBHOOKS_YAML: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/clerk-webhooks-2025-04-15.yml"));
const BASE_URI: &str = "https://tessera.invalid/clerk-webhooks-2025-04-15.json";

struct WebhookSpec {
    validators: HashMap<String, Validator>,
}

fn load() -> Result<WebhookSpec, String> {
    let doc: Value = serde_norway::from_str(WEBHOOKS_YAML).map_err(|e| format!("YAML: {e}"))?;
    let mut schemas =
        doc.pointer("/components/schemas").and_then(Value::as_object).ok_or("no components.schemas")?.clone();
    merge_extensions_of_closed_schemas(&mut schemas);
    let mut converted = Map::new();
    for (name, schema) in &schemas {
        converted.insert(name.clone(), convert::schema(schema).map_err(|e| format!("schemas.{name}: {e}"))?);
    }
    let hooks = doc.get("x-webhooks").and_then(Value::as_object).ok_or("no x-webhooks")?;
    let mut events = Map::new();
    for (event_type, hook) in hooks {
        let schema = hook
            .pointer("/post/requestBody/content/application~1json/schema")
            .ok_or_else(|| format!("{event_type}: no request body schema"))?;
        events.insert(event_type.clone(), convert::schema(schema).map_err(|e| format!("{event_type}: {e}"))?);
    }
    let root = json!({ "components": { "schemas": converted }, "events": events });
    let registry = Registry::new()
        .draft(Draft::Draft202012)
        .add(BASE_URI, root)
        .and_then(|b| b.prepare())
        .map_err(|e| format!("schema registry: {e}"))?;
    let mut validators = HashMap::new();
    for event_type in events.keys() {
        let pointer = format!("{BASE_URI}#/events/{}", event_type.replace('~', "~0").replace('/', "~1"));
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&registry)
            .should_validate_formats(false)
            .build(&json!({ "$ref": pointer }))
            .map_err(|e| format!("{event_type}: {e}"))?;
        validators.insert(event_type.clone(), validator);
    }
    Ok(WebhookSpec { validators })
}

/// The spec extends some closed schemas (`additionalProperties: false`) with `allOf`, e.g. `SessionEventPayload` =
/// `allOf: [Session, {properties: {user}, required: [user]}]`. Taken literally no payload can pass: the closed branch
/// forbids the property the other branch requires. The evident intent is one closed schema with the extra
/// properties, so such an `allOf` is merged into that before conversion.
fn merge_extensions_of_closed_schemas(schemas: &mut Map<String, Value>) {
    let originals = schemas.clone();
    for schema in schemas.values_mut() {
        let Some(parts) = schema.get("allOf").and_then(Value::as_array) else { continue };
        let Some((base, extensions)) = parts.split_first() else { continue };
        let Some(base_name) = base.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()) else {
            continue;
        };
        let Some(base_schema) = originals.get(base_name) else { continue };
        let only_properties = |e: &Value| {
            e.as_object().is_some_and(|o| o.keys().all(|k| matches!(k.as_str(), "properties" | "required")))
        };
        if base_schema.get("additionalProperties") != Some(&Value::Bool(false))
            || !extensions.iter().all(only_properties)
        {
            continue;
        }
        let mut merged = base_schema.clone();
        for extension in extensions {
            if let (Some(Value::Object(props)), Some(Value::Object(into))) =
                (extension.get("properties"), merged.get_mut("properties"))
            {
                into.extend(props.clone());
            }
            if let Some(Value::Array(required)) = extension.get("required") {
                let into = merged.as_object_mut().map(|m| m.entry("required").or_insert_with(|| json!([])));
                if let Some(Value::Array(into)) = into {
                    into.extend(required.iter().cloned());
                }
            }
        }
        *schema = merged;
    }
}

fn webhook_spec() -> &'static WebhookSpec {
    static SPEC: OnceLock<WebhookSpec> = OnceLock::new();
    SPEC.get_or_init(|| load().unwrap_or_else(|e| panic!("Clerk webhook spec: {e}")))
}

/// The event types the webhook spec declares.
pub fn webhook_event_types() -> Vec<&'static str> {
    let mut types: Vec<&str> = webhook_spec().validators.keys().map(String::as_str).collect();
    types.sort_unstable();
    types
}

/// Checks an event (as delivered: `object`, `type`, `timestamp`, `instance_id`, `data`) against the schema the
/// webhook spec declares for its `type`; every violation is listed.
pub fn validate_webhook_event(event: &Value) -> Result<(), String> {
    let event_type = event.get("type").and_then(Value::as_str).ok_or("the event has no string `type`")?;
    let validator = webhook_spec()
        .validators
        .get(event_type)
        .ok_or_else(|| format!("`{event_type}` is not an event type of the webhook spec"))?;
    let errors: Vec<String> =
        validator.iter_errors(event).map(|e| format!("at {}: {e}", e.instance_path())).take(25).collect();
    if errors.is_empty() { Ok(()) } else { Err(format!("{event_type} event breaks the spec:\n{}", errors.join("\n"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_schema_compiles_and_checks() {
        assert_eq!(webhook_event_types().len(), 45);
        let ok = json!({ "object": "event", "type": "user.deleted", "timestamp": 1, "instance_id": "ins_1",
            "data": { "object": "user", "id": "user_1", "deleted": true } });
        validate_webhook_event(&ok).unwrap();
        let bad = json!({ "object": "event", "type": "user.deleted", "timestamp": 1, "instance_id": "ins_1",
            "data": { "object": "user", "id": "user_1", "deleted": "yes", "extra": 1 } });
        assert!(validate_webhook_event(&bad).is_err());
        assert!(validate_webhook_event(&json!({ "type": "user.nope" })).is_err());
    }

    #[test]
    fn a_closed_schema_extended_by_all_of_takes_the_extension() {
        let mut schemas = serde_json::from_value::<Map<String, Value>>(json!({
            "Session": { "type": "object", "additionalProperties": false, "properties": { "id": { "type": "string" } },
                         "required": ["id"] },
            "SessionEventPayload": { "allOf": [ { "$ref": "#/components/schemas/Session" },
                                                { "properties": { "user": { "type": "object" } }, "required": ["user"] } ] }
        }))
        .unwrap();
        merge_extensions_of_closed_schemas(&mut schemas);
        assert_eq!(
            schemas["SessionEventPayload"],
            json!({ "type": "object", "additionalProperties": false,
                    "properties": { "id": { "type": "string" }, "user": { "type": "object" } }, "required": ["id", "user"] })
        );
    }
}
