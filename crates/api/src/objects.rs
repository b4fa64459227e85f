//! Clerk JSON objects, shared across route groups.

pub mod api_key;
