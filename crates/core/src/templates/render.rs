//! Rendering with Handlebars (as Clerk's templates): HTML-escaped for e-mail bodies, verbatim for subjects and
//! SMS; a missing variable renders as nothing. The `app_logo` partial of Clerk's templates is provided; inline
//! partials (the one way a template could recurse without bound) are refused.

use std::sync::OnceLock;

use handlebars::Handlebars;
use serde_json::Value;

/// Clerk's `{{> app_logo}}`: the logo when the application has one, else its name.
const APP_LOGO: &str = "{{#if app.logo_image_url}}<img src=\"{{app.logo_image_url}}\" alt=\"{{app.name}}\" \
                        height=\"40\">{{else}}{{app.name}}{{/if}}";

fn registry(escape: bool) -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(false);
    if !escape {
        hb.register_escape_fn(handlebars::no_escape);
    }
    // A constant template: registering it cannot fail.
    let _ = hb.register_partial("app_logo", APP_LOGO);
    hb
}

fn html() -> &'static Handlebars<'static> {
    static HTML: OnceLock<Handlebars<'static>> = OnceLock::new();
    HTML.get_or_init(|| registry(true))
}

fn text() -> &'static Handlebars<'static> {
    static TEXT: OnceLock<Handlebars<'static>> = OnceLock::new();
    TEXT.get_or_init(|| registry(false))
}

/// Why a template could not be rendered (for the client: the template is theirs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderFailure(pub String);

fn render(hb: &Handlebars<'static>, source: &str, data: &Value) -> Result<String, RenderFailure> {
    if source.contains("*inline") {
        return Err(RenderFailure("inline partials are not supported".into()));
    }
    hb.render_template(source, data).map_err(|e| {
        let mut why = e.to_string();
        why.truncate(300);
        RenderFailure(why)
    })
}

/// Renders an HTML body (values are HTML-escaped).
pub fn html_body(source: &str, data: &Value) -> Result<String, RenderFailure> {
    render(html(), source, data)
}

/// Renders a subject or an SMS (values verbatim).
pub fn plain(source: &str, data: &Value) -> Result<String, RenderFailure> {
    render(text(), source, data)
}

/// A plain-text version of an HTML e-mail: no head, styles, scripts or tags; entities decoded; blank lines folded.
pub fn html_to_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len() / 2);
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'<' {
            // Elements whose content is not text.
            let skipped = ["head", "style", "script", "title"].iter().find_map(|tag| {
                let open = format!("<{tag}");
                let after = lower.as_bytes().get(i + open.len()).copied();
                (lower[i..].starts_with(&open) && matches!(after, Some(b'>' | b' ' | b'\t' | b'\n' | b'/')))
                    .then(|| lower[i..].find(&format!("</{tag}")).map(|end| i + end))
                    .flatten()
            });
            let from = skipped.unwrap_or(i);
            let Some(close) = lower[from..].find('>') else { break };
            let tag = &lower[i..from + close + 1];
            if ["<br", "<p", "</p", "<div", "</div", "<tr", "</tr", "<h1", "<h2", "<h3", "</h1", "</h2", "</h3", "<li"]
                .iter()
                .any(|t| tag.starts_with(t))
            {
                out.push('\n');
            }
            i = from + close + 1;
        } else {
            let next = html[i..].find('<').map_or(bytes.len(), |n| i + n);
            out.push_str(&decode_entities(&html[i..next]));
            i = next;
        }
    }
    let mut text = String::with_capacity(out.len());
    let mut blank = true;
    for line in out.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            if !blank {
                text.push('\n');
            }
            blank = true;
        } else {
            text.push_str(&line);
            text.push('\n');
            blank = false;
        }
    }
    text.trim_end().to_owned() + "\n"
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn renders_escaped_html_and_verbatim_text() {
        let data = json!({ "app": { "name": "A&B" }, "otp_code": "123456", "url": "https://x.example/?a=1&b=2" });
        assert_eq!(html_body("<b>{{app.name}}</b>", &data).unwrap(), "<b>A&amp;B</b>");
        assert_eq!(plain("{{otp_code}} for {{app.name}}", &data).unwrap(), "123456 for A&B");
        assert_eq!(plain("{{missing}}!", &data).unwrap(), "!");
        assert_eq!(html_body("{{> app_logo}}", &data).unwrap(), "A&amp;B");
        assert!(html_body("{{#if}}", &data).is_err());
        assert!(html_body("{{#*inline \"x\"}}{{> x}}{{/inline}}{{> x}}", &data).is_err());
        let linked = html_body("<a href=\"{{url}}\">{{url}}</a>", &data).unwrap();
        assert_eq!(html_to_text(&linked), "https://x.example/?a=1&b=2\n");
    }

    #[test]
    fn html_becomes_text() {
        let html = "<!DOCTYPE html><html><head><title>T</title><style>p{color:red}</style></head>\
                    <body><h2>Acme</h2><p>Your code:</p><p>123456</p>\n\n\n<p>Bye &amp; thanks&#x3D;&#39;</p></body></html>";
        assert_eq!(html_to_text(html), "Acme\n\nYour code:\n\n123456\n\nBye & thanks='\n");
    }
}
