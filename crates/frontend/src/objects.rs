//! The Frontend API's objects, typed: each serializes itself to the shape the FAPI spec gives it. Nullable
//! fields the spec requires are `Option`s that serialize to `null`.

pub mod client;
pub mod environment;
pub mod mfa;
pub mod organization;
pub mod organization_domain;
pub mod session_reverification;
pub mod sign_in;
pub mod sign_up;
pub mod user;
