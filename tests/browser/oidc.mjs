// Enterprise SSO through OIDC in a real Chromium: the suite's OIDC identity provider (crates/testkit's TestOidcIdp,
// started by crates/server/tests/browser.rs: discovery, an /authorize that signs its one person in and sends the
// browser back with a code, a token endpoint checking the client secret and PKCE, RS256 ID tokens and JWKS) runs
// beside the app; an OIDC enterprise connection for its domain is created through the Backend API; clerk-js's
// `signIn.authenticateWithRedirect({strategy: 'enterprise_sso'})` sends the browser to the IdP's /authorize, which
// sends it back to Tessera's /v1/oauth_callback; Tessera exchanges the code, verifies the ID token and sends the
// browser back to the app signed in: clerk-js has the user, `authenticateRequest` of @clerk/backend sees them, and
// the Backend API shows their enterprise account.
//
// Environment: TESSERA_API_URL, TESSERA_SECRET_KEY, TESSERA_PUBLISHABLE_KEY, OIDC_DISCOVERY_URL, OIDC_CLIENT_ID,
// OIDC_CLIENT_SECRET, OIDC_EMAIL (the person the IdP signs in), CHROMIUM (default /usr/bin/chromium). Exits 0 only
// if every step passed and no request to Tessera failed.

import { signInThroughEnterpriseSso, ssoContext } from './sso.mjs';

const ctx = ssoContext(['OIDC_DISCOVERY_URL', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_EMAIL']);
const { log, bapi } = ctx;
const email = ctx.env.OIDC_EMAIL;

const connection = await bapi('POST', '/enterprise_connections', {
  name: 'OIDC Corp',
  provider: 'oidc_custom',
  domains: [email.split('@')[1]],
  active: true,
  oidc: {
    client_id: ctx.env.OIDC_CLIENT_ID,
    client_secret: ctx.env.OIDC_CLIENT_SECRET,
    discovery_url: ctx.env.OIDC_DISCOVERY_URL,
  },
});
log(`connection ${connection.id}; IdP ${ctx.env.OIDC_DISCOVERY_URL}`);

await signInThroughEnterpriseSso(ctx, { email, connection, protocol: 'oauth', label: 'OIDC' });
