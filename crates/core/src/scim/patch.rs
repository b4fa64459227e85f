//! SCIM PATCH (RFC 7644 §3.5.2) over a resource as JSON, with the identity providers' known departures from the
//! RFC accepted: Entra's PascalCase `op` values (`Replace`, `Add`), a path-less operation whose value object names
//! attributes by path (`{"name.givenName": "A"}`, enterprise-extension `urn:…:User:department`), and removal of
//! group members by a `members` path with a value list.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::filter::{self, AttrPath, Filter, get_ci};

/// Most operations one PATCH may carry.
pub const MAX_OPERATIONS: usize = 1000;

/// One operation as sent.
#[derive(Debug, Clone, Deserialize)]
pub struct Operation {
    /// `add`, `replace` or `remove`, in any case.
    pub op: String,
    /// Attribute path; absent means the resource itself.
    #[serde(default)]
    pub path: Option<String>,
    /// The value.
    #[serde(default)]
    pub value: Option<Value>,
}

/// A `PatchOp` request body.
#[derive(Debug, Clone, Deserialize)]
pub struct PatchRequest {
    /// Must name the PatchOp message schema.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// The operations, in order.
    #[serde(rename = "Operations", alias = "operations")]
    pub operations: Vec<Operation>,
}

/// Why an operation cannot be applied: `(scimType, detail)`.
pub type PatchError = (&'static str, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Replace,
    Remove,
}

/// A parsed PATCH path: attribute (in a scope), an optional value filter, an optional sub-attribute.
struct Path {
    attr: AttrPath,
    filter: Option<Filter>,
    sub: Option<String>,
}

fn parse_path(p: &str) -> Result<Path, PatchError> {
    let bad = |why: String| ("invalidPath", why);
    let p = p.trim();
    if let Some(open) = p.find('[') {
        let close = p.rfind(']').ok_or_else(|| bad(format!("{p:?} has no closing bracket")))?;
        if close < open {
            return Err(bad(format!("{p:?} is not a path")));
        }
        let attr = filter::attr_path(&p[..open]).map_err(bad)?;
        let inner = filter::parse(&p[open + 1..close]).map_err(|e| ("invalidFilter", e))?;
        let rest = &p[close + 1..];
        let sub = match rest.strip_prefix('.') {
            Some(s) if !s.is_empty() => Some(s.to_owned()),
            None if rest.is_empty() => None,
            _ => return Err(bad(format!("{p:?} is not a path"))),
        };
        return Ok(Path { attr, filter: Some(inner), sub });
    }
    let attr = filter::attr_path(p).map_err(bad)?;
    Ok(Path { attr, filter: None, sub: None })
}

/// The key in `obj` that matches `key` case-insensitively (or `key` itself when none does).
fn key_ci(obj: &Map<String, Value>, key: &str) -> String {
    obj.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned().unwrap_or_else(|| key.to_owned())
}

/// The object an attribute path addresses: the resource or an extension object (created when adding).
fn scope_mut<'a>(resource: &'a mut Map<String, Value>, urn: Option<&str>, core: &str) -> &'a mut Map<String, Value> {
    match urn {
        Some(u) if !u.eq_ignore_ascii_case(core) && !u.starts_with("urn:ietf:params:scim:schemas:core:") => {
            let k = key_ci(resource, &super::canonical_urn(u));
            let slot = resource.entry(k).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            slot.as_object_mut().expect("made an object above")
        }
        _ => resource,
    }
}

fn is_multi(v: &Value) -> bool {
    v.is_array()
}

/// Adds `value` to the attribute `key` of `obj`: arrays are appended to (without duplicates), objects merged,
/// anything else replaced.
fn add_to(obj: &mut Map<String, Value>, key: &str, value: Value) {
    let k = key_ci(obj, key);
    match (obj.get_mut(&k), value) {
        (Some(Value::Array(existing)), Value::Array(new)) => {
            for v in new {
                if !existing.contains(&v) {
                    existing.push(v);
                }
            }
        }
        (Some(Value::Array(existing)), v) => {
            if !existing.contains(&v) {
                existing.push(v);
            }
        }
        (Some(Value::Object(existing)), Value::Object(new)) => {
            for (nk, nv) in new {
                add_to(existing, &nk, nv);
            }
        }
        (_, v) => {
            obj.insert(k, v);
        }
    }
}

