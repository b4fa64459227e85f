//! `POST /users`: validation of every field, password policy or imported digest, and one transaction for the user
//! and its identifications.

use serde_json::{Map, Value};
use tessera_store::Tx;
use tessera_store::users::{AtOnce, IdentificationRow, UserRow, email_dotless};

use super::hashers::{self, Hasher};
use super::{User, identifiers, lockout, passwords};
use crate::events::{EventType, SealedEvent};
use crate::ids::new_id;
use crate::{Ctx, Error, ErrorCode, Result};

/// Seal purpose of TOTP secrets.
pub(crate) const TOTP_PURPOSE: &str = "user_totp_secret";

/// Input of [`create_user`] (the API's body, already type-checked).
#[derive(Debug, Default)]
pub struct NewUser {
    /// External id.
    pub external_id: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// Email addresses; the first becomes primary.
    pub email_address: Vec<String>,
    /// `verified`/`reserved` per email address (empty = all verified).
    pub email_address_identification_status: Vec<String>,
    /// Phone numbers; the first becomes primary.
    pub phone_number: Vec<String>,
    /// `verified`/`reserved` per phone number.
    pub phone_number_identification_status: Vec<String>,
    /// Web3 wallets; the first becomes primary.
    pub web3_wallet: Vec<String>,
    /// Username.
    pub username: Option<String>,
    /// Plain password.
    pub password: Option<String>,
    /// Imported digest.
    pub password_digest: Option<String>,
    /// Hasher of the digest.
    pub password_hasher: Option<String>,
    /// Skip the password policy.
    pub skip_password_checks: bool,
    /// Base32 TOTP secret.
    pub totp_secret: Option<String>,
    /// Backup codes, plain or bcrypt digests.
    pub backup_codes: Vec<String>,
    /// Objects.
    pub public_metadata: Option<Map<String, Value>>,
    /// Objects.
    pub private_metadata: Option<Map<String, Value>>,
    /// Objects.
    pub unsafe_metadata: Option<Map<String, Value>>,
    /// Flag (default false).
    pub delete_self_enabled: Option<bool>,
    /// Flag (default true).
    pub create_organization_enabled: Option<bool>,
    /// 0 = unlimited.
    pub create_organizations_limit: Option<i64>,
    /// RFC 3339.
    pub created_at: Option<String>,
    /// RFC 3339.
    pub legal_accepted_at: Option<String>,
    /// Flag.
    pub bypass_client_trust: Option<bool>,
    /// Created banned.
    pub banned: Option<bool>,
    /// Created locked.
    pub locked: Option<bool>,
}

/// Parses an RFC 3339 date-time (`2012-10-20T07:15:20.902Z`, `…+02:00`) into Unix ms.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, sec) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut ms = 0;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = s.get(start..i).filter(|f| !f.is_empty())?;
        ms = format!("{:0<3}", &frac[..frac.len().min(3)]).parse::<i64>().ok()?;
    }
    let offset_min = match s.get(i..)? {
        "Z" | "z" => 0,
        off if off.len() == 6 && matches!(&off[..1], "+" | "-") && &off[3..4] == ":" => {
            let v = off[1..3].parse::<i64>().ok()? * 60 + off[4..6].parse::<i64>().ok()?;
            if off.starts_with('-') { -v } else { v }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60) * 1000) + ms)
}

fn timestamp(param: &str, value: Option<&str>) -> Result<Option<i64>> {
    value
        .map(|v| {
            parse_rfc3339(v).ok_or_else(|| {
                Error::param_format_invalid(
                    param,
                    format!("{param} must be an RFC 3339 date-time, e.g. 2012-10-20T07:15:20.902Z."),
                )
            })
        })
        .transpose()
}

/// Whether each item is reserved, from the parallel status array (empty = all verified).
fn statuses(param: &str, statuses: &[String], n: usize) -> Result<Vec<bool>> {
    if statuses.is_empty() {
        return Ok(vec![false; n]);
    }
    if statuses.len() != n {
        return Err(Error::param_value_invalid(
            param,
            format!("{param} must contain exactly one item per identifier."),
        ));
    }
    statuses
        .iter()
        .map(|s| match s.as_str() {
            "verified" => Ok(false),
            "reserved" => Ok(true),
            _ => Err(Error::param_value_invalid(param, format!("{param} items must be `verified` or `reserved`."))),
        })
        .collect()
}

/// Decodes an RFC 4648 base32 TOTP secret (case-insensitive, padding and spaces ignored).
pub fn decode_base32(s: &str) -> Option<Vec<u8>> {
    let mut bits: u64 = 0;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.chars().filter(|c| !matches!(c, ' ' | '=' | '-')) {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u64 - 'A' as u64,
            c @ '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => return None,
        };
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    Some(out)
}

