// Tessera as an OAuth 2.1 / OpenID Connect provider, seen by code nobody here wrote (see crates/server/tests/browser.rs):
//
// 1. `openid-client` (a certified OpenID relying-party library) discovers the provider on the instance's frontend
//    host and starts authorization code + PKCE; a real Chromium signs in through Tessera's hosted sign-in page
//    (clerk-js's <SignIn/>) and allows the hosted consent screen; the library exchanges the code, verifies the ID
//    token (signature, issuer, audience, nonce), reads userinfo, refreshes, and revokes. A replayed code and a reused
//    refresh token are refused (and revoke what they issued).
// 2. An MCP server built on `@clerk/mcp-tools` (Express, `@clerk/express`'s `clerkMiddleware`, `mcpAuthClerk`,
//    the MCP SDK's streamable HTTP transport) accepts the access token — an MCP client calls its tool — and refuses
//    it once revoked. Its `/.well-known/oauth-authorization-server` handler fetches `https://{frontend host}` (the
//    host in the publishable key, https hard-coded by @clerk/mcp-tools): this process resolves that one host to the
//    Tessera under test (a stand-in for DNS and port 443; the TLS handshake and the request are real).
//
// Tessera runs with --tls-cert/--tls-key (a test CA that Node trusts through NODE_EXTRA_CA_CERTS; Chromium is told
// to ignore certificate errors). Environment: TESSERA_API_URL (https://127.0.0.1:port), TESSERA_SECRET_KEY,
// TESSERA_PUBLISHABLE_KEY, CHROMIUM. Exits 0 only if every step passed and no request to Tessera failed.

import assert from 'node:assert/strict';
import http from 'node:http';
import { createClerkClient } from '@clerk/backend';
import { clerkMiddleware } from '@clerk/express';
import {
  authServerMetadataHandlerClerk,
  mcpAuthClerk,
  protectedResourceHandlerClerk,
  streamableHttpHandler,
} from '@clerk/mcp-tools/express';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import express from 'express';
import * as oidc from 'openid-client';
import { chromium } from 'playwright-core';
import { Agent, buildConnector, setGlobalDispatcher } from 'undici';
import { frontendHost } from './app.mjs';

const started = performance.now();
const tesseraUrl = process.env.TESSERA_API_URL;
const secretKey = process.env.TESSERA_SECRET_KEY;
const publishableKey = process.env.TESSERA_PUBLISHABLE_KEY;
if (!tesseraUrl?.startsWith('https://') || !secretKey || !publishableKey) {
  throw new Error('TESSERA_API_URL (https), TESSERA_SECRET_KEY and TESSERA_PUBLISHABLE_KEY are required');
}
const host = frontendHost(publishableKey);
const tessera = new URL(tesseraUrl);
const STEP_MS = 20_000;
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
const log = (...args) => console.log(`[${elapsed()}]`, ...args);

// `https://{frontend host}` (port 443) → the server under test, for this process's fetch (the "DNS" of the test).
const connect = buildConnector({});
setGlobalDispatcher(
  new Agent({
    connect: (opts, callback) =>
      opts.hostname === host
        ? connect({ ...opts, hostname: tessera.hostname, port: tessera.port, servername: host }, callback)
        : connect(opts, callback),
  }),
);

// --- The person, the relying party and its registration ---------------------------------------------------------
const backend = createClerkClient({ secretKey, publishableKey, apiUrl: tesseraUrl });
const email = 'oauth-browser+clerk_test@example.com';
const password = 'Tessera-oauth-suite-5h7j3k';
const user = await backend.users.createUser({ emailAddress: [email], password, firstName: 'Ada', lastName: 'Lovelace' });

/** The relying party's callback: each request to it resolves the next `callback()` promise with its URL. */
const waiting = [];
const rp = http.createServer((req, res) => {
  const url = new URL(req.url, redirectUri);
  if (url.pathname !== '/callback') return res.writeHead(404).end(); // the browser's favicon requests
  res.writeHead(200, { 'content-type': 'text/plain' }).end('relying party: code received');
  waiting.shift()?.(url);
});
await new Promise((resolve) => rp.listen(0, '127.0.0.1', resolve));
const redirectUri = `http://127.0.0.1:${rp.address().port}/callback`;
const callback = () => new Promise((resolve) => waiting.push(resolve));

const registered = await backend.oauthApplications.create({
  name: 'openid-client RP',
  redirectUris: [redirectUri],
  scopes: 'openid profile email offline_access',
  consentScreenEnabled: true,
});
const issuer = `${tesseraUrl}/fapi/${host}`;
log(`seeded ${user.id}; OAuth application ${registered.id}; issuer ${issuer}`);

