//! The API integration suite: one test binary, a module per resource group. Every request goes through the
//! spec-validating client of `tessera-testkit`; the suite runs on SQLite, or on PostgreSQL when
//! `TESSERA_TEST_DATABASE_URL` is set.

mod api_keys;
mod beta_features;
mod contract;
mod domains;
mod foundation;
mod identifications;
mod instance_settings;
mod invitations;
mod jwks;
mod jwt_templates;
mod key_rotation;
mod m2m_tokens;
mod machines;
mod organizations;
mod redirect_urls;
mod sessions;
mod sign_ups;
mod templates;
mod tickets;
mod users;
mod waitlist_entries;
// Proof (issue 6): cross-cutting tests over every routed operation.
mod hostile;
mod isolation;
mod probe;
mod webhooks;
