// Signs in through clerk-js's <SignIn/> in a real Chromium against Tessera, then asks the app's server whether
// @clerk/backend and @clerk/express see the browser as signed in, then drops __session and opens a document route
// that must come back signed in through the handshake, then signs out and in again; then switches between two
// organizations with setActive and checks the backend's orgId; then opens a second browser context, which must be
// signed out while the first stays signed in, and signs in there with an e-mail code (test mode: 424242) through
// "Use another method", and signs up through <SignUp/>; at the end the first context, whose session token (30 s)
// has expired meanwhile, is still signed in through a token clerk-js refreshed (see crates/server/tests/browser.rs).
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

/** A Backend API call with the secret key; anything but a 2xx throws with the status and body. */
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
// Session tokens live 30 s (the default is 60 s), so that the run can see the first context's
// session survive past its token's lifetime: clerk-js refreshes the token before it expires.
await bapi('PATCH', '/instance/session_settings', { token_lifetime_seconds: 30 });
// Two organizations the user belongs to (as their creator, an admin).
await bapi('PATCH', '/instance/organization_settings', { enabled: true });
const orgA = await bapi('POST', '/organizations', { name: 'Browser Org A', created_by: user.id });
const orgB = await bapi('POST', '/organizations', { name: 'Browser Org B', created_by: user.id });
log(`seeded organizations ${orgA.id}, ${orgB.id}`);

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
  /** Logs the page's errors and every request it sends to Tessera (`label` marks pages of other contexts). */
  const watch = (page, label = '') => {
    page.on('console', (m) => {
      // clerk-js warns on every load that development keys are in use: expected here.
      if (m.type() === 'warning' && m.text().includes('loaded with development keys')) return;
      if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(`${label}console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => pageErrors.push(`${label}pageerror: ${e.message}`));
    page.on('request', (req) => {
      if (!req.url().startsWith(tesseraUrl)) return;
      const form = (req.postData() ?? '').replace(/(password=)[^&]*/g, '$1***');
      const entry = { req, label, method: req.method(), url: new URL(req.url()), form, status: null, body: '' };
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
  };
  const pending = new Set();
  const context = await browser.newContext();
  const page = await context.newPage();
  watch(page);
  /** The page a failing step is reported from (its state, its text and a screenshot in /tmp). */
  let current = page;

  /**
   * Signs `p` out through clerk-js and waits for the after-sign-out page (`/`) to load with nobody signed in.
   * signOut() ends by navigating away, which destroys the page's script context: the promise it returns is left in
   * the page (waiting for it there raced the navigation and failed as "Execution context was destroyed").
   */
  const signOutThroughClerk = async (p) => {
    const loaded = p.waitForEvent('load', { timeout: STEP_MS });
    await p
      .evaluate(() => {
        void window.Clerk.signOut();
      })
      .catch((e) => {
        if (!/Execution context was destroyed/.test(e.message)) throw e;
      });
    await loaded;
    await p.waitForFunction(() => window.Clerk?.loaded && !window.Clerk.user, null, { timeout: STEP_MS });
  };

  const step = async (what, f) => {
    log(what);
    try {
      return await f();
    } catch (e) {
      const state = await current
        .evaluate(() => ({ error: window.__clerkError ?? null, loaded: window.Clerk?.loaded ?? null }))
        .catch(() => ({}));
      const text = await current
        .locator('body')
        .innerText({ timeout: 2_000 })
        .catch(() => '');
      const shot = `/tmp/tessera-browser-failure-${Date.now()}.png`;
      const saved = await current
        .screenshot({ path: shot, fullPage: true, timeout: 5_000 })
        .then(() => shot)
        .catch(() => 'none');
      throw new Error(
        `${what}: ${e.message.split('\n')[0]}\n  page state: ${JSON.stringify(state)}, url ${current.url()}` +
          `\n  page text: ${text.replace(/\s+/g, ' ').slice(0, 600)}\n  screenshot: ${saved}`,
      );
    }
  };

  try {
    await step('open /', () => page.goto(`${app.url}/`, { waitUntil: 'load' }));
    const passwordInput = page.locator('input[name=password]').filter({ visible: true });
    // <SignIn/>: e-mail and password. With `twoSteps`, the identifier alone first (create, then
    // attempt_first_factor on the password page); otherwise the password goes beside the identifier when <SignIn/>
    // shows it there ("instant password": one create call with strategy=password).
    /** Waits for the navigation clerk-js makes after signing in (`reloaded`) to `/home` (<SignIn/>'s redirect URL),
     * then for clerk-js on that page. */
    const settle = (p, reloaded, what) =>
      step(what, async () => {
        if (!(await reloaded)) throw new Error('no new page load after signing in');
        await p.waitForURL(`${app.url}/home`, { timeout: STEP_MS });
        await p.waitForFunction(() => window.Clerk?.loaded && window.Clerk.user, null, { timeout: STEP_MS });
      });
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
      // After signing in, clerk-js navigates to the after-sign-in URL (`/`): a new page load.
      const reloaded = page.waitForEvent('load', { timeout: STEP_MS }).then(
        () => true,
        () => false,
      );
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
      await settle(page, reloaded, 'wait for the page after sign-in');
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
    await step('open /home and sign out', async () => {
      await page.goto(`${app.url}/home`, { waitUntil: 'load' });
      await page.waitForFunction(() => window.Clerk?.loaded && window.Clerk.user, null, { timeout: STEP_MS });
      await signOutThroughClerk(page);
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

    /** `/api/me` (authenticateRequest) and `/express/me` (clerkMiddleware + getAuth) for `p`'s cookies. */
    const both = async (p, what) => {
      const viaBackend = await (await p.request.get(`${app.url}/api/me`)).json();
      const viaExpress = await (await p.request.get(`${app.url}/express/me`)).json();
      log(`${what}: /api/me → ${JSON.stringify(viaBackend)}; /express/me → ${JSON.stringify(viaExpress)}`);
      return { viaBackend, viaExpress };
    };
    const expectAuth = (got, want, what) => {
      for (const [name, auth] of Object.entries(got)) {
        for (const [k, v] of Object.entries(want)) {
          if (auth[k] !== v) throw new Error(`${what}: ${name}.${k} is ${JSON.stringify(auth[k])}, expected ${JSON.stringify(v)}`);
        }
      }
    };

    // Organization switching: setActive({organization}) in the page, and the backend sees the active organization.
    // On /home, where signing in led, and where no <SignIn/> is mounted (it navigates away when signed in).
    for (const [name, org] of [['A', orgA.id], ['B', orgB.id], ['none', null]]) {
      const active = await step(`setActive({organization: ${org}}) (${name})`, () =>
        page.evaluate(async (o) => {
          await window.Clerk.setActive({ organization: o });
          return window.Clerk.organization?.id ?? null;
        }, org),
      );
      if (active !== org) throw new Error(`Clerk.organization is ${active} after setActive({organization: ${org}})`);
      // setActive resolves before clerk-js has finished rewriting its cookies: it removes and sets __client_uat
      // again when the touched client arrives, and a request read off the cookie jar in between can miss it. The
      // backend must see the new organization once the jar has settled (a few tries, 200 ms apart).
      const want = { isSignedIn: true, userId: user.id, orgId: org };
      for (let attempt = 1; ; attempt++) {
        const got = await both(page, `organization ${name}${attempt > 1 ? ` (try ${attempt})` : ''}`);
        try {
          expectAuth(got, want, `organization ${name}`);
          break;
        } catch (e) {
          if (attempt >= 10) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }

    /** The claims of the session token in `ctx`'s `__session` cookie (the app's origin). */
    const sessionClaims = async (ctx) => {
      const cookie = (await ctx.cookies(app.url)).find((c) => c.name === '__session');
      if (!cookie) throw new Error('no __session cookie on the app');
      return JSON.parse(Buffer.from(cookie.value.split('.')[1], 'base64url').toString('utf8'));
    };
    // The token the first context holds now; it is checked again once it has expired, at the end of the run.
    const held = await sessionClaims(context);
    log(`first context's token: sid ${held.sid}, expires in ${held.exp - Math.floor(Date.now() / 1000)} s`);

    // A second browser context is a separate browser: signed out there, while the first stays signed in.
    const context2 = await browser.newContext();
    const page2 = await context2.newPage();
    watch(page2, '[2] ');
    current = page2;
    await step('[2] open /, wait for clerk-js', async () => {
      await page2.goto(`${app.url}/`, { waitUntil: 'load' });
      await page2.waitForFunction(() => window.Clerk?.loaded, null, { timeout: STEP_MS });
    });
    if (await page2.evaluate(() => window.Clerk.user?.id ?? null)) throw new Error('[2] Clerk.user is set in a new context');
    expectAuth(await both(page2, '[2] new context'), { isSignedIn: false, userId: null }, 'second context');
    expectAuth(await both(page, 'first context'), { isSignedIn: true, userId: user.id }, 'first context');

    /** Types the test-mode code 424242 into the one-time-code input and waits for `window.Clerk.user`. */
    const enterCode = async (p, what) => {
      const code = p.locator('input[autocomplete=one-time-code]');
      await step(`${what}: wait for the code input`, () => code.waitFor({ state: 'visible', timeout: STEP_MS }));
      const reloaded = p.waitForEvent('load', { timeout: STEP_MS }).then(
        () => true,
        () => false,
      );
      await step(`${what}: type 424242`, async () => {
        await code.click();
        await p.keyboard.type('424242');
      });
      const uiError = p.locator('.cl-formFieldErrorText, .cl-alertText').first();
      const signedIn = await step(`${what}: wait for window.Clerk.user`, () =>
        Promise.race([
          p.waitForFunction(() => window.Clerk?.user?.id, null, { timeout: STEP_MS }).then((h) => h.jsonValue()),
          uiError.waitFor({ timeout: STEP_MS }).then(async () => {
            throw new Error(`the UI shows an error: ${await uiError.innerText()}`);
          }),
        ]),
      );
      await settle(p, reloaded, `${what}: wait for the page after sign-in`);
      return signedIn;
    };

    // E-mail code sign-in in the second context (test mode: a +clerk_test address accepts 424242): the identifier,
    // then "Use another method" on the password page, then "Email code to …".
    await step('[2] <SignIn/>: type the e-mail address and continue', async () => {
      await page2.locator('input[name=identifier]').waitFor({ state: 'visible', timeout: STEP_MS });
      await page2.locator('input[name=identifier]').fill(email);
      await page2.locator('.cl-formButtonPrimary').click();
      await page2.locator('input[name=identifier]').waitFor({ state: 'hidden', timeout: STEP_MS });
    });
    await step('[2] "Use another method", then "Email code to …"', async () => {
      await page2.getByText('Use another method').click({ timeout: STEP_MS });
      await page2.getByText(/Email code to/).click({ timeout: STEP_MS });
    });
    const viaCode = await enterCode(page2, '[2] e-mail code sign-in');
    if (viaCode !== user.id) throw new Error(`[2] Clerk.user.id is ${viaCode} after the e-mail code, expected ${user.id}`);
    const byCode = await both(page2, '[2] after the e-mail code sign-in');
    expectAuth(byCode, { isSignedIn: true, userId: user.id }, 'after the e-mail code sign-in');
    const first = await both(page, 'first context');
    expectAuth(first, { isSignedIn: true, userId: user.id }, 'first context');
    if (byCode.viaBackend.sessionId === first.viaBackend.sessionId) {
      throw new Error(`the two contexts share session ${first.viaBackend.sessionId}`);
    }
    await step('[2] sign out', async () => {
      await signOutThroughClerk(page2);
    });
    expectAuth(await both(page2, '[2] after sign-out'), { isSignedIn: false }, 'second context after sign-out');
    expectAuth(await both(page, 'first context'), { isSignedIn: true, userId: user.id }, 'first context');

    // Sign-up through <SignUp/> in the second context: e-mail and password, then the e-mail code (test mode: 424242).
    const newEmail = 'newuser+clerk_test@example.com';
    await step('[2] open /sign-up', () => page2.goto(`${app.url}/sign-up`, { waitUntil: 'load' }));
    await step('[2] wait for <SignUp/> (input[name=emailAddress])', () =>
      page2.locator('input[name=emailAddress]').waitFor({ state: 'visible', timeout: STEP_MS }),
    );
    await step('[2] fill in <SignUp/> and continue', async () => {
      await page2.locator('input[name=emailAddress]').fill(newEmail);
      const optional = { firstName: 'New', lastName: 'User', username: 'newuser_browser' };
      for (const [name, value] of Object.entries(optional)) {
        const input = page2.locator(`input[name=${name}]`).filter({ visible: true });
        if (await input.count()) await input.fill(value);
      }
      await page2.locator('input[name=password]').filter({ visible: true }).fill(`${password}-new`);
      await page2.locator('.cl-formButtonPrimary').click();
    });
    const newUserId = await enterCode(page2, '[2] sign-up verification');
    log(`[2] signed up as ${newUserId}`);
    const listed = await bapi('GET', `/users?email_address=${encodeURIComponent(newEmail)}`);
    const listedIds = (Array.isArray(listed) ? listed : listed.data ?? []).map((u) => u.id);
    if (listedIds.length !== 1 || listedIds[0] !== newUserId) {
      throw new Error(`GET /v1/users?email_address=${newEmail} → ${JSON.stringify(listedIds)}, expected [${newUserId}]`);
    }
    expectAuth(await both(page2, '[2] after sign-up'), { isSignedIn: true, userId: newUserId }, 'after sign-up');
    expectAuth(await both(page, 'first context'), { isSignedIn: true, userId: user.id }, 'first context');

    // The first context's session outlives the token it held: once that token is past its expiry (and the
    // backend's 5 s clock-skew allowance), the backend still sees the same session, through a newer token that
    // clerk-js fetched from POST /v1/client/sessions/{id}/tokens on its own.
    current = page;
    const wait = held.exp * 1000 + 6_000 - Date.now();
    log(`waiting ${Math.max(0, Math.ceil(wait / 1000))} s for the first context's token to expire`);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const later = await both(page, 'first context, past its first token');
    expectAuth(later, { isSignedIn: true, userId: user.id, sessionId: held.sid }, 'first context past the token lifetime');
    const refreshed = await sessionClaims(context);
    if (!(refreshed.sid === held.sid && refreshed.exp > held.exp)) {
      throw new Error(`the first context's token was not refreshed: ${JSON.stringify({ held, refreshed })}`);
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
for (const { label, method, url, form, status, body } of requests) {
  const override = url.searchParams.get('_method');
  const path = url.pathname.startsWith('/fapi/') ? url.pathname.replace(/^\/fapi\/[^/]+/, '') : url.pathname;
  const shown = `${label}${method}${override ? `(${override})` : ''} ${path}`;
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
console.log(
  'signed in through <SignIn/>; /api/me, /express/me and the handshake agree; signed out; signed in again in two steps; ' +
    'switched organizations; a second context is signed out, then signed in with an e-mail code; signed up through <SignUp/>; ' +
    'the first session outlived its token',
);
