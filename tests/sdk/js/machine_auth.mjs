// Machine authentication through @clerk/backend: API keys, machines (scopes, secret-key rotation), M2M tokens
// (opaque and JWT) and `authenticateRequest` with machine tokens.
// Run by crates/server/tests/sdk.rs with TESSERA_API_URL, TESSERA_SECRET_KEY and TESSERA_PUBLISHABLE_KEY set; exits
// non-zero on failure. The checks run in order and share state (later ones use what earlier ones created).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createClerkClient } from '@clerk/backend';
import { ClerkAPIResponseError, MachineTokenVerificationError, isClerkAPIResponseError } from '@clerk/backend/errors';

const apiUrl = mustEnv('TESSERA_API_URL');
const secretKey = mustEnv('TESSERA_SECRET_KEY');
// `authenticateRequest` with an array or 'any' for `acceptsToken` parses the publishable key (session-token set-up
// runs for those), so the server's own is passed; a single machine token type needs none.
const publishableKey = mustEnv('TESSERA_PUBLISHABLE_KEY');

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const hex = n => randomBytes(n).toString('hex');
/** A syntactically valid id with the given prefix (`user`, `org`): 27 word characters. */
const fakeId = prefix => `${prefix}_${randomBytes(20).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 27)}`;
const decodeJwtPart = part => JSON.parse(Buffer.from(part, 'base64url').toString());

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

/** Expects a `ClerkAPIResponseError` with `status` (and `code`, when given). */
function apiError(status, code) {
  return e => {
    assert.ok(isClerkAPIResponseError(e), `not a ClerkAPIResponseError: ${e?.stack ?? e}`);
    assert.ok(e instanceof ClerkAPIResponseError);
    assert.equal(e.status, status, `status of ${JSON.stringify(e.errors)}`);
    if (code) assert.equal(e.errors[0]?.code, code, JSON.stringify(e.errors));
  };
}

/** Times the SDK reports are Unix milliseconds: recent, not seconds. */
function assertRecentMs(t, what) {
  assert.equal(typeof t, 'number', `${what}: ${t}`);
  assert.ok(Math.abs(t - Date.now()) < 120_000, `${what} is not a recent Unix time in ms: ${t}`);
}

const checks = [];
const check = (name, fn) => checks.push([name, fn]);

const clerk = createClerkClient({ secretKey, apiUrl, publishableKey });
/** A client with only a machine secret key, as a calling service configures it. */
const machineClient = machineSecretKey => createClerkClient({ machineSecretKey, apiUrl });
const bearerRequest = token =>
  new Request('https://service.example.com/api/data', { headers: { Authorization: `Bearer ${token}` } });

// --- API keys ----------------------------------------------------------------------------------------------------

// API-key subjects of the user_ kind must be users of the instance.
const USER = (await clerk.users.createUser({ firstName: 'Ada' })).id;
const CREATOR = fakeId('user');
const ak = {}; // what the API-key checks create

check('apiKeys.create: 201, the secret once, every field as sent', async () => {
  const key = await clerk.apiKeys.create({
    name: 'ci-deploy-key',
    subject: USER,
    description: 'Deploys from CI',
    // Nested keys are not snake-cased by the SDK; they come back as sent.
    claims: { tier: 'gold', maxSeats: 5, nested: { camelCase: true } },
    scopes: ['read:reports', 'write:deploys'],
    createdBy: CREATOR,
    secondsUntilExpiration: 3600,
  });
  assert.match(key.id, /^ak_[0-9a-f]{32}$/);
  assert.match(key.secret, /^ak_\w+$/);
  assert.notEqual(key.secret, key.id);
  assert.equal(key.type, 'api_key');
  assert.equal(key.name, 'ci-deploy-key');
  assert.equal(key.subject, USER);
  assert.equal(key.description, 'Deploys from CI');
  assert.deepEqual(key.claims, { tier: 'gold', maxSeats: 5, nested: { camelCase: true } });
  assert.deepEqual(key.scopes, ['read:reports', 'write:deploys']);
  assert.equal(key.createdBy, CREATOR);
  assert.equal(key.revoked, false);
  assert.equal(key.revocationReason, null);
  assert.equal(key.expired, false);
  assert.equal(key.lastUsedAt, null);
  assertRecentMs(key.createdAt, 'createdAt');
  assert.equal(key.updatedAt, key.createdAt);
  assert.equal(key.expiration, key.createdAt + 3_600_000, 'expiration in ms');
  ak.main = key;

  const second = await clerk.apiKeys.create({ name: 'read-only key', subject: USER });
  assert.equal(second.expiration, null, 'no seconds_until_expiration: never expires');
  assert.deepEqual(second.scopes, []);
  assert.equal(second.claims, null);
  assert.equal(second.description, null);
  ak.second = second;
});

