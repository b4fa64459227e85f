//! `user` objects (and the user-related answers: deleted user, total count).
//!
//! Built in core (webhook payloads need them inside transactions); re-exported here.

pub use tessera_core::objects::user::*;
