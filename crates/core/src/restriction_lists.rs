//! The allow-list and block-list (`/allowlist_identifiers`, `/blocklist_identifiers`) and their enforcement.
//!
//! When `PATCH /instance/restrictions` turns a list on, new identifiers (users created, email addresses and phone
//! numbers added, invitations) must pass it. An e-mail entry may name a whole domain (`example.com` or
//! `*@example.com`, stored as `*@example.com`). An identifier on both lists is allowed (Clerk: the allow-list
//! takes precedence). A blocked address also blocks its `+subaddress` variants, and, with
//! `ignore_dots_for_gmail_addresses` on, the variants of a gmail address with other dots in its local part.

use tessera_store::restriction_lists::{self as store, ListEntryRow};

use crate::ids::new_id;
use crate::users::identifiers;
use crate::{Ctx, Error, ErrorCode, Result};

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// Only these may sign up.
    Allow,
    /// These may not.
    Block,
}

impl List {
    fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allowlist",
            Self::Block => "blocklist",
        }
    }

    fn id_prefix(self) -> &'static str {
        match self {
            Self::Allow => "alid",
            Self::Block => "blid",
        }
    }
}

/// Classifies and normalizes an identifier: `(type, stored form)`.
pub fn normalize(value: &str) -> Result<(&'static str, String)> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::param_missing("identifier"));
    }
    if let Some(domain) = v.strip_prefix("*@") {
        return domain_entry(domain);
    }
    if v.contains('@') {
        return Ok((identifiers::EMAIL, identifiers::email("identifier", v)?));
    }
    if v.starts_with('+') {
        return Ok((identifiers::PHONE, identifiers::phone("identifier", v)?));
    }
    if v.starts_with("0x") {
        return Ok((identifiers::WEB3, identifiers::web3_wallet("identifier", v)?.1));
    }
    if v.contains('.') {
        return domain_entry(v);
    }
    Err(Error::param_format_invalid(
        "identifier",
        "identifier must be an email address, an email domain, a phone number (E.164) or a web3 wallet.",
    ))
}

fn domain_entry(domain: &str) -> Result<(&'static str, String)> {
    // A domain is valid exactly when `x@domain` is a valid address.
    let probe = identifiers::email("identifier", &format!("x@{domain}"))
        .map_err(|_| Error::param_format_invalid("identifier", "identifier is not a valid email domain."))?;
    Ok((identifiers::EMAIL, format!("*{}", &probe[1..])))
}

/// The list entries that would match an identifier: itself, its address without a `+subaddress`, its domain.
fn candidates(kind: &str, value: &str) -> Vec<String> {
    let mut out = vec![value.to_owned()];
    if kind == identifiers::EMAIL
        && let Some((local, domain)) = value.rsplit_once('@')
    {
        if let Some((base, _)) = local.split_once('+') {
            out.push(format!("{base}@{domain}"));
        }
        out.push(format!("*@{domain}"));
    }
    out
}

/// Fails with `not_allowed_access` when the instance's restrictions refuse this (normalized) identifier.
pub async fn enforce(ctx: &Ctx, instance_id: &str, kind: &str, value: &str) -> Result<()> {
    let r = crate::settings::restrictions(ctx, instance_id).await?;
    if !r.allowlist && !r.blocklist {
        return Ok(());
    }
    let c = candidates(kind, value);
    // With dots ignored, a gmail entry matches whatever dots either side has.
    let dotless = r.ignore_dots_for_gmail_addresses
        && kind == identifiers::EMAIL
        && tessera_store::users::email_dotless(value).is_some();
    let on_list = async |list: List| -> Result<bool> {
        Ok(store::matching(&ctx.db, instance_id, list.as_str(), &c).await?
            || (dotless && store::matching_dotless(&ctx.db, instance_id, list.as_str(), &c).await?))
    };
    // With both lists on, the allow-list decides (an identifier on both is allowed).
    let refused = if r.allowlist { !on_list(List::Allow).await? } else { on_list(List::Block).await? };
    if refused {
        return Err(Error::with(
            ErrorCode::NotAllowedAccess,
            ErrorCode::NotAllowedAccess.message(),
            format!("{value} is not allowed to access this application."),
            Some(kind),
        ));
    }
    Ok(())
}

/// Adds an identifier to a list.
pub async fn create(ctx: &Ctx, instance_id: &str, list: List, identifier: &str) -> Result<ListEntryRow> {
    let (kind, value) = normalize(identifier)?;
    let now = ctx.now_ms();
    let row = ListEntryRow {
        id: new_id(list.id_prefix()),
        instance_id: instance_id.to_owned(),
        list: list.as_str().to_owned(),
        identifier: value,
        identifier_type: kind.to_owned(),
        invitation_id: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    store::insert(&mut tx, &row).await.map_err(|e| {
        if e.is_unique_violation() {
            Error::with(
                ErrorCode::DuplicateRecord,
                "duplicate identifier",
                format!("{} is already on the {}.", row.identifier, list.as_str()),
                Some("identifier"),
            )
        } else {
            e.into()
        }
    })?;
    tx.commit().await?;
    Ok(row)
}

/// A page of a list and its size.
pub async fn list(
    ctx: &Ctx,
    instance_id: &str,
    list: List,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ListEntryRow>, i64)> {
    Ok(store::list(&ctx.db, instance_id, list.as_str(), limit, offset).await?)
}

/// Removes an entry.
pub async fn delete(ctx: &Ctx, instance_id: &str, list: List, id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    if store::delete(&mut tx, instance_id, list.as_str(), id).await? == 0 {
        return Err(Error::not_found("identifier"));
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_matches_domains() {
        assert_eq!(normalize("Ada@Example.com").unwrap(), ("email_address", "ada@example.com".into()));
        assert_eq!(normalize("example.com").unwrap(), ("email_address", "*@example.com".into()));
        assert_eq!(normalize("*@Example.com").unwrap(), ("email_address", "*@example.com".into()));
        assert_eq!(normalize("+1 555 555 0100").unwrap(), ("phone_number", "+15555550100".into()));
        assert!(normalize("nonsense").is_err());
        assert_eq!(
            candidates("email_address", "ada+x@example.com"),
            vec!["ada+x@example.com", "ada@example.com", "*@example.com"]
        );
    }
}