check('apiKeys.list: {data, totalCount} of the subject, newest first, query filters by name', async () => {
  const page = await clerk.apiKeys.list({ subject: USER });
  assert.equal(page.totalCount, 2);
  assert.deepEqual(page.data.map(k => k.id), [ak.second.id, ak.main.id]);
  assert.equal(page.data[1].name, 'ci-deploy-key');
  assert.equal(page.data[1].secret, undefined, 'a listed key carries no secret');

  const found = await clerk.apiKeys.list({ subject: USER, query: 'deploy' });
  assert.deepEqual(found.data.map(k => k.id), [ak.main.id]);
  assert.equal(found.totalCount, 1);

  const paged = await clerk.apiKeys.list({ subject: USER, limit: 1, offset: 1 });
  assert.deepEqual(paged.data.map(k => k.id), [ak.main.id]);
  assert.equal(paged.totalCount, 2);

  const other = await clerk.apiKeys.list({ subject: fakeId('org') });
  assert.deepEqual([other.data, other.totalCount], [[], 0]);
});

check('apiKeys.get: the key without its secret', async () => {
  const key = await clerk.apiKeys.get(ak.main.id);
  assert.equal(key.id, ak.main.id);
  assert.equal(key.name, 'ci-deploy-key');
  assert.deepEqual(key.scopes, ak.main.scopes);
  assert.deepEqual(key.claims, ak.main.claims);
  assert.equal(key.expiration, ak.main.expiration);
  assert.equal(key.secret, undefined);
  await rejects(clerk.apiKeys.get(`ak_${hex(16)}`), apiError(404), 'get an unknown key');
});

check('apiKeys.update: scopes, claims, description, expiration', async () => {
  const key = await clerk.apiKeys.update({
    apiKeyId: ak.main.id,
    description: 'Deploys from CI (rotated monthly)',
    scopes: ['read:reports'],
    claims: { tier: 'platinum' },
    secondsUntilExpiration: 7200,
  });
  assert.equal(key.id, ak.main.id);
  assert.equal(key.description, 'Deploys from CI (rotated monthly)');
  assert.deepEqual(key.scopes, ['read:reports']);
  assert.deepEqual(key.claims, { tier: 'platinum' });
  assert.ok(key.updatedAt >= ak.main.updatedAt);
  assert.ok(Math.abs(key.expiration - (key.updatedAt + 7_200_000)) < 2000, `expiration ${key.expiration}`);
  assert.equal(key.name, 'ci-deploy-key', 'unchanged');
  assert.equal(key.subject, USER, 'unchanged');
  const again = await clerk.apiKeys.get(ak.main.id);
  assert.deepEqual([again.scopes, again.claims, again.description], [key.scopes, key.claims, key.description]);
});

check('apiKeys.getSecret: the secret returned at creation', async () => {
  const { secret } = await clerk.apiKeys.getSecret(ak.main.id);
  assert.equal(secret, ak.main.secret);
});

check('apiKeys.verify: the key, with lastUsedAt recorded', async () => {
  const key = await clerk.apiKeys.verify(ak.main.secret);
  assert.equal(key.id, ak.main.id);
  assert.equal(key.subject, USER);
  assert.equal(key.name, 'ci-deploy-key');
  assert.deepEqual(key.scopes, ['read:reports']);
  assert.deepEqual(key.claims, { tier: 'platinum' });
  assert.equal(key.revoked, false);
  assertRecentMs(key.lastUsedAt, 'lastUsedAt');
  const stored = await clerk.apiKeys.get(ak.main.id);
  assert.equal(typeof stored.lastUsedAt, 'number', 'lastUsedAt persisted');
});

check('authenticateRequest(acceptsToken: api_key), no publishable key needed: authenticated with toAuth() fields', async () => {
  const plain = createClerkClient({ secretKey, apiUrl });
  const state = await plain.authenticateRequest(bearerRequest(ak.main.secret), { acceptsToken: 'api_key' });
  assert.equal(state.isAuthenticated, true, `${state.reason}: ${state.message}`);
  assert.equal(state.tokenType, 'api_key');
  const auth = state.toAuth();
  assert.equal(auth.isAuthenticated, true);
  assert.equal(auth.tokenType, 'api_key');
  assert.equal(auth.id, ak.main.id);
  assert.equal(auth.subject, USER);
  assert.equal(auth.userId, USER);
  assert.equal(auth.orgId, null);
  assert.equal(auth.name, 'ci-deploy-key');
  assert.deepEqual(auth.scopes, ['read:reports']);
  assert.deepEqual(auth.claims, { tier: 'platinum' });
  assert.equal(await auth.getToken(), ak.main.secret);
});

