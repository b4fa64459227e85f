// The React apps and @clerk/testing against Tessera (see crates/server/tests/browser.rs):
//   1. a @clerk/react 6 app and 2. a @clerk/clerk-react 5 app (react/react6.jsx, react/react5.jsx), bundled here with
//      esbuild as Vite would (`import.meta.env.VITE_*`), each sign in once through <SignIn/> with e-mail and
//      password; the page then shows the user id from useUser(), and the app's server (@clerk/express,
//      clerkMiddleware + getAuth) answers signed in as that user. @clerk/react 6 loads clerk-js 6 and @clerk/ui 1 from
//      Tessera, @clerk/clerk-react 5 loads clerk-js 5 (with its own UI) from Tessera.
//   3. @clerk/testing's Playwright helpers on the @clerk/react 6 app: clerkSetup() (a testing token from the Backend
//      API at CLERK_API_URL), clerk.signIn({ page, emailAddress }) (a sign-in token, then the ticket strategy in the
//      page), clerk.signOut(), then clerk.signIn({ page, signInParams }) with the test-mode e-mail code.
//
// Environment: CLERK_API_URL (Tessera), CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY, CHROMIUM. Prints every request
// the pages made to Tessera and exits 0 only if every step passed and none of them failed.

import { redirected } from './clerk-api-guard.mjs';
import http from 'node:http';
import { createClerkClient } from '@clerk/backend';
import { clerkMiddleware, getAuth } from '@clerk/express';
import { clerk, clerkSetup } from '@clerk/testing/playwright';
import { build } from 'esbuild';
import express from 'express';
import { chromium } from 'playwright-core';
import { frontendHost } from './app.mjs';

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
const log = (...args) => console.log(`[${elapsed()}]`, ...args);
const STEP_MS = 20_000;

const tesseraUrl = process.env.CLERK_API_URL;
const secretKey = process.env.CLERK_SECRET_KEY;
const publishableKey = process.env.CLERK_PUBLISHABLE_KEY;
if (!tesseraUrl || !secretKey || !publishableKey) {
  throw new Error('CLERK_API_URL, CLERK_SECRET_KEY and CLERK_PUBLISHABLE_KEY are required');
}
const proxyUrl = `${tesseraUrl}/fapi/${frontendHost(publishableKey)}`;

const backend = createClerkClient({ secretKey, publishableKey, apiUrl: tesseraUrl });
const email = 'react+clerk_test@example.com';
const password = 'Tessera-react-suite-5x8q1w';
const user = await backend.users.createUser({ emailAddress: [email], password });
log(`seeded ${user.id} <${email}>; proxy URL ${proxyUrl}`);

/** Bundles a React app as Vite would build it: JSX, `import.meta.env.VITE_*`, production React. */
const bundle = async (entry) => {
  const t = performance.now();
  const env = {
    VITE_CLERK_PUBLISHABLE_KEY: publishableKey,
    VITE_CLERK_PROXY_URL: proxyUrl,
    VITE_TESSERA_URL: tesseraUrl,
  };
  const define = { 'process.env.NODE_ENV': '"production"' };
  for (const [k, v] of Object.entries(env)) define[`import.meta.env.${k}`] = JSON.stringify(v);
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    jsx: 'automatic',
    target: 'es2022',
    define,
    logLevel: 'error',
  });
  const js = out.outputFiles[0].text;
  log(`bundled ${entry}: ${(js.length / 1024).toFixed(0)} KiB in ${((performance.now() - t) / 1000).toFixed(2)}s`);
  return js;
};

