//! Exclusive XML Canonicalization 1.0 without comments (<https://www.w3.org/TR/xml-exc-c14n/>), the only
//! canonicalization Tessera accepts in SAML signatures, over a `roxmltree` document (which refuses DTDs, so the
//! input is the plain XPath data model: entities are the five predefined ones and character references).
//!
//! `roxmltree` does not keep an element's or attribute's prefix; the canonical form needs it (exclusive c14n
//! renders the namespace declarations a prefix visibly uses), so it is read from the qualified name in the source
//! text at the node's position.

use std::collections::BTreeMap;

use roxmltree::{Node, NodeId, NodeType};

/// The `xml` prefix's namespace, never declared in canonical output.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The canonical form of the subtree at `apex`, leaving out the subtree at `exclude` (the enveloped signature),
/// with the namespaces of `inclusive_prefixes` (an `InclusiveNamespaces PrefixList`; `#default` is the default
/// namespace) treated as in inclusive canonicalization.
pub fn exclusive(apex: Node<'_, '_>, exclude: Option<NodeId>, inclusive_prefixes: &[&str]) -> String {
    let mut out = String::new();
    let mut rendered: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
    walk(apex, exclude, inclusive_prefixes, &mut rendered, &mut out);
    out
}

/// The prefix of a qualified name (`None` for an unprefixed one).
fn prefix_of(qname: &str) -> Option<&str> {
    qname.split_once(':').map(|(p, _)| p)
}

/// The qualified name of an element as written in the source.
fn element_qname<'i>(node: Node<'_, 'i>) -> &'i str {
    let text = node.document().input_text();
    let start = node.range().start + 1;
    let rest = text.get(start..).unwrap_or("");
    let end = rest.find(|c: char| c.is_whitespace() || c == '/' || c == '>').unwrap_or(rest.len());
    &rest[..end]
}

fn walk(
    node: Node<'_, '_>,
    exclude: Option<NodeId>,
    inclusive: &[&str],
    rendered: &mut Vec<BTreeMap<String, String>>,
    out: &mut String,
) {
    if Some(node.id()) == exclude {
        return;
    }
    match node.node_type() {
        NodeType::Element => {}
        NodeType::Text => {
            escape_text(node.text().unwrap_or(""), out);
            return;
        }
        NodeType::PI => {
            if let Some(pi) = node.pi() {
                out.push_str("<?");
                out.push_str(pi.target);
                if let Some(v) = pi.value.filter(|v| !v.is_empty()) {
                    out.push(' ');
                    out.push_str(v);
                }
                out.push_str("?>");
            }
            return;
        }
        NodeType::Comment | NodeType::Root => return,
    }
    let text = node.document().input_text();
    let qname = element_qname(node);
    // The prefixes this element visibly utilizes: its own (or the default namespace) and its attributes'.
    let mut utilized: Vec<String> = vec![prefix_of(qname).unwrap_or("").to_owned()];
    let mut attrs: Vec<(&str, &str, &str, &str)> = Vec::new(); // (namespace, local name, qname, value)
    for a in node.attributes() {
        let qn = text.get(a.range_qname()).unwrap_or(a.name());
        if let Some(p) = prefix_of(qn).filter(|p| *p != "xml") {
            utilized.push(p.to_owned());
        }
        attrs.push((a.namespace().unwrap_or(""), a.name(), qn, a.value()));
    }
    for p in inclusive {
        let p = if *p == "#default" { "" } else { p };
        utilized.push(p.to_owned());
    }
    let parent_rendered = rendered.last().cloned().unwrap_or_default();
    let mut here = parent_rendered.clone();
    let mut decls: BTreeMap<String, String> = BTreeMap::new();
    for p in utilized {
        let uri = if p.is_empty() {
            node.lookup_namespace_uri(None).unwrap_or("")
        } else {
            match node.lookup_namespace_uri(Some(&p)) {
                Some(u) if u != XML_NS => u,
                _ => continue,
            }
        };
        let already = parent_rendered.get(&p).map(String::as_str);
        // An empty default namespace is only rendered to undo a non-empty one in force in the output.
        let needed =
            if p.is_empty() && uri.is_empty() { already.is_some_and(|u| !u.is_empty()) } else { already != Some(uri) };
        if needed {
            decls.insert(p.clone(), uri.to_owned());
            here.insert(p, uri.to_owned());
        }
    }
    out.push('<');
    out.push_str(qname);
    for (prefix, uri) in &decls {
        if prefix.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(prefix);
            out.push_str("=\"");
        }
        escape_attr(uri, out);
        out.push('"');
    }
    attrs.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (_, _, qn, value) in attrs {
        out.push(' ');
        out.push_str(qn);
        out.push_str("=\"");
        escape_attr(value, out);
        out.push('"');
    }
    out.push('>');
    rendered.push(here);
    for child in node.children() {
        walk(child, exclude, inclusive, rendered, out);
    }
    rendered.pop();
    out.push_str("</");
    out.push_str(qname);
    out.push('>');
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str, path: &[&str]) -> String {
        let doc = roxmltree::Document::parse(xml).expect("xml");
        let mut node = doc.root_element();
        for name in path {
            node = node.children().find(|n| n.tag_name().name() == *name).expect("child");
        }
        exclusive(node, None, &[])
    }

    #[test]
    fn example_from_the_exclusive_c14n_recommendation() {
        // §2.2 of the recommendation: only the visibly utilized namespace is rendered.
        let xml = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
        assert_eq!(
            c14n(xml, &["elem2"]),
            r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
    }

    #[test]
    fn attributes_sorted_by_namespace_then_name_and_values_escaped() {
        let xml = "<r xmlns=\"urn:d\" xmlns:b=\"urn:b\" xmlns:a=\"urn:a\"><e z=\"1\" b:y=\"&lt;&quot;&#9;\" a:y=\"2\" x=\"3\">t&amp;&gt;<![CDATA[<c>]]></e></r>";
        assert_eq!(
            c14n(xml, &["e"]),
            "<e xmlns=\"urn:d\" xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" x=\"3\" z=\"1\" a:y=\"2\" b:y=\"&lt;&quot;&#x9;\">t&amp;&gt;&lt;c&gt;</e>"
        );
    }

    #[test]
    fn comments_are_dropped_and_an_empty_default_namespace_undoes_an_outer_one() {
        let xml = "<r xmlns=\"urn:d\"><e><!-- c --><f xmlns=\"\"/></e></r>";
        assert_eq!(c14n(xml, &["e"]), "<e xmlns=\"urn:d\"><f xmlns=\"\"></f></e>");
    }
}
