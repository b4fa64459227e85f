//! Sign-up attempts (`sign_up_attempt`) on the browser's client: the Frontend API's sign-up flow and the Backend
//! API's GetSignUp / UpdateSignUp.
//!
//! - `POST /v1/client/sign_ups` creates an attempt on the browser's client (it becomes the client's sign-up in
//!   progress) from `{email_address, phone_number, username, password, first_name, last_name, unsafe_metadata,
//!   legal_accepted, locale}`, each field checked as user creation checks it (and against the allow/block lists and
//!   the identifiers users already hold); `PATCH /v1/client/sign_ups/{id}` fills in what is missing;
//! - `…/prepare_verification` `{strategy: email_code|phone_code}` sends a one-time code, `…/attempt_verification`
//!   `{strategy, code}` checks it (see [`verification`]).
//!
//! Only the client an attempt was created on reaches it through the Frontend API. After every change the attempt
//! is assessed against the instance's [`SignUpSettings`]: once no required field is missing (the legal terms
//! included, when the instance requires consent), every email address and phone number given is verified and, when
//! the instance requires it, the custom action has run, it converts — in the same transaction — into a user
//! (verified identifiers, password, names, external id, metadata) with an active session on its browser's client,
//! and becomes `complete`. An attempt not complete [`ABANDON_AFTER_MS`] after its creation is `abandoned`; complete
//! and abandoned attempts cannot change any more (`sign_up_cannot_be_updated`).

pub mod sso;
mod ticket;
pub mod verification;

use serde_json::{Map, Value};
use tessera_store::Tx;
use tessera_store::sign_ups::{self as store, SignUpRow, SignUpVerificationRow, UserColumn};

use crate::browser_clients;
use crate::settings::SignUpSettings;
use crate::users::{identifiers, passwords};
use crate::{Ctx, Error, ErrorCode, Result, ids};

/// An attempt not complete this long after its creation is abandoned (Clerk: 24 hours).
pub const ABANDON_AFTER_MS: i64 = 24 * 3600 * 1000;

/// Statuses as the API shows them.
pub mod status {
    /// Something is missing, unverified, or the custom action has not run.
    pub const MISSING_REQUIREMENTS: &str = "missing_requirements";
    /// Converted into a user and a session.
    pub const COMPLETE: &str = "complete";
    /// Not complete by `abandon_at`.
    pub const ABANDONED: &str = "abandoned";
}

/// The state of the code verification of an email address or phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldVerification {
    /// `unverified` (also before any code was sent), `verified`, `failed` or `expired`.
    pub status: String,
    /// `email_code` / `phone_code`.
    pub strategy: &'static str,
    /// Attempts made on the current code (`None` before any code was sent).
    pub attempts: Option<i64>,
    /// Expiry of the current code, Unix ms.
    pub expire_at: Option<i64>,
    /// `needs_prepare`, `needs_attempt` or `""` (verified).
    pub next_action: &'static str,
}

/// The external-account verification of an enterprise SSO sign-up ([`sso`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalVerification {
    /// `unverified` until the IdP's answer is verified, then `verified`.
    pub status: String,
    /// `saml` (the Frontend API's `verification_saml` knows only this strategy, for OIDC connections too).
    pub strategy: &'static str,
    /// Until when the IdP may answer, Unix ms.
    pub expire_at: i64,
    /// The IdP URL to send the browser to (in the answer that starts the flow).
    pub redirect_url: Option<String>,
}