// --- The MCP server -----------------------------------------------------------------------------------------------
process.env.CLERK_PUBLISHABLE_KEY = publishableKey; // what @clerk/mcp-tools's Express handlers read
/** The MCP server: one tool that answers who the access token acts for. */
function mcpServerInstance() {
  const mcp = new McpServer({ name: 'tessera-test-mcp', version: '0.0.1' });
  // A tool without parameters gets the request's extra (with the verified authInfo) as its only argument.
  mcp.tool('whoami', 'The user the access token acts for', async ({ authInfo }) => ({
    content: [
      { type: 'text', text: JSON.stringify({ userId: authInfo.extra.userId, clientId: authInfo.clientId, scopes: authInfo.scopes }) },
    ],
  }));
  return mcp;
}
const mcpApp = express();
mcpApp.use(express.json());
mcpApp.use(clerkMiddleware({ clerkClient: backend, secretKey, publishableKey }));
mcpApp.get('/.well-known/oauth-protected-resource/mcp', protectedResourceHandlerClerk({ scopes_supported: ['profile', 'email'] }));
mcpApp.get('/.well-known/oauth-authorization-server', authServerMetadataHandlerClerk);
// Stateless streamable HTTP: a server per request (the MCP SDK connects a server to one transport only, and
// streamableHttpHandler connects the server it is given on every request).
mcpApp.post('/mcp', mcpAuthClerk, (req, res) => streamableHttpHandler(mcpServerInstance())(req, res));
const mcpServer = await new Promise((resolve) => {
  const s = mcpApp.listen(0, '127.0.0.1', () => resolve(s));
});
const mcpUrl = `http://127.0.0.1:${mcpServer.address().port}/mcp`;

