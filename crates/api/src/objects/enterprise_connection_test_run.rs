//! `EnterpriseConnectionTestRun`: what a connection's test run recorded.

use serde::Serialize;
use serde_json::{Map, Value};
use tessera_core::enterprise_sso::test_runs::TestRun;

/// `EnterpriseConnectionTestRun` (no `object` field: the spec's schema has none and admits no other key).
#[derive(Debug, Serialize)]
pub struct TestRunObject<'a> {
    id: &'a str,
    status: &'a str,
    connection_type: &'a str,
    parsed_user_info: Option<&'a Value>,
    logs: &'a [Value],
    saml: Option<&'a Value>,
    oauth: Option<&'a Value>,
    created_at: i64,
}

impl<'a> TestRunObject<'a> {
    /// The object of a run.
    pub fn new(r: &'a TestRun) -> Self {
        let part = |m: &'a Map<String, Value>, k: &str| m.get(k).filter(|v| v.is_object());
        Self {
            id: &r.row.id,
            status: &r.row.status,
            connection_type: &r.row.connection_type,
            parsed_user_info: r.parsed_user_info.as_ref(),
            logs: &r.logs,
            saml: part(&r.artifacts, "saml"),
            oauth: part(&r.artifacts, "oauth"),
            created_at: r.row.created_at,
        }
    }
}
