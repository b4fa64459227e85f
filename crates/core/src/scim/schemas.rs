//! The discovery documents (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`. They describe
//! what this server does — filter, PATCH and paging yes; bulk, sort, ETags and password change no — and the
//! attributes it keeps, which are the ones the directory's attribute mapping reads.

use serde_json::{Value, json};

use super::{CLERK_USER, ENTERPRISE_USER, GROUP_SCHEMA, MAX_RESULTS, USER_SCHEMA};

const SP_CONFIG: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

fn attr(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    })
}

fn with(mut v: Value, changes: Value) -> Value {
    if let (Some(o), Some(c)) = (v.as_object_mut(), changes.as_object()) {
        o.extend(c.clone());
    }
    v
}

/// `/ServiceProviderConfig`.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SP_CONFIG],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Directory API key",
            "description": "The directory's API key, sent as a Bearer token.",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

/// The `ResourceType`s: User (with its extensions) and Group.
pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": [RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "People the directory provisions as users.",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE_USER, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
        }),
        json!({
            "schemas": [RESOURCE_TYPE],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Groups of the directory; mapped groups decide organization roles.",
            "schema": GROUP_SCHEMA,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")},
        }),
    ]
}

/// The `Schema`s of the attributes kept.
pub fn schemas(base: &str) -> Vec<Value> {
    let s = |id: &str, name: &str, description: &str, attributes: Vec<Value>| {
        json!({
            "schemas": [SCHEMA],
            "id": id,
            "name": name,
            "description": description,
            "attributes": attributes,
            "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
        })
    };
    let sub = |name: &str, kind: &str, d: &str| attr(name, kind, d);
    vec![
        s(
            USER_SCHEMA,
            "User",
            "User account",
            vec![
                with(
                    attr("userName", "string", "Unique identifier of the user at the IdP."),
                    json!({"required": true, "uniqueness": "server"}),
                ),
                with(
                    attr("name", "complex", "The user's name."),
                    json!({"subAttributes": [
                        sub("formatted", "string", "Full name."),
                        sub("givenName", "string", "First name."),
                        sub("familyName", "string", "Last name."),
                    ]}),
                ),
                attr("displayName", "string", "Name to display."),
                attr("active", "boolean", "false deprovisions the user and revokes their sessions."),
                with(
                    attr("emails", "complex", "Email addresses; the first becomes the user's primary address."),
                    json!({"multiValued": true, "subAttributes": [
                        sub("value", "string", "The address."),
                        with(sub("type", "string", "work, home, other."), json!({"canonicalValues": ["work", "home", "other"]})),
                        sub("primary", "boolean", "The primary address."),
                    ]}),
                ),
            ],
        ),
        s(
            GROUP_SCHEMA,
            "Group",
            "Group",
            vec![
                with(attr("displayName", "string", "Name of the group."), json!({"required": true})),
                with(
                    attr("members", "complex", "Members of the group."),
                    json!({"multiValued": true, "subAttributes": [
                        with(sub("value", "string", "Id of the member."), json!({"mutability": "immutable"})),
                        with(sub("$ref", "reference", "URI of the member."), json!({"referenceTypes": ["User"], "mutability": "immutable"})),
                        with(sub("type", "string", "User."), json!({"canonicalValues": ["User"], "mutability": "immutable"})),
                    ]}),
                ),
            ],
        ),
        s(
            ENTERPRISE_USER,
            "EnterpriseUser",
            "Enterprise user",
            vec![
                attr("employeeNumber", "string", "Employee number."),
                attr("department", "string", "Department."),
                attr("organization", "string", "Organization."),
            ],
        ),
        s(CLERK_USER, "ClerkUser", "Any attribute here is copied into the user's public metadata.", vec![]),
    ]
}
