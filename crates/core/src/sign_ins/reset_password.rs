//! `reset_password`: the new password of a sign-in whose reset-password code was verified.

use tessera_store::sign_ins as store;
use tessera_store::user_mfa;

use super::factors::{load, strategy_invalid};
use super::{SignIn, complete_tx, gate, not_found, status, view};
use crate::instances::Instance;
use crate::sessions::SessionOptions;
use crate::{Ctx, Error, ErrorCode, Result};

/// `POST /v1/client/sign_ins/{id}/reset_password`: after a verified reset-password code, sets the user's new
/// password (checked against the password policy) and, optionally, ends the user's other sessions; then the
/// second factor is due or the attempt completes — all in one transaction.
pub async fn reset_password(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    id: &str,
    password: Option<String>,
    sign_out_of_other_sessions: bool,
) -> Result<SignIn> {
    let (row, user) = load(ctx, &instance.id, client_id, id).await?;
    let current = super::effective_status(&row, ctx.now_ms());
    if current != status::NEEDS_NEW_PASSWORD {
        return Err(match current {
            status::COMPLETE | status::ABANDONED => Error::new(ErrorCode::SignInCannotBeUpdated),
            _ => strategy_invalid(),
        });
    }
    gate(&user)?;
    let password = password.filter(|p| !p.is_empty()).ok_or_else(|| Error::param_missing("password"))?;
    let hibp = crate::settings::instance_config(ctx, &instance.id).await?.hibp;
    crate::users::passwords::check_policy("password", &password, hibp, false)?;
    let digest = crate::users::passwords::hash(password).await?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut client = crate::browser_clients::lock(&mut tx, &instance.id, client_id).await?;
    let mut row = store::lock(&mut tx, &instance.id, client_id, id).await?.ok_or_else(not_found)?;
    if super::effective_status(&row, now) != status::NEEDS_NEW_PASSWORD {
        return Err(Error::new(ErrorCode::SignInCannotBeUpdated));
    }
    tessera_store::users::lock(&mut tx, &instance.id, &user.id).await?.ok_or_else(crate::users::not_found)?;
    user_mfa::set_password(
        &mut tx,
        &instance.id,
        &user.id,
        Some((&digest, crate::users::hashers::Hasher::Argon2id.as_str())),
        now,
    )
    .await?;
    user_mfa::clear_expired_lock(&mut tx, &instance.id, &user.id, now).await?;
    user_mfa::reset_failed_attempts(&mut tx, &instance.id, &user.id).await?;
    crate::users::emit_user(ctx, &mut tx, &instance.id, &user.id, crate::events::EventType::UserUpdated).await?;
    if sign_out_of_other_sessions {
        let ids = [user.id.clone()];
        crate::sessions::end_sessions_of_users(ctx, &mut tx, &instance.id, &ids, crate::sessions::status::ENDED, now)
            .await?;
    }
    let strategy = row.ff_strategy.clone().unwrap_or_else(|| "reset_password_email_code".into());
    if user.two_factor_enabled {
        row.status = status::NEEDS_SECOND_FACTOR.into();
        row.updated_at = now;
        store::update(&mut tx, &row).await?;
    } else {
        complete_tx(ctx, &mut tx, &mut client, &mut row, &strategy, SessionOptions::default(), now).await?;
    }
    tx.commit().await?;
    view(ctx, row).await
}
