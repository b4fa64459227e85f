//! `user`, `email_address`, `phone_number` and `web3_wallet` objects (and the user-related answers: deleted user,
//! total count).
//!
//! Typed in core beside the domain user (webhook payloads need them inside transactions); re-exported here.

pub use tessera_core::users::objects::*;

use crate::json::Json;
use axum::response::{IntoResponse as _, Response};
use tessera_core::users::{Identification, User};

/// A user as the answer of an operation, serialized straight into the body.
pub fn user(u: &User, base: &str) -> Response {
    Json(UserObject::new(u, base)).into_response()
}

/// Users as a bare array (the user list, bulk bans), serialized straight into the body.
pub fn users(list: &[User], base: &str) -> Response {
    Json(list.iter().map(|u| UserObject::new(u, base)).collect::<Vec<_>>()).into_response()
}

/// An email address as the answer of an operation.
pub fn email_address(e: &Identification) -> Response {
    Json(EmailAddressObject::new(e)).into_response()
}

/// A phone number as the answer of an operation.
pub fn phone_number(p: &Identification) -> Response {
    Json(PhoneNumberObject::new(p)).into_response()
}
