//! SCIM filters (RFC 7644 §3.4.2.2): a parser for the grammar and an evaluator over resources as JSON.
//!
//! Attribute names compare case-insensitively, and so do string values, except `id` and `externalId`, which
//! RFC 7643 declares case-exact. A value path (`emails[type eq "work"]`) may be followed by a sub-attribute and a
//! comparison (`emails[type eq "work"].value eq "a@b.c"`), the form Entra uses.

use serde_json::Value;

/// Longest filter accepted (a directory's filters are short; this bounds the parser's work).
pub const MAX_FILTER: usize = 4096;
/// Deepest nesting of parentheses and value paths.
const MAX_DEPTH: usize = 16;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `co`
    Co,
    /// `sw`
    Sw,
    /// `ew`
    Ew,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

/// An attribute path: optional schema URN, attribute, optional sub-attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// The schema URN prefix, lower-cased, when given.
    pub urn: Option<String>,
    /// The attribute.
    pub attr: String,
    /// The sub-attribute.
    pub sub: Option<String>,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `a or b`
    Or(Box<Filter>, Box<Filter>),
    /// `a and b`
    And(Box<Filter>, Box<Filter>),
    /// `not (a)`
    Not(Box<Filter>),
    /// `attr pr`
    Present(AttrPath),
    /// `attr op value`
    Compare(AttrPath, Op, Value),
    /// `attr[filter]`, optionally followed by `.sub op value`.
    ValuePath(AttrPath, Box<Filter>, Option<(String, Op, Value)>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                out.push(match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '[' => Tok::LBracket,
                    _ => Tok::RBracket,
                });
            }
            '"' => {
                chars.next();
                let mut v = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated string".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => v.push('\n'),
                            Some('t') => v.push('\t'),
                            Some(e @ ('"' | '\\' | '/')) => v.push(e),
                            _ => return Err("bad escape in string".into()),
                        },
                        Some(ch) => v.push(ch),
                    }
                }
                out.push(Tok::Str(v));
            }
            _ => {
                // A word: attribute path parts (with URN colons), operators, literals. A dot that follows a
                // closing bracket is its own token; inside a word it stays (URNs contain dots: "2.0").
                let mut w = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || matches!(ch, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    w.push(ch);
                    chars.next();
                }
                if w == "." {
                    out.push(Tok::Dot);
                } else if let Some(rest) = w.strip_prefix('.') {
                    out.push(Tok::Dot);
                    out.push(Tok::Word(rest.to_owned()));
                } else {
                    out.push(Tok::Word(w));
                }
            }
        }
    }
    Ok(out)
}

/// Splits `urn:…:attr.sub` into its parts. The URN is everything up to the last colon.
pub fn attr_path(word: &str) -> Result<AttrPath, String> {
    let (urn, rest) = match word.rfind(':') {
        Some(i) if word[..i].to_ascii_lowercase().starts_with("urn:") => {
            (Some(word[..i].to_ascii_lowercase()), &word[i + 1..])
        }
        _ => (None, word),
    };
    let mut parts = rest.splitn(2, '.');
    let attr = parts.next().unwrap_or_default().to_owned();
    let sub = parts.next().map(str::to_owned);
    let name_ok =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
    if !name_ok(&attr) || sub.as_deref().is_some_and(|s| !name_ok(s)) {
        return Err(format!("{word:?} is not an attribute path"));
    }
    Ok(AttrPath { urn, attr, sub })
}