/// A sign-up attempt as the API shows it.
#[derive(Debug, Clone)]
pub struct SignUp {
    /// `sua_…`
    pub id: String,
    /// See [`status`].
    pub status: &'static str,
    /// The instance's required attributes.
    pub required_fields: Vec<String>,
    /// The instance's optional attributes.
    pub optional_fields: Vec<String>,
    /// Required attributes not given yet.
    pub missing_fields: Vec<String>,
    /// Email address / phone number given but not verified yet.
    pub unverified_fields: Vec<String>,
    /// Verification of the email address, if one was given.
    pub email_verification: Option<FieldVerification>,
    /// Verification of the phone number, if one was given.
    pub phone_verification: Option<FieldVerification>,
    /// Verification of the external account (enterprise SSO sign-ups).
    pub external_verification: Option<ExternalVerification>,
    /// Email address.
    pub email_address: Option<String>,
    /// Phone number.
    pub phone_number: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// A password was given.
    pub password_enabled: bool,
    /// Object.
    pub unsafe_metadata: Value,
    /// Object.
    pub public_metadata: Value,
    /// The custom action has run.
    pub custom_action: bool,
    /// Copied to the user.
    pub external_id: Option<String>,
    /// The session it became.
    pub created_session_id: Option<String>,
    /// The user it became.
    pub created_user_id: Option<String>,
    /// Unix ms.
    pub abandon_at: i64,
    /// Unix ms.
    pub legal_accepted_at: Option<i64>,
    /// BCP-47 tag.
    pub locale: Option<String>,
    /// The browser's client it lives on.
    pub client_id: Option<String>,
}

/// The field a sign-up lists when the instance requires consent to its legal terms.
pub const LEGAL_ACCEPTED: &str = "legal_accepted";

/// 404 for a sign-up.
pub fn not_found() -> Error {
    Error::not_found("sign up")
}

fn cannot_be_updated() -> Error {
    Error::new(ErrorCode::SignUpCannotBeUpdated)
}

/// The attempt's status at `now`.
fn effective_status(row: &SignUpRow, now: i64) -> &'static str {
    if row.status == status::COMPLETE {
        status::COMPLETE
    } else if now >= row.abandon_at {
        status::ABANDONED
    } else {
        status::MISSING_REQUIREMENTS
    }
}

/// Fails with `sign_up_cannot_be_updated` unless the attempt can still change.
fn ensure_open(row: &SignUpRow, now: i64) -> Result<()> {
    if effective_status(row, now) == status::MISSING_REQUIREMENTS { Ok(()) } else { Err(cannot_be_updated()) }
}

/// The verification row of a field, if a code was ever sent for it.
fn verification_of<'a>(verifs: &'a [SignUpVerificationRow], field: &str) -> Option<&'a SignUpVerificationRow> {
    verifs.iter().find(|v| v.field == field)
}

fn is_verified(verifs: &[SignUpVerificationRow], field: &str) -> bool {
    verification_of(verifs, field).is_some_and(|v| v.status == "verified")
}

/// What an attempt lacks under the instance's settings.
struct Assessment {
    missing: Vec<String>,
    unverified: Vec<String>,
    /// Nothing lacks: the attempt converts.
    ready: bool,
}

fn assess(row: &SignUpRow, verifs: &[SignUpVerificationRow], settings: &SignUpSettings) -> Assessment {
    let given = |field: &str| match field {
        identifiers::EMAIL => row.email_address.is_some(),
        identifiers::PHONE => row.phone_number.is_some(),
        "username" => row.username.is_some(),
        "password" => row.password_digest.is_some(),
        "first_name" => row.first_name.is_some(),
        "last_name" => row.last_name.is_some(),
        LEGAL_ACCEPTED => row.legal_accepted_at.is_some(),
        _ => false,
    };
    let missing: Vec<String> = required_fields(settings).into_iter().filter(|f| !given(f.as_str())).collect();
    let unverified: Vec<String> = [identifiers::EMAIL, identifiers::PHONE]
        .into_iter()
        .filter(|f| given(f) && !is_verified(verifs, f))
        .map(str::to_owned)
        .collect();
    let ready = missing.is_empty() && unverified.is_empty() && (!settings.custom_action_required || row.custom_action);
    Assessment { missing, unverified, ready }
}

