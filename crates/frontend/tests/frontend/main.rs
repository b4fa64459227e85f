//! Frontend API integration tests: every answer is validated against the FAPI spec of the requested version.
//! Run on SQLite by default, on PostgreSQL with `TESSERA_TEST_DATABASE_URL=postgres://…`.

mod billing;
mod clerk_js;
mod client;
mod contract;
mod domain_enrollment;
mod environment;
mod handshake;
mod hostile;
mod invitations;
mod me;
mod me_account;
mod me_identifiers;
mod me_mfa;
mod me_organizations;
mod oauth;
mod oidc;
mod organization_domain_verification;
mod organizations;
mod pages;
mod saml;
mod session_reverification;
mod sessions;
mod sign_ins;
mod sign_ups;
mod site;
mod sso_test_runs;
mod tickets;

/// A fixed start for tests on a manual clock (2024-01-01T00:00:00Z).
pub const T0: i64 = 1_704_067_200_000;

/// The webhook events of a type in the first instance's outbox, each checked against the webhook spec.
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
