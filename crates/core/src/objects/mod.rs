//! Clerk JSON objects that core itself must produce (webhook event payloads are written in the same transaction
//! as the change). The API layer re-exports them from `tessera_api::objects`.

pub mod email_address;
pub mod organization;
pub mod organization_domain;
pub mod organization_invitation;
pub mod phone_number;
pub mod session;
pub mod user;
pub mod waitlist_entry;
pub mod web3_wallet;
