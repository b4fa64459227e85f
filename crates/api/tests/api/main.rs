//! The API integration suite: one test binary, a module per resource group. Every request goes through the
//! spec-validating client of `tessera-testkit`; the suite runs on SQLite, or on PostgreSQL when
//! `TESSERA_TEST_DATABASE_URL` is set.

mod agent_tasks;
mod api_keys;
mod beta_features;
mod beyond_spec;
mod billing;
mod contract;
mod domains;
mod emails;
mod enterprise_sso;
mod foundation;
mod gmail_dots;
mod identifications;
mod instance_settings;
mod interstitial;
mod invitations;
mod jwks;
mod jwt_templates;
mod key_rotation;
mod m2m_tokens;
mod machines;
mod oauth_applications;
mod organizations;
mod proxy_checks;
mod rate_limits;
mod redirect_urls;
mod scim;
mod session_settings;
mod sessions;
mod sign_ups;
mod templates;
mod tickets;
mod users;
mod versions;
mod waitlist_entries;
// Proof (issue 6): cross-cutting tests over every routed operation.
mod hostile;
mod isolation;
mod probe;
mod webhooks;

/// The instance's events of `kind`, oldest first, each valid against the webhook spec.
pub async fn events_of(app: &tessera_testkit::TestApp, kind: &str) -> Vec<serde_json::Value> {
    let events = tessera_core::events::recent(app.ctx(), &app.instance.id, 1000).await.unwrap();
    events
        .into_iter()
        .filter(|e| e.event_type == kind)
        .map(|e| {
            tessera_spec_check::validate_webhook_event(&e.payload).unwrap_or_else(|why| panic!("{why}"));
            e.payload
        })
        .collect()
}
