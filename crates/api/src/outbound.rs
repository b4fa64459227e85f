//! Outbound HTTP for requests whose target an API caller chooses: the core's guarded clients
//! ([`tessera_core::outbound`]), which the enterprise SSO flows use as well.

pub use tessera_core::outbound::{Outbound, body_excerpt, describe};