/// The instance's required fields as a sign-up lists them: the attributes, then `legal_accepted` when consent is
/// required.
fn required_fields(settings: &SignUpSettings) -> Vec<String> {
    let mut fields = settings.required_fields.clone();
    if settings.legal_consent_required {
        fields.push(LEGAL_ACCEPTED.to_owned());
    }
    fields
}

fn field_verification(row: &SignUpRow, verifs: &[SignUpVerificationRow], field: &str) -> Option<FieldVerification> {
    let value = if field == identifiers::EMAIL { &row.email_address } else { &row.phone_number };
    value.as_ref()?;
    let strategy = verification::strategy_of(field);
    Some(match verification_of(verifs, field) {
        Some(v) if v.strategy == ticket::STRATEGY || v.strategy == crate::enterprise_sso::VERIFICATION_STRATEGY => {
            FieldVerification {
                status: v.status.clone(),
                strategy: if v.strategy == ticket::STRATEGY {
                    ticket::STRATEGY
                } else {
                    crate::enterprise_sso::VERIFICATION_STRATEGY
                },
                attempts: None,
                expire_at: None,
                next_action: "",
            }
        }
        None => FieldVerification {
            status: "unverified".into(),
            strategy,
            attempts: None,
            expire_at: None,
            next_action: "needs_prepare",
        },
        Some(v) => FieldVerification {
            next_action: match v.status.as_str() {
                "verified" => "",
                "unverified" => "needs_attempt",
                _ => "needs_prepare",
            },
            status: v.status.clone(),
            strategy,
            attempts: Some(v.attempts),
            expire_at: Some(v.expire_at),
        },
    })
}

fn view(row: SignUpRow, verifs: &[SignUpVerificationRow], settings: SignUpSettings, now: i64) -> SignUp {
    let status = effective_status(&row, now);
    let a = assess(&row, verifs, &settings);
    // A complete attempt lacks nothing, whatever the settings say since.
    let (missing_fields, unverified_fields) =
        if status == status::COMPLETE { (Vec::new(), Vec::new()) } else { (a.missing, a.unverified) };
    SignUp {
        status,
        missing_fields,
        unverified_fields,
        email_verification: field_verification(&row, verifs, identifiers::EMAIL),
        phone_verification: field_verification(&row, verifs, identifiers::PHONE),
        external_verification: verification_of(verifs, sso::EXTERNAL_ACCOUNT).map(|v| ExternalVerification {
            status: v.status.clone(),
            strategy: crate::enterprise_sso::VERIFICATION_STRATEGY,
            expire_at: v.expire_at,
            redirect_url: None,
        }),
        required_fields: required_fields(&settings),
        optional_fields: settings.optional_fields,
        password_enabled: row.password_digest.is_some(),
        unsafe_metadata: crate::users::metadata(&row.unsafe_metadata),
        public_metadata: crate::users::metadata(&row.public_metadata),
        id: row.id,
        email_address: row.email_address,
        phone_number: row.phone_number,
        username: row.username,
        first_name: row.first_name,
        last_name: row.last_name,
        custom_action: row.custom_action,
        external_id: row.external_id,
        created_session_id: row.created_session_id,
        created_user_id: row.created_user_id,
        abandon_at: row.abandon_at,
        legal_accepted_at: row.legal_accepted_at,
        locale: row.locale,
        client_id: row.client_id,
    }
}

/// `GET /sign_ups/{id}` (Backend API): one attempt of the instance, or 404.
pub async fn get_sign_up(ctx: &Ctx, instance_id: &str, id: &str) -> Result<SignUp> {
    let row = store::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    let verifs = store::verifications(&ctx.db, instance_id, id).await?;
    let settings = crate::settings::sign_up_settings(ctx, instance_id).await?;
    Ok(view(row, &verifs, settings, ctx.now_ms()))
}

/// An attempt only if it lives on this client (the Frontend API reaches its own client's attempts only): another
/// client's attempt is as unknown as a missing one.
fn on_client(row: Option<SignUpRow>, client_id: &str) -> Result<SignUpRow> {
    row.filter(|r| r.client_id.as_deref() == Some(client_id)).ok_or_else(not_found)
}