/** Serves a bundled app at `/` (any other path too, as a single-page app) and its server's `/api/me`. */
const serve = async (js) => {
  const app = express();
  app.use(clerkMiddleware({ secretKey, publishableKey, proxyUrl, apiUrl: tesseraUrl }));
  app.get('/api/me', (req, res) => {
    const auth = getAuth(req);
    res.set('cache-control', 'no-store').json({ userId: auth.userId ?? null, sessionId: auth.sessionId ?? null });
  });
  app.get('/app.js', (_req, res) => res.type('text/javascript').set('cache-control', 'no-store').send(js));
  app.get('/favicon.ico', (_req, res) => res.status(204).end());
  app.use((_req, res) =>
    res
      .type('html')
      .set('cache-control', 'no-store')
      .send('<!doctype html><html><head><meta charset="utf-8"><title>React app</title></head>' +
        '<body><div id="root"></div><script type="module" src="/app.js"></script></body></html>'),
  );
  const server = http.createServer(app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
};

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const requests = [];
const pageErrors = [];
const pending = new Set();
const servers = [];
let failure = null;

/** Records the page's errors and its requests to Tessera under `label`. */
const watch = (page, label) => {
  page.on('console', (m) => {
    if (m.type() === 'warning' && m.text().includes('loaded with development keys')) return;
    if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(`${label} console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`${label} pageerror: ${e.message}`));
  page.on('request', (req) => {
    if (req.url().startsWith(tesseraUrl)) requests.push({ req, label, method: req.method(), url: new URL(req.url()), status: null, body: '' });
  });
  page.on('response', (res) => {
    const entry = requests.find((e) => e.req === res.request());
    if (!entry) return;
    entry.status = res.status();
    if (entry.status >= 400) pending.add(res.text().then((t) => (entry.body = t), () => {}));
  });
  page.on('requestfailed', (req) => {
    const entry = requests.find((e) => e.req === req);
    if (entry) entry.status = `failed (${req.failure()?.errorText})`;
  });
};

/** Runs `f`, turning a failure into an error that says what the page showed (and where its screenshot is). */
const step = async (page, what, f) => {
  log(what);
  try {
    return await f();
  } catch (e) {
    const text = await page.locator('body').innerText({ timeout: 2_000 }).catch(() => '');
    const shot = `/tmp/tessera-react-failure-${Date.now()}.png`;
    const saved = await page.screenshot({ path: shot, fullPage: true, timeout: 5_000 }).then(() => shot, () => 'none');
    throw new Error(`${what}: ${e.message.split('\n')[0]}\n  url ${page.url()}\n  page text: ` +
      `${text.replace(/\s+/g, ' ').slice(0, 600)}\n  screenshot: ${saved}`);
  }
};

/** The user id the app shows (useUser()), and what its server says (getAuth), once both name `want`. */
const expectSignedIn = async (page, app, label, want) => {
  const shown = await step(page, `${label} wait for the user id from useUser()`, async () => {
    const id = page.locator('#user-id');
    await id.waitFor({ timeout: STEP_MS });
    return id.innerText();
  });
  if (shown !== want) throw new Error(`${label} the page shows ${shown}, expected ${want}`);
  const me = await (await page.request.get(`${app.url}/api/me`)).json();
  log(`${label} page shows ${shown}; /api/me → ${JSON.stringify(me)}`);
  if (me.userId !== want) throw new Error(`${label} /api/me is not signed in as ${want}: ${JSON.stringify(me)}`);
  return me;
};

/** Signs in through the app's <SignIn/>: the e-mail address, then the password (beside it or on the next page). */
const signInThroughUi = async (page, label) => {
  const passwordInput = page.locator('input[name=password]').filter({ visible: true });
  await step(page, `${label} wait for <SignIn/>`, () =>
    page.locator('input[name=identifier]').waitFor({ state: 'visible', timeout: STEP_MS }),
  );
  await step(page, `${label} type the e-mail address`, async () => {
    await page.locator('input[name=identifier]').fill(email);
    if ((await passwordInput.count()) === 0) {
      await page.locator('.cl-formButtonPrimary').click();
      await passwordInput.waitFor({ timeout: STEP_MS });
    }
  });
  await step(page, `${label} type the password and continue`, async () => {
    await passwordInput.fill(password);
    await page.locator('.cl-formButtonPrimary').click();
  });
};

const timings = {};
try {
  try {
    for (const [label, entry] of [['[react 6]', 'react/react6.jsx'], ['[clerk-react 5]', 'react/react5.jsx']]) {
      const t = performance.now();
      const app = await serve(await bundle(entry));
      servers.push(app);
      const context = await browser.newContext();
      const page = await context.newPage();
      watch(page, label);
      await step(page, `${label} open ${app.url}/`, () => page.goto(`${app.url}/`, { waitUntil: 'load' }));
      await signInThroughUi(page, label);
      await expectSignedIn(page, app, label, user.id);
      const version = await page.evaluate(() => window.Clerk?.version ?? null);
      log(`${label} signed in with clerk-js ${version}`);
      const major = label === '[react 6]' ? '6.' : '5.';
      if (!version?.startsWith(major)) throw new Error(`${label} runs clerk-js ${version}, expected ${major}x`);
      await page.waitForLoadState('networkidle');
      await context.close();
      timings[label] = ((performance.now() - t) / 1000).toFixed(1);
    }

    // @clerk/testing on the @clerk/react 6 app, in a new context.
    const t = performance.now();
    const label = '[@clerk/testing]';
    await clerkSetup({ dotenv: false });
    log(`${label} clerkSetup(): testing token from ${tesseraUrl}; CLERK_FAPI=${process.env.CLERK_FAPI}`);
    const app = servers[0];
    const context = await browser.newContext();
    const page = await context.newPage();
    watch(page, label);
    await step(page, `${label} open ${app.url}/`, () => page.goto(`${app.url}/`, { waitUntil: 'load' }));
    await step(page, `${label} clerk.signIn({ page, emailAddress })`, () => clerk.signIn({ page, emailAddress: email }));
    log(`${label} Backend API calls the helper made (sent to Tessera): ${redirected.join(', ')}`);
    const byTicket = await expectSignedIn(page, app, label, user.id);
    await step(page, `${label} clerk.signOut({ page })`, () => clerk.signOut({ page }));
    await step(page, `${label} <SignIn/> again after signing out`, () =>
      page.locator('input[name=identifier]').waitFor({ state: 'visible', timeout: STEP_MS }),
    );
    const out = await (await page.request.get(`${app.url}/api/me`)).json();
    if (out.userId !== null) throw new Error(`${label} /api/me after clerk.signOut: ${JSON.stringify(out)}`);
    await step(page, `${label} clerk.signIn({ page, signInParams: { strategy: 'email_code' } })`, () =>
      clerk.signIn({ page, signInParams: { strategy: 'email_code', identifier: email } }),
    );
    const byCode = await expectSignedIn(page, app, label, user.id);
    if (byCode.sessionId === byTicket.sessionId) throw new Error(`${label} the second sign-in reused ${byTicket.sessionId}`);
    await page.waitForLoadState('networkidle');
    await context.close();
    timings[label] = ((performance.now() - t) / 1000).toFixed(1);
  } catch (e) {
    failure = e;
  }
  await Promise.allSettled([...pending]);
} finally {
  await browser.close();
  for (const s of servers) await s.close();
}

console.log(`\nFAPI requests made by the pages (${requests.length}):`);
for (const { label, method, url, status, body } of requests) {
  const override = url.searchParams.get('_method');
  const path = url.pathname.replace(/^\/fapi\/[^/]+/, '');
  const excerpt = body ? `  ${body.replace(/\s+/g, ' ').slice(0, 240)}` : '';
  console.log(`  ${String(status ?? 'no answer (in flight when the page closed)').padEnd(4)} ${label} ${method}${override ? `(${override})` : ''} ${path}${excerpt}`);
}
if (pageErrors.length) {
  console.log(`\nPage errors and warnings (${pageErrors.length}):`);
  for (const e of pageErrors.slice(0, 30)) console.log(`  ${e.slice(0, 400)}`);
}
// A script chunk clerk-js fetches lazily (the user button's UI, say) may still be in flight when the test closes
// the page after its last step: closing cancels it without an answer or a failure event. Only those are excused;
// an API request without an answer, or any failed or 4xx/5xx request, fails the run.
const cancelledByClose = (e) => e.status === null && e.method === 'GET' && e.url.pathname.startsWith('/npm/');
const failed = requests.filter((e) => (typeof e.status !== 'number' && !cancelledByClose(e)) || e.status >= 400);
if (!failure && failed.length) {
  failure = new Error(`${failed.length} request(s) to Tessera failed: ${failed.map((e) => `${e.label} ${e.method} ${e.url.pathname} → ${e.status}`).join('; ')}`);
}
console.log(`\nrun time ${elapsed()} (${Object.entries(timings).map(([k, v]) => `${k} ${v}s`).join(', ')})`);
if (failure) {
  console.log(`\nFAILED: ${failure.message}`);
  process.exit(1);
}
console.log('@clerk/react 6 and @clerk/clerk-react 5 apps signed in through <SignIn/>; @clerk/testing signed in and out');
