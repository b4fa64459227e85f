//! Clerk JSON objects that core itself must produce (webhook event payloads are written in the same transaction
//! as the change). The API layer re-exports them from `tessera_api::objects`. User objects live with their domain
//! type, in `crate::users::objects`.

pub mod organization;
pub mod organization_domain;
pub mod organization_invitation;
pub mod session;
pub mod waitlist_entry;