/// `GET /v1/client/sign_ups/{id}` (Frontend API): one attempt of the browser's client, or 404.
pub async fn get_on_client(ctx: &Ctx, instance_id: &str, client_id: &str, id: &str) -> Result<SignUp> {
    on_client(store::get(&ctx.db, instance_id, id).await?, client_id)?;
    get_sign_up(ctx, instance_id, id).await
}

/// Input of [`create_sign_up`] and [`update_on_client`] (the Frontend API's form, already type-checked). `None`
/// (or an empty string) leaves a field as it is.
#[derive(Debug, Default)]
pub struct NewSignUp {
    /// Email address.
    pub email_address: Option<String>,
    /// Phone number (E.164).
    pub phone_number: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Plain password (hashed with argon2id, never stored).
    pub password: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Object.
    pub unsafe_metadata: Option<Map<String, Value>>,
    /// The legal terms were accepted now.
    pub legal_accepted: Option<bool>,
    /// BCP-47 tag.
    pub locale: Option<String>,
    /// An invitation's ticket (`strategy=ticket`): the invited address, verified.
    pub ticket: Option<String>,
}

fn present(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// Refuses identifiers a user of the instance already holds, with CreateUser's error.
async fn ensure_free(ctx: &Ctx, instance_id: &str, row: &SignUpRow) -> Result<()> {
    for (kind, value) in [(identifiers::EMAIL, &row.email_address), (identifiers::PHONE, &row.phone_number)] {
        if let Some(v) = value
            && identifiers::claimed(ctx, instance_id, kind, v).await?
        {
            return Err(Error::identifier_exists(kind));
        }
    }
    if let Some(u) = &row.username
        && store::user_column_taken(&ctx.db, instance_id, UserColumn::Username, &identifiers::username_key(u)).await?
    {
        return Err(Error::identifier_exists("username"));
    }
    ensure_external_id_free(ctx, instance_id, row.external_id.as_deref()).await
}

async fn ensure_external_id_free(ctx: &Ctx, instance_id: &str, external_id: Option<&str>) -> Result<()> {
    if let Some(e) = external_id
        && store::user_column_taken(&ctx.db, instance_id, UserColumn::ExternalId, e).await?
    {
        return Err(Error::identifier_exists("external_id"));
    }
    Ok(())
}

/// Applies the instance's allow/block lists to the attempt's identifiers (done before the transaction that may
/// convert it, since they are read outside it).
async fn enforce_restrictions(ctx: &Ctx, instance_id: &str, row: &SignUpRow) -> Result<()> {
    for (kind, value) in [(identifiers::EMAIL, &row.email_address), (identifiers::PHONE, &row.phone_number)] {
        if let Some(v) = value {
            crate::restriction_lists::enforce(ctx, instance_id, kind, v).await?;
        }
    }
    Ok(())
}

/// The values of a [`NewSignUp`], normalized and checked as user creation checks them.
#[derive(Debug, Default)]
struct Checked {
    email: Option<String>,
    phone: Option<String>,
    username: Option<String>,
    password: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

async fn check(ctx: &Ctx, instance_id: &str, settings: &SignUpSettings, input: &NewSignUp) -> Result<Checked> {
    let email = present(input.email_address.clone());
    let phone = present(input.phone_number.clone());
    let username = present(input.username.clone());
    let password = input.password.clone().filter(|p| !p.is_empty());
    let first_name = present(input.first_name.clone());
    let last_name = present(input.last_name.clone());
    let given = [
        (identifiers::EMAIL, email.is_some()),
        (identifiers::PHONE, phone.is_some()),
        ("username", username.is_some()),
        ("password", password.is_some()),
        ("first_name", first_name.is_some()),
        ("last_name", last_name.is_some()),
    ];
    // Attributes the instance does not collect are refused, as Clerk refuses them.
    if let Some((field, _)) = given.iter().find(|(f, g)| *g && !settings.allows(f)) {
        return Err(Error::param_unknown(field));
    }
    let email = email.map(|e| identifiers::email(identifiers::EMAIL, &e)).transpose()?;
    let phone = phone.map(|p| identifiers::phone(identifiers::PHONE, &p)).transpose()?;
    let username = username.map(|u| identifiers::username("username", &u)).transpose()?.map(|u| u.0);
    if let Some(pw) = &password {
        let hibp = crate::settings::instance_config(ctx, instance_id).await?.hibp;
        passwords::check_policy("password", pw, hibp, false)?;
    }
    Ok(Checked { email, phone, username, password, first_name, last_name })
}

/// The strategy recorded as the client's last authentication when an attempt converts without a code (everything
/// given at once).
fn direct_strategy(row: &SignUpRow) -> &'static str {
    if row.password_digest.is_some() { "password" } else { "email_code" }
}

/// `POST /v1/client/sign_ups`: validates and records an attempt on the browser's client, where it replaces the
/// sign-up in progress. It converts at once when it lacks nothing (e.g. username and password only, where the
/// instance requires no more), opening a session on that client.
pub async fn create_sign_up(ctx: &Ctx, instance_id: &str, client_id: &str, input: NewSignUp) -> Result<SignUp> {
    let settings = crate::settings::sign_up_settings(ctx, instance_id).await?;
    let invited = match present(input.ticket.clone()) {
        Some(t) => Some(crate::invitation_tickets::pending(ctx, instance_id, &t).await?),
        None => None,
    };
    let c = check(ctx, instance_id, &settings, &input).await?;
    let now = ctx.now_ms();
    let mut row = SignUpRow {
        id: ids::new_id("sua"),
        instance_id: instance_id.to_owned(),
        status: status::MISSING_REQUIREMENTS.into(),
        email_address: invited.as_ref().map(|i| i.email_address.clone()).or(c.email),
        phone_number: c.phone,
        username: c.username,
        first_name: c.first_name,
        last_name: c.last_name,
        password_digest: None,
        unsafe_metadata: crate::users::create::metadata_text(input.unsafe_metadata),
        public_metadata: invited
            .as_ref()
            .map_or_else(|| crate::users::create::metadata_text(None), |i| i.public_metadata.clone()),
        external_id: None,
        custom_action: false,
        legal_accepted_at: input.legal_accepted.unwrap_or(false).then_some(now),
        locale: present(input.locale),
        created_user_id: None,
        created_session_id: None,
        client_id: Some(client_id.to_owned()),
        invitation_id: invited.as_ref().map(|i| i.id.clone()),
        abandon_at: now + ABANDON_AFTER_MS,
        created_at: now,
        updated_at: now,
    };
    enforce_restrictions(ctx, instance_id, &row).await?;
    ensure_free(ctx, instance_id, &row).await?;
    // Slow work (hashing) before the transaction opens.
    if let Some(pw) = c.password {
        row.password_digest = Some(passwords::hash(pw).await?);
    }
    let mut tx = ctx.db.begin().await?;
    let mut client = browser_clients::lock(&mut tx, instance_id, client_id).await?;
    store::insert(&mut tx, &row).await?;
    client.sign_up_id = Some(row.id.clone());
    browser_clients::save(&mut tx, &mut client, now).await?;
    let (verifs, strategy) = if invited.is_some() {
        (vec![ticket::verify_email_tx(&mut tx, &row, now).await?], ticket::STRATEGY)
    } else {
        (Vec::new(), direct_strategy(&row))
    };
    convert_if_ready(ctx, &mut tx, &mut row, &verifs, &settings, strategy, now).await?;
    tx.commit().await?;
    get_sign_up(ctx, instance_id, &row.id).await
}

/// `PATCH /v1/client/sign_ups/{id}`: fills in fields of an attempt of the browser's client (checked as on
/// creation). A changed email address or phone number needs a new code; an attempt that then lacks nothing
/// converts.
pub async fn update_on_client(
    ctx: &Ctx,
    instance_id: &str,
    client_id: &str,
    id: &str,
    input: NewSignUp,
) -> Result<SignUp> {
    let row = on_client(store::get(&ctx.db, instance_id, id).await?, client_id)?;
    ensure_open(&row, ctx.now_ms())?;
    if input.ticket.is_some() {
        return Err(Error::param_value_invalid(
            "strategy",
            "An invitation's ticket is redeemed by creating a sign-up.",
        ));
    }
    let settings = crate::settings::sign_up_settings(ctx, instance_id).await?;
    let c = check(ctx, instance_id, &settings, &input).await?;
    let metadata = input.unsafe_metadata.map(|m| crate::users::create::metadata_text(Some(m)));
    let legal = input.legal_accepted;
    let locale = present(input.locale);
    let digest = match c.password.clone() {
        Some(pw) => Some(passwords::hash(pw).await?),
        None => None,
    };
    let apply = |row: &mut SignUpRow, now: i64| -> Vec<&'static str> {
        let mut reverify = Vec::new();
        if c.email.is_some() && c.email != row.email_address {
            row.email_address.clone_from(&c.email);
            reverify.push(identifiers::EMAIL);
        }
        if c.phone.is_some() && c.phone != row.phone_number {
            row.phone_number.clone_from(&c.phone);
            reverify.push(identifiers::PHONE);
        }
        for (value, slot) in [
            (&c.username, &mut row.username),
            (&c.first_name, &mut row.first_name),
            (&c.last_name, &mut row.last_name),
            (&locale, &mut row.locale),
        ] {
            if value.is_some() {
                slot.clone_from(value);
            }
        }
        if digest.is_some() {
            row.password_digest.clone_from(&digest);
        }
        if let Some(m) = &metadata {
            row.unsafe_metadata.clone_from(m);
        }
        match legal {
            Some(true) if row.legal_accepted_at.is_none() => row.legal_accepted_at = Some(now),
            Some(false) => row.legal_accepted_at = None,
            _ => {}
        }
        reverify
    };
    let mut preview = row.clone();
    apply(&mut preview, ctx.now_ms());
    enforce_restrictions(ctx, instance_id, &preview).await?;
    ensure_free(ctx, instance_id, &preview).await?;

    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = on_client(store::lock(&mut tx, instance_id, id).await?, client_id)?;
    ensure_open(&row, now)?;
    for field in apply(&mut row, now) {
        store::delete_verification(&mut tx, instance_id, id, field).await?;
    }
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    let verifs = store::verifications_tx(&mut tx, instance_id, id).await?;
    let strategy = direct_strategy(&row);
    convert_if_ready(ctx, &mut tx, &mut row, &verifs, &settings, strategy, now).await?;
    tx.commit().await?;
    get_sign_up(ctx, instance_id, id).await
}

