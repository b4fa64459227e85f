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

import { chromium } from 'playwright-core';
import { frontendHost, startApp } from './app.mjs';

const started = performance.now();
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const tesseraUrl = env('TESSERA_API_URL');
const secretKey = env('TESSERA_SECRET_KEY');
const publishableKey = env('TESSERA_PUBLISHABLE_KEY');
const email = env('OIDC_EMAIL');
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

const connection = await bapi('POST', '/enterprise_connections', {
  name: 'OIDC Corp',
  provider: 'oidc_custom',
  domains: [email.split('@')[1]],
  active: true,
  oidc: {
    client_id: env('OIDC_CLIENT_ID'),
    client_secret: env('OIDC_CLIENT_SECRET'),
    discovery_url: env('OIDC_DISCOVERY_URL'),
  },
});
log(`connection ${connection.id}; IdP ${env('OIDC_DISCOVERY_URL')}`);

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

  // clerk-js's enterprise SSO: to the IdP's /authorize, back through Tessera's callback to the app.
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
  if (!account || account.enterprise_connection_id !== connection.id || account.email_address !== email || account.protocol !== 'oauth') {
    throw new Error(`no OIDC enterprise account: ${JSON.stringify(user.enterprise_accounts)}`);
  }
  log(`enterprise account ${account.id} (${account.protocol}, ${account.provider})`);
  if (failed.length) throw new Error(`requests to Tessera failed:\n${failed.join('\n')}`);
} catch (e) {
  failure = e;
} finally {
  await browser.close();
  await app.close();
}
if (failure) {
  console.error(`FAILED after ${elapsed()}: ${(failure && failure.stack) || failure}`);
  process.exit(1);
}
log('OIDC sign-in passed');
