//! Sign-in attempts (`sign_in_attempt`) on a browser's client, the Frontend API's sign-in flow:
//!
//! - created with an `identifier` (email address, phone number or username of a user) → `needs_first_factor`;
//!   with `strategy=password` + `password` in the same call the first factor is checked at once; with
//!   `strategy=ticket` + `ticket` a Backend API sign-in token or actor token is redeemed ([`crate::tickets`]);
//! - first factor ([`factors`]): `password`, `email_code`, `phone_code`; second factor when the user has one:
//!   `totp`, `backup_code`, `phone_code`;
//! - complete: in one transaction the attempt becomes `complete`, names the session it opened on the client
//!   ([`crate::browser_clients::open_session_with_tx`]) and leaves the client (Clerk shows `sign_in: null` after
//!   completion).
//!
//! Password and code failures count toward the user's lockout ([`crate::users::lockout`]); codes are six digits,
//! ten minutes, five attempts, stored only as keyed digests and compared in constant time. In test mode,
//! `+clerk_test` e-mail addresses and `+1XXX55501XX` phone numbers take the code `424242` and get no message.
//! Only one session per client in single-session mode (the default): signing in again is `session_exists`; in
//! multi-session mode the new session joins the others and becomes the client's active one. An attempt not
//! complete [`ABANDON_AFTER_MS`] after its creation is `abandoned`.

pub mod factors;
pub mod reset_password;
pub mod second_factor;

use tessera_store::Tx;
use tessera_store::browser_clients::BrowserClientRow;
use tessera_store::sign_ins::{self as store, SignInRow};

use crate::enterprise_sso::Attempt;
use crate::instances::Instance;
use crate::sessions::SessionOptions;
use crate::users::{User, identifiers};
use crate::{Ctx, Error, ErrorCode, Result, ids};

/// An attempt not complete this long after its creation is abandoned (Clerk: 24 hours).
pub const ABANDON_AFTER_MS: i64 = 24 * 3600 * 1000;
pub use crate::users::verification::TEST_CODE;
/// Longest identifier looked up.
const MAX_IDENTIFIER: usize = 256;
/// Longest password checked (argon2 input bound; longer ones cannot be a user's).
const MAX_PASSWORD: usize = 1024;

/// Statuses as the API shows them.
pub mod status {
    /// Created without an identifier.
    pub const NEEDS_IDENTIFIER: &str = "needs_identifier";
    /// The user is known; a first factor is due.
    pub const NEEDS_FIRST_FACTOR: &str = "needs_first_factor";
    /// The first factor is verified; the user has a second factor.
    pub const NEEDS_SECOND_FACTOR: &str = "needs_second_factor";
    /// A reset-password code was verified; the new password is due.
    pub const NEEDS_NEW_PASSWORD: &str = "needs_new_password";
    /// A session was opened.
    pub const COMPLETE: &str = "complete";
    /// Not complete by `abandon_at`.
    pub const ABANDONED: &str = "abandoned";
}

/// A factor a sign-in can be verified with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Factor {
    /// `password`, `email_code`, `phone_code`, `totp`, `backup_code`.
    pub strategy: &'static str,
    /// The identifier, masked unless it is the one the user typed.
    pub safe_identifier: Option<String>,
    /// For `email_code`.
    pub email_address_id: Option<String>,
    /// For `phone_code`.
    pub phone_number_id: Option<String>,
    /// Whether the identification is the user's primary one (code factors).
    pub primary: Option<bool>,
    /// Whether the phone is the default second factor.
    pub default: Option<bool>,
}

/// The state of a factor's verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorVerification {
    /// The strategy.
    pub strategy: String,
    /// `unverified`, `verified`, `failed` or `expired`.
    pub status: String,
    /// Attempts on the current code (code strategies).
    pub attempts: Option<i64>,
    /// Expiry of the current code, Unix ms.
    pub expire_at: Option<i64>,
    /// Where the browser goes to verify (enterprise SSO: the IdP, while the request is pending).
    pub external_verification_redirect_url: Option<String>,
}

/// What the sign-in shows of its user before completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserData {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Profile image id.
    pub image_id: Option<String>,
}

