// Signs in through clerk-js's <SignIn/> in a real Chromium against Tessera, then asks the app's server whether
// @clerk/backend and @clerk/express see the browser as signed in, then drops __session and opens a document route
// that must come back signed in through the handshake, then signs out (see crates/server/tests/browser.rs).
//
// Environment: TESSERA_API_URL, TESSERA_SECRET_KEY, TESSERA_PUBLISHABLE_KEY, CHROMIUM (default /usr/bin/chromium).
// Prints every request the page made to Tessera (method, path, status, and for failures a body excerpt and the
// form sent), then exits 0 only if every step passed and no request to Tessera failed.

import { createClerkClient } from '@clerk/backend';
import { chromium } from 'playwright-core';
import { frontendHost, startApp } from './app.mjs';

const started = performance.now();
const tesseraUrl = process.env.TESSERA_API_URL;
const secretKey = process.env.TESSERA_SECRET_KEY;
const publishableKey = process.env.TESSERA_PUBLISHABLE_KEY;
if (!tesseraUrl || !secretKey || !publishableKey) {
  throw new Error('TESSERA_API_URL, TESSERA_SECRET_KEY and TESSERA_PUBLISHABLE_KEY are required');
}
const proxyUrl = `${tesseraUrl}/fapi/${frontendHost(publishableKey)}`;
const STEP_MS = 20_000;

const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
const log = (...args) => console.log(`[${elapsed()}]`, ...args);

// The user, through the Backend API.
const backend = createClerkClient({ secretKey, publishableKey, apiUrl: tesseraUrl });
const email = 'browser+clerk_test@example.com';
const password = 'Tessera-browser-suite-9f3k2m';
const user = await backend.users.createUser({ emailAddress: [email], password });
log(`seeded ${user.id} <${email}>; proxy URL ${proxyUrl}`);

