//! `user`, `email_address`, `phone_number` and `web3_wallet` objects (and the user-related answers: deleted user,
//! total count).
//!
//! Typed in core beside the domain user (webhook payloads need them inside transactions); re-exported here.

pub use tessera_core::users::objects::*;

use crate::json::Json;
use axum::body::Bytes;
use axum::response::{IntoResponse as _, Response};
use tessera_core::users::{Identification, User};

/// A user as the answer of an operation, serialized straight into the body.
pub fn user(u: &User, base: &str) -> Response {
    Json(UserObject::new(u, base)).into_response()
}

/// A user's object as JSON, image URLs absolute under `base`: how the cache of rendered users
/// (`tessera_core::users::get_user_rendered`) renders it.
pub fn render_user(u: &User, base: &str) -> tessera_core::Result<Bytes> {
    sonic_rs::to_vec(&UserObject::new(u, base)).map(Bytes::from).map_err(tessera_core::Error::internal)
}

/// Rendered user objects as a bare array (the user list).
pub fn rendered_users(bodies: &[Bytes]) -> Response {
    let mut array = Vec::with_capacity(2 + bodies.iter().map(|b| b.len() + 1).sum::<usize>());
    array.push(b'[');
    for (i, body) in bodies.iter().enumerate() {
        if i > 0 {
            array.push(b',');
        }
        array.extend_from_slice(body);
    }
    array.push(b']');
    crate::json::serialized(array)
}

/// Users as a bare array (bulk bans), serialized straight into the body.
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
