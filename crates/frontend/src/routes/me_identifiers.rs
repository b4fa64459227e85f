//! The signed-in user's own email addresses and phone numbers (`/v1/me/email_addresses…`, `/v1/me/phone_numbers…`):
//! list, add, read, delete, and verify them with a one-time code; phone numbers also become second factors. The
//! rules are the Backend API's ([`tessera_core::users::addresses`], [`tessera_core::users::verification`]); an
//! identification of another user answers 404, as an unknown one.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::extract::as_bad_request;
use tessera_api::json::Json;
use tessera_core::users::addresses::{self, AddressPatch, Kind};
use tessera_core::users::objects::{EmailAddressObject, PhoneNumberObject};
use tessera_core::users::verification::{self, CodeVerification};
use tessera_core::users::{Identification, Verification, get_user};
use tessera_core::{Error, ErrorCode};

use crate::extract::{Form, SignedIn};
use crate::respond;
use tessera_api::extract::Path;

/// `Client.DeletedObject`.
#[derive(Debug, Serialize)]
pub struct DeletedObject<'a> {
    object: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    deleted: bool,
}

impl<'a> DeletedObject<'a> {
    /// The answer of deleting the `object` named `id`.
    pub fn new(object: &'a str, id: &'a str) -> Self {
        Self { object, id: Some(id), deleted: true }
    }

    /// The answer of deleting the one `object` of its kind the user has (such as their TOTP), which has no id.
    pub fn without_id(object: &'a str) -> Self {
        Self { object, id: None, deleted: true }
    }
}

/// An e-mail address or a phone number, as the object of its kind.
#[derive(Serialize)]
#[serde(untagged)]
enum IdentificationObject<'a> {
    Email(EmailAddressObject<'a>),
    Phone(PhoneNumberObject<'a>),
}

fn object(kind: Kind, i: &Identification) -> IdentificationObject<'_> {
    match kind {
        Kind::Email => IdentificationObject::Email(EmailAddressObject::new(i)),
        Kind::Phone => IdentificationObject::Phone(PhoneNumberObject::new(i)),
    }
}

/// The identification `id` of the signed-in user (another user's is unknown here).
async fn own(app: &AppState, signed: &SignedIn, kind: Kind, id: &str) -> Result<Identification, Error> {
    let i = addresses::get(&app.ctx, signed.instance_id(), kind, id).await?;
    if i.user_id != signed.user_id() {
        return Err(kind.not_found());
    }
    Ok(i)
}

async fn list(app: &AppState, signed: &SignedIn, kind: Kind) -> ApiResult<Response> {
    let user = get_user(&app.ctx, signed.instance_id(), signed.user_id()).await?;
    let list = match kind {
        Kind::Email => &user.email_addresses,
        Kind::Phone => &user.phone_numbers,
    };
    // The spec answers these lists bare (`Server.UserEmailAddresses`), not wrapped.
    Ok(Json(list.iter().map(|i| object(kind, i)).collect::<Vec<_>>()).into_response())
}

/// The identification as the answer of its operations: until it is verified, it shows its pending verification
/// (clerk-js reads the code's status from it after `prepare_verification` and `attempt_verification`).
async fn read(app: &AppState, signed: &SignedIn, kind: Kind, id: &str) -> ApiResult<Response> {
    let mut i = own(app, signed, kind, id).await?;
    if i.verification.as_ref().is_none_or(|v| v.status != "verified")
        && let Some(v) = verification::latest(&app.ctx, signed.instance_id(), &i.id).await?
    {
        i.verification = Some(Verification {
            status: v.status,
            strategy: v.strategy,
            attempts: Some(v.attempts),
            expire_at: Some(v.expire_at),
        });
    }
    respond::wrapped(app, &signed.browser, object(kind, &i)).await
}

async fn remove(app: &AppState, signed: &SignedIn, kind: Kind, id: &str) -> ApiResult<Response> {
    let i = own(app, signed, kind, id).await?;
    addresses::delete(&app.ctx, signed.instance_id(), kind, &i.id).await?;
    respond::wrapped(app, &signed.browser, DeletedObject::new(kind.as_str(), &i.id)).await
}

