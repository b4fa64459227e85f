//! Clerk JSON objects, shared across route groups.

pub mod api_key;
pub mod domain;
pub mod instance;