fn op(word: &str) -> Option<Op> {
    Some(match word.to_ascii_lowercase().as_str() {
        "eq" => Op::Eq,
        "ne" => Op::Ne,
        "co" => Op::Co,
        "sw" => Op::Sw,
        "ew" => Op::Ew,
        "gt" => Op::Gt,
        "ge" => Op::Ge,
        "lt" => Op::Lt,
        "le" => Op::Le,
        _ => return None,
    })
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn nested(&mut self, close: Tok) -> Result<Filter, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("filter nested too deeply".into());
        }
        let f = self.or()?;
        if self.next() != Some(close) {
            return Err("unbalanced brackets".into());
        }
        self.depth -= 1;
        Ok(f)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        if self.keyword("not") && matches!(self.toks.get(self.pos + 1), Some(Tok::LParen)) {
            self.pos += 2;
            return Ok(Filter::Not(Box::new(self.nested(Tok::RParen)?)));
        }
        match self.next() {
            Some(Tok::LParen) => self.nested(Tok::RParen),
            Some(Tok::Word(w)) => {
                let path = attr_path(&w)?;
                if self.peek() == Some(&Tok::LBracket) {
                    self.pos += 1;
                    let inner = self.nested(Tok::RBracket)?;
                    let tail = if self.peek() == Some(&Tok::Dot) {
                        self.pos += 1;
                        let Some(Tok::Word(sub)) = self.next() else { return Err("expected a sub-attribute".into()) };
                        let (o, v) = self.comparison()?;
                        Some((sub, o, v))
                    } else {
                        None
                    };
                    return Ok(Filter::ValuePath(path, Box::new(inner), tail));
                }
                if self.keyword("pr") {
                    self.pos += 1;
                    return Ok(Filter::Present(path));
                }
                let (o, v) = self.comparison()?;
                Ok(Filter::Compare(path, o, v))
            }
            _ => Err("expected an attribute path".into()),
        }
    }

    fn comparison(&mut self) -> Result<(Op, Value), String> {
        let o = match self.next() {
            Some(Tok::Word(w)) => op(&w).ok_or_else(|| format!("{w:?} is not an operator"))?,
            _ => return Err("expected an operator".into()),
        };
        let v = match self.next() {
            Some(Tok::Str(s)) => Value::String(s),
            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => serde_json::from_str::<serde_json::Number>(&w)
                    .map(Value::Number)
                    .map_err(|_| format!("{w:?} is not a value"))?,
            },
            _ => return Err("expected a value".into()),
        };
        Ok((o, v))
    }
}

/// Parses a filter; the error says what is wrong (SCIM `invalidFilter`).
pub fn parse(s: &str) -> Result<Filter, String> {
    if s.len() > MAX_FILTER {
        return Err("filter too long".into());
    }
    let mut p = Parser { toks: lex(s)?, pos: 0, depth: 0 };
    let f = p.or()?;
    if p.pos != p.toks.len() {
        return Err("unexpected text after the filter".into());
    }
    Ok(f)
}

/// The member of an object named `key`, compared case-insensitively.
pub fn get_ci<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

fn case_exact(attr: &str) -> bool {
    attr.eq_ignore_ascii_case("id") || attr.eq_ignore_ascii_case("externalId")
}

/// The object a path's attribute lives in: the resource, or its extension object for a URN other than the
/// resource's core schema.
fn scope<'a>(resource: &'a Value, urn: Option<&str>) -> Option<&'a Value> {
    match urn {
        Some(u) if !u.starts_with("urn:ietf:params:scim:schemas:core:") => get_ci(resource, u),
        _ => Some(resource),
    }
}

/// The values at `path` (multi-valued attributes flatten).
fn values<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let Some(v) = scope(resource, path.urn.as_deref()).and_then(|s| get_ci(s, &path.attr)) else { return vec![] };
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    match &path.sub {
        None => items.into_iter().flat_map(|i| if i.is_object() { get_ci(i, "value") } else { Some(i) }).collect(),
        Some(s) => items.into_iter().filter_map(|i| get_ci(i, s)).collect(),
    }
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare(actual: &Value, o: Op, expected: &Value, exact: bool) -> bool {
    use std::cmp::Ordering;
    // Entra sends booleans as strings; compare them as booleans.
    let as_bool = |v: &Value| match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    };
    let ord = match (actual, expected) {
        (Value::String(a), Value::String(e)) => {
            let (a, e) = if exact { (a.clone(), e.clone()) } else { (a.to_lowercase(), e.to_lowercase()) };
            match o {
                Op::Co => return a.contains(&e),
                Op::Sw => return a.starts_with(&e),
                Op::Ew => return a.ends_with(&e),
                _ => a.cmp(&e),
            }
        }
        (Value::Number(a), Value::Number(e)) => match (a.as_f64(), e.as_f64()) {
            (Some(a), Some(e)) => a.partial_cmp(&e).unwrap_or(Ordering::Equal),
            _ => return false,
        },
        (a, e) => match (as_bool(a), as_bool(e)) {
            (Some(a), Some(e)) => {
                return match o {
                    Op::Eq => a == e,
                    Op::Ne => a != e,
                    _ => false,
                };
            }
            _ => return matches!(o, Op::Ne) || (matches!(o, Op::Eq) && a == e),
        },
    };
    match o {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Co | Op::Sw | Op::Ew => false,
    }
}

