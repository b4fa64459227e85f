//! Clerk JSON objects, shared across route groups.
