//! Profile images: uploaded through the API, stored in the database, served back at the user's `image_url`.

use super::{User, get_user, not_found};
use crate::events::EventType;
use crate::{Ctx, Error, Result};

/// Largest image accepted (Clerk's limit for uploaded images).
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// The content type of an image, from its first bytes: JPEG, PNG, GIF or WebP only.
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Sets a user's profile image; `None` deletes it.
pub async fn set_profile_image(ctx: &Ctx, instance_id: &str, id: &str, data: Option<Vec<u8>>) -> Result<User> {
    let image = match &data {
        None => None,
        Some(bytes) => {
            if bytes.len() > MAX_IMAGE_BYTES {
                return Err(Error::param_value_invalid("file", "The file size cannot exceed 10MB."));
            }
            let content_type = sniff(bytes).ok_or_else(|| {
                Error::param_value_invalid(
                    "file",
                    "Only image/jpeg, image/png, image/gif and image/webp are supported.",
                )
            })?;
            Some((crate::ids::new_id("img"), content_type))
        }
    };
    let mut tx = ctx.db.begin().await?;
    tessera_store::users::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    let stored = match (&image, &data) {
        (Some((img, ct)), Some(bytes)) => Some((img.as_str(), *ct, bytes.as_slice())),
        _ => None,
    };
    tessera_store::user_mfa::set_image(&mut tx, instance_id, id, stored, ctx.now_ms()).await?;
    super::emit_user(ctx, &mut tx, instance_id, id, EventType::UserUpdated).await?;
    tx.commit().await?;
    get_user(ctx, instance_id, id).await
}

/// A stored image by id: `(content_type, bytes)`. Image ids are unguessable, and like Clerk's image URLs they
/// are served without authentication.
pub async fn image(ctx: &Ctx, image_id: &str) -> Result<(String, Vec<u8>)> {
    tessera_store::user_mfa::image(&ctx.db, image_id).await?.ok_or_else(|| Error::not_found("image"))
}
