// OAuth applications and OAuth access tokens through @clerk/backend: every `oauthApplications` method
// (list, get, create, update, delete, rotateSecret, revokeToken), `idPOAuthAccessToken.verify` (with and without an
// audience) and `authenticateRequest({ acceptsToken: 'oauth_token' })`, for opaque `oat_…` tokens and `at+jwt` JWTs
// that Tessera's provider issued. The tokens come from a real authorization-code flow with PKCE against the server's
// frontend host (a dev browser signed in with a sign-in token, then /oauth/authorize and /oauth/token), without a
// browser: the browser suite's oauth.mjs does the same flow in Chromium.
// Run by crates/server/tests/sdk.rs with TESSERA_API_URL, TESSERA_SECRET_KEY and TESSERA_PUBLISHABLE_KEY set; exits
// non-zero on failure. The checks run in order and share state (later ones use what earlier ones created).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createClerkClient } from '@clerk/backend';
import { TokenVerificationError, isClerkAPIResponseError } from '@clerk/backend/errors';

const apiUrl = mustEnv('TESSERA_API_URL');
const secretKey = mustEnv('TESSERA_SECRET_KEY');
const publishableKey = mustEnv('TESSERA_PUBLISHABLE_KEY');

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

/** The frontend host encoded in the publishable key. */
const frontendHost = Buffer.from(publishableKey.split('_')[2], 'base64').toString().replace(/\$$/, '');
/** The frontend API through Tessera's proxy path (what an app's `proxyUrl` points at). */
const fapi = `${apiUrl}/fapi/${frontendHost}`;
const REDIRECT = 'https://rp.example.com/callback';
const RESOURCE = 'https://mcp.example.com/mcp';

async function rejects(promise, check, what) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${what}: expected an error, got success`);
  check(err);
  return err;
}

function apiError(status, code) {
  return e => {
    assert.ok(isClerkAPIResponseError(e), `not a ClerkAPIResponseError: ${e?.stack ?? e}`);
    assert.equal(e.status, status, `status of ${JSON.stringify(e.errors)}`);
    if (code) assert.equal(e.errors[0]?.code, code, JSON.stringify(e.errors));
  };
}

const checks = [];
const check = (name, fn) => checks.push([name, fn]);

const clerk = createClerkClient({ secretKey, apiUrl, publishableKey });
const bearerRequest = token =>
  new Request('https://mcp.example.com/mcp', { headers: { Authorization: `Bearer ${token}` } });

/** A Backend API call the SDK has no method for; anything but a 2xx throws. */
async function bapi(method, path, body) {
  const res = await fetch(`${apiUrl}/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} /v1${path} → ${res.status} ${text.slice(0, 400)}`);
  return text ? JSON.parse(text) : null;
}

// --- The person and their browser, signed in on the frontend host without a browser --------------------------

const user = await clerk.users.createUser({ emailAddress: ['oauth-sdk@example.com'], firstName: 'Ada' });
/** A dev browser (development instance) signed in as `user` with a sign-in token: its token. */
async function signedInBrowser() {
  const db = await (await fetch(`${fapi}/v1/dev_browser`, { method: 'POST' })).json();
  const { token } = await clerk.signInTokens.createSignInToken({ userId: user.id, expiresInSeconds: 600 });
  const res = await fetch(`${fapi}/v1/client/sign_ins?__clerk_db_jwt=${db.id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ strategy: 'ticket', ticket: token }),
  });
  const signIn = await res.json();
  assert.equal(signIn.response?.status, 'complete', JSON.stringify(signIn).slice(0, 400));
  return db.id;
}
const browserToken = await signedInBrowser();

