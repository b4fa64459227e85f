// Enterprise SSO through SAML in a real Chromium: a SAML identity provider built on `samlify` (signing with the test
// key in crates/testkit/fixtures/saml) runs beside the app; an enterprise connection for its domain is created through
// the Backend API; clerk-js's `signIn.authenticateWithRedirect({strategy: 'enterprise_sso'})` sends the browser to
// the IdP with Tessera's AuthnRequest (HTTP-Redirect), the IdP's page posts its signed response to Tessera's ACS
// (HTTP-POST), and Tessera sends the browser back to the app signed in: clerk-js has the user, `authenticateRequest`
// of @clerk/backend sees them, and the Backend API shows their enterprise account (see crates/server/tests/browser.rs).
//
// Environment: TESSERA_API_URL, TESSERA_SECRET_KEY, TESSERA_PUBLISHABLE_KEY, SAML_IDP_KEY and SAML_IDP_CERT (PEM
// files), CHROMIUM (default /usr/bin/chromium). Exits 0 only if every step passed and no request to Tessera failed.

import fs from 'node:fs';
import http from 'node:http';
import * as samlify from 'samlify';
import { signInThroughEnterpriseSso, ssoContext } from './sso.mjs';

const ctx = ssoContext(['SAML_IDP_KEY', 'SAML_IDP_CERT']);
const { proxyUrl, log, bapi } = ctx;

// The IdP: samlify validates nothing of the SP's request here (a test IdP trusts its one SP).
samlify.setSchemaValidator({ validate: () => Promise.resolve('skipped') });
const privateKey = fs.readFileSync(ctx.env.SAML_IDP_KEY, 'utf8');
const certificate = fs.readFileSync(ctx.env.SAML_IDP_CERT, 'utf8');
const email = 'grace@saml-corp.test';
let sp = null;
const idpServer = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://idp');
    if (url.pathname !== '/sso') return res.writeHead(404).end();
    const query = Object.fromEntries(url.searchParams);
    const parsed = await idp.parseLoginRequest(sp, 'redirect', { query });
    log(`IdP: AuthnRequest ${parsed.extract.request.id} for ${parsed.extract.issuer}`);
    const answer = await idp.createLoginResponse(sp, parsed, 'post', { email }, undefined, false, query.RelayState);
    const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><body><form method="post" action="${esc(answer.entityEndpoint)}">
<input type="hidden" name="SAMLResponse" value="${esc(answer.context)}">
<input type="hidden" name="RelayState" value="${esc(query.RelayState ?? '')}"></form>
<script>document.forms[0].submit()</script></body></html>`);
  } catch (e) {
    log(`IdP error: ${(e && e.stack) || e}`);
    res.writeHead(500).end(String(e));
  }
});
await new Promise((resolve) => idpServer.listen(0, '127.0.0.1', resolve));
const idpUrl = `http://127.0.0.1:${idpServer.address().port}`;
const idp = samlify.IdentityProvider({
  entityID: `${idpUrl}/metadata`,
  privateKey,
  signingCert: certificate,
  singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${idpUrl}/sso` }],
  nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
});

// The connection, through the Backend API.
const connection = await bapi('POST', '/enterprise_connections', {
  name: 'SAML Corp',
  provider: 'saml_custom',
  domains: ['saml-corp.test'],
  active: true,
  saml: { idp_entity_id: `${idpUrl}/metadata`, idp_sso_url: `${idpUrl}/sso`, idp_certificate: certificate },
});
const samlId = connection.saml_connection.id;
// The SP as the IdP knows it: Tessera's entity id, and its ACS as the browser reaches it (the app's proxy URL).
sp = samlify.ServiceProvider({
  entityID: connection.saml_connection.sp_entity_id,
  assertionConsumerService: [
    { Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', Location: `${proxyUrl}/v1/saml/acs/${samlId}` },
  ],
  wantAssertionsSigned: true,
});
log(`connection ${connection.id} (${samlId}); IdP at ${idpUrl}`);

await signInThroughEnterpriseSso(ctx, { email, connection, label: 'SAML', close: () => idpServer.close() });