check('authenticateRequest([api_key, m2m_token] and any) with an API key of an organization', async () => {
  const org = fakeId('org');
  const key = await clerk.apiKeys.create({ name: 'org key', subject: org, scopes: ['admin'] });
  for (const acceptsToken of [['api_key', 'm2m_token'], 'any']) {
    const what = JSON.stringify(acceptsToken);
    const state = await clerk.authenticateRequest(bearerRequest(key.secret), { acceptsToken });
    assert.equal(state.isAuthenticated, true, `${what}: ${state.reason}: ${state.message}`);
    assert.equal(state.tokenType, 'api_key', what);
    const auth = state.toAuth();
    assert.deepEqual([auth.id, auth.subject, auth.orgId, auth.userId], [key.id, org, org, null], what);
    assert.deepEqual(auth.scopes, ['admin'], what);
    assert.equal(auth.claims, null, what);
  }
});

check('apiKeys.revoke: revoked with its reason; verify → 404; list hides it unless includeInvalid', async () => {
  const key = await clerk.apiKeys.revoke({ apiKeyId: ak.main.id, revocationReason: 'leaked in a log' });
  assert.equal(key.id, ak.main.id);
  assert.equal(key.revoked, true);
  assert.equal(key.revocationReason, 'leaked in a log');
  await rejects(clerk.apiKeys.verify(ak.main.secret), apiError(404), 'verify a revoked key');

  const valid = await clerk.apiKeys.list({ subject: USER });
  assert.deepEqual(valid.data.map(k => k.id), [ak.second.id]);
  assert.equal(valid.totalCount, 1);
  const all = await clerk.apiKeys.list({ subject: USER, includeInvalid: true });
  assert.deepEqual(all.data.map(k => k.id), [ak.second.id, ak.main.id]);
  assert.equal(all.data[1].revoked, true);

  const noReason = await clerk.apiKeys.revoke({ apiKeyId: ak.second.id });
  assert.deepEqual([noReason.revoked, noReason.revocationReason], [true, null]);
});

check('authenticateRequest with a revoked API key: not authenticated (token-invalid)', async () => {
  for (const acceptsToken of ['api_key', ['api_key', 'm2m_token'], 'any']) {
    const state = await clerk.authenticateRequest(bearerRequest(ak.main.secret), { acceptsToken });
    assert.equal(state.isAuthenticated, false, JSON.stringify(acceptsToken));
    assert.equal(state.tokenType, 'api_key');
    assert.equal(state.reason, 'token-invalid');
    const auth = state.toAuth();
    assert.deepEqual([auth.isAuthenticated, auth.id, auth.subject, auth.userId], [false, null, null, null]);
  }
});

check('apiKeys.verify: unknown secret → ClerkAPIResponseError 404', async () => {
  await rejects(clerk.apiKeys.verify(`ak_${hex(24)}`), apiError(404), 'verify an unknown key');
  const state = await clerk.authenticateRequest(bearerRequest(`ak_${hex(24)}`), { acceptsToken: 'api_key' });
  assert.deepEqual([state.isAuthenticated, state.reason], [false, 'token-invalid']);
});

check('apiKeys.verify: expired key (secondsUntilExpiration: 1) → 404 once it has expired', async () => {
  const key = await clerk.apiKeys.create({ name: 'short-lived', subject: USER, secondsUntilExpiration: 1 });
  assert.equal(key.expiration, key.createdAt + 1000);
  const live = await clerk.apiKeys.verify(key.secret);
  assert.equal(live.id, key.id);
  await sleep(1300);
  await rejects(clerk.apiKeys.verify(key.secret), apiError(404), 'verify an expired key');
  const stored = await clerk.apiKeys.get(key.id);
  assert.deepEqual([stored.expired, stored.revoked], [true, false]);
  const state = await clerk.authenticateRequest(bearerRequest(key.secret), { acceptsToken: 'api_key' });
  assert.deepEqual([state.isAuthenticated, state.reason], [false, 'token-invalid']);
});

check('apiKeys.delete: DeletedObject; then get → 404', async () => {
  const deleted = await clerk.apiKeys.delete(ak.main.id);
  assert.deepEqual([deleted.object, deleted.id, deleted.deleted], ['api_key', ak.main.id, true]);
  await rejects(clerk.apiKeys.get(ak.main.id), apiError(404), 'get a deleted key');
  await rejects(clerk.apiKeys.delete(ak.main.id), apiError(404), 'delete it twice');
  await rejects(clerk.apiKeys.verify(ak.main.secret), apiError(404), 'verify a deleted key');
});

// --- machines ----------------------------------------------------------------------------------------------------

const m = {}; // machines created below: { callee, caller, other, ... } → Machine (with secretKey from creation)