/** Authorization code + PKCE for an application whose consent screen is off: the token response. */
async function tokens(app, secret, { scope = 'profile email', resource } = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: app.clientId,
    redirect_uri: REDIRECT,
    scope,
    state: randomBytes(8).toString('hex'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    __clerk_db_jwt: browserToken,
  });
  if (resource) q.set('resource', resource);
  const authorized = await fetch(`${fapi}/oauth/authorize?${q}`, { redirect: 'manual' });
  assert.equal(authorized.status, 302, await authorized.text());
  const to = new URL(authorized.headers.get('location'));
  assert.equal(`${to.origin}${to.pathname}`, REDIRECT);
  const code = to.searchParams.get('code');
  assert.ok(code, to.href);
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
  if (resource) form.set('resource', resource);
  const res = await tokenRequest(app.clientId, secret, form);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** `POST /oauth/token` with client_secret_basic. */
async function tokenRequest(clientId, secret, form) {
  const res = await fetch(`${fapi}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form,
  });
  return { status: res.status, body: await res.json() };
}

// --- OAuth applications --------------------------------------------------------------------------------------

const S = {};

check('oauthApplications.create: a confidential client, its secret once, URLs on the frontend host', async () => {
  const app = await clerk.oauthApplications.create({
    name: 'SDK relying party',
    redirectUris: [REDIRECT],
    scopes: 'profile email openid',
    consentScreenEnabled: false,
  });
  assert.match(app.id, /^oa_/);
  assert.equal(app.name, 'SDK relying party');
  assert.deepEqual(app.redirectUris, [REDIRECT]);
  assert.equal(app.scopes, 'profile email openid');
  assert.deepEqual([app.isPublic, app.consentScreenEnabled, app.pkceRequired, app.dynamicallyRegistered], [false, false, false, false]);
  assert.ok(app.clientSecret?.length >= 32, `client secret: ${app.clientSecret}`);
  assert.equal(app.authorizeUrl, `https://${frontendHost}/oauth/authorize`);
  assert.equal(app.tokenFetchUrl, `https://${frontendHost}/oauth/token`);
  assert.equal(app.userInfoUrl, `https://${frontendHost}/oauth/userinfo`);
  assert.equal(app.discoveryUrl, `https://${frontendHost}/.well-known/openid-configuration`);
  assert.equal(app.tokenIntrospectionUrl, `https://${frontendHost}/oauth/token_info`);
  assert.ok(Math.abs(app.createdAt - Date.now()) < 120_000, `createdAt in ms: ${app.createdAt}`);
  S.app = app;
  S.secret = app.clientSecret;
});

check('oauthApplications.create: a public client has an empty secret and requires PKCE', async () => {
  const app = await clerk.oauthApplications.create({ name: 'SDK public client', redirectUris: [REDIRECT], public: true });
  assert.equal(app.isPublic, true);
  assert.equal(app.clientSecret, '');
  assert.equal(app.scopes, 'profile email', 'the default scopes');
  S.publicApp = app;
});

check('oauthApplications.create: a missing name is a 422', async () => {
  await rejects(clerk.oauthApplications.create({ redirectUris: [REDIRECT] }), apiError(422), 'create without name');
});

check('oauthApplications.get: the application, without its secret; unknown → 404', async () => {
  const app = await clerk.oauthApplications.get(S.app.id);
  assert.equal(app.clientId, S.app.clientId);
  assert.equal(app.clientSecret, undefined);
  await rejects(clerk.oauthApplications.get('oa_2xhFjEI5X2qWRvtV13BzSj8H6Dk'), apiError(404), 'get unknown');
});

check('oauthApplications.list: newest first, name_query (name or client_id), limit and offset', async () => {
  const all = await clerk.oauthApplications.list();
  assert.equal(all.totalCount, 2);
  assert.deepEqual(all.data.map(a => a.id), [S.publicApp.id, S.app.id]);
  const byName = await clerk.oauthApplications.list({ nameQuery: 'public' });
  assert.deepEqual(byName.data.map(a => a.id), [S.publicApp.id]);
  const byClientId = await clerk.oauthApplications.list({ nameQuery: S.app.clientId });
  assert.deepEqual(byClientId.data.map(a => a.id), [S.app.id]);
  const page = await clerk.oauthApplications.list({ orderBy: '+created_at', limit: 1, offset: 1 });
  assert.deepEqual([page.totalCount, page.data.map(a => a.id)], [2, [S.publicApp.id]]);
});

