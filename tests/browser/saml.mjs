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
import { chromium } from 'playwright-core';
import * as samlify from 'samlify';
import { frontendHost, startApp } from './app.mjs';

const started = performance.now();
const tesseraUrl = process.env.TESSERA_API_URL;
const secretKey = process.env.TESSERA_SECRET_KEY;
const publishableKey = process.env.TESSERA_PUBLISHABLE_KEY;
if (!tesseraUrl || !secretKey || !publishableKey || !process.env.SAML_IDP_KEY || !process.env.SAML_IDP_CERT) {
  throw new Error('TESSERA_API_URL, TESSERA_SECRET_KEY, TESSERA_PUBLISHABLE_KEY, SAML_IDP_KEY, SAML_IDP_CERT are required');
}
const proxyUrl = `${tesseraUrl}/fapi/${frontendHost(publishableKey)}`;
const STEP_MS = 20_000;
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
const log = (...args) => console.log(`[${elapsed()}]`, ...args);

const bapi = async (method, path, body) => {
  const res = await fetch(`${tesseraUrl}/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} /v1${path} → ${res.status} ${text.slice(0, 400)}`);
  return JSON.parse(text);
};

// The IdP: samlify validates nothing of the SP's request here (a test IdP trusts its one SP).
samlify.setSchemaValidator({ validate: () => Promise.resolve('skipped') });
const privateKey = fs.readFileSync(process.env.SAML_IDP_KEY, 'utf8');
const certificate = fs.readFileSync(process.env.SAML_IDP_CERT, 'utf8');
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

const app = await startApp({ tesseraUrl, publishableKey, secretKey, proxyUrl });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const failed = [];
let failure = null;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('response', (r) => {
    if (r.url().startsWith(tesseraUrl) && r.status() >= 400) failed.push(`${r.request().method()} ${r.url()} → ${r.status()}`);
  });
  page.on('pageerror', (e) => log(`pageerror: ${e.message}`));
  await page.goto(`${app.url}/home`);
  await page.evaluate(() => window.__clerkLoaded);
  log('clerk-js loaded, signed out');

  // clerk-js's enterprise SSO: to the IdP and back to the callback URL.
  const callback = `${app.url}/home?sso-callback=1`;
  const navigated = page.waitForURL((u) => u.toString().startsWith(callback), { timeout: STEP_MS });
  page
    .evaluate(
      ({ email, callback }) =>
        window.Clerk.client.signIn.authenticateWithRedirect({
          strategy: 'enterprise_sso',
          identifier: email,
          redirectUrl: callback,
          redirectUrlComplete: callback,
        }),
      { email, callback },
    )
    .catch(() => {}); // the page navigates away
  await navigated;
  await page.evaluate(() => window.__clerkLoaded);
  const signedIn = await page.evaluate(() => ({
    userId: window.Clerk.user?.id ?? null,
    email: window.Clerk.user?.primaryEmailAddress?.emailAddress ?? null,
  }));
  log(`back at the app: ${JSON.stringify(signedIn)}`);
  if (signedIn.email !== email) throw new Error(`clerk-js is not signed in as ${email}: ${JSON.stringify(signedIn)}`);

  // The backend sees the session, and the user's enterprise account.
  const me = await page.evaluate(async () => (await fetch('/api/me')).json());
  log(`authenticateRequest: ${JSON.stringify(me)}`);
  if (!me.isSignedIn || me.userId !== signedIn.userId) throw new Error(`the backend does not see the user: ${JSON.stringify(me)}`);
  const user = await bapi('GET', `/users/${me.userId}`);
  const account = user.enterprise_accounts?.[0];
  if (!account || account.enterprise_connection_id !== connection.id || account.email_address !== email) {
    throw new Error(`no enterprise account: ${JSON.stringify(user.enterprise_accounts)}`);
  }
  log(`enterprise account ${account.id} (${account.protocol}, ${account.provider})`);
  if (failed.length) throw new Error(`requests to Tessera failed:\n${failed.join('\n')}`);
} catch (e) {
  failure = e;
} finally {
  await browser.close();
  await app.close();
  idpServer.close();
}
if (failure) {
  console.error(`FAILED after ${elapsed()}: ${(failure && failure.stack) || failure}`);
  process.exit(1);
}
log('SAML sign-in passed');
