//! The `directory` and `scim_directory` objects: two views of one directory.

use std::collections::BTreeMap;

use serde::Serialize;
use tessera_core::directories::Directory;

use super::enterprise_connection::CustomAttributeObject;

/// Which view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `/directories`: `object: "directory"`.
    Directory,
    /// `/scim_directories`: `object: "scim_directory"`.
    Scim,
}

impl View {
    /// The `object` of this view.
    pub fn object(self) -> &'static str {
        match self {
            View::Directory => "directory",
            View::Scim => "scim_directory",
        }
    }
}

/// Clerk's `directory` / `scim_directory` object; `api_key` is `null` except in the answer to create.
#[derive(Debug, Serialize)]
pub struct DirectoryObject<'a> {
    object: &'static str,
    id: &'a str,
    name: &'a str,
    enterprise_connection_id: Option<&'a str>,
    endpoint_url: String,
    provider: &'a str,
    enabled: bool,
    group_role_mapping_enabled: bool,
    attribute_mapping: &'a BTreeMap<String, String>,
    custom_attributes: Vec<CustomAttributeObject<'a>>,
    api_key: Option<&'a str>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> DirectoryObject<'a> {
    /// The object in `view`; `host` is the instance's Frontend API host, where the SCIM endpoint is.
    pub fn new(d: &'a Directory, view: View, host: &str) -> Self {
        Self {
            object: view.object(),
            id: &d.row.id,
            name: &d.row.name,
            enterprise_connection_id: d.row.enterprise_connection_id.as_deref(),
            endpoint_url: format!("https://{host}/scim/v2/{}", d.row.id),
            provider: &d.row.provider,
            enabled: d.row.enabled,
            group_role_mapping_enabled: d.row.group_role_mapping_enabled,
            attribute_mapping: &d.attribute_mapping,
            custom_attributes: d.custom_attributes.iter().map(CustomAttributeObject::of).collect(),
            api_key: d.api_key.as_deref(),
            created_at: d.row.created_at,
            updated_at: d.row.updated_at,
        }
    }
}
