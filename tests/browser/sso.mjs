// What the enterprise SSO browser programs (saml.mjs, oidc.mjs) share: their environment and Backend API client,
// and the sign-in itself — clerk-js's `signIn.authenticateWithRedirect({strategy: 'enterprise_sso'})` through
// whichever identity provider the program started, back to the app signed in, with @clerk/backend's
// `authenticateRequest` seeing the user and the Backend API showing their enterprise account.

import { chromium } from 'playwright-core';
import { frontendHost, startApp } from './app.mjs';

const STEP_MS = 20_000;

/** The program's environment (`TESSERA_API_URL`, `TESSERA_SECRET_KEY`, `TESSERA_PUBLISHABLE_KEY` and `names`),
 *  a timestamped log and a Backend API client. */
export function ssoContext(names = []) {
  const started = performance.now();
  const env = (name) => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  const vars = Object.fromEntries(['TESSERA_API_URL', 'TESSERA_SECRET_KEY', 'TESSERA_PUBLISHABLE_KEY', ...names].map((n) => [n, env(n)]));
  const tesseraUrl = vars.TESSERA_API_URL;
  const secretKey = vars.TESSERA_SECRET_KEY;
  const publishableKey = vars.TESSERA_PUBLISHABLE_KEY;
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
  const proxyUrl = `${tesseraUrl}/fapi/${frontendHost(publishableKey)}`;
  return { env: vars, tesseraUrl, secretKey, publishableKey, proxyUrl, elapsed, log, bapi };
}

/** Signs `email` in through `connection` in Chromium and checks what the app, the backend and the Backend API see
 *  (`protocol`, when given, is the enterprise account's); exits 1 on any failure. `close` stops the program's IdP. */
export async function signInThroughEnterpriseSso(ctx, { email, connection, protocol, label, close = () => {} }) {
  const { tesseraUrl, secretKey, publishableKey, proxyUrl, elapsed, log, bapi } = ctx;
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

    // clerk-js's enterprise SSO: to the IdP and back, through Tessera, to the callback URL.
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
    // The app's sso-callback page runs clerk-js's handleRedirectCallback (what <AuthenticateWithRedirectCallback/>
    // does): the sign-in is complete, or — a new person — transferable, and clerk-js signs them up with
    // signUp.create({transfer: true}); either way it goes on to /home signed in.
    const home = `${app.url}/home`;
    const landed = page.waitForURL((u) => u.toString() === home, { timeout: STEP_MS });
    page
      .evaluate(
        (home) => window.Clerk.handleRedirectCallback({ signInForceRedirectUrl: home, signUpForceRedirectUrl: home }),
        home,
      )
      .catch(() => {}); // the page navigates away
    await landed;
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
    if (
      !account ||
      account.enterprise_connection_id !== connection.id ||
      account.email_address !== email ||
      (protocol && account.protocol !== protocol)
    ) {
      throw new Error(`no ${label} enterprise account: ${JSON.stringify(user.enterprise_accounts)}`);
    }
    log(`enterprise account ${account.id} (${account.protocol}, ${account.provider})`);
    if (failed.length) throw new Error(`requests to Tessera failed:\n${failed.join('\n')}`);
  } catch (e) {
    failure = e;
  } finally {
    await browser.close();
    await app.close();
    await close();
  }
  if (failure) {
    console.error(`FAILED after ${elapsed()}: ${(failure && failure.stack) || failure}`);
    process.exit(1);
  }
  log(`${label} sign-in passed`);
}
