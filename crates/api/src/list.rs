//! List parameters (`limit`, `offset`, `paginated`, `order_by`) and the three list shapes of the API.

use crate::json::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tessera_core::Error;

use crate::error::ApiError;
use crate::extract::{lenient_bool, lenient_u64};

/// `limit` and `offset`, as every list accepts them (`limit=10.0` is 10).
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    /// Page size.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub limit: Option<u64>,
    /// Items to skip.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub offset: Option<u64>,
    /// Ask for `{data, total_count}` where the default is a bare array.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub paginated: Option<bool>,
}

/// A validated page window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1..=max.
    pub limit: i64,
    /// ≥ 0.
    pub offset: i64,
}

impl Paging {
    /// Validates against the operation's bounds (Clerk: default 10, 1..=500 for most lists; 1..=100 for some).
    pub fn page(&self, max_limit: u64) -> Result<Page, ApiError> {
        let limit = self.limit.unwrap_or(10);
        if limit == 0 || limit > max_limit {
            return Err(Error::query_param_invalid("limit", format!("limit must be between 1 and {max_limit}.")).into());
        }
        let offset = self.offset.unwrap_or(0);
        if offset > i64::MAX as u64 / 2 {
            return Err(Error::query_param_invalid("offset", "offset is too large.").into());
        }
        Ok(Page { limit: limit as i64, offset: offset as i64 })
    }
}

/// `{"data": [...], "total_count": N}`.
pub fn data_list<T: Serialize>(data: Vec<T>, total_count: i64) -> Json<Value> {
    Json(json!({ "data": data, "total_count": total_count }))
}

/// A bare array, or `{data, total_count}` when the caller asked for `paginated=true`.
pub fn array_or_paginated<T: Serialize>(data: Vec<T>, total_count: i64, paginated: bool) -> Json<Value> {
    if paginated { data_list(data, total_count) } else { Json(json!(data)) }
}

/// `{"<key>": [...], "total_count": N}` (e.g. `m2m_tokens`).
pub fn keyed_list<T: Serialize>(key: &str, data: Vec<T>, total_count: i64) -> Json<Value> {
    let mut map = serde_json::Map::new();
    map.insert(key.into(), json!(data));
    map.insert("total_count".into(), json!(total_count));
    Json(Value::Object(map))
}

/// A parsed `order_by`: a field from the operation's allowed list and a direction (`-field` = descending;
/// `+field` or `field` = ascending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderBy {
    /// The field, one of the allowed ones.
    pub field: &'static str,
    /// Descending.
    pub descending: bool,
}

impl OrderBy {
    /// Parses `order_by`, falling back to `default` when absent.
    pub fn parse(value: Option<&str>, allowed: &[&'static str], default: &str) -> Result<Self, ApiError> {
        let raw = value.map(str::trim).filter(|s| !s.is_empty()).unwrap_or(default);
        let (descending, name) = match raw.as_bytes().first() {
            Some(b'-') => (true, &raw[1..]),
            Some(b'+') => (false, &raw[1..]),
            _ => (false, raw),
        };
        let field = allowed.iter().copied().find(|f| *f == name).ok_or_else(|| {
            Error::query_param_invalid(
                "order_by",
                format!("order_by must be one of {} with an optional + or - prefix.", allowed.join(", ")),
            )
        })?;
        Ok(Self { field, descending })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_parses_direction() {
        let o = OrderBy::parse(Some("-name"), &["name", "created_at"], "-created_at").unwrap();
        assert_eq!((o.field, o.descending), ("name", true));
        let o = OrderBy::parse(None, &["name", "created_at"], "-created_at").unwrap();
        assert_eq!((o.field, o.descending), ("created_at", true));
        let o = OrderBy::parse(Some("+name"), &["name"], "name").unwrap();
        assert!(!o.descending);
        assert!(OrderBy::parse(Some("-secret"), &["name"], "name").is_err());
    }

    #[test]
    fn page_bounds() {
        let p = Paging { limit: Some(500), offset: None, paginated: None };
        assert!(p.page(100).is_err());
        assert_eq!(p.page(500).unwrap(), Page { limit: 500, offset: 0 });
        assert!(Paging { limit: Some(0), ..Default::default() }.page(10).is_err());
    }
}