/// Whether `resource` matches `f`.
pub fn matches(f: &Filter, resource: &Value) -> bool {
    match f {
        Filter::Or(a, b) => matches(a, resource) || matches(b, resource),
        Filter::And(a, b) => matches(a, resource) && matches(b, resource),
        Filter::Not(a) => !matches(a, resource),
        Filter::Present(p) => values(resource, p).into_iter().any(present),
        Filter::Compare(p, o, v) => {
            let found = values(resource, p);
            if found.is_empty() {
                // An absent attribute is unequal to every value (and equal to null).
                return match o {
                    Op::Ne => !v.is_null(),
                    Op::Eq => v.is_null(),
                    _ => false,
                };
            }
            let exact = case_exact(p.sub.as_deref().unwrap_or(&p.attr));
            if *o == Op::Ne {
                return found.iter().all(|a| compare(a, Op::Ne, v, exact));
            }
            found.iter().any(|a| compare(a, *o, v, exact))
        }
        Filter::ValuePath(p, inner, tail) => {
            let Some(attr) = scope(resource, p.urn.as_deref()).and_then(|s| get_ci(s, &p.attr)) else { return false };
            let items: Vec<&Value> = match attr {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            items.into_iter().filter(|i| matches(inner, i)).any(|i| match tail {
                None => true,
                Some((sub, o, v)) => get_ci(i, sub).is_some_and(|a| compare(a, *o, v, case_exact(sub))),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "userName": "Alice@Example.com",
            "externalId": "00uA",
            "active": "True",
            "name": {"givenName": "Alice", "familyName": "Liddell"},
            "emails": [{"value": "alice@example.com", "type": "work", "primary": true}, {"value": "a@home.net", "type": "home"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ops"}
        })
    }

    fn m(f: &str) -> bool {
        matches(&parse(f).unwrap(), &user())
    }

    #[test]
    fn the_filters_idps_send() {
        assert!(m(r#"userName eq "alice@example.com""#));
        assert!(!m(r#"externalId eq "00ua""#), "externalId is case-exact");
        assert!(m(r#"externalId eq "00uA""#));
        assert!(m(r#"emails.value co "home""#));
        assert!(m(r#"emails[type eq "work"].value eq "alice@example.com""#));
        assert!(m(r#"emails[type eq "work" and value sw "ALICE"]"#));
        assert!(m(r#"name.givenName sw "al" and (name.familyName ew "dell" or userName pr)"#));
        assert!(m(r#"active eq true"#));
        assert!(!m(r#"not (active eq true)"#));
        assert!(m(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "ops""#));
        assert!(m(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ALICE@example.com""#));
        assert!(!m(r#"title pr"#));
        assert!(m(r#"title ne "x""#));
    }

    #[test]
    fn malformed_filters_are_refused() {
        for f in [
            "",
            "userName",
            "userName eq",
            "userName xx \"a\"",
            "(userName eq \"a\"",
            "userName eq \"a",
            "a b c d",
            "userName eq \"a\" or",
            "emails[type eq \"w\"",
            "user name eq \"a\"",
            "userName eq bare",
        ] {
            assert!(parse(f).is_err(), "{f}");
        }
        assert!(parse(&"(".repeat(40)).is_err());
    }
}
