//! Rendering of template claims: Clerk's shortcodes (`{{user.id}}`, `{{user.public_metadata.plan}}`,
//! `{{session.actor}}`, `{{org.role}}`…) replaced by values from a context object.
//!
//! - A string that is exactly one shortcode becomes the typed value (object, number, boolean…), `null` when the
//!   path does not exist.
//! - Shortcodes inside a longer string are interpolated as text (`null` as the empty string, objects as JSON).
//! - `{{a || b || 'fallback'}}` takes the first alternative that is not `null`; literals are quoted strings,
//!   numbers, `true`, `false` and `null`.
//!
//! Objects and arrays are rendered recursively; keys are never rendered.

use serde_json::{Map, Value};

/// Renders every string of `template` against `context`.
pub fn render(template: &Value, context: &Value) -> Value {
    match template {
        Value::String(s) => render_string(s, context),
        Value::Array(items) => Value::Array(items.iter().map(|v| render(v, context)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), render(v, context))).collect()),
        other => other.clone(),
    }
}

fn render_string(s: &str, context: &Value) -> Value {
    let trimmed = s.trim();
    if let Some(inner) = trimmed.strip_prefix("{{").and_then(|r| r.strip_suffix("}}"))
        && !inner.contains("{{")
        && !inner.contains("}}")
    {
        return evaluate(inner, context);
    }
    if !s.contains("{{") {
        return Value::String(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else { break };
        out.push_str(&rest[..start]);
        match evaluate(&rest[start + 2..start + 2 + len], context) {
            Value::Null => {}
            Value::String(v) => out.push_str(&v),
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    Value::String(out)
}

/// Evaluates `a.b || 'literal' || …`: the first alternative that is not `null`.
fn evaluate(expr: &str, context: &Value) -> Value {
    for alternative in expr.split("||") {
        let v = term(alternative.trim(), context);
        if !v.is_null() {
            return v;
        }
    }
    Value::Null
}

fn term(t: &str, context: &Value) -> Value {
    if t.len() >= 2 && ((t.starts_with('\'') && t.ends_with('\'')) || (t.starts_with('"') && t.ends_with('"'))) {
        return Value::String(t[1..t.len() - 1].to_owned());
    }
    match t {
        "" | "null" => return Value::Null,
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = serde_json::from_str::<serde_json::Number>(t) {
        return Value::Number(n);
    }
    lookup(t, context)
}

/// Follows a dotted path through objects (and array indices).
fn lookup(path: &str, context: &Value) -> Value {
    let mut cur = context;
    for seg in path.split('.') {
        let next = match cur {
            Value::Object(m) => m.get(seg.trim()),
            Value::Array(a) => seg.trim().parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => return Value::Null,
        }
    }
    cur.clone()
}

/// Whether a claims template uses any shortcode under `prefix` (e.g. `org.`), to skip loading unused data.
pub fn mentions(template: &Map<String, Value>, prefix: &str) -> bool {
    fn walk(v: &Value, prefix: &str) -> bool {
        match v {
            Value::String(s) => s.contains(prefix),
            Value::Array(a) => a.iter().any(|v| walk(v, prefix)),
            Value::Object(m) => m.values().any(|v| walk(v, prefix)),
            _ => false,
        }
    }
    template.values().any(|v| walk(v, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Value {
        json!({
            "user": {"id": "user_1", "first_name": "Ada", "last_name": null,
                     "public_metadata": {"plan": "pro", "seats": 3, "tags": ["a"], "nested": {"x": true}}},
            "session": {"actor": {"sub": "user_admin"}},
            "org": null,
        })
    }

    #[test]
    fn whole_shortcodes_keep_their_type() {
        let t = json!({
            "id": "{{user.id}}",
            "seats": "{{ user.public_metadata.seats }}",
            "tags": "{{user.public_metadata.tags}}",
            "nested": "{{user.public_metadata.nested}}",
            "act": "{{session.actor}}",
            "missing": "{{user.public_metadata.nope}}",
            "org": "{{org.id}}",
            "last": "{{user.last_name}}",
            "static": [1, "x", {"k": "{{user.first_name}}"}],
        });
        assert_eq!(
            render(&t, &ctx()),
            json!({
                "id": "user_1", "seats": 3, "tags": ["a"], "nested": {"x": true},
                "act": {"sub": "user_admin"}, "missing": null, "org": null, "last": null,
                "static": [1, "x", {"k": "Ada"}],
            })
        );
    }

    #[test]
    fn interpolation_and_fallbacks() {
        let t = json!({
            "name": "{{user.first_name}} {{user.last_name}}!",
            "plan": "plan={{user.public_metadata.plan}} seats={{user.public_metadata.seats}}",
            "fb": "{{user.last_name || 'Unknown'}}",
            "fb2": "{{user.public_metadata.nope || user.first_name}}",
            "fbn": "{{user.public_metadata.nope || 42}}",
            "none": "{{user.last_name || null}}",
            "plain": "no codes",
            "unclosed": "a {{user.id",
        });
        assert_eq!(
            render(&t, &ctx()),
            json!({
                "name": "Ada !", "plan": "plan=pro seats=3", "fb": "Unknown", "fb2": "Ada", "fbn": 42,
                "none": null, "plain": "no codes", "unclosed": "a {{user.id",
            })
        );
    }

    #[test]
    fn mentions_finds_prefixes() {
        let t = json!({"a": ["{{org.id}}"]});
        assert!(mentions(t.as_object().unwrap(), "org."));
        assert!(!mentions(t.as_object().unwrap(), "user."));
    }
}
