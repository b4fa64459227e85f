//! Clerk JSON objects, shared across route groups.

pub mod domain;
pub mod instance;
