//! Value checks shared by the settings and domains operations: country codes, e-mail addresses, origins, URLs and
//! host names. Each returns the normalized value or a 422 naming the parameter.

use crate::{Error, Result};

/// Every officially assigned ISO 3166-1 alpha-2 code (249), sorted.
pub const ISO_3166_ALPHA2: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD",
    "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA",
    "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE",
    "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA",
    "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK",
    "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT",
    "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS",
    "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST",
    "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA",
    "ZM", "ZW",
];

/// Most codes `blocked_country_codes` accepts (the spec's `maxItems`).
pub const MAX_BLOCKED_COUNTRIES: usize = 250;

/// Codes phone numbers are assigned to that ISO 3166-1 has not assigned: `XK` (Kosovo, +383), the user-assigned
/// code phone-number libraries and Clerk use for it.
const PHONE_REGIONS_OUTSIDE_ISO: &[&str] = &["XK"];

/// Checks an SMS country blocklist as the spec describes it: uppercase two-letter codes (`^[A-Z]{2}$`), unique, at
/// most 250 — those are refused. A well-formed code that names no country phone numbers belong to is silently
/// dropped from the stored list (the spec: "codes that aren't recognized … are silently dropped"); `XK` is kept.
pub fn country_codes(param: &str, codes: Vec<String>) -> Result<Vec<String>> {
    if codes.len() > MAX_BLOCKED_COUNTRIES {
        return Err(Error::param_value_invalid(
            param,
            format!("{param} can contain at most {MAX_BLOCKED_COUNTRIES} country codes."),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for code in &codes {
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Error::param_format_invalid(
                param,
                format!("`{code}` is not an uppercase ISO 3166-1 alpha-2 country code (e.g. `US`)."),
            ));
        }
        if !seen.insert(code.as_str()) {
            return Err(Error::param_value_invalid(param, format!("`{code}` appears more than once in {param}.")));
        }
    }
    let recognised = |c: &str| ISO_3166_ALPHA2.binary_search(&c).is_ok() || PHONE_REGIONS_OUTSIDE_ISO.contains(&c);
    Ok(codes.into_iter().filter(|c| recognised(c)).collect())
}

/// A plausible e-mail address: one `@`, a non-empty local part without spaces, and a valid domain name.
pub fn email(param: &str, value: &str) -> Result<String> {
    let value = value.trim();
    let invalid = || Error::param_format_invalid(param, format!("{param} must be a valid email address."));
    let (local, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && local.bytes().all(|b| b.is_ascii_graphic() && !b"()<>[]\\,;:\"".contains(&b));
    if !local_ok || value.len() > 254 || host_name(domain).is_none() || !domain.contains('.') {
        return Err(invalid());
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// A DNS host name (lowercased): labels of 1–63 letters, digits or hyphens (not at either end), at most 253
/// characters. IPv4 literals are not host names.
pub fn host_name(value: &str) -> Option<String> {
    let host = value.strip_suffix('.').unwrap_or(value).to_ascii_lowercase();
    if host.is_empty() || host.len() > 253 {
        return None;
    }
    let labels_ok = host.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    });
    let tld = host.rsplit('.').next().unwrap_or_default();
    (labels_ok && !tld.bytes().all(|b| b.is_ascii_digit())).then_some(host)
}

/// Whether a host is local (`localhost`, `*.localhost`, loopback or private IPv4), where plain `http` is expected.
pub fn is_local_host(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback() || ip.is_private())
}

/// An origin (`scheme://host[:port]`, no path, query or credentials), normalized without a trailing slash.
/// Any scheme is allowed: browser extensions (`chrome-extension://…`) and Capacitor (`capacitor://localhost`)
/// are the reason this list exists.
pub fn origin(param: &str, value: &str) -> Result<String> {
    let invalid = || {
        Error::param_format_invalid(
            param,
            format!("`{value}` is not a valid origin: expected `scheme://host[:port]` without a path."),
        )
    };
    let url = url::Url::parse(value.trim()).map_err(|_| invalid())?;
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(invalid)?;
    let path_ok = url.path().is_empty() || url.path() == "/";
    if !path_ok
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(invalid());
    }
    Ok(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// An absolute `http`/`https` URL with a host (for proxy and home URLs); returned parsed.
pub fn web_url(param: &str, value: &str) -> Result<url::Url> {
    let invalid = || Error::param_format_invalid(param, format!("{param} must be a valid http(s) URL."));
    let url = url::Url::parse(value.trim()).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid());
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(invalid());
    }
    Ok(url)
}

/// A Clerk JS version pin: a (partial) semantic version with optional `x` wildcards and pre-release tag
/// (`5`, `5.x`, `5.2.1`, `5.0.0-beta.1`), or an npm dist-tag (`latest`, `next`, `canary`…).
pub fn clerk_js_version(param: &str, value: &str) -> Result<String> {
    let value = value.trim();
    let (core, pre) = match value.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (value, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let semver = !core.is_empty()
        && parts.len() <= 3
        && parts.iter().enumerate().all(|(i, p)| {
            (!p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit())) || (i > 0 && *p == "x")
        })
        && pre.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
    let tag = value.len() <= 32
        && value.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if semver || tag {
        Ok(value.to_owned())
    } else {
        Err(Error::param_format_invalid(
            param,
            format!("{param} must be a version such as `5`, `5.x` or `5.2.1`, or a dist-tag such as `latest`."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_list_is_sorted_and_complete() {
        assert_eq!(ISO_3166_ALPHA2.len(), 249);
        assert!(ISO_3166_ALPHA2.windows(2).all(|w| w[0] < w[1]));
        assert!(country_codes("c", vec!["US".into(), "FR".into()]).is_ok());
        assert!(country_codes("c", vec!["us".into()]).is_err());
        assert_eq!(country_codes("c", vec!["ZZ".into(), "XK".into(), "FR".into()]).unwrap(), ["XK", "FR"]);
        assert!(country_codes("c", vec!["US".into(), "US".into()]).is_err());
    }

    #[test]
    fn origins_and_hosts() {
        assert_eq!(origin("o", "http://localhost:3000/").unwrap(), "http://localhost:3000");
        assert_eq!(origin("o", "chrome-extension://abcdef").unwrap(), "chrome-extension://abcdef");
        assert_eq!(origin("o", "capacitor://localhost").unwrap(), "capacitor://localhost");
        assert!(origin("o", "https://example.com/path").is_err());
        assert!(origin("o", "not an origin").is_err());
        assert_eq!(host_name("Example.COM").as_deref(), Some("example.com"));
        assert!(host_name("-bad.com").is_none());
        assert!(host_name("a..b").is_none());
        assert!(host_name("127.0.0.1").is_none());
        assert!(email("e", "support@example.com").is_ok());
        assert!(email("e", "nope").is_err());
        assert!(email("e", "a@localhost").is_err());
        for ok in ["5", "5.x", "5.2.1", "5.0.0-beta.1", "latest"] {
            assert!(clerk_js_version("v", ok).is_ok(), "{ok}");
        }
        for bad in ["", "5..1", "^5", "5.2.1.4", "Latest"] {
            assert!(clerk_js_version("v", bad).is_err(), "{bad}");
        }
    }
}