check('machines.create: secret key returned, scoped machines expanded', async () => {
  m.callee = await clerk.machines.create({ name: 'inventory-api' });
  assert.match(m.callee.id, /^mch_\w{27}$/);
  assert.match(m.callee.secretKey, /^ak_\w+$/, 'the machine secret key');
  assert.equal(m.callee.name, 'inventory-api');
  assert.deepEqual(m.callee.scopedMachines, []);
  assert.equal(m.callee.defaultTokenTtl, 3600, 'the default token TTL');
  assertRecentMs(m.callee.createdAt, 'createdAt');
  assert.ok(m.callee.instanceId.startsWith('ins_'), m.callee.instanceId);

  m.caller = await clerk.machines.create({ name: 'billing-worker', scopedMachines: [m.callee.id], defaultTokenTtl: 900 });
  assert.equal(m.caller.defaultTokenTtl, 900);
  assert.deepEqual(m.caller.scopedMachines.map(s => [s.id, s.name]), [[m.callee.id, 'inventory-api']]);
  assert.notEqual(m.caller.secretKey, m.callee.secretKey);

  m.other = await clerk.machines.create({ name: 'analytics-batch' });
});

check('machines.list: {data, totalCount}; query by partial name or exact id; orderBy name and created_at', async () => {
  const all = await clerk.machines.list();
  assert.equal(all.totalCount, 3);
  assert.deepEqual(all.data.map(x => x.id), [m.other.id, m.caller.id, m.callee.id], 'default: newest first');
  assert.equal(all.data[0].secretKey, undefined, 'a listed machine carries no secret key');

  const byName = await clerk.machines.list({ orderBy: 'name' });
  assert.deepEqual(byName.data.map(x => x.name), ['analytics-batch', 'billing-worker', 'inventory-api']);
  const byNameDesc = await clerk.machines.list({ orderBy: '-name' });
  assert.deepEqual(byNameDesc.data.map(x => x.name), ['inventory-api', 'billing-worker', 'analytics-batch']);
  const oldest = await clerk.machines.list({ orderBy: '+created_at', limit: 2 });
  assert.deepEqual(oldest.data.map(x => x.id), [m.callee.id, m.caller.id]);
  assert.equal(oldest.totalCount, 3);

  const partial = await clerk.machines.list({ query: 'billing' });
  assert.deepEqual(partial.data.map(x => x.id), [m.caller.id]);
  assert.equal(partial.totalCount, 1);
  assert.deepEqual(partial.data[0].scopedMachines.map(s => s.id), [m.callee.id]);
  const exact = await clerk.machines.list({ query: m.other.id });
  assert.deepEqual(exact.data.map(x => x.id), [m.other.id]);
  const none = await clerk.machines.list({ query: 'no-such-machine' });
  assert.deepEqual([none.data, none.totalCount], [[], 0]);
});

check('machines.get and machines.update', async () => {
  const got = await clerk.machines.get(m.caller.id);
  assert.deepEqual([got.id, got.name, got.defaultTokenTtl], [m.caller.id, 'billing-worker', 900]);
  assert.deepEqual(got.scopedMachines.map(s => s.id), [m.callee.id]);
  assert.equal(got.secretKey, undefined);

  const updated = await clerk.machines.update({ machineId: m.caller.id, name: 'billing-service', defaultTokenTtl: 1200 });
  assert.deepEqual([updated.name, updated.defaultTokenTtl], ['billing-service', 1200]);
  assert.ok(updated.updatedAt >= got.updatedAt);
  const renamedOnly = await clerk.machines.update({ machineId: m.caller.id, name: 'billing-svc' });
  assert.deepEqual([renamedOnly.name, renamedOnly.defaultTokenTtl], ['billing-svc', 1200], 'TTL unchanged');
  await rejects(clerk.machines.get(`mch_${'x'.repeat(27)}`), apiError(404), 'get an unknown machine');
});

check('machines.createScope / deleteScope', async () => {
  const scope = await clerk.machines.createScope(m.caller.id, m.other.id);
  assert.deepEqual([scope.fromMachineId, scope.toMachineId], [m.caller.id, m.other.id]);
  assertRecentMs(scope.createdAt, 'createdAt');
  let got = await clerk.machines.get(m.caller.id);
  assert.deepEqual(got.scopedMachines.map(s => s.id).sort(), [m.callee.id, m.other.id].sort());

  // The SDK turns any object with `deleted` into a DeletedObject.
  const deleted = await clerk.machines.deleteScope(m.caller.id, m.other.id);
  assert.deepEqual([deleted.object, deleted.deleted], ['machine_scope', true]);
  got = await clerk.machines.get(m.caller.id);
  assert.deepEqual(got.scopedMachines.map(s => s.id), [m.callee.id]);
  await rejects(clerk.machines.deleteScope(m.caller.id, m.other.id), apiError(404), 'delete a missing scope');
});

