//! The `DeletedObject` answer of delete operations.

use serde::Serialize;

/// `{object, id, deleted: true}`.
#[derive(Debug, Serialize)]
pub struct DeletedObject<'a> {
    object: &'a str,
    id: &'a str,
    deleted: bool,
}

impl<'a> DeletedObject<'a> {
    /// The deleted `object` with this id.
    pub fn new(object: &'a str, id: &'a str) -> Self {
        Self { object, id, deleted: true }
    }
}
