//! Validation and normalization of identifiers: the normalized form is what the unique indexes and the list
//! filters compare.

use tessera_store::Tx;
use tessera_store::users::{IdentificationRow, email_dotless};

use crate::settings::validate;
use crate::{Ctx, Error, ErrorCode, Result};

/// Kinds of identification rows.
pub const EMAIL: &str = "email_address";
/// Phone numbers.
pub const PHONE: &str = "phone_number";
/// Web3 wallets.
pub const WEB3: &str = "web3_wallet";

/// Shortest username.
pub const USERNAME_MIN: usize = 4;
/// Longest username.
pub const USERNAME_MAX: usize = 64;

/// An email address as stored: trimmed and lower-cased (Clerk compares and shows addresses lower-cased).
pub fn email(param: &str, value: &str) -> Result<String> {
    Ok(validate::email(param, value)?.to_lowercase())
}

/// Lower-cased email for lookups (no validation: a filter value that is not an address simply matches nothing).
pub fn email_key(value: &str) -> String {
    value.trim().to_lowercase()
}

/// A phone number in E.164 (`+` and 8–15 digits); spaces, dashes, dots and parentheses are dropped.
pub fn phone(param: &str, value: &str) -> Result<String> {
    let key = phone_key(value);
    let digits = key.strip_prefix('+').unwrap_or("");
    if digits.len() < 8 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return Err(Error::param_format_invalid(
            param,
            format!("{param} must be a valid phone number in E.164 format (e.g. +15555550100)."),
        ));
    }
    Ok(key)
}

/// A phone number without separators, for lookups.
pub fn phone_key(value: &str) -> String {
    value.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect()
}

/// A web3 wallet: an Ethereum address (`0x` + 40 hex digits) or a base58 (Solana) address of 32–44 characters.
/// Returns `(value, normalized)`; Ethereum addresses compare case-insensitively.
pub fn web3_wallet(param: &str, value: &str) -> Result<(String, String)> {
    let v = value.trim();
    let eth = v.len() == 42 && v.starts_with("0x") && v[2..].bytes().all(|b| b.is_ascii_hexdigit());
    let base58 = (32..=44).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l'));
    if !eth && !base58 {
        return Err(Error::param_format_invalid(param, format!("{param} must be a valid web3 wallet address.")));
    }
    Ok((v.to_owned(), web3_key(v)))
}

/// The lookup form of a wallet.
pub fn web3_key(value: &str) -> String {
    let v = value.trim();
    if v.starts_with("0x") { v.to_ascii_lowercase() } else { v.to_owned() }
}

/// A username: 4–64 letters, digits, `_`, `-` or `.`, not a phone number. Returns `(value, normalized)`.
pub fn username(param: &str, value: &str) -> Result<(String, String)> {
    let v = value.trim();
    let n = v.chars().count();
    if v.starts_with('+') && v.len() > 1 && v[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::with(
            ErrorCode::FormUsernameCannotBePhoneNumber,
            ErrorCode::FormUsernameCannotBePhoneNumber.message(),
            ErrorCode::FormUsernameCannotBePhoneNumber.long_message(),
            Some(param),
        ));
    }
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&n) {
        return Err(Error::param_format_invalid(
            param,
            format!("{param} must be between {USERNAME_MIN} and {USERNAME_MAX} characters long."),
        ));
    }
    if !v.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(Error::param_format_invalid(
            param,
            format!("{param} can only contain letters, numbers, underscores, hyphens and dots."),
        ));
    }
    Ok((v.to_owned(), v.to_lowercase()))
}

/// The lookup form of a username.
pub fn username_key(value: &str) -> String {
    value.trim().to_lowercase()
}

/// With `ignore_dots_for_gmail_addresses` on, a gmail address is taken when another claimed (verified or reserved)
/// identification holds it with other dots: `form_identifier_exists`. Called inside the write transaction that
/// claims `row` (inserts it verified or reserved, or verifies it); the unique index still decides exact matches.
pub(crate) async fn check_gmail_dots_tx(tx: &mut Tx, row: &IdentificationRow) -> Result<()> {
    let claimed = row.reserved || row.verification_status.as_deref() == Some("verified");
    if row.kind != EMAIL || !claimed {
        return Ok(());
    }
    let Some(key) = email_dotless(&row.value_normalized) else { return Ok(()) };
    if !crate::settings::restrictions_tx(tx, &row.instance_id).await?.ignore_dots_for_gmail_addresses {
        return Ok(());
    }
    if tessera_store::users::dotless_claimed_tx(tx, &row.instance_id, &key, &row.id).await? {
        return Err(Error::identifier_exists(EMAIL));
    }
    Ok(())
}

/// Whether a user of the instance holds this identifier for good (verified or reserved): the same normalized value,
/// or, for a gmail address with `ignore_dots_for_gmail_addresses` on, the same address with other dots. The
/// pre-check of sign-ups and of a user adding an address (the claiming write checks again).
pub(crate) async fn claimed(ctx: &Ctx, instance_id: &str, kind: &str, normalized: &str) -> Result<bool> {
    if tessera_store::sign_ups::identifier_claimed(&ctx.db, instance_id, kind, normalized).await? {
        return Ok(true);
    }
    let Some(key) = email_dotless(normalized).filter(|_| kind == EMAIL) else { return Ok(false) };
    if !crate::settings::restrictions(ctx, instance_id).await?.ignore_dots_for_gmail_addresses {
        return Ok(false);
    }
    Ok(tessera_store::users::dotless_claimed(&ctx.db, instance_id, &key).await?)
}

/// [`claimed`] for an e-mail address, inside a write transaction (invitations refuse addresses users hold).
pub(crate) async fn email_claimed_tx(tx: &mut Tx, instance_id: &str, normalized: &str) -> Result<bool> {
    if tessera_store::invitations::email_claimed(tx, instance_id, normalized).await? {
        return Ok(true);
    }
    let Some(key) = email_dotless(normalized) else { return Ok(false) };
    if !crate::settings::restrictions_tx(tx, instance_id).await?.ignore_dots_for_gmail_addresses {
        return Ok(false);
    }
    Ok(tessera_store::users::dotless_claimed_tx(tx, instance_id, &key, "").await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(email("e", " Ada@Example.COM ").unwrap(), "ada@example.com");
        assert!(email("e", "nope").is_err());
        assert_eq!(phone("p", "+1 (555) 555-0100").unwrap(), "+15555550100");
        assert!(phone("p", "5555550100").is_err());
        assert_eq!(
            web3_wallet("w", "0xABCDEF0123456789abcdef0123456789ABCDEF01").unwrap().1,
            "0xabcdef0123456789abcdef0123456789abcdef01"
        );
        assert!(web3_wallet("w", "0x12").is_err());
        assert_eq!(username("u", "Ada_L").unwrap(), ("Ada_L".into(), "ada_l".into()));
        assert!(username("u", "ab").is_err());
        assert_eq!(username("u", "+15555550100").unwrap_err().code(), ErrorCode::FormUsernameCannotBePhoneNumber);
        assert_eq!(email_dotless("j.o.h.n+x@gmail.com").as_deref(), Some("john+x@gmail.com"));
        assert_eq!(email_dotless("j.ohn@googlemail.com").as_deref(), Some("john@googlemail.com"));
        assert_eq!(email_dotless("j.ohn@example.com"), None);
    }
}
