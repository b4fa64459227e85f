-- Enterprise SSO sign-ups (clerk-js's <SignUp/> with `enterprise_sso` / `saml`): a request to the IdP continues a
-- sign-up attempt instead of a sign-in (then `sign_in_id` is empty for a SAML request, NULL for an OIDC one).
ALTER TABLE saml_requests ADD COLUMN sign_up_id TEXT;
ALTER TABLE oidc_requests ADD COLUMN sign_up_id TEXT;
