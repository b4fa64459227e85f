//! The `directory` and `scim_directory` objects: two views of one directory.

use std::collections::BTreeMap;

use serde::Serialize;
use tessera_core::directories::{Directory, GroupRoleMapping};

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

    /// The `object` of this view's group → role mappings.
    pub fn mapping_object(self) -> &'static str {
        match self {
            View::Directory => "directory_group_role_mapping",
            View::Scim => "scim_group_role_mapping",
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

/// Clerk's `directory_group_role_mapping` / `scim_group_role_mapping` (2026-05-12): the `directory_*` and `scim_*`
/// fields carry the same values in both views.
#[derive(Debug, Serialize)]
pub struct GroupRoleMappingObject<'a> {
    object: &'static str,
    id: &'a str,
    directory_id: &'a str,
    scim_directory_id: &'a str,
    directory_group_id: &'a str,
    scim_group_id: &'a str,
    directory_group_display_name: &'a str,
    scim_group_display_name: &'a str,
    role: serde_json::Value,
    precedence: i64,
    created_at: i64,
    updated_at: i64,
}

impl<'a> GroupRoleMappingObject<'a> {
    /// The object in `view`. A group the IdP has not reported yet has an empty display name.
    pub fn new(m: &'a GroupRoleMapping, view: View) -> Self {
        let display = m.row.group_display_name.as_deref().unwrap_or("");
        Self {
            object: view.mapping_object(),
            id: &m.row.id,
            directory_id: &m.row.directory_id,
            scim_directory_id: &m.row.directory_id,
            directory_group_id: &m.row.group_id,
            scim_group_id: &m.row.group_id,
            directory_group_display_name: display,
            scim_group_display_name: display,
            role: tessera_core::objects::organization::role(&m.role),
            precedence: m.row.precedence,
            created_at: m.row.created_at,
            updated_at: m.row.updated_at,
        }
    }
}