/// A sign-in attempt as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// `sia_…`
    pub id: String,
    /// See [`status`].
    pub status: &'static str,
    /// The identifier as given.
    pub identifier: Option<String>,
    /// First factors the user has (null before the user is known).
    pub supported_first_factors: Option<Vec<Factor>>,
    /// Second factors the user has (null unless the user has one).
    pub supported_second_factors: Option<Vec<Factor>>,
    /// The current first-factor verification.
    pub first_factor_verification: Option<FactorVerification>,
    /// The current second-factor verification.
    pub second_factor_verification: Option<FactorVerification>,
    /// The user's public data.
    pub user_data: Option<UserData>,
    /// The session it opened.
    pub created_session_id: Option<String>,
    /// Unix ms.
    pub abandon_at: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// 404 for a sign-in (also another client's).
pub fn not_found() -> Error {
    Error::not_found("sign in")
}

/// The attempt's status at `now`.
fn effective_status(row: &SignInRow, now: i64) -> &'static str {
    match row.status.as_str() {
        status::COMPLETE => status::COMPLETE,
        _ if now >= row.abandon_at => status::ABANDONED,
        status::NEEDS_FIRST_FACTOR => status::NEEDS_FIRST_FACTOR,
        status::NEEDS_SECOND_FACTOR => status::NEEDS_SECOND_FACTOR,
        status::NEEDS_NEW_PASSWORD => status::NEEDS_NEW_PASSWORD,
        _ => status::NEEDS_IDENTIFIER,
    }
}

fn verification(
    strategy: &Option<String>,
    status: &Option<String>,
    attempts: i64,
    expire_at: Option<i64>,
) -> Option<FactorVerification> {
    let strategy = strategy.clone()?;
    let code = strategy.ends_with("_code") && strategy != "backup_code";
    Some(FactorVerification {
        status: status.clone().unwrap_or_else(|| "unverified".into()),
        attempts: code.then_some(attempts),
        expire_at: if code { expire_at } else { None },
        strategy,
        external_verification_redirect_url: None,
    })
}

/// The masked form of an identifier the user did not type (`j***@example.com`, `+*******0100`).
fn mask(value: &str) -> String {
    if let Some((local, domain)) = value.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let n = value.chars().count();
    value.chars().enumerate().map(|(i, c)| if i < 2 || i + 4 >= n { c } else { '*' }).collect()
}

fn safe_identifier(value: &str, typed: Option<&str>) -> String {
    match typed {
        Some(t) if t.trim().eq_ignore_ascii_case(value) || identifiers::phone_key(t) == value => value.to_owned(),
        _ => mask(value),
    }
}

/// The first factors of a user: password (if set), then a code to each verified e-mail address and phone number,
/// then (with a password) a reset-password code to each.
pub fn first_factors(user: &User, typed: Option<&str>) -> Vec<Factor> {
    let mut out = Vec::new();
    if user.password_enabled {
        out.push(Factor {
            strategy: "password",
            safe_identifier: None,
            email_address_id: None,
            phone_number_id: None,
            primary: None,
            default: None,
        });
    }
    let verified = |i: &&crate::users::Identification| i.verification.as_ref().is_some_and(|v| v.status == "verified");
    for e in user.email_addresses.iter().filter(verified) {
        out.push(Factor {
            strategy: "email_code",
            safe_identifier: Some(safe_identifier(&e.value, typed)),
            email_address_id: Some(e.id.clone()),
            phone_number_id: None,
            primary: Some(user.primary_email_address_id.as_deref() == Some(&e.id)),
            default: None,
        });
    }
    for p in user.phone_numbers.iter().filter(verified) {
        out.push(Factor {
            strategy: "phone_code",
            safe_identifier: Some(safe_identifier(&p.value, typed)),
            email_address_id: None,
            phone_number_id: Some(p.id.clone()),
            primary: Some(user.primary_phone_number_id.as_deref() == Some(&p.id)),
            default: None,
        });
    }
    if user.password_enabled {
        let resets: Vec<Factor> = out
            .iter()
            .filter_map(|f| {
                let strategy = match f.strategy {
                    "email_code" => "reset_password_email_code",
                    "phone_code" => "reset_password_phone_code",
                    _ => return None,
                };
                Some(Factor { strategy, ..f.clone() })
            })
            .collect();
        out.extend(resets);
    }
    out
}

/// The second factors of a user (empty: no second factor).
pub fn second_factors(user: &User) -> Vec<Factor> {
    let bare = |strategy| Factor {
        strategy,
        safe_identifier: None,
        email_address_id: None,
        phone_number_id: None,
        primary: None,
        default: None,
    };
    let mut out = Vec::new();
    if user.totp_enabled {
        out.push(bare("totp"));
    }
    for p in user.phone_numbers.iter().filter(|p| p.reserved_for_second_factor) {
        out.push(Factor {
            safe_identifier: Some(mask(&p.value)),
            phone_number_id: Some(p.id.clone()),
            default: Some(p.default_second_factor),
            ..bare("phone_code")
        });
    }
    if user.backup_code_enabled {
        out.push(bare("backup_code"));
    }
    out
}

