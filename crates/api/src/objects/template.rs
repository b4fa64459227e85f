//! `template` objects (Email & SMS templates).

use serde_json::{Value, json};
use tessera_core::templates::{Template, TemplateType};

/// A template as Clerk returns it. E-mail-only fields are left out of SMS templates.
pub fn template(t: &Template) -> Value {
    let mut v = json!({
        "object": "template",
        "id": t.id,
        "instance_id": t.instance_id,
        "resource_type": if t.customized { "user" } else { "system" },
        "template_type": t.template_type.as_str(),
        "name": t.name,
        "slug": t.slug,
        "position": t.position,
        "can_revert": t.customized,
        "can_delete": false,
        "can_edit_body": true,
        "can_toggle": t.can_toggle,
        "subject": t.subject,
        "markup": t.markup,
        "body": t.body,
        "available_variables": t.available_variables,
        "required_variables": t.required_variables,
        "delivered_by_clerk": t.delivered_by_clerk,
        "enabled": true,
        "flagged_as_suspicious": false,
        "updated_at": t.updated_at,
        "created_at": t.created_at,
    });
    if t.template_type == TemplateType::Email {
        v["from_email_name"] = json!(t.from_email_name.clone().unwrap_or_default());
        v["reply_to_email_name"] = json!(t.reply_to_email_name.clone().unwrap_or_default());
    }
    v
}