/// A validated TOTP secret, sealed for storage.
pub(crate) fn seal_totp(ctx: &Ctx, param: &str, secret: &str) -> Result<Vec<u8>> {
    let key = decode_base32(secret).filter(|k| k.len() >= 10).ok_or_else(|| {
        Error::param_format_invalid(param, format!("{param} must be a base32 secret of at least 16 characters."))
    })?;
    Ok(ctx.secrets.seal(TOTP_PURPOSE, &key))
}

/// Backup codes as stored: `(scheme, digest)`, a keyed digest for plain codes, the bcrypt digest as given.
pub(crate) fn backup_code_digests(ctx: &Ctx, codes: &[String]) -> Result<Vec<(&'static str, Vec<u8>)>> {
    codes
        .iter()
        .map(|c| {
            let c = c.trim();
            if c.is_empty() {
                Err(Error::param_format_invalid("backup_codes", "backup_codes must not contain empty codes."))
            } else if hashers::is_valid_digest(Hasher::Bcrypt, c) {
                Ok(("bcrypt", c.as_bytes().to_vec()))
            } else {
                Ok(("hmac", ctx.secrets.digest(c)))
            }
        })
        .collect()
}

/// Checks an imported digest: the hasher is known and the digest has its form.
pub(crate) fn imported_digest(digest: &str, hasher: Option<&str>) -> Result<Hasher> {
    let name = hasher.ok_or_else(|| Error::param_missing("password_hasher"))?;
    let hasher = Hasher::parse(name).ok_or_else(|| {
        Error::param_value_invalid(
            "password_hasher",
            format!("password_hasher must be one of {}.", Hasher::names().join(", ")),
        )
    })?;
    if !hashers::is_valid_digest(hasher, digest) {
        let msg = format!("The provided password_digest is not a valid {name} password hash.");
        return Err(Error::with(ErrorCode::FormPasswordDigestInvalid, msg.clone(), msg, Some("password_digest")));
    }
    Ok(hasher)
}

/// Maps a unique violation of the users table to the field it concerns.
pub(crate) fn user_unique_error(e: tessera_store::StoreError) -> Error {
    if !e.is_unique_violation() {
        return e.into();
    }
    if e.to_string().contains("external_id") {
        Error::identifier_exists("external_id")
    } else {
        Error::identifier_exists("username")
    }
}

pub(crate) fn name_search(first: Option<&str>, last: Option<&str>) -> String {
    format!("{} {}", first.unwrap_or(""), last.unwrap_or("")).trim().to_lowercase()
}

pub(crate) fn metadata_text(m: Option<Map<String, Value>>) -> String {
    Value::Object(m.unwrap_or_default()).to_string()
}

