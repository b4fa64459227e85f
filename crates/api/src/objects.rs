//! Clerk JSON objects, shared across route groups.

pub mod admin_portal_link_token;
pub mod agent_task;
pub mod api_key;
pub mod deleted;
pub mod directory;
pub mod domain;
pub mod email;
pub mod enterprise_connection;
pub mod instance;
pub mod invitation;
pub mod jwt_template;
pub mod m2m_token;
pub mod machine;
pub mod organization;
pub mod organization_domain;
pub mod organization_invitation;
pub mod permission;
pub mod proxy_check;
pub mod redirect_url;
pub mod session;
pub mod sign_up;
pub mod template;
pub mod ticket;
pub mod user;
pub mod verification;
pub mod waitlist_entry;
