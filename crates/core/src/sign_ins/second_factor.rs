//! The second factor of a sign-in: `prepare_second_factor` (a code to a second-factor phone) and
//! `attempt_second_factor` (`totp`, `backup_code`, `phone_code`), which completes the attempt.

use tessera_store::sign_ins as store;

use super::factors::{
    Attempt, Prepare, Slot, attempt_code, code_incorrect, ensure_due, load, parse_strategy, pick, send_code, slot,
    strategy_invalid,
};
use super::{SignIn, complete_tx, gate, not_found, view};
use crate::instances::Instance;
use crate::sessions::SessionOptions;
use crate::users::credentials::{self, CodeType};
use crate::{Ctx, Error, ErrorCode, Result};

/// `POST /v1/client/sign_ins/{id}/prepare_second_factor`: sends a code to a second-factor phone (`phone_code`);
/// TOTP and backup codes need no preparation.
pub async fn prepare_second_factor(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    id: &str,
    input: Prepare,
) -> Result<SignIn> {
    let strategy = parse_strategy(input.strategy.as_deref(), &["phone_code", "totp", "backup_code"])?;
    let (row, user) = load(ctx, &instance.id, client_id, id).await?;
    ensure_due(&row, Slot::Second, ctx.now_ms())?;
    gate(&user)?;
    match strategy {
        "phone_code" => {
            let candidates: Vec<_> = user.phone_numbers.iter().filter(|p| p.reserved_for_second_factor).collect();
            let default = candidates.iter().find(|p| p.default_second_factor).map(|p| p.id.clone());
            let asked = input.phone_number_id.as_deref();
            let to = pick(candidates, asked, "phone_number_id", None, default.as_deref())?;
            send_code(ctx, instance, client_id, id, Slot::Second, strategy, to).await
        }
        "totp" if user.totp_enabled => view(ctx, row).await,
        "backup_code" if user.backup_code_enabled => view(ctx, row).await,
        _ => Err(strategy_invalid()),
    }
}

/// `POST /v1/client/sign_ins/{id}/attempt_second_factor`.
pub async fn attempt_second_factor(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    id: &str,
    input: Attempt,
) -> Result<SignIn> {
    let strategy = parse_strategy(input.strategy.as_deref(), &["totp", "backup_code", "phone_code"])?;
    let (row, user) = load(ctx, &instance.id, client_id, id).await?;
    ensure_due(&row, Slot::Second, ctx.now_ms())?;
    gate(&user)?;
    let kind = match strategy {
        "phone_code" => {
            return attempt_code(ctx, instance, client_id, id, Slot::Second, strategy, input.code, &user).await;
        }
        "totp" if user.totp_enabled => CodeType::Totp,
        "backup_code" if user.backup_code_enabled => CodeType::BackupCode,
        _ => return Err(strategy_invalid()),
    };
    let code = input.code.filter(|c| !c.trim().is_empty()).ok_or_else(|| Error::param_missing("code"))?;
    if code.len() > 64 {
        return Err(code_incorrect());
    }
    match credentials::verify_second_factor(ctx, &instance.id, &user.id, code, Some(kind)).await {
        Ok(_) => {}
        Err(e) if e.code() == ErrorCode::FormCodeIncorrect => return Err(code_incorrect()),
        Err(e) if e.code() == ErrorCode::TotpNotEnabled => return Err(strategy_invalid()),
        Err(e) => return Err(e),
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut client = crate::browser_clients::lock(&mut tx, &instance.id, client_id).await?;
    let mut row = store::lock(&mut tx, &instance.id, client_id, id).await?.ok_or_else(not_found)?;
    ensure_due(&row, Slot::Second, now)?;
    let c = slot(&mut row, Slot::Second);
    *c.strategy = Some(strategy.to_owned());
    *c.identification_id = None;
    *c.digest = None;
    *c.status = Some("verified".into());
    *c.expire_at = None;
    let first = row.ff_strategy.clone().unwrap_or_else(|| strategy.to_owned());
    let opts = SessionOptions { second_factor_verified: true, ..SessionOptions::default() };
    complete_tx(ctx, &mut tx, &mut client, &mut row, &first, opts, now).await?;
    tx.commit().await?;
    view(ctx, row).await
}