check('machines.getSecretKey: the key returned at creation', async () => {
  const key = await clerk.machines.getSecretKey(m.caller.id);
  assert.equal(key.secret, m.caller.secretKey);
});

check('machines.rotateSecretKey(previousTokenTtl: 60): new key; the old one still mints inside the window', async () => {
  const old = m.caller.secretKey;
  const rotated = await clerk.machines.rotateSecretKey({ machineId: m.caller.id, previousTokenTtl: 60 });
  assert.match(rotated.secret, /^ak_\w+$/);
  assert.notEqual(rotated.secret, old);
  assert.equal((await clerk.machines.getSecretKey(m.caller.id)).secret, rotated.secret);

  for (const key of [old, rotated.secret]) {
    const t = await machineClient(key).m2m.createToken();
    assert.equal(t.subject, m.caller.id);
    assert.match(t.token, /^mt_/);
  }
  m.caller.secretKey = rotated.secret;
  m.callerGraceKey = old;
});

check('machines.rotateSecretKey(previousTokenTtl: 0): the replaced key is rejected at once', async () => {
  const replaced = m.caller.secretKey;
  const rotated = await clerk.machines.rotateSecretKey({ machineId: m.caller.id, previousTokenTtl: 0 });
  assert.notEqual(rotated.secret, replaced);
  await rejects(
    machineClient(replaced).m2m.createToken(),
    apiError(401, 'machine_secret_key_invalid'),
    'mint with the replaced key',
  );
  const t = await machineClient(rotated.secret).m2m.createToken();
  assert.equal(t.subject, m.caller.id);
  m.caller.secretKey = rotated.secret;
  await rejects(
    clerk.machines.rotateSecretKey({ machineId: m.caller.id, previousTokenTtl: 28_801 }),
    apiError(422, 'form_param_format_invalid'),
    'previous_token_ttl above 8 hours',
  );
});

check('machines.delete: DeletedObject; then get → 404 and its key is rejected', async () => {
  const doomed = await clerk.machines.create({ name: 'to-be-deleted', scopedMachines: [m.callee.id] });
  const opaque = await machineClient(doomed.secretKey).m2m.createToken();
  const jwt = await machineClient(doomed.secretKey).m2m.createToken({ tokenFormat: 'jwt' });
  assert.equal((await clerk.m2m.verify({ token: opaque.token })).subject, doomed.id);
  const deleted = await clerk.machines.delete(doomed.id);
  assert.deepEqual([deleted.object, deleted.id, deleted.deleted], ['machine', doomed.id, true]);
  await rejects(clerk.machines.get(doomed.id), apiError(404), 'get a deleted machine');
  await rejects(machineClient(doomed.secretKey).m2m.createToken(), apiError(401), 'mint with a deleted machine key');
  const all = await clerk.machines.list();
  assert.ok(!all.data.some(x => x.id === doomed.id));
  // Its tokens go with it: the server no longer verifies them (a JWT still passes a purely local check).
  await rejects(clerk.m2m.verify({ token: opaque.token }), apiError(404), "verify a deleted machine's opaque token");
  const res = await fetch(`${apiUrl}/m2m_tokens/verify`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${secretKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: jwt.token }),
  });
  assert.equal(res.status, 404, "the server verifying a deleted machine's JWT");
  await rejects(clerk.m2m.list({ subject: doomed.id }), apiError(404), "list a deleted machine's tokens");
});

// --- M2M tokens --------------------------------------------------------------------------------------------------

const t = {}; // tokens minted below

check('m2m.createToken (opaque) with createClerkClient({machineSecretKey}): mt_ token of the caller', async () => {
  const token = await machineClient(m.caller.secretKey).m2m.createToken({
    secondsUntilExpiration: 600,
    claims: { job: 'nightly-invoices', attempt: 1 },
  });
  assert.match(token.id, /^mt_[0-9a-f]{32}$/);
  assert.match(token.token, /^mt_\w+$/);
  assert.notEqual(token.token, token.id);
  assert.equal(token.subject, m.caller.id);
  assert.deepEqual(token.scopes, [m.callee.id]);
  assert.deepEqual(token.claims, { job: 'nightly-invoices', attempt: 1 });
  assert.deepEqual([token.revoked, token.revocationReason, token.expired], [false, null, false]);
  assertRecentMs(token.createdAt, 'createdAt');
  assert.equal(token.expiration, token.createdAt + 600_000);
  t.opaque = token;

  const byDefault = await machineClient(m.caller.secretKey).m2m.createToken();
  assert.equal(byDefault.expiration, byDefault.createdAt + 1_200_000, "the machine's defaultTokenTtl");
  assert.equal(byDefault.claims, null);
  t.opaqueDefault = byDefault;
});