/** The MCP tool called with `token` through the MCP SDK's client. */
async function whoami(token) {
  const client = new McpClient({ name: 'tessera-test-client', version: '0.0.1' });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  try {
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    return JSON.parse(result.content[0].text);
  } finally {
    await client.close();
  }
}
/** The status of an MCP `initialize` sent with `token`. */
async function mcpStatus(token) {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '0' } } }),
  });
  await res.text();
  return res.status;
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const requests = [];
const pageErrors = [];
let failure = null;
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'warning' && m.text().includes('loaded with development keys')) return;
    if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('response', (res) => {
    if (res.url().startsWith(tesseraUrl)) requests.push({ method: res.request().method(), url: new URL(res.url()), status: res.status() });
  });
  page.on('requestfailed', (req) => {
    if (req.url().startsWith(tesseraUrl)) requests.push({ method: req.method(), url: new URL(req.url()), status: `failed (${req.failure()?.errorText})` });
  });
  const step = async (what, f) => {
    log(what);
    try {
      return await f();
    } catch (e) {
      const text = await page.locator('body').innerText({ timeout: 2_000 }).catch(() => '');
      throw new Error(`${what}: ${e.message.split('\n')[0]}\n  url ${page.url()}\n  page text: ${text.replace(/\s+/g, ' ').slice(0, 600)}`);
    }
  };

  // 1. Discovery, and an authorization request with PKCE, state and nonce.
  const config = await step('discovery (openid-client)', () =>
    oidc.discovery(new URL(issuer), registered.clientId, registered.clientSecret),
  );
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, issuer);
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  /** Authorizes in the browser (`signIn`: through the hosted sign-in page; `consent`: allowing the screen) and
   * returns what the relying party needs to exchange the code. */
  const authorize = async ({ signIn, consent }) => {
    const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
    const expectedState = oidc.randomState();
    const expectedNonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
      state: expectedState,
      nonce: expectedNonce,
    });
    const arrived = callback();
    await step('open the authorization URL', () => page.goto(url.href, { waitUntil: 'load' }));
    if (signIn) {
      await step('hosted sign-in page: <SignIn/> (input[name=identifier])', () =>
        page.locator('input[name=identifier]').waitFor({ state: 'visible', timeout: STEP_MS }),
      );
      assert.ok(new URL(page.url()).pathname.endsWith('/sign-in'), page.url());
      await step('sign in with e-mail and password', async () => {
        await page.locator('input[name=identifier]').fill(email);
        const passwordInput = page.locator('input[name=password]').filter({ visible: true });
        if ((await passwordInput.count()) === 0) {
          await page.getByRole('button', { name: 'Continue', exact: true }).click();
          await passwordInput.waitFor({ state: 'visible', timeout: STEP_MS });
        }
        await passwordInput.fill(password);
        await page.getByRole('button', { name: 'Continue', exact: true }).click();
      });
    }
    if (consent) {
      await step('consent screen: Allow', async () => {
        await page.locator('#tessera-oauth-allow').waitFor({ state: 'visible', timeout: STEP_MS });
        const shown = await page.locator('#tessera-oauth-consent').innerText();
        assert.ok(shown.includes(registered.name) && shown.includes(email), shown);
        await page.locator('#tessera-oauth-allow').click();
      });
    }
    const currentUrl = await step('the code arrives at the relying party', () =>
      Promise.race([arrived, new Promise((_, reject) => setTimeout(() => reject(new Error('no callback')), STEP_MS))]),
    );
    return { currentUrl, checks: { pkceCodeVerifier, expectedState, expectedNonce } };
  };

  const first = await authorize({ signIn: true, consent: true });
  const tokens = await step('code exchange; the ID token verified by openid-client', () =>
    oidc.authorizationCodeGrant(config, first.currentUrl, first.checks),
  );
  const claims = tokens.claims();
  assert.equal(claims.iss, issuer);
  assert.equal(claims.aud, registered.clientId);
  assert.equal(claims.sub, user.id);
  assert.equal(claims.email, email);
  assert.match(tokens.access_token, /^oat_/);
  assert.ok(tokens.refresh_token);
  const info = await step('userinfo', () => oidc.fetchUserInfo(config, tokens.access_token, claims.sub));
  assert.deepEqual([info.sub, info.email, info.given_name, info.family_name], [user.id, email, 'Ada', 'Lovelace']);

  // 2. The MCP server accepts the token; its metadata names Tessera's frontend host.
  const who = await step('MCP tool call with the access token', () => whoami(tokens.access_token));
  assert.deepEqual(who, { userId: user.id, clientId: registered.clientId, scopes: ['openid', 'profile', 'email', 'offline_access'] });
  assert.equal(await mcpStatus('oat_not_a_token'), 401);
  const unauthenticated = await fetch(mcpUrl, { method: 'POST' });
  assert.equal(unauthenticated.status, 401);
  assert.match(unauthenticated.headers.get('www-authenticate') ?? '', /resource_metadata=/);
  const prm = await (await fetch(`http://127.0.0.1:${mcpServer.address().port}/.well-known/oauth-protected-resource/mcp`)).json();
  assert.deepEqual(prm.authorization_servers, [`https://${host}`]);
  const asMeta = await step('@clerk/mcp-tools relays https://{frontend host}/.well-known/oauth-authorization-server', async () =>
    (await fetch(`http://127.0.0.1:${mcpServer.address().port}/.well-known/oauth-authorization-server`)).json(),
  );
  assert.equal(asMeta.issuer, `https://${host}`);
  assert.equal(asMeta.token_endpoint, `https://${host}/oauth/token`);
  assert.deepEqual(asMeta.code_challenge_methods_supported, ['S256']);

  // 3. Refresh rotates; the old refresh token presented again is refused and ends the family.
  const refreshed = await step('refresh', () => oidc.refreshTokenGrant(config, tokens.refresh_token));
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  assert.equal((await oidc.fetchUserInfo(config, refreshed.access_token, claims.sub)).sub, user.id);
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant', 'a reused refresh token');
  await assert.rejects(oidc.fetchUserInfo(config, refreshed.access_token, claims.sub), 'the family is revoked');
  assert.equal(await mcpStatus(refreshed.access_token), 401);

  // 4. Signed in, consent remembered: straight back with a code. Replaying it is refused and revokes its tokens.
  const second = await authorize({ signIn: false, consent: false });
  const secondTokens = await oidc.authorizationCodeGrant(config, second.currentUrl, second.checks);
  assert.equal((await whoami(secondTokens.access_token)).userId, user.id);
  await assert.rejects(oidc.authorizationCodeGrant(config, second.currentUrl, second.checks), (e) => e.error === 'invalid_grant', 'a replayed code');
  await assert.rejects(oidc.fetchUserInfo(config, secondTokens.access_token, claims.sub), 'the replayed code revoked its tokens');

  // 5. Revocation (RFC 7009) by the client.
  const third = await authorize({ signIn: false, consent: false });
  const thirdTokens = await oidc.authorizationCodeGrant(config, third.currentUrl, third.checks);
  assert.equal(await mcpStatus(thirdTokens.access_token), 200);
  await step('revoke (RFC 7009)', () => oidc.tokenRevocation(config, thirdTokens.refresh_token));
  await assert.rejects(oidc.fetchUserInfo(config, thirdTokens.access_token, claims.sub), 'revoked');
  assert.equal(await mcpStatus(thirdTokens.access_token), 401);
  await assert.rejects(backend.idPOAuthAccessToken.verify(thirdTokens.access_token), (e) => e.status === 404);
} catch (e) {
  failure = e;
} finally {
  await browser.close();
  mcpServer.close();
  rp.close();
}

console.log('requests to Tessera from the page:');
for (const r of requests) console.log(`  ${r.method} ${r.url.pathname} → ${r.status}`);
const failed = requests.filter((r) => typeof r.status !== 'number' || (r.status >= 400 && r.status !== 401));
if (pageErrors.length) console.log(`page errors:\n  ${pageErrors.join('\n  ')}`);
if (failure) {
  console.log(`FAIL: ${failure.stack ?? failure}`);
  process.exit(1);
}
if (failed.length) {
  console.log(`FAIL: ${failed.length} request(s) to Tessera failed`);
  process.exit(1);
}
log('ok: openid-client and an MCP server built on @clerk/mcp-tools against Tessera');
process.exit(0);
