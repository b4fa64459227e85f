//! Persistence for Tessera: one SQL implementation over SQLite and PostgreSQL.
//!
//! Every query is written once with `$n` placeholders and runs on both drivers through the macros in [`db`].
//! Timestamps are Unix milliseconds in `BIGINT`; JSON lives in `TEXT`; secrets are stored only as HMAC digests
//! or sealed (encrypted) blobs, produced by core.

pub mod admin_portal;
pub mod agent_tasks;
pub mod api_keys;
pub mod billing;
pub mod browser_clients;
pub mod changes;
pub mod client_list;
pub mod db;
pub mod dialect;
pub mod direct_reads;
pub mod directories;
pub mod domain_enrollment;
pub mod domains;
pub mod enterprise_connections;
pub mod error;
pub mod group_commit;
pub mod identifications;
pub mod instances;
pub mod invitations;
pub mod jwt_templates;
pub mod m2m_tokens;
pub mod machines;
pub mod meta;
pub mod notify;
pub mod oauth_applications;
pub mod oauth_grants;
pub mod oidc_requests;
pub mod organization_domains;
pub mod organization_invitations;
pub mod organization_memberships;
pub mod organization_permissions;
pub mod organization_roles;
pub mod organizations;
pub mod outbox;
pub mod pg_user_reads;
pub mod proxy_checks;
pub mod rate_limits;
pub mod read_pool;
pub mod redirect_urls;
pub mod restriction_lists;
pub mod role_sets;
pub mod scim;
pub mod session_reverifications;
pub mod sessions;
pub mod settings;
pub mod sign_ins;
pub mod sign_ups;
pub mod sso;
pub mod templates;
pub mod test_runs;
pub mod tickets;
pub mod totp_enrollments;
pub mod transactional_emails;
pub mod user_list;
pub mod user_mfa;
pub mod users;
pub mod waitlist_entries;
pub mod webhooks;

pub use db::{Db, DbTarget, PgTx, Tx};
pub use error::StoreError;
/// For the macros of [`db`], which bind values through rusqlite on SQLite.
pub use rusqlite;

/// Result of a store function.
pub type StoreResult<T> = Result<T, StoreError>;