async fn view(ctx: &Ctx, row: SignInRow) -> Result<SignIn> {
    let now = ctx.now_ms();
    let user = match &row.user_id {
        Some(uid) => match crate::users::get_user(ctx, &row.instance_id, uid).await {
            Ok(u) => Some(u),
            Err(e) if e.status() == 404 => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let second = user.as_ref().map(second_factors).filter(|f| !f.is_empty());
    let mut first_factor_verification =
        verification(&row.ff_strategy, &row.ff_status, row.ff_attempts, row.ff_expire_at);
    if let Some(v) = first_factor_verification
        .as_mut()
        .filter(|v| v.strategy == crate::enterprise_sso::VERIFICATION_STRATEGY && v.status == "unverified")
    {
        v.external_verification_redirect_url =
            crate::enterprise_sso::pending_redirect(ctx, &row.instance_id, &row.id).await?;
    }
    Ok(SignIn {
        status: effective_status(&row, now),
        supported_first_factors: user.as_ref().map(|u| first_factors(u, row.identifier.as_deref())),
        supported_second_factors: second,
        first_factor_verification,
        second_factor_verification: verification(&row.sf_strategy, &row.sf_status, row.sf_attempts, row.sf_expire_at),
        user_data: user.map(|u| UserData { first_name: u.first_name, last_name: u.last_name, image_id: u.image_id }),
        id: row.id,
        identifier: row.identifier,
        created_session_id: row.created_session_id,
        abandon_at: row.abandon_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// `GET /v1/client/sign_ins/{id}`: a sign-in of this client (another client's is a 404).
pub async fn get(ctx: &Ctx, instance_id: &str, client_id: &str, id: &str) -> Result<SignIn> {
    if id.len() > 64 {
        return Err(not_found());
    }
    let row = store::get(&ctx.db, instance_id, client_id, id).await?.ok_or_else(not_found)?;
    view(ctx, row).await
}

/// The sign-in in progress on a client (none once complete or abandoned).
pub async fn in_progress(ctx: &Ctx, instance_id: &str, client_id: &str, id: Option<&str>) -> Result<Option<SignIn>> {
    let Some(id) = id else { return Ok(None) };
    let Some(row) = store::get(&ctx.db, instance_id, client_id, id).await? else { return Ok(None) };
    if matches!(effective_status(&row, ctx.now_ms()), status::COMPLETE | status::ABANDONED) {
        return Ok(None);
    }
    Ok(Some(view(ctx, row).await?))
}

/// The user an identifier names: a verified e-mail address, a verified phone number, or a username.
pub async fn find_user(ctx: &Ctx, instance_id: &str, identifier: &str) -> Result<Option<String>> {
    let id = identifier.trim();
    if id.is_empty() || id.len() > MAX_IDENTIFIER || id.chars().any(char::is_control) {
        return Ok(None);
    }
    if id.contains('@') {
        let key = identifiers::email_key(id);
        return Ok(store::user_by_identification(&ctx.db, instance_id, identifiers::EMAIL, &key).await?);
    }
    let phone = identifiers::phone_key(id);
    if phone.starts_with('+')
        && let Some(u) = store::user_by_identification(&ctx.db, instance_id, identifiers::PHONE, &phone).await?
    {
        return Ok(Some(u));
    }
    Ok(store::user_by_username(&ctx.db, instance_id, &identifiers::username_key(id)).await?)
}

/// For an invitation's ticket ([`crate::invitation_tickets`]), the pending invitation and the user who holds its
/// (verified) address, allowed to sign in; `None` for other tickets. No such user is `invitation_account_not_exists`
/// (clerk-js then takes the ticket to sign-up).
async fn invited_user(ctx: &Ctx, instance: &Instance, ticket: &str) -> Result<Option<(String, String)>> {
    if crate::invitation_tickets::parse(ctx, &instance.id, ticket)?.is_none() {
        return Ok(None);
    }
    let invited = crate::invitation_tickets::pending(ctx, &instance.id, ticket).await?;
    let key = identifiers::email_key(&invited.email_address);
    let user_id = store::user_by_identification(&ctx.db, &instance.id, identifiers::EMAIL, &key)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::InvitationAccountNotExists))?;
    gate(&crate::users::get_user(ctx, &instance.id, &user_id).await?)?;
    Ok(Some((invited.id, user_id)))
}

/// Whether a banned or locked user may not sign in now.
pub(crate) fn gate(user: &User) -> Result<()> {
    if user.banned {
        return Err(Error::new(ErrorCode::UserBanned));
    }
    if user.deprovisioned {
        return Err(Error::new(ErrorCode::UserDeprovisioned));
    }
    if user.lock.locked {
        return Err(user.lock.error());
    }
    Ok(())
}

/// Single-session mode: a client with a live session cannot sign in again (in multi-session mode it adds a
/// session).
async fn ensure_signed_out_tx(tx: &mut Tx, instance_id: &str, client_id: &str, now: i64) -> Result<()> {
    if !crate::settings::session_settings_tx(tx, instance_id).await?.single_session_mode {
        return Ok(());
    }
    if !tessera_store::sessions::live_client_sessions_tx(tx, instance_id, client_id, now).await?.is_empty() {
        return Err(Error::new(ErrorCode::SessionExists));
    }
    Ok(())
}

/// Completes `row` inside the caller's transaction (which holds `client`, locked): opens the session, names it
/// on the attempt, and takes the attempt off the client.
async fn complete_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    client: &mut BrowserClientRow,
    row: &mut SignInRow,
    strategy: &str,
    opts: SessionOptions,
    now: i64,
) -> Result<()> {
    let user_id = row.user_id.clone().ok_or_else(not_found)?;
    ensure_signed_out_tx(tx, &row.instance_id, &client.id, now).await?;
    if client.sign_in_id.as_deref() == Some(&row.id) {
        client.sign_in_id = None;
    }
    let session = crate::browser_clients::open_session_with_tx(ctx, tx, client, &user_id, strategy, opts, now).await?;
    row.status = status::COMPLETE.into();
    row.created_session_id = Some(session.id);
    row.updated_at = now;
    store::update(tx, row).await?;
    Ok(())
}

/// Input of `POST /v1/client/sign_ins`.
#[derive(Debug, Default)]
pub struct NewSignIn {
    /// E-mail address, phone number or username.
    pub identifier: Option<String>,
    /// `password`, `ticket`, `email_code`, `phone_code` (or none).
    pub strategy: Option<String>,
    /// With `strategy=password`.
    pub password: Option<String>,
    /// With `strategy=ticket`.
    pub ticket: Option<String>,
    /// With `strategy=enterprise_sso|saml`: where the browser returns, and the Frontend API base URL.
    pub sso: Option<crate::enterprise_sso::Start>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

/// `POST /v1/client/sign_ins` on the client `client_id`.
pub async fn create(ctx: &Ctx, instance: &Instance, client_id: &str, input: NewSignIn) -> Result<SignIn> {
    let strategy = non_empty(input.strategy);
    match strategy.as_deref() {
        None | Some("password" | "ticket" | "email_code" | "phone_code") => {}
        Some(s) if crate::enterprise_sso::STRATEGIES.contains(&s) => {
            let start = input.sso.ok_or_else(|| Error::param_missing("redirect_url"))?;
            return create_sso(ctx, instance, client_id, (input.identifier, s), start).await;
        }
        Some(_) => {
            return Err(Error::param_value_invalid(
                "strategy",
                "strategy must be one of password, ticket, email_code, phone_code, enterprise_sso, saml.",
            ));
        }
    }
    let now = ctx.now_ms();
    // Single-session mode: a signed-in client is refused first (before a password is checked and counted, or a
    // ticket looked at).
    if crate::settings::session_settings(ctx, &instance.id).await?.single_session_mode {
        let sessions = tessera_store::sessions::sessions_of_client(&ctx.db, &instance.id, client_id).await?;
        if sessions
            .into_iter()
            .any(|s| crate::sessions::Session::from_row(s, now).status == crate::sessions::status::ACTIVE)
        {
            return Err(Error::new(ErrorCode::SessionExists));
        }
    }
    let mut row = SignInRow {
        id: ids::new_id("sia"),
        instance_id: instance.id.clone(),
        client_id: client_id.to_owned(),
        status: status::NEEDS_IDENTIFIER.into(),
        abandon_at: now + ABANDON_AFTER_MS,
        created_at: now,
        updated_at: now,
        ..SignInRow::default()
    };
    if strategy.as_deref() == Some("ticket") {
        let ticket = non_empty(input.ticket).ok_or_else(|| Error::param_missing("ticket"))?;
        let invited = invited_user(ctx, instance, &ticket).await?;
        let mut tx = ctx.db.begin().await?;
        let mut client = crate::browser_clients::lock(&mut tx, &instance.id, client_id).await?;
        ensure_signed_out_tx(&mut tx, &instance.id, client_id, now).await?;
        let redeemed = match invited {
            Some((invitation_id, user_id)) => {
                crate::invitation_tickets::accept_tx(ctx, &mut tx, &instance.id, &invitation_id, &user_id, now).await?;
                crate::tickets::Redeemed {
                    instance_id: instance.id.clone(),
                    user_id,
                    actor: None,
                    organization_id: None,
                    session_ms: None,
                }
            }
            None => crate::tickets::redeem_tx(ctx, &mut tx, Some(&instance.id), &ticket, now).await?,
        };
        row.user_id = Some(redeemed.user_id);
        row.ff_strategy = Some("ticket".into());
        row.ff_status = Some("verified".into());
        store::insert(&mut tx, &row).await?;
        let opts = SessionOptions {
            active_organization_id: redeemed.organization_id,
            actor: redeemed.actor,
            lifetime_ms: redeemed.session_ms,
            second_factor_verified: false,
        };
        complete_tx(ctx, &mut tx, &mut client, &mut row, "ticket", opts, now).await?;
        tx.commit().await?;
        return view(ctx, row).await;
    }

    let identifier = input.identifier.filter(|i| !i.trim().is_empty());
    let user = match &identifier {
        None if strategy.is_none() => None,
        None => return Err(Error::param_missing("identifier")),
        Some(ident) => {
            let not_found = || {
                Error::with(
                    ErrorCode::FormIdentifierNotFound,
                    ErrorCode::FormIdentifierNotFound.message(),
                    ErrorCode::FormIdentifierNotFound.long_message(),
                    Some("identifier"),
                )
            };
            let uid = find_user(ctx, &instance.id, ident).await?.ok_or_else(not_found)?;
            let user = crate::users::get_user(ctx, &instance.id, &uid).await.map_err(|_| not_found())?;
            gate(&user)?;
            Some(user)
        }
    };
    if let (Some(u), Some(s @ ("email_code" | "phone_code"))) = (&user, strategy.as_deref()) {
        // Nothing is written for a code the user cannot receive.
        if !first_factors(u, None).iter().any(|f| f.strategy == s) {
            return Err(factors::strategy_invalid());
        }
    }
    if let Some(u) = &user {
        row.status = status::NEEDS_FIRST_FACTOR.into();
        row.user_id = Some(u.id.clone());
        row.identifier = identifier.map(|i| i.trim().to_owned());
    }
    let mut completes = false;
    if strategy.as_deref() == Some("password") {
        let user = user.as_ref().ok_or_else(|| Error::param_missing("identifier"))?;
        let password = non_empty(input.password).ok_or_else(|| Error::param_missing("password"))?;
        factors::check_password(ctx, instance, user, password).await?;
        row.ff_strategy = Some("password".into());
        row.ff_status = Some("verified".into());
        if user.two_factor_enabled {
            row.status = status::NEEDS_SECOND_FACTOR.into();
        } else {
            completes = true;
        }
    }
    let mut tx = ctx.db.begin().await?;
    let mut client = crate::browser_clients::lock(&mut tx, &instance.id, client_id).await?;
    ensure_signed_out_tx(&mut tx, &instance.id, client_id, now).await?;
    store::insert(&mut tx, &row).await?;
    if completes {
        complete_tx(ctx, &mut tx, &mut client, &mut row, "password", SessionOptions::default(), now).await?;
    } else {
        client.sign_in_id = Some(row.id.clone());
        crate::browser_clients::save(&mut tx, &mut client, now).await?;
    }
    tx.commit().await?;
    // `strategy=email_code|phone_code` in the create call also sends the code (to the identifier's address).
    if let Some(s @ ("email_code" | "phone_code")) = strategy.as_deref() {
        let input = factors::Prepare { strategy: Some(s.to_owned()), ..Default::default() };
        return factors::prepare_first_factor(ctx, instance, client_id, &row.id, input).await;
    }
    view(ctx, row).await
}

/// `POST /v1/client/sign_ins` with `strategy=enterprise_sso|saml`: the e-mail address's domain picks the
/// connection; the user need not exist yet (just-in-time provisioning happens at the ACS).
async fn create_sso(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    (identifier, strategy): (Option<String>, &str),
    start: crate::enterprise_sso::Start,
) -> Result<SignIn> {
    let identifier = identifier.map(|i| i.trim().to_owned()).filter(|i| !i.is_empty());
    let identifier = identifier.ok_or_else(|| Error::param_missing("identifier"))?;
    let sso = crate::enterprise_sso::ready(ctx, instance, (&identifier, strategy, "identifier"), start).await?;
    let user_id = find_user(ctx, &instance.id, &identifier).await?;
    if let Some(uid) = &user_id {
        gate(&crate::users::get_user(ctx, &instance.id, uid).await?)?;
    }
    let now = ctx.now_ms();
    let row = SignInRow {
        id: ids::new_id("sia"),
        instance_id: instance.id.clone(),
        client_id: client_id.to_owned(),
        status: status::NEEDS_FIRST_FACTOR.into(),
        identifier: Some(identifier),
        user_id,
        ff_strategy: Some(crate::enterprise_sso::VERIFICATION_STRATEGY.into()),
        ff_status: Some("unverified".into()),
        abandon_at: now + ABANDON_AFTER_MS,
        created_at: now,
        updated_at: now,
        ..SignInRow::default()
    };
    let mut tx = ctx.db.begin().await?;
    let mut client = crate::browser_clients::lock(&mut tx, &instance.id, client_id).await?;
    ensure_signed_out_tx(&mut tx, &instance.id, client_id, now).await?;
    store::insert(&mut tx, &row).await?;
    let attempt = Attempt::SignIn { id: &row.id, client_id };
    let url = sso.start_tx(ctx, &mut tx, instance, attempt, row.identifier.as_deref()).await?;
    client.sign_in_id = Some(row.id.clone());
    crate::browser_clients::save(&mut tx, &mut client, now).await?;
    tx.commit().await?;
    with_redirect(view(ctx, row).await?, url)
}

/// `prepare_first_factor` with `strategy=enterprise_sso|saml`: a new request to the identifier's connection.
pub(crate) async fn prepare_sso(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    id: &str,
    strategy: &str,
    start: crate::enterprise_sso::Start,
) -> Result<SignIn> {
    let row = store::get(&ctx.db, &instance.id, client_id, id).await?.ok_or_else(not_found)?;
    if effective_status(&row, ctx.now_ms()) != status::NEEDS_FIRST_FACTOR {
        return Err(factors::strategy_invalid());
    }
    let identifier = row.identifier.clone().ok_or_else(|| Error::param_missing("identifier"))?;
    let sso = crate::enterprise_sso::ready(ctx, instance, (&identifier, strategy, "identifier"), start).await?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock(&mut tx, &instance.id, client_id, id).await?.ok_or_else(not_found)?;
    if effective_status(&row, now) != status::NEEDS_FIRST_FACTOR {
        return Err(factors::strategy_invalid());
    }
    row.ff_strategy = Some(crate::enterprise_sso::VERIFICATION_STRATEGY.into());
    row.ff_status = Some("unverified".into());
    row.ff_identification_id = None;
    row.ff_code_digest = None;
    row.ff_attempts = 0;
    row.ff_expire_at = None;
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    let attempt = Attempt::SignIn { id: &row.id, client_id };
    let url = sso.start_tx(ctx, &mut tx, instance, attempt, Some(&identifier)).await?;
    tx.commit().await?;
    with_redirect(view(ctx, row).await?, url)
}

/// The sign-in with the IdP URL its new request sends the browser to (an OIDC request's URL is not kept: it
/// carries the `state`, which is stored only as a digest).
fn with_redirect(mut s: SignIn, url: String) -> Result<SignIn> {
    if let Some(v) = s.first_factor_verification.as_mut() {
        v.external_verification_redirect_url = Some(url);
    }
    Ok(s)
}

/// Completes an SSO sign-in the IdP's verified answer, inside its transaction (the user is gated as at any sign-in).
pub(crate) async fn complete_sso_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    client: &mut BrowserClientRow,
    row: &mut SignInRow,
    now: i64,
) -> Result<()> {
    let user_id = row.user_id.clone().ok_or_else(not_found)?;
    if let Some(user) = crate::users::get_user_tx(ctx, tx, &row.instance_id, &user_id).await? {
        gate(&user)?;
    }
    complete_tx(ctx, tx, client, row, crate::enterprise_sso::VERIFICATION_STRATEGY, SessionOptions::default(), now)
        .await
}