check('m2m.createToken with minRemainingTtlSeconds hands out the same live opaque token again', async () => {
  const caller = machineClient(m.caller.secretKey);
  const params = { secondsUntilExpiration: 120, claims: { pool: 'reuse' }, minRemainingTtlSeconds: 60 };
  const first = await caller.m2m.createToken(params);
  const again = await caller.m2m.createToken(params);
  assert.deepEqual([again.id, again.token], [first.id, first.token]);
  const otherClaims = await caller.m2m.createToken({ ...params, claims: { pool: 'other' } });
  assert.notEqual(otherClaims.id, first.id, 'different claims: a new token');
  // Revoked at once so that the list counts below stay about the tokens minted for them.
  for (const id of [first.id, otherClaims.id]) await clerk.m2m.revokeToken({ m2mTokenId: id });
});

check('m2m.createToken needs a machine secret key: the instance secret key → 401', async () => {
  await rejects(clerk.m2m.createToken(), apiError(401), 'mint with the instance secret key');
});

check('m2m.createToken (jwt) with a per-call machineSecretKey: a signed JWT, cat cl_B7d4PD333AAA', async () => {
  const token = await clerk.m2m.createToken({
    machineSecretKey: m.caller.secretKey,
    tokenFormat: 'jwt',
    secondsUntilExpiration: 300,
    claims: { job: 'reindex', region: 'eu' },
  });
  const parts = token.token.split('.');
  assert.equal(parts.length, 3, token.token);
  const [header, payload] = parts.slice(0, 2).map(decodeJwtPart);
  assert.deepEqual([header.alg, header.typ, header.cat], ['RS256', 'JWT', 'cl_B7d4PD333AAA']);
  const { keys } = await clerk.jwks.getJwks();
  assert.ok(keys.some(k => k.kid === header.kid), `kid ${header.kid} is published`);
  assert.equal(payload.sub, m.caller.id);
  assert.equal(payload.jti, token.id);
  assert.match(token.id, /^mt_[0-9a-f]{32}$/);
  assert.equal(payload.exp - payload.iat, 300);
  assert.deepEqual([payload.job, payload.region], ['reindex', 'eu']);
  assert.equal(token.subject, m.caller.id);
  assert.deepEqual(token.scopes, [m.callee.id]);
  assert.deepEqual(token.claims, { job: 'reindex', region: 'eu' });
  assert.equal(token.expiration, payload.exp * 1000);
  t.jwt = token;
});

check('m2m.verify (opaque) with the callee machine key and with the instance secret key', async () => {
  for (const [who, client] of [
    ['callee machine key', machineClient(m.callee.secretKey)],
    ['instance secret key', clerk],
  ]) {
    const v = await client.m2m.verify({ token: t.opaque.token });
    assert.equal(v.id, t.opaque.id, who);
    assert.equal(v.subject, m.caller.id, who);
    assert.deepEqual(v.scopes, [m.callee.id], who);
    assert.deepEqual(v.claims, { job: 'nightly-invoices', attempt: 1 }, who);
    assert.deepEqual([v.revoked, v.expired], [false, false], who);
    assert.equal(v.expiration, t.opaque.expiration, who);
  }
  // Per-call key on a client configured with the instance secret key.
  const v = await clerk.m2m.verify({ token: t.opaque.token, machineSecretKey: m.callee.secretKey });
  assert.equal(v.id, t.opaque.id);
});

check('m2m.verify: a machine key verifies only tokens scoped to its machine (404 otherwise)', async () => {
  const verifyWith = key => machineClient(key).m2m.verify({ token: t.opaque.token });
  await rejects(verifyWith(m.other.secretKey), apiError(404), 'unscoped machine');
  await rejects(verifyWith(m.caller.secretKey), apiError(404), 'the minting machine itself');
  // A token of the other machine (which has no scopes) verifies with the instance key only.
  const lonely = await machineClient(m.other.secretKey).m2m.createToken();
  assert.deepEqual(lonely.scopes, []);
  assert.equal((await clerk.m2m.verify({ token: lonely.token })).subject, m.other.id);
  await rejects(machineClient(m.callee.secretKey).m2m.verify({ token: lonely.token }), apiError(404), 'callee, token of other');
  await rejects(clerk.m2m.verify({ token: `mt_${hex(24)}` }), apiError(404), 'unknown token');
});