check('oauthApplications.update: name and scopes', async () => {
  const app = await clerk.oauthApplications.update({
    oauthApplicationId: S.app.id,
    name: 'SDK relying party (renamed)',
    scopes: 'profile email openid offline_access',
  });
  assert.equal(app.name, 'SDK relying party (renamed)');
  assert.equal(app.scopes, 'profile email openid offline_access');
  assert.ok(app.updatedAt >= app.createdAt);
});

check('authorization code + PKCE: an opaque oat_ token and a refresh token', async () => {
  const t = await tokens(S.app, S.secret, { scope: 'profile email' });
  assert.match(t.access_token, /^oat_/);
  assert.match(t.refresh_token, /^ort_/);
  assert.equal(t.token_type, 'Bearer');
  S.opaque = t;
});

check('idPOAuthAccessToken.verify: an opaque token Tessera issued', async () => {
  const v = await clerk.idPOAuthAccessToken.verify(S.opaque.access_token);
  assert.match(v.id, /^oat_[0-9a-f]{32}$/);
  assert.equal(v.clientId, S.app.clientId);
  assert.equal(v.subject, user.id);
  assert.deepEqual(v.scopes, ['profile', 'email']);
  assert.deepEqual([v.revoked, v.expired, v.revocationReason], [false, false, null]);
  assert.ok(v.expiration > Date.now(), `expiration in ms: ${v.expiration}`);
  assert.equal(v.aud, undefined, 'no resource, no audience');
  // Asking for an audience the token was not issued for fails.
  await rejects(
    clerk.idPOAuthAccessToken.verify(S.opaque.access_token, { audience: RESOURCE }),
    e => assert.ok(e instanceof TokenVerificationError, `${e}`),
    'verify with an audience of a token without one',
  );
});

check('idPOAuthAccessToken.verify({ audience }): a token issued for an RFC 8707 resource', async () => {
  const t = await tokens(S.app, S.secret, { resource: RESOURCE });
  const v = await clerk.idPOAuthAccessToken.verify(t.access_token, { audience: RESOURCE });
  assert.deepEqual(v.aud, [RESOURCE]);
  assert.equal(v.subject, user.id);
  await rejects(
    clerk.idPOAuthAccessToken.verify(t.access_token, { audience: 'https://other.example.com' }),
    e => assert.ok(e instanceof TokenVerificationError && /audience/.test(e.message), `${e}`),
    'verify with another audience',
  );
  const state = await clerk.authenticateRequest(bearerRequest(t.access_token), { acceptsToken: 'oauth_token', audience: RESOURCE });
  assert.equal(state.isAuthenticated, true, `${state.reason}: ${state.message}`);
  S.withResource = t;
});

check('authenticateRequest(acceptsToken: oauth_token): authenticated, with the toAuth() an MCP server reads', async () => {
  const state = await clerk.authenticateRequest(bearerRequest(S.opaque.access_token), { acceptsToken: 'oauth_token' });
  assert.equal(state.isAuthenticated, true, `${state.reason}: ${state.message}`);
  assert.equal(state.tokenType, 'oauth_token');
  const auth = state.toAuth();
  assert.equal(auth.tokenType, 'oauth_token');
  assert.equal(auth.userId, user.id);
  assert.equal(auth.clientId, S.app.clientId);
  assert.deepEqual(auth.scopes, ['profile', 'email']);
  assert.match(auth.id, /^oat_/);
  // Another token type is refused for this route.
  const other = await clerk.authenticateRequest(bearerRequest(S.opaque.access_token), { acceptsToken: 'api_key' });
  assert.equal(other.isAuthenticated, false);
});

