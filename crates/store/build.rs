//! `sqlx::migrate!` embeds the migration files at compile time, but on stable Rust a proc macro cannot tell Cargo
//! which files it read: without this, a new or edited migration is not picked up until some `.rs` file of the crate
//! changes (the build script sqlx's documentation recommends).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
