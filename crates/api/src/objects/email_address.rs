//! `email_address` objects, and the verification sub-objects every identification carries.
//!
//! Built in core (webhook payloads need them inside transactions); re-exported here.

pub use tessera_core::objects::email_address::*;
