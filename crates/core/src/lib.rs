//! Tessera's domain rules: no HTTP and no SQL strings here. Operations are plain async functions that take the
//! [`Ctx`] and validated inputs and return domain types or an [`Error`] carrying a Clerk error code.

pub mod agent_tasks;
pub mod api_keys;
pub mod browser_clients;
pub mod cache;
pub mod clock;
pub mod crypto;
pub mod ctx;
pub mod domains;
pub mod error;
pub mod events;
pub mod handshake;
pub mod ids;
pub mod instances;
pub mod invitations;
pub mod jwt_templates;
pub mod keyring;
pub mod m2m_tokens;
pub mod machines;
pub mod objects;
pub mod organization_domains;
pub mod organization_invitations;
pub mod organizations;
pub mod origins;
pub mod proxy_checks;
pub mod rate_limits;
pub mod redirect_urls;
pub mod restriction_lists;
pub mod sender;
pub mod sessions;
pub mod settings;
pub mod sign_ins;
pub mod sign_ups;
pub mod startup;
pub mod templates;
pub mod ticket_links;
pub mod tickets;
pub mod transactional_emails;
pub mod users;
pub mod waitlist_entries;
pub mod webhooks;

pub use clock::Clock;
pub use ctx::Ctx;
pub use error::{Error, ErrorCode, ErrorItem, ErrorMeta, OnUnique, Result};
pub use tessera_store as store;
