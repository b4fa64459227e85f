//! Clerk JSON objects, shared across route groups.

pub mod api_key;
pub mod domain;
pub mod instance;
pub mod m2m_token;
pub mod machine;