/// Changes of `PATCH /sign_ups/{id}`.
#[derive(Debug, Default)]
pub struct SignUpPatch {
    /// `Some(None)` (or an empty string) clears it.
    pub external_id: Option<Option<String>>,
    /// `None` leaves it.
    pub custom_action: Option<bool>,
}

/// `PATCH /sign_ups/{id}`: sets the external id and the custom-action mark; an attempt that then lacks nothing
/// converts, and the answer is the complete attempt. Complete and abandoned attempts cannot change.
pub async fn update_sign_up(ctx: &Ctx, instance_id: &str, id: &str, patch: SignUpPatch) -> Result<SignUp> {
    let apply = |row: &mut SignUpRow| {
        if let Some(e) = &patch.external_id {
            row.external_id = present(e.clone());
        }
        if let Some(c) = patch.custom_action {
            row.custom_action = c;
        }
    };
    let mut row = store::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    ensure_open(&row, ctx.now_ms())?;
    apply(&mut row);
    if matches!(patch.external_id, Some(Some(_))) {
        ensure_external_id_free(ctx, instance_id, row.external_id.as_deref()).await?;
    }
    let settings = crate::settings::sign_up_settings(ctx, instance_id).await?;
    let verifs = store::verifications(&ctx.db, instance_id, id).await?;
    if assess(&row, &verifs, &settings).ready {
        enforce_restrictions(ctx, instance_id, &row).await?;
    }

    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    ensure_open(&row, now)?;
    apply(&mut row);
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    let verifs = store::verifications_tx(&mut tx, instance_id, id).await?;
    let strategy = verifs.iter().map(|v| v.strategy.clone()).next().unwrap_or_else(|| direct_strategy(&row).into());
    convert_if_ready(ctx, &mut tx, &mut row, &verifs, &settings, &strategy, now).await?;
    tx.commit().await?;
    get_sign_up(ctx, instance_id, id).await
}

