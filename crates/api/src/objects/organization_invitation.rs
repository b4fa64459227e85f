//! `organization_invitation` objects.
//!
//! Built in core (webhook payloads need them inside transactions); re-exported here.

pub use tessera_core::objects::organization_invitation::*;
