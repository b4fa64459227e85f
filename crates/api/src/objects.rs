//! Clerk JSON objects, shared across route groups.

pub mod m2m_token;
pub mod machine;
