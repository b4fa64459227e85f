//! `permission` objects (built in core, where webhook payloads need them too).

pub use tessera_core::objects::organization::permission;
