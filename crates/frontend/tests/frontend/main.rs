//! Frontend API integration tests: every answer is validated against the FAPI spec of the requested version.
//! Run on SQLite by default, on PostgreSQL with `TESSERA_TEST_DATABASE_URL=postgres://…`.

mod clerk_js;
mod client;
mod contract;
mod environment;
mod handshake;
mod pages;
mod sessions;
mod sign_ins;