/// The form of `prepare_verification`.
#[derive(Debug, Default, Deserialize)]
pub struct PrepareForm {
    strategy: Option<String>,
}

/// Sends a new code. The spec gives the two operations different statuses for a bad request: 422 for email
/// addresses, 400 for phone numbers.
async fn prepare(
    app: &AppState,
    signed: &SignedIn,
    kind: Kind,
    id: &str,
    strategy: Option<String>,
) -> ApiResult<Response> {
    // An unknown id is a 404 before any judgement of the body.
    let i = own(app, signed, kind, id).await?;
    let checked = check_prepare(kind, &i, strategy.as_deref());
    match kind {
        Kind::Email => checked?,
        Kind::Phone => checked.map_err(as_bad_request)?,
    }
    verification::prepare(&app.ctx, &signed.browser.fapi.instance, kind, &i.id).await?;
    read(app, signed, kind, &i.id).await
}

fn check_prepare(kind: Kind, i: &Identification, strategy: Option<&str>) -> Result<(), Error> {
    let expected = match kind {
        Kind::Email => "email_code",
        Kind::Phone => "phone_code",
    };
    match strategy.filter(|s| !s.is_empty()) {
        None => return Err(Error::param_missing("strategy")),
        Some(s) if s == expected => {}
        // Links (email_link) and enterprise SSO need flows this server does not run.
        Some(_) => return Err(Error::param_value_invalid("strategy", format!("strategy must be {expected}."))),
    }
    if i.verification.as_ref().is_some_and(|v| v.status == "verified") {
        let item = ErrorCode::VerificationAlreadyVerified;
        return Err(Error::with(ErrorCode::FormParamValueInvalid, item.message(), item.long_message(), None));
    }
    Ok(())
}

/// The form of `attempt_verification`.
#[derive(Debug, Default, Deserialize)]
pub struct AttemptForm {
    code: Option<String>,
}

/// A wrong, expired or exhausted code is an error on the Frontend API (the attempt still counts).
fn outcome(v: &CodeVerification) -> Result<(), Error> {
    match v.status.as_str() {
        "verified" => Ok(()),
        "expired" => Err(Error::new(ErrorCode::VerificationExpired)),
        "failed" => Err(Error::new(ErrorCode::VerificationFailed)),
        _ => Err(Error::with(ErrorCode::FormCodeIncorrect, "is incorrect", "Incorrect code", Some("code"))),
    }
}

async fn attempt(app: &AppState, signed: &SignedIn, kind: Kind, id: &str, code: Option<String>) -> ApiResult<Response> {
    let i = own(app, signed, kind, id).await?;
    let code = code.filter(|c| !c.trim().is_empty()).ok_or_else(|| Error::param_missing("code"))?;
    let v = verification::attempt_latest(&app.ctx, signed.instance_id(), kind, &i.id, &code).await?;
    outcome(&v)?;
    read(app, signed, kind, &i.id).await
}

/// The form of `POST /v1/me/email_addresses`.
#[derive(Debug, Default, Deserialize)]
pub struct CreateEmailForm {
    email_address: Option<String>,
}

/// `GET /v1/me/email_addresses`.
pub async fn get_email_addresses(State(app): State<AppState>, signed: SignedIn) -> ApiResult<Response> {
    list(&app, &signed, Kind::Email).await
}

/// `POST /v1/me/email_addresses`: a new, unverified address of the user.
pub async fn create_email_addresses(
    State(app): State<AppState>,
    signed: SignedIn,
    Form(f): Form<CreateEmailForm>,
) -> ApiResult<Response> {
    let value = f.email_address.filter(|v| !v.is_empty()).ok_or_else(|| Error::param_missing("email_address"))?;
    let i = addresses::add_own(&app.ctx, signed.instance_id(), Kind::Email, signed.user_id(), &value, false).await?;
    respond::wrapped(&app, &signed.browser, EmailAddressObject::new(&i)).await
}

/// `GET /v1/me/email_addresses/{email_id}`.
pub async fn get_email_address(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    read(&app, &signed, Kind::Email, &id).await
}

/// `DELETE /v1/me/email_addresses/{email_id}`.
pub async fn delete_email_address(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    remove(&app, &signed, Kind::Email, &id).await
}