/// Converts an attempt that lacks nothing into a user with an active session on its browser's client, inside the
/// caller's transaction (which holds the attempt row), and marks it complete; the client no longer has a sign-up
/// in progress and records `strategy` as its last authentication. `user.created` and `session.created` are
/// emitted with it. A username, email address, phone number or external id a user took meanwhile fails the whole
/// change with `form_identifier_exists`.
async fn convert_if_ready(
    ctx: &Ctx,
    tx: &mut Tx,
    row: &mut SignUpRow,
    verifs: &[SignUpVerificationRow],
    settings: &SignUpSettings,
    strategy: &str,
    now: i64,
) -> Result<()> {
    if effective_status(row, now) != status::MISSING_REQUIREMENTS || !assess(row, verifs, settings).ready {
        return Ok(());
    }
    let input = crate::users::NewUser {
        email_address: row.email_address.iter().cloned().collect(),
        phone_number: row.phone_number.iter().cloned().collect(),
        username: row.username.clone(),
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        locale: row.locale.clone(),
        external_id: row.external_id.clone(),
        password_digest: row.password_digest.clone(),
        password_hasher: row.password_digest.as_ref().map(|_| "argon2id".to_owned()),
        unsafe_metadata: crate::users::metadata(&row.unsafe_metadata).as_object().cloned(),
        public_metadata: crate::users::metadata(&row.public_metadata).as_object().cloned(),
        ..Default::default()
    };
    // With a digest and no plain password, preparing does no I/O: it is safe inside the transaction.
    let mut user = crate::users::create::prepare(ctx, &row.instance_id, input).await?;
    user.row.legal_accepted_at = row.legal_accepted_at;
    // The identifiers were verified by code, not by an admin.
    for ident in &mut user.idents {
        if let Some(v) = verification_of(verifs, &ident.kind) {
            ident.verification_strategy = Some(v.strategy.clone());
            ident.verification_attempts = Some(v.attempts);
            ident.verification_expire_at = Some(v.expire_at);
        }
    }
    crate::users::create::insert_tx(ctx, tx, &row.instance_id, &user).await?;
    ticket::accept_invitation_tx(ctx, tx, row, verifs, &user.row.id, now).await?;
    let session = match &row.client_id {
        Some(client_id) => {
            let mut client = browser_clients::lock(tx, &row.instance_id, client_id).await?;
            if client.sign_up_id.as_deref() == Some(row.id.as_str()) {
                client.sign_up_id = None;
            }
            browser_clients::open_session_tx(ctx, tx, &mut client, &user.row.id, strategy, None, now).await?
        }
        // Attempts made before sign-ups lived on clients: a session on a new client.
        None => crate::sessions::open_session_tx(ctx, tx, &row.instance_id, &user.row.id, now).await?,
    };
    row.status = status::COMPLETE.into();
    row.created_user_id = Some(user.row.id.clone());
    row.created_session_id = Some(session.id);
    row.updated_at = now;
    store::update(tx, row).await?;
    Ok(())
}