check('m2m.verify (jwt) runs locally against /v1/jwks: id, subject, scopes, claims', async () => {
  const v = await clerk.m2m.verify({ token: t.jwt.token });
  assert.equal(v.id, t.jwt.id);
  assert.equal(v.subject, m.caller.id);
  assert.deepEqual(v.scopes, [m.callee.id]);
  // @clerk/backend 3.25 strips only iss/sub/exp/nbf/iat/jti from the payload, so the `scopes` claim shows up among
  // the custom claims as well.
  const { scopes, ...custom } = v.claims;
  assert.deepEqual(custom, { job: 'reindex', region: 'eu' });
  assert.equal(scopes, m.callee.id);
  assert.deepEqual([v.revoked, v.expired], [false, false]);
  assert.equal(v.expiration, t.jwt.expiration);
  assert.equal(v.createdAt, t.jwt.createdAt);

  // Local: a forged signature fails in the SDK (MachineTokenVerificationError), not with a server response.
  const [h, p, s] = t.jwt.token.split('.');
  const sig = Buffer.from(s, 'base64url');
  sig[10] ^= 0xff;
  await rejects(clerk.m2m.verify({ token: `${h}.${p}.${sig.toString('base64url')}` }), e => {
    assert.ok(e instanceof MachineTokenVerificationError, `${e?.stack ?? e}`);
    assert.ok(!isClerkAPIResponseError(e));
    assert.equal(e.code, 'token-verification-failed');
  }, 'verify a forged JWT');

  // Local verification fetches the JWKS with the instance secret key: a client holding only a machine secret key
  // cannot verify JWT-format tokens (README, "Using the official SDKs").
  await rejects(machineClient(m.callee.secretKey).m2m.verify({ token: t.jwt.token }), e => {
    assert.ok(e instanceof MachineTokenVerificationError, `${e?.stack ?? e}`);
    assert.equal(e.code, 'token-verification-failed');
  }, 'verify a JWT with only a machine secret key');

  // The server verifies the same JWT too (the route @clerk/backend would use for an opaque token).
  const res = await fetch(`${apiUrl}/m2m_tokens/verify`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${m.callee.secretKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: t.jwt.token }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(
    [body.id, body.subject, body.scopes, body.claims],
    [t.jwt.id, m.caller.id, [m.callee.id], { job: 'reindex', region: 'eu' }],
  );
});

check('m2m.list: {data, totalCount} of opaque tokens, with the instance key or the machine key', async () => {
  const byInstance = await clerk.m2m.list({ subject: m.caller.id });
  // Opaque tokens of the caller: two from the rotation checks (old key, new key), one after the 0-TTL rotation,
  // and the two minted above. JWTs are stateless and never listed.
  assert.equal(byInstance.totalCount, 5);
  assert.equal(byInstance.data.length, 5);
  const ids = byInstance.data.map(x => x.id);
  assert.ok(ids.includes(t.opaque.id) && ids.includes(t.opaqueDefault.id));
  assert.ok(!ids.includes(t.jwt.id));
  for (const x of byInstance.data) {
    assert.equal(x.subject, m.caller.id);
    assert.equal(x.token, undefined, 'a listed token carries no secret');
  }
  const sorted = [...byInstance.data].sort((a, b) => b.createdAt - a.createdAt);
  assert.deepEqual(ids, sorted.map(x => x.id), 'newest first');

  const byMachine = await machineClient(m.caller.secretKey).m2m.list({ subject: m.caller.id });
  assert.deepEqual(byMachine.data.map(x => x.id), ids);
  assert.equal(byMachine.totalCount, 5);
  const page = await clerk.m2m.list({ subject: m.caller.id, limit: 2, offset: 1 });
  assert.deepEqual(page.data.map(x => x.id), ids.slice(1, 3));
  assert.equal(page.totalCount, 5);

  // A machine key lists only its own machine's tokens.
  await rejects(
    machineClient(m.other.secretKey).m2m.list({ subject: m.caller.id }),
    apiError(403, 'authorization_invalid'),
    "list another machine's tokens",
  );
});

check('authenticateRequest: opaque and JWT M2M tokens, [api_key, m2m_token] and any', async () => {
  const cases = [
    ['opaque', t.opaque, { job: 'nightly-invoices', attempt: 1 }],
    ['jwt', t.jwt, { job: 'reindex', region: 'eu' }],
  ];
  for (const [format, token, claims] of cases) {
    for (const acceptsToken of [['api_key', 'm2m_token'], 'any', 'm2m_token']) {
      const what = `${format} ${JSON.stringify(acceptsToken)}`;
      const state = await clerk.authenticateRequest(bearerRequest(token.token), { acceptsToken });
      assert.equal(state.isAuthenticated, true, `${what}: ${state.reason}: ${state.message}`);
      assert.equal(state.tokenType, 'm2m_token', what);
      const auth = state.toAuth();
      assert.equal(auth.tokenType, 'm2m_token', what);
      assert.equal(auth.isAuthenticated, true, what);
      assert.equal(auth.id, token.id, what);
      assert.equal(auth.subject, m.caller.id, what);
      assert.equal(auth.machineId, m.caller.id, what);
      assert.deepEqual(auth.scopes, [m.callee.id], what);
      const { scopes: _jwtScopesQuirk, ...custom } = auth.claims;
      assert.deepEqual(custom, claims, what);
      assert.equal(await auth.getToken(), token.token, what);
    }
  }
});

check('authenticateRequest on the receiving machine (createClerkClient({machineSecretKey})): only its tokens', async () => {
  const callee = machineClient(m.callee.secretKey);
  const ok = await callee.authenticateRequest(bearerRequest(t.opaque.token), { acceptsToken: 'm2m_token' });
  assert.equal(ok.isAuthenticated, true, `${ok.reason}: ${ok.message}`);
  assert.equal(ok.toAuth().machineId, m.caller.id);
  const other = machineClient(m.other.secretKey);
  const no = await other.authenticateRequest(bearerRequest(t.opaque.token), { acceptsToken: 'm2m_token' });
  assert.deepEqual([no.isAuthenticated, no.tokenType, no.reason], [false, 'm2m_token', 'token-invalid']);
});

check('authenticateRequest: an M2M token where only API keys are accepted → token-type-mismatch', async () => {
  const state = await clerk.authenticateRequest(bearerRequest(t.opaque.token), { acceptsToken: 'api_key' });
  assert.deepEqual([state.isAuthenticated, state.reason], [false, 'token-type-mismatch']);
  const jwtState = await clerk.authenticateRequest(bearerRequest(t.jwt.token), { acceptsToken: 'api_key' });
  assert.deepEqual([jwtState.isAuthenticated, jwtState.reason], [false, 'token-type-mismatch']);
});

check('m2m.revokeToken: revoked; verify → 404; not authenticated; listed only with revoked: true', async () => {
  const revoked = await machineClient(m.caller.secretKey).m2m.revokeToken({
    m2mTokenId: t.opaque.id,
    revocationReason: 'job finished',
  });
  assert.deepEqual([revoked.id, revoked.revoked, revoked.revocationReason], [t.opaque.id, true, 'job finished']);
  await rejects(clerk.m2m.verify({ token: t.opaque.token }), apiError(404), 'verify a revoked token');
  await rejects(machineClient(m.callee.secretKey).m2m.verify({ token: t.opaque.token }), apiError(404), 'callee, revoked');
  for (const acceptsToken of ['m2m_token', ['api_key', 'm2m_token']]) {
    const state = await clerk.authenticateRequest(bearerRequest(t.opaque.token), { acceptsToken });
    assert.deepEqual([state.isAuthenticated, state.tokenType, state.reason], [false, 'm2m_token', 'token-invalid']);
    assert.equal(state.toAuth().machineId, null);
  }

  const listed = await clerk.m2m.list({ subject: m.caller.id });
  assert.equal(listed.totalCount, 4);
  assert.ok(!listed.data.some(x => x.id === t.opaque.id));
  // …plus the revoked ones: this token and the two of the reuse check.
  const withRevoked = await clerk.m2m.list({ subject: m.caller.id, revoked: true });
  assert.equal(withRevoked.totalCount, 7);
  assert.equal(withRevoked.data.filter(x => x.revoked).length, 3);
  assert.equal(withRevoked.data.find(x => x.id === t.opaque.id).revoked, true);

  // Revoked with the instance secret key too.
  const byInstance = await clerk.m2m.revokeToken({ m2mTokenId: t.opaqueDefault.id });
  assert.deepEqual([byInstance.revoked, byInstance.revocationReason], [true, null]);
  await rejects(clerk.m2m.verify({ token: t.opaqueDefault.token }), apiError(404), 'verify the second revoked token');
});

check('m2m: an expired opaque token (secondsUntilExpiration: 1) → 404, not authenticated', async () => {
  const token = await machineClient(m.caller.secretKey).m2m.createToken({ secondsUntilExpiration: 1 });
  assert.equal((await clerk.m2m.verify({ token: token.token })).id, token.id);
  await sleep(1300);
  await rejects(clerk.m2m.verify({ token: token.token }), apiError(404), 'verify an expired token');
  const listed = await clerk.m2m.list({ subject: m.caller.id });
  assert.ok(!listed.data.some(x => x.id === token.id), 'expired tokens are not listed by default');
  const withExpired = await clerk.m2m.list({ subject: m.caller.id, expired: true });
  const found = withExpired.data.find(x => x.id === token.id);
  assert.ok(found, 'listed with expired: true');
  assert.deepEqual([found.expired, found.revoked], [true, false]);
  const state = await clerk.authenticateRequest(bearerRequest(token.token), { acceptsToken: 'm2m_token' });
  assert.deepEqual([state.isAuthenticated, state.reason], [false, 'token-invalid']);
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