/// `POST /v1/me/email_addresses/{email_id}/prepare_verification` (`email_code`).
pub async fn send_verification_email(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<PrepareForm>,
) -> ApiResult<Response> {
    prepare(&app, &signed, Kind::Email, &id, f.strategy).await
}

/// `POST /v1/me/email_addresses/{email_id}/attempt_verification`.
pub async fn verify_email_address(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<AttemptForm>,
) -> ApiResult<Response> {
    attempt(&app, &signed, Kind::Email, &id, f.code).await
}

/// The form of `POST /v1/me/phone_numbers`.
#[derive(Debug, Default, Deserialize)]
pub struct CreatePhoneForm {
    phone_number: Option<String>,
    reserved_for_second_factor: Option<String>,
}

fn flag(v: Option<&str>, param: &str) -> Result<Option<bool>, Error> {
    match v {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(Error::param_format_invalid(param, format!("{param} must be true or false."))),
    }
}

/// `GET /v1/me/phone_numbers`.
pub async fn get_phone_numbers(State(app): State<AppState>, signed: SignedIn) -> ApiResult<Response> {
    list(&app, &signed, Kind::Phone).await
}

/// `POST /v1/me/phone_numbers`: a new, unverified number (only a verified one can be a second factor).
pub async fn post_phone_numbers(
    State(app): State<AppState>,
    signed: SignedIn,
    Form(f): Form<CreatePhoneForm>,
) -> ApiResult<Response> {
    let value = f.phone_number.filter(|v| !v.is_empty()).ok_or_else(|| Error::param_missing("phone_number"))?;
    let second = flag(f.reserved_for_second_factor.as_deref(), "reserved_for_second_factor")?.unwrap_or(false);
    let i = addresses::add_own(&app.ctx, signed.instance_id(), Kind::Phone, signed.user_id(), &value, second).await?;
    respond::wrapped(&app, &signed.browser, PhoneNumberObject::new(&i)).await
}

/// `GET /v1/me/phone_numbers/{phone_number_id}`.
pub async fn read_phone_number(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    read(&app, &signed, Kind::Phone, &id).await
}

/// The form of `PATCH /v1/me/phone_numbers/{phone_number_id}`.
#[derive(Debug, Default, Deserialize)]
pub struct UpdatePhoneForm {
    reserved_for_second_factor: Option<String>,
    default_second_factor: Option<String>,
}

/// `PATCH /v1/me/phone_numbers/{phone_number_id}`: reserve a verified number for second factor, or make it the
/// default one.
pub async fn update_phone_number(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<UpdatePhoneForm>,
) -> ApiResult<Response> {
    let i = own(&app, &signed, Kind::Phone, &id).await?;
    // The spec declares 400, not 422, for a bad request here.
    let patch = AddressPatch {
        reserved_for_second_factor: flag(f.reserved_for_second_factor.as_deref(), "reserved_for_second_factor")
            .map_err(as_bad_request)?,
        default_second_factor: flag(f.default_second_factor.as_deref(), "default_second_factor")
            .map_err(as_bad_request)?,
        ..AddressPatch::default()
    };
    let i =
        addresses::update(&app.ctx, signed.instance_id(), Kind::Phone, &i.id, patch).await.map_err(as_bad_request)?;
    respond::wrapped(&app, &signed.browser, PhoneNumberObject::new(&i)).await
}

/// `DELETE /v1/me/phone_numbers/{phone_number_id}`.
pub async fn delete_phone_number(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    remove(&app, &signed, Kind::Phone, &id).await
}

/// `POST /v1/me/phone_numbers/{phone_number_id}/prepare_verification` (`phone_code`).
pub async fn send_verification_sms(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<PrepareForm>,
) -> ApiResult<Response> {
    prepare(&app, &signed, Kind::Phone, &id, f.strategy).await
}

/// `POST /v1/me/phone_numbers/{phone_number_id}/attempt_verification`.
pub async fn verify_phone_number(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<AttemptForm>,
) -> ApiResult<Response> {
    attempt(&app, &signed, Kind::Phone, &id, f.code).await
}