check('oauthApplications.revokeToken: the grant (access and refresh token) ends; verify → 404, token-invalid', async () => {
  await clerk.oauthApplications.revokeToken({ oauthApplicationId: S.app.id, token: S.opaque.access_token });
  await rejects(clerk.idPOAuthAccessToken.verify(S.opaque.access_token), apiError(404), 'verify a revoked token');
  const state = await clerk.authenticateRequest(bearerRequest(S.opaque.access_token), { acceptsToken: 'oauth_token' });
  assert.deepEqual([state.isAuthenticated, state.reason], [false, 'token-invalid']);
  const refreshed = await tokenRequest(
    S.app.clientId,
    S.secret,
    new URLSearchParams({ grant_type: 'refresh_token', refresh_token: S.opaque.refresh_token }),
  );
  assert.deepEqual([refreshed.status, refreshed.body.error], [400, 'invalid_grant']);
  // By refresh token too; another application's token is not found.
  await rejects(
    clerk.oauthApplications.revokeToken({ oauthApplicationId: S.publicApp.id, token: S.withResource.refresh_token }),
    apiError(404),
    'revoke through another application',
  );
  await clerk.oauthApplications.revokeToken({ oauthApplicationId: S.app.id, token: S.withResource.refresh_token });
  await rejects(clerk.idPOAuthAccessToken.verify(S.withResource.access_token), apiError(404), 'verify after revoking by refresh token');
});

check('oauthApplications.rotateSecret: a new secret; the old one no longer authenticates the client', async () => {
  const rotated = await clerk.oauthApplications.rotateSecret(S.app.id);
  assert.ok(rotated.clientSecret?.length >= 32);
  assert.notEqual(rotated.clientSecret, S.secret);
  const old = await tokenRequest(S.app.clientId, S.secret, new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'ort_x' }));
  assert.deepEqual([old.status, old.body.error], [401, 'invalid_client']);
  S.secret = rotated.clientSecret;
  const t = await tokens(S.app, S.secret);
  assert.equal((await clerk.idPOAuthAccessToken.verify(t.access_token)).subject, user.id);
  S.afterRotation = t;
});

check('at+jwt access tokens: verified locally by authenticateRequest and by the Backend API; not revocable', async () => {
  await bapi('PATCH', '/instance/oauth_application_settings', { oauth_jwt_access_tokens: true });
  try {
    const t = await tokens(S.app, S.secret, { resource: RESOURCE });
    const header = JSON.parse(Buffer.from(t.access_token.split('.')[0], 'base64url').toString());
    assert.equal(header.typ, 'at+jwt');
    const state = await clerk.authenticateRequest(bearerRequest(t.access_token), { acceptsToken: 'oauth_token', audience: RESOURCE });
    assert.equal(state.isAuthenticated, true, `${state.reason}: ${state.message}`);
    const auth = state.toAuth();
    assert.deepEqual([auth.userId, auth.clientId, auth.scopes], [user.id, S.app.clientId, ['profile', 'email']]);
    const v = await clerk.idPOAuthAccessToken.verify(t.access_token, { audience: RESOURCE });
    assert.deepEqual([v.subject, v.clientId, v.aud], [user.id, S.app.clientId, [RESOURCE]]);
    await rejects(
      clerk.oauthApplications.revokeToken({ oauthApplicationId: S.app.id, token: t.access_token }),
      apiError(400),
      'revoke a JWT access token',
    );
  } finally {
    await bapi('PATCH', '/instance/oauth_application_settings', { oauth_jwt_access_tokens: false });
  }
});

check('oauthApplications.delete: a deleted object; its tokens no longer verify', async () => {
  const deleted = await clerk.oauthApplications.delete(S.app.id);
  assert.deepEqual([deleted.id, deleted.object, deleted.deleted], [S.app.id, 'oauth_application', true]);
  await rejects(clerk.idPOAuthAccessToken.verify(S.afterRotation.access_token), apiError(404), 'verify after delete');
  await rejects(clerk.oauthApplications.get(S.app.id), apiError(404), 'get after delete');
  await clerk.oauthApplications.delete(S.publicApp.id);
  assert.equal((await clerk.oauthApplications.list()).totalCount, 0);
});

let failed = 0;
for (const [name, fn] of checks) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok - ${name} (${((Date.now() - started) / 1000).toFixed(2)}s)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL - ${name}\n${e?.stack ?? e}`);
  }
}
console.log(`${checks.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