/// A user validated and ready to insert: its row, identifications and backup-code digests. What
/// [`create_user`] writes, and what a sign-up attempt converts into (inside its own transaction).
#[derive(Debug)]
pub(crate) struct PreparedUser {
    /// The user row.
    pub row: UserRow,
    /// Its identifications (verified by `admin` unless reserved).
    pub idents: Vec<IdentificationRow>,
    /// `(scheme, digest)` of its backup codes.
    pub backup_codes: Vec<(&'static str, Vec<u8>)>,
}

/// Creates a user with its identifications, password and second factors.
pub async fn create_user(ctx: &Ctx, instance_id: &str, input: NewUser) -> Result<User> {
    let prepared = prepare(ctx, instance_id, input).await?;
    for i in &prepared.idents {
        crate::restriction_lists::enforce(ctx, instance_id, &i.kind, &i.value_normalized).await?;
    }
    if let Some(user) = insert_at_once(ctx, instance_id, &prepared).await? {
        return Ok(user);
    }
    let mut tx = ctx.db.begin().await?;
    let user = insert_tx(ctx, &mut tx, instance_id, &prepared).await?;
    tx.commit().await?;
    // The user as the transaction left it, read for its event: what a read after the commit would return.
    user.ok_or_else(super::not_found)
}

/// On PostgreSQL, writes the user, its identifications and `user.created` in one statement
/// ([`tessera_store::users::insert_created_at_once`]), when that is all [`insert_tx`] would write; `None` when the
/// create needs [`insert_tx`]'s transaction: backup codes, a gmail address (its dotless twin is checked under a
/// lock), billing for users or an enrolling organization domain (the statement checks those two and writes
/// nothing), a unique violation (nothing written; the transaction names the field) — or SQLite.
async fn insert_at_once(ctx: &Ctx, instance_id: &str, p: &PreparedUser) -> Result<Option<User>> {
    let gmail = |i: &IdentificationRow| i.kind == identifiers::EMAIL && email_dotless(&i.value_normalized).is_some();
    if !ctx.db.is_postgres() || !p.backup_codes.is_empty() || p.idents.iter().any(gmail) {
        return Ok(None);
    }
    let user = as_written(ctx, p)?;
    let event =
        SealedEvent::new(ctx, instance_id, EventType::UserCreated, &super::objects::UserObject::new(&user, ""))?;
    let verified_emails: Vec<&str> = p
        .idents
        .iter()
        .filter(|i| i.kind == identifiers::EMAIL && i.verification_status.as_deref() == Some("verified"))
        .map(|i| i.value_normalized.as_str())
        .collect();
    let written = tessera_store::users::insert_created_at_once(
        &ctx.db,
        &p.row,
        &p.idents,
        &verified_emails,
        &event.row(instance_id, &user.id),
    )
    .await;
    match written {
        Ok(AtOnce::Written) => Ok(Some(user)),
        Ok(AtOnce::NeedsTransaction) => Ok(None),
        Err(e) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The user as a prepared create writes it, without reading it back: these rows are all of it (a new user has no
/// enterprise accounts yet).
fn as_written(ctx: &Ctx, p: &PreparedUser) -> Result<User> {
    let mut written = tessera_store::users::UserWithIdentifications {
        user: p.row.clone(),
        identifications: p.idents.clone(),
        backup_code_count: i64::try_from(p.backup_codes.len()).unwrap_or(i64::MAX),
        enterprise_accounts: Vec::new(),
    };
    written.order_identifications();
    super::assemble(written, ctx.now_ms())
}

/// Validates every field and does the slow work (hashing a plain password, after reading the instance's HIBP
/// setting); with an imported digest or no password it does no I/O, so it may run inside a transaction.
/// Restrictions (allow/block lists) are the caller's to enforce.
pub(crate) async fn prepare(ctx: &Ctx, instance_id: &str, input: NewUser) -> Result<PreparedUser> {
    let now = ctx.now_ms();
    let user_id = new_id("user");
    let mut idents: Vec<IdentificationRow> = Vec::new();
    // Identifications list oldest first, then by id: sorted ids keep the request's order within one instant.
    let n = input.email_address.len() + input.phone_number.len() + input.web3_wallet.len();
    let mut ids: Vec<String> = (0..n).map(|_| new_id("idn")).collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    let mut add = |kind: &str, value: String, normalized: String, reserved: bool| {
        idents.push(IdentificationRow {
            id: ids.pop().unwrap_or_else(|| new_id("idn")),
            instance_id: instance_id.to_owned(),
            user_id: user_id.clone(),
            kind: kind.to_owned(),
            value,
            value_normalized: normalized,
            reserved,
            verification_status: (!reserved).then(|| "verified".to_owned()),
            verification_strategy: (!reserved).then(|| "admin".to_owned()),
            created_at: now,
            updated_at: now,
            ..Default::default()
        });
    };
    let reserved = statuses(
        "email_address_identification_status",
        &input.email_address_identification_status,
        input.email_address.len(),
    )?;
    for (e, r) in input.email_address.iter().zip(reserved) {
        let v = identifiers::email("email_address", e)?;
        add(identifiers::EMAIL, v.clone(), v, r);
    }
    let reserved = statuses(
        "phone_number_identification_status",
        &input.phone_number_identification_status,
        input.phone_number.len(),
    )?;
    for (p, r) in input.phone_number.iter().zip(reserved) {
        let v = identifiers::phone("phone_number", p)?;
        add(identifiers::PHONE, v.clone(), v, r);
    }
    for w in &input.web3_wallet {
        let (v, n) = identifiers::web3_wallet("web3_wallet", w)?;
        add(identifiers::WEB3, v, n, false);
    }
    let username = input
        .username
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(|u| identifiers::username("username", u))
        .transpose()?;
    let created_at = timestamp("created_at", input.created_at.as_deref())?.unwrap_or(now);
    let legal_accepted_at = timestamp("legal_accepted_at", input.legal_accepted_at.as_deref())?;
    if input.create_organizations_limit.is_some_and(|l| l < 0) {
        return Err(Error::param_value_invalid(
            "create_organizations_limit",
            "create_organizations_limit must be 0 or more.",
        ));
    }
    let totp = input.totp_secret.as_deref().map(|s| seal_totp(ctx, "totp_secret", s)).transpose()?;
    let backup_codes = backup_code_digests(ctx, &input.backup_codes)?;

    // Slow work (hashing) happens before the transaction opens.
    let password = match (input.password, input.password_digest) {
        (Some(_), Some(_)) => {
            return Err(Error::param_value_invalid(
                "password_digest",
                "password and password_digest cannot be combined.",
            ));
        }
        (Some(pw), None) => {
            let hibp = crate::settings::instance_config(ctx, instance_id).await?.hibp;
            passwords::check_policy("password", &pw, hibp, input.skip_password_checks)?;
            Some((passwords::hash(pw).await?, Hasher::Argon2id))
        }
        (None, Some(digest)) => {
            let hasher = imported_digest(&digest, input.password_hasher.as_deref())?;
            Some((digest, hasher))
        }
        (None, None) if input.password_hasher.is_some() => return Err(Error::param_missing("password_digest")),
        (None, None) => None,
    };

    let first = |kind: &str| idents.iter().find(|i| i.kind == kind).map(|i| i.id.clone());
    let locked = input.locked.unwrap_or(false);
    let row = UserRow {
        id: user_id.clone(),
        instance_id: instance_id.to_owned(),
        external_id: input.external_id.filter(|e| !e.is_empty()),
        username_normalized: username.as_ref().map(|u| u.1.clone()),
        username: username.map(|u| u.0),
        name_search: name_search(input.first_name.as_deref(), input.last_name.as_deref()),
        first_name: input.first_name,
        last_name: input.last_name,
        locale: input.locale,
        primary_email_address_id: first(identifiers::EMAIL),
        primary_phone_number_id: first(identifiers::PHONE),
        primary_web3_wallet_id: first(identifiers::WEB3),
        public_metadata: metadata_text(input.public_metadata),
        private_metadata: metadata_text(input.private_metadata),
        unsafe_metadata: metadata_text(input.unsafe_metadata),
        password_last_updated_at: password.as_ref().map(|_| now),
        password_hasher: password.as_ref().map(|p| p.1.as_str().to_owned()),
        password_digest: password.map(|p| p.0),
        mfa_enabled_at: totp.as_ref().map(|_| now),
        totp_secret_sealed: totp,
        banned: input.banned.unwrap_or(false),
        locked_at: locked.then_some(now),
        lockout_expires_at: locked.then_some(now + lockout::LOCKOUT_SECONDS * 1000),
        delete_self_enabled: input.delete_self_enabled.unwrap_or(false),
        create_organization_enabled: input.create_organization_enabled.unwrap_or(true),
        create_organizations_limit: input.create_organizations_limit,
        bypass_client_trust: input.bypass_client_trust.unwrap_or(false),
        legal_accepted_at,
        created_at,
        updated_at: now,
        ..Default::default()
    };

    Ok(PreparedUser { row, idents, backup_codes })
}

/// Inserts a prepared user in the caller's transaction and emits `user.created`, returning the user as inserted;
/// a username, external id or claimed identifier another user holds is `form_identifier_exists`.
pub(crate) async fn insert_tx(ctx: &Ctx, tx: &mut Tx, instance_id: &str, p: &PreparedUser) -> Result<Option<User>> {
    let user_id = &p.row.id;
    tessera_store::users::insert(tx, &p.row).await.map_err(user_unique_error)?;
    for i in &p.idents {
        identifiers::check_gmail_dots_tx(tx, i).await?;
        tessera_store::users::insert_identification(tx, i)
            .await
            .map_err(|e| if e.is_unique_violation() { Error::identifier_exists(&i.kind) } else { e.into() })?;
    }
    for (scheme, digest) in &p.backup_codes {
        tessera_store::user_mfa::insert_backup_code(
            tx,
            instance_id,
            user_id,
            &new_id("bkc"),
            scheme,
            digest,
            p.row.updated_at,
        )
        .await?;
    }
    let user = as_written(ctx, p)?;
    super::emit_user_object(ctx, tx, instance_id, &user, EventType::UserCreated).await?;
    // With billing enabled for users, every new user starts on the default plan.
    crate::billing::provision_tx(ctx, tx, instance_id, crate::billing::PayerType::User, user_id).await?;
    Ok(Some(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2012-10-20T07:15:20.902Z"), Some(1_350_717_320_902));
        assert_eq!(parse_rfc3339("2012-10-20T09:15:20.9+02:00"), Some(1_350_717_320_900));
        assert_eq!(parse_rfc3339("2012-10-20"), None);
        assert_eq!(parse_rfc3339("2012-13-20T07:15:20Z"), None);
    }

    #[test]
    fn base32() {
        assert_eq!(decode_base32("GEZDGNBVGY3TQOJQ").unwrap(), b"1234567890");
        assert!(decode_base32("not base32!").is_none());
    }
}