fn apply_one(
    resource: &mut Map<String, Value>,
    kind: Kind,
    path: Option<&str>,
    value: Option<Value>,
    core: &str,
) -> Result<(), PatchError> {
    let Some(path) = path.filter(|p| !p.trim().is_empty()) else {
        // No path: the value is an object of attributes (keys may themselves be paths).
        if kind == Kind::Remove {
            return Err(("noTarget", "remove needs a path".into()));
        }
        let Some(Value::Object(attrs)) = value else {
            return Err(("invalidValue", "an operation without a path needs an object value".into()));
        };
        for (k, v) in attrs {
            apply_one(resource, kind, Some(&k), Some(v), core)?;
        }
        return Ok(());
    };
    if kind != Kind::Remove && value.is_none() {
        return Err(("invalidValue", format!("{path:?} needs a value")));
    }
    // A path that is an extension's schema URN addresses the whole extension object (scim2-tester, RFC 7644
    // §3.10), not an attribute `User` of a schema `urn:…:2.0`.
    if let Some(urn) =
        [super::ENTERPRISE_USER, super::CLERK_USER].into_iter().find(|u| u.eq_ignore_ascii_case(path.trim()))
    {
        let key = key_ci(resource, urn);
        match (kind, value) {
            (Kind::Remove, _) => {
                resource.remove(&key);
            }
            (_, Some(Value::Object(mut attrs))) => {
                attrs.retain(|k, _| !k.eq_ignore_ascii_case("schemas"));
                let slot = resource.entry(key).or_insert_with(|| Value::Object(Map::new()));
                match slot.as_object_mut() {
                    // Add and replace alike set the sub-attributes given and leave the others (RFC 7644 §3.5.2.3).
                    Some(existing) => {
                        for (k, v) in attrs {
                            let k = key_ci(existing, &k);
                            existing.insert(k, v);
                        }
                    }
                    None => *slot = Value::Object(attrs),
                }
            }
            _ => return Err(("invalidValue", format!("{path:?} needs an object value"))),
        }
        return Ok(());
    }
    let p = parse_path(path)?;
    let obj = scope_mut(resource, p.attr.urn.as_deref(), core);
    let attr_key = key_ci(obj, &p.attr.attr);
    match (p.filter, p.sub.or(p.attr.sub)) {
        (None, None) => match kind {
            Kind::Remove => {
                match (obj.get_mut(&attr_key), value) {
                    // Entra removes members by value list: {"path":"members","value":[{"value":"id"}]}.
                    (Some(Value::Array(items)), Some(Value::Array(gone))) => {
                        let ids: Vec<Option<&Value>> = gone.iter().map(|g| get_ci(g, "value")).collect();
                        items.retain(|i| !ids.contains(&get_ci(i, "value")) && !gone.contains(i));
                    }
                    _ => {
                        obj.remove(&attr_key);
                    }
                }
            }
            Kind::Add => add_to(obj, &attr_key, value.unwrap_or(Value::Null)),
            Kind::Replace => {
                let v = value.unwrap_or(Value::Null);
                // Replacing a complex attribute with an object sets the sub-attributes given.
                match (obj.get_mut(&attr_key), v) {
                    (Some(Value::Object(existing)), Value::Object(new)) => {
                        for (nk, nv) in new {
                            let k = key_ci(existing, &nk);
                            existing.insert(k, nv);
                        }
                    }
                    (_, v) => {
                        obj.insert(attr_key, v);
                    }
                }
            }
        },
        (None, Some(sub)) => {
            let slot = obj.entry(attr_key).or_insert_with(|| Value::Object(Map::new()));
            if is_multi(slot) {
                return Err(("invalidPath", format!("{path:?} addresses a multi-valued attribute without a filter")));
            }
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            let inner = slot.as_object_mut().expect("made an object above");
            let k = key_ci(inner, &sub);
            match kind {
                Kind::Remove => {
                    inner.remove(&k);
                }
                _ => {
                    inner.insert(k, value.unwrap_or(Value::Null));
                }
            }
        }
        (Some(f), sub) => {
            let exists = obj.get(&attr_key).is_some_and(Value::is_array);
            if !exists {
                if kind == Kind::Remove {
                    return Ok(());
                }
                // Entra adds `emails[type eq "work"].value` to a user that has no such email yet: create the item
                // from the filter's equality.
                let mut item = Map::new();
                if let Filter::Compare(a, filter::Op::Eq, v) = &f {
                    item.insert(a.attr.clone(), v.clone());
                }
                match sub {
                    Some(s) => {
                        item.insert(s, value.unwrap_or(Value::Null));
                    }
                    None => {
                        if let Some(Value::Object(m)) = value {
                            item.extend(m);
                        }
                    }
                }
                obj.insert(attr_key, Value::Array(vec![Value::Object(item)]));
                return Ok(());
            }
            let items = obj.get_mut(&attr_key).and_then(Value::as_array_mut).expect("checked an array above");
            let hit = items.iter().any(|i| filter::matches(&f, i));
            match (kind, sub) {
                (Kind::Remove, None) => items.retain(|i| !filter::matches(&f, i)),
                (Kind::Remove, Some(s)) => {
                    for i in items.iter_mut().filter(|i| filter::matches(&f, i)) {
                        if let Some(o) = i.as_object_mut() {
                            let k = key_ci(o, &s);
                            o.remove(&k);
                        }
                    }
                }
                (_, Some(s)) if !hit => {
                    let mut item = Map::new();
                    if let Filter::Compare(a, filter::Op::Eq, v) = &f {
                        item.insert(a.attr.clone(), v.clone());
                    }
                    item.insert(s, value.unwrap_or(Value::Null));
                    items.push(Value::Object(item));
                }
                (_, Some(s)) => {
                    let v = value.unwrap_or(Value::Null);
                    for i in items.iter_mut().filter(|i| filter::matches(&f, i)) {
                        if let Some(o) = i.as_object_mut() {
                            let k = key_ci(o, &s);
                            o.insert(k, v.clone());
                        }
                    }
                }
                (_, None) => {
                    if !hit {
                        return Err(("noTarget", format!("no value of {path:?} matches")));
                    }
                    let Some(Value::Object(new)) = value else {
                        return Err(("invalidValue", format!("{path:?} needs an object value")));
                    };
                    for i in items.iter_mut().filter(|i| filter::matches(&f, i)) {
                        if let Some(o) = i.as_object_mut() {
                            for (k, v) in &new {
                                let key = key_ci(o, k);
                                o.insert(key, v.clone());
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Applies the operations in order to `resource` (an object); `core` is the resource's core schema URN (paths
/// prefixed with it address the resource itself).
pub fn apply(resource: &mut Map<String, Value>, req: PatchRequest, core: &str) -> Result<(), PatchError> {
    if !req.schemas.iter().any(|s| s.eq_ignore_ascii_case(super::PATCH_OP)) {
        return Err(("invalidSyntax", format!("schemas must contain {}", super::PATCH_OP)));
    }
    if req.operations.is_empty() || req.operations.len() > MAX_OPERATIONS {
        return Err(("invalidSyntax", format!("Operations must hold 1 to {MAX_OPERATIONS} operations")));
    }
    for o in req.operations {
        let kind = match o.op.to_ascii_lowercase().as_str() {
            "add" => Kind::Add,
            "replace" => Kind::Replace,
            "remove" => Kind::Remove,
            other => return Err(("invalidSyntax", format!("{other:?} is not a PATCH operation"))),
        };
        apply_one(resource, kind, o.path.as_deref(), o.value, core)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    fn patch(resource: Value, ops: Value) -> Result<Value, PatchError> {
        let mut r = resource.as_object().cloned().unwrap();
        let req: PatchRequest =
            serde_json::from_value(json!({"schemas": [super::super::PATCH_OP], "Operations": ops})).unwrap();
        apply(&mut r, req, CORE)?;
        Ok(Value::Object(r))
    }

    #[test]
    fn entra_style_operations() {
        let r = json!({"userName": "a", "active": true, "name": {"givenName": "A"}});
        let out = patch(
            r,
            json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "value": {"name.familyName": "B", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Ops"}},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "a@x.io"},
            ]),
        )
        .unwrap();
        assert_eq!(out["active"], json!("False"));
        assert_eq!(out["name"], json!({"givenName": "A", "familyName": "B"}));
        assert_eq!(out["emails"], json!([{"type": "work", "value": "a@x.io"}]));
        assert_eq!(out["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"], json!("Ops"));
    }

    #[test]
    fn okta_style_and_members() {
        let r = json!({"displayName": "g", "members": [{"value": "u1"}, {"value": "u2"}]});
        let out = patch(
            r,
            json!([
                {"op": "replace", "value": {"id": "x", "displayName": "G"}},
                {"op": "remove", "path": "members[value eq \"u1\"]"},
                {"op": "add", "path": "members", "value": [{"value": "u3"}]},
                {"op": "Remove", "path": "members", "value": [{"value": "u2"}]},
            ]),
        )
        .unwrap();
        assert_eq!(out["displayName"], json!("G"));
        assert_eq!(out["members"], json!([{"value": "u3"}]));
    }

    #[test]
    fn a_whole_extension_by_its_urn() {
        const EXT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let added = patch(
            json!({"userName": "a"}),
            json!([{"op": "add", "path": EXT, "value": {"schemas": [EXT], "department": "Ops", "employeeNumber": "7"}}]),
        )
        .unwrap();
        assert_eq!(added[EXT], json!({"department": "Ops", "employeeNumber": "7"}));
        assert!(added.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0").is_none(), "{added}");
        let replaced = patch(
            added.clone(),
            json!([{"op": "replace", "path": EXT.to_uppercase(), "value": {"department": "R&D"}}]),
        )
        .unwrap();
        assert_eq!(replaced[EXT], json!({"department": "R&D", "employeeNumber": "7"}));
        let removed = patch(replaced, json!([{"op": "remove", "path": EXT}])).unwrap();
        assert!(removed.get(EXT).is_none(), "{removed}");
        assert!(patch(added, json!([{"op": "add", "path": EXT, "value": "x"}])).is_err());
    }

    #[test]
    fn bad_operations_are_refused() {
        let r = json!({"userName": "a"});
        assert_eq!(patch(r.clone(), json!([{"op": "move", "path": "userName"}])).unwrap_err().0, "invalidSyntax");
        assert_eq!(patch(r.clone(), json!([{"op": "remove"}])).unwrap_err().0, "noTarget");
        assert_eq!(patch(r.clone(), json!([{"op": "add", "value": "x"}])).unwrap_err().0, "invalidValue");
        assert_eq!(
            patch(r.clone(), json!([{"op": "add", "path": "emails[type xx \"w\"]", "value": "x"}])).unwrap_err().0,
            "invalidFilter"
        );
        assert_eq!(patch(r, json!([{"op": "add", "path": "a b", "value": "x"}])).unwrap_err().0, "invalidPath");
    }
}