const app = await startApp({ tesseraUrl, publishableKey, secretKey, proxyUrl });
log(`app at ${app.url}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
/** Every request the page sent to Tessera, in order. */
const requests = [];
/** What the page logged as errors. */
const pageErrors = [];
let failure = null;
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => {
    // clerk-js warns on every load that development keys are in use: expected here.
    if (m.type() === 'warning' && m.text().includes('loaded with development keys')) return;
    if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  const pending = new Set();
  page.on('request', (req) => {
    if (!req.url().startsWith(tesseraUrl)) return;
    const form = (req.postData() ?? '').replace(/(password=)[^&]*/g, '$1***');
    const entry = { req, method: req.method(), url: new URL(req.url()), form, status: null, body: '' };
    requests.push(entry);
  });
  page.on('response', (res) => {
    const entry = requests.find((e) => e.req === res.request());
    if (!entry) return;
    entry.status = res.status();
    if (entry.status >= 300 && entry.status !== 304) {
      const p = res
        .text()
        .then((t) => {
          entry.body = t;
        })
        .catch(() => {});
      pending.add(p);
    }
  });
  page.on('requestfailed', (req) => {
    const entry = requests.find((e) => e.req === req);
    if (entry) entry.status = `failed (${req.failure()?.errorText})`;
  });

  const step = async (what, f) => {
    log(what);
    try {
      return await f();
    } catch (e) {
      const state = await page
        .evaluate(() => ({ error: window.__clerkError ?? null, loaded: window.Clerk?.loaded ?? null }))
        .catch(() => ({}));
      throw new Error(`${what}: ${e.message.split('\n')[0]}\n  page state: ${JSON.stringify(state)}`);
    }
  };

  try {
    await step('open /', () => page.goto(`${app.url}/`, { waitUntil: 'load' }));
    const passwordInput = page.locator('input[name=password]').filter({ visible: true });
    // <SignIn/>: e-mail and password. With `twoSteps`, the identifier alone first (create, then
    // attempt_first_factor on the password page); otherwise the password goes beside the identifier when <SignIn/>
    // shows it there ("instant password": one create call with strategy=password).
    const signInThroughUi = async ({ twoSteps }) => {
      await step('wait for <SignIn/> (input[name=identifier])', () =>
        page.locator('input[name=identifier]').waitFor({ state: 'visible', timeout: STEP_MS }),
      );
      const instantPassword = await step('type the e-mail address', async () => {
        await page.locator('input[name=identifier]').fill(email);
        return (await passwordInput.count()) > 0;
      });
      if (instantPassword && !twoSteps) {
        log('the password field is on the first page');
      } else {
        await step('continue, wait for the password page', async () => {
          await page.locator('.cl-formButtonPrimary').click();
          await page.locator('input[name=identifier]').waitFor({ state: 'hidden', timeout: STEP_MS });
          await passwordInput.waitFor({ timeout: STEP_MS });
        });
      }
      await step('type the password and continue', async () => {
        await passwordInput.fill(password);
        await page.locator('.cl-formButtonPrimary').click();
      });
      // Signed in, or an error shown by <SignIn/> (reported at once rather than after the timeout).
      const uiError = page.locator('.cl-formFieldErrorText, .cl-alertText').first();
      const signedIn = await step('wait for window.Clerk.user', () =>
        Promise.race([
          page.waitForFunction(() => window.Clerk?.user?.id, null, { timeout: STEP_MS }).then((h) => h.jsonValue()),
          uiError.waitFor({ timeout: STEP_MS }).then(async () => {
            throw new Error(`<SignIn/> shows an error: ${await uiError.innerText()}`);
          }),
        ]),
      );
      if (signedIn !== user.id) throw new Error(`Clerk.user.id is ${signedIn}, expected ${user.id}`);
    };
    await signInThroughUi({ twoSteps: false });
    const cookies = (await context.cookies(app.url)).map((c) => c.name).sort();
    log(`cookies on the app: ${cookies.join(', ')}`);
    // The proof: the app's server, with the browser's cookies, sees this user signed in.
    const me = await step('GET /api/me', async () => (await page.request.get(`${app.url}/api/me`)).json());
    log(`/api/me → ${JSON.stringify(me)}`);
    if (!me.isSignedIn || me.userId !== user.id) {
      throw new Error(`/api/me is not signed in as ${user.id}: ${JSON.stringify(me)}`);
    }
    const viaExpress = await step('GET /express/me', async () => (await page.request.get(`${app.url}/express/me`)).json());
    log(`/express/me → ${JSON.stringify(viaExpress)}`);
    if (!viaExpress.isSignedIn || viaExpress.userId !== user.id) {
      throw new Error(`/express/me (clerkMiddleware + getAuth) is not signed in as ${user.id}: ${JSON.stringify(viaExpress)}`);
    }
    // A document request without the session cookie: the backend sends the browser through the Frontend API's
    // handshake and back, and ends signed in with a new __session cookie.
    await context.clearCookies({ name: /^__session/ });
    const viaHandshake = await step('open /protected without __session (handshake)', async () => {
      const response = await page.goto(`${app.url}/protected`, { waitUntil: 'load' });
      return { status: response.status(), body: await response.json().catch(async () => await response.text()) };
    });
    log(`/protected → ${JSON.stringify(viaHandshake)}`);
    if (viaHandshake.body?.userId !== user.id) {
      throw new Error(`/protected after the handshake is not signed in as ${user.id}: ${JSON.stringify(viaHandshake)}`);
    }
    const renewed = (await context.cookies(app.url)).filter((c) => c.name.startsWith('__session')).map((c) => c.name);
    if (renewed.length === 0) throw new Error('the handshake set no __session cookie');
    log(`after the handshake: ${renewed.join(', ')}`);
    // Signing out in the browser signs the server side out too.
    await step('open / and sign out', async () => {
      await page.goto(`${app.url}/`, { waitUntil: 'load' });
      await page.waitForFunction(() => window.Clerk?.loaded && window.Clerk.user, null, { timeout: STEP_MS });
      // signOut() ends by navigating to the after-sign-out URL, `/`.
      await Promise.all([page.waitForEvent('load'), page.evaluate(() => window.Clerk.signOut())]);
    });
    const afterSignOut = await (await page.request.get(`${app.url}/api/me`)).json();
    log(`/api/me after sign-out → ${JSON.stringify(afterSignOut)}`);
    if (afterSignOut.isSignedIn) throw new Error(`still signed in after signOut(): ${JSON.stringify(afterSignOut)}`);
    // Again in two steps: identifier, then the password page.
    await signInThroughUi({ twoSteps: true });
    const again = await (await page.request.get(`${app.url}/api/me`)).json();
    log(`/api/me after signing in again → ${JSON.stringify(again)}`);
    if (!again.isSignedIn || again.userId !== user.id || again.sessionId === me.sessionId) {
      throw new Error(`not signed in with a new session after the second sign-in: ${JSON.stringify(again)}`);
    }
  } catch (e) {
    failure = e;
  }
  await Promise.allSettled([...pending]);
} finally {
  await browser.close();
  await app.close();
}

console.log(`\nFAPI requests made by the page (${requests.length}):`);
for (const { method, url, form, status, body } of requests) {
  const override = url.searchParams.get('_method');
  const path = url.pathname.startsWith('/fapi/') ? url.pathname.replace(/^\/fapi\/[^/]+/, '') : url.pathname;
  const shown = `${method}${override ? `(${override})` : ''} ${path}`;
  const sent = body && form ? `  sent ${form.slice(0, 200)}` : '';
  const excerpt = body ? `  ${body.replace(/\s+/g, ' ').slice(0, 240)}${sent}` : '';
  console.log(`  ${String(status ?? 'no answer').padEnd(4)} ${shown}${excerpt}`);
}
if (pageErrors.length) {
  console.log(`\nPage errors and warnings (${pageErrors.length}):`);
  for (const e of pageErrors.slice(0, 30)) console.log(`  ${e.slice(0, 400)}`);
}
// Every request to Tessera must have been answered without an error: a failing one is a call Tessera does not
// route or answer right yet, even when clerk-js got past it.
const failed = requests.filter((e) => typeof e.status !== 'number' || e.status >= 400);
if (!failure && failed.length) {
  failure = new Error(`${failed.length} request(s) to Tessera failed: ${failed.map((e) => `${e.method} ${e.url.pathname} → ${e.status}`).join('; ')}`);
}
console.log(`\nrun time ${elapsed()}`);
if (failure) {
  console.log(`\nFAILED: ${failure.message}`);
  process.exit(1);
}
console.log('signed in through <SignIn/>; /api/me, /express/me and the handshake agree; signed out; signed in again in two steps');
