// Session tokens and JWT-template tokens through @clerk/backend: create a user and a session, mint tokens (plain
// and from a template), verify them with verifyToken against /v1/jwks; an expired token and a token signed by a
// foreign key are refused. Also a sign-up attempt made by a browser through the Frontend API (plain fetch on the
// proxy path /fapi/{frontend host}/v1/client/sign_ups with a dev browser), read and updated through signUps.get /
// signUps.update. Agent tasks (agentTasks.create / revoke) and a proxy check
// (proxyChecks.verify) against a local stand-in proxy.
// Run by crates/server/tests/sdk.rs with TESSERA_API_URL and TESSERA_SECRET_KEY set; exits non-zero on failure.
import assert from 'node:assert/strict';
import { generateKeyPairSync, createSign, randomBytes } from 'node:crypto';
import http from 'node:http';
import { createClerkClient, verifyToken } from '@clerk/backend';

const apiUrl = mustEnv('TESSERA_API_URL');
const secretKey = mustEnv('TESSERA_SECRET_KEY');

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

const clerk = createClerkClient({ secretKey, apiUrl });
const b64url = s => Buffer.from(s).toString('base64url');
const claimsOf = jwt => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function bapi(method, path, body) {
  const res = await fetch(`${apiUrl}/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.equal(res.status, 200, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function rejects(promise, check, what) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${what}: expected an error, got success`);
  check(err);
}

const S = {};
const checks = [];
const check = (name, fn) => checks.push([name, fn]);

check('users.createUser + sessions.createSession', async () => {
  const user = await clerk.users.createUser({
    emailAddress: [`sdk-tokens-${randomBytes(4).toString('hex')}@example.com`],
    firstName: 'Ada',
    publicMetadata: { plan: 'pro', seats: 3 },
  });
  S.user = user;
  const session = await clerk.sessions.createSession({ userId: user.id });
  assert.equal(session.userId, user.id);
  assert.equal(session.status, 'active');
  S.session = session;
  // Minted now, checked last (tokens live at least 30 s; verifyToken allows 5 s of skew).
  S.shortLived = (await bapi('POST', `/sessions/${session.id}/tokens`, { expires_in_seconds: 30 })).jwt;
  S.shortLivedAt = Date.now();
});

check('sessions.getToken → verifyToken accepts it (sub, sid, v2 claims)', async () => {
  const token = await clerk.sessions.getToken(S.session.id);
  const payload = await verifyToken(token.jwt, { secretKey, apiUrl });
  assert.equal(payload.sub, S.user.id);
  assert.equal(payload.sid, S.session.id);
  assert.equal(payload.v, 2);
  S.kid = JSON.parse(Buffer.from(token.jwt.split('.')[0], 'base64url').toString()).kid;
});

check('a token signed by a foreign key (same kid) → token-invalid-signature', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'RS256', kid: S.kid, typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ sub: S.user.id, sid: S.session.id, iat: now, nbf: now - 10, exp: now + 60, v: 2 }));
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${payload}`);
  const jwt = `${header}.${payload}.${signer.sign(privateKey).toString('base64url')}`;
  await rejects(verifyToken(jwt, { secretKey, apiUrl }), e => {
    assert.equal(e.reason, 'token-invalid-signature', `${e.reason}: ${e.message}`);
  }, 'verifyToken with a foreign signature');
});

check('JWT template: created, sessions.getToken(sid, template) → verifyToken accepts it with rendered claims', async () => {
  const name = `sdk_${randomBytes(4).toString('hex')}`;
  const claims = { name: '{{user.first_name}}', plan: '{{user.public_metadata.plan}}', seats: '{{user.public_metadata.seats}}', aud: 'sdk-test' };
  const tmpl = clerk.jwtTemplates
    ? await clerk.jwtTemplates.create({ name, claims, lifetime: 300 })
    : await bapi('POST', '/jwt_templates', { name, claims, lifetime: 300 });
  assert.equal(tmpl.name, name);
  const token = await clerk.sessions.getToken(S.session.id, name);
  const payload = await verifyToken(token.jwt, { secretKey, apiUrl });
  assert.equal(payload.sub, S.user.id);
  assert.equal(payload.name, 'Ada');
  assert.equal(payload.plan, 'pro');
  assert.equal(payload.seats, 3);
  assert.equal(payload.exp - payload.iat, 300);
});

/** A sign-up made as clerk-js makes one: a dev browser, then a form-encoded POST on the instance's Frontend API
 * (reached through the proxy path `/fapi/{frontend host}`, the host read from the instance's primary domain). */
async function browserSignUp(fields) {
  const domains = await bapi('GET', '/domains');
  const host = new URL(domains.data.find(d => !d.is_satellite).frontend_api_url).host;
  const fapi = `${apiUrl}/fapi/${host}/v1`;
  const db = await fetch(`${fapi}/dev_browser`, { method: 'POST' });
  assert.equal(db.status, 200, await db.clone().text());
  const { id: devBrowser } = await db.json();
  const res = await fetch(`${fapi}/client/sign_ups?__clerk_db_jwt=${encodeURIComponent(devBrowser)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  assert.equal(json.client.sign_up.id, json.response.id);
  return json.response;
}

check('sign-up made by a browser through the Frontend API → signUps.get / signUps.update read it back', async () => {
  const email = `sdk-signup-${randomBytes(4).toString('hex')}@example.com`;
  const created = await browserSignUp({ email_address: email, password: 'correct horse battery', first_name: 'Ada' });
  const got = await clerk.signUps.get(created.id);
  assert.equal(got.id, created.id);
  assert.equal(got.status, 'missing_requirements');
  assert.equal(got.emailAddress, email);
  assert.equal(got.firstName, 'Ada');
  assert.equal(got.passwordEnabled, true);
  assert.deepEqual(got.unverifiedFields, ['email_address']);
  assert.equal(got.customAction, false);
  const updated = await clerk.signUps.update({ signUpAttemptId: created.id, externalId: 'sdk-ext-1', customAction: true });
  assert.equal(updated.id, created.id);
  assert.equal(updated.externalId, 'sdk-ext-1');
  assert.equal(updated.customAction, true);
  // The email address is still unverified: no user yet.
  assert.equal(updated.status, 'missing_requirements');
  assert.equal(updated.createdUserId, null);
  const again = await clerk.signUps.get(created.id);
  assert.equal(again.externalId, 'sdk-ext-1');
});

check('agentTasks.create → a ticket URL on the Frontend API host; agentTasks.revoke → the task without url', async () => {
  const params = {
    onBehalfOf: { userId: S.user.id },
    permissions: '*',
    agentName: 'sdk-agent',
    taskDescription: 'SDK suite',
    redirectUrl: 'http://localhost:3000/after',
  };
  const task = await clerk.agentTasks.create(params);
  assert.match(task.agentId, /^agt_/);
  assert.match(task.agentTaskId, /^agttsk_/);
  assert.equal(task.taskId, task.agentTaskId);
  assert.match(task.url, /^https:\/\/[^/]+\/v1\/tickets\/accept\?ticket=[A-Za-z0-9]{40,}$/);
  const email = S.user.emailAddresses[0].emailAddress;
  const again = await clerk.agentTasks.create({ ...params, onBehalfOf: { identifier: email } });
  assert.equal(again.agentId, task.agentId, 'one agent id per agent name');
  assert.notEqual(again.agentTaskId, task.agentTaskId);
  const revoked = await clerk.agentTasks.revoke(task.agentTaskId);
  assert.equal(revoked.agentTaskId, task.agentTaskId);
  assert.equal(revoked.url, undefined);
  await rejects(clerk.agentTasks.revoke(task.agentTaskId), e => {
    assert.equal(e.status, 400);
    assert.equal(e.errors[0].code, 'agent_task_cannot_be_revoked');
  }, 'revoking twice');
});

check('proxyChecks.verify → GET {proxy}/v1/proxy-health without the secret key; healthy → successful', async () => {
  const seen = [];
  const proxy = http.createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers });
    const healthy = req.url.startsWith('/__clerk/');
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(healthy ? { status: 'healthy' } : { status: 'unhealthy', message: 'no' }));
  });
  await new Promise(r => proxy.listen(0, '127.0.0.1', r));
  try {
    const base = `http://127.0.0.1:${proxy.address().port}`;
    const { data: domains } = await clerk.domains.list();
    const domain = domains.find(d => !d.isSatellite) ?? domains[0];
    const ok = await clerk.proxyChecks.verify({ domainId: domain.id, proxyUrl: `${base}/__clerk` });
    assert.equal(ok.successful, true);
    assert.equal(ok.domainId, domain.id);
    assert.equal(ok.proxyUrl, `${base}/__clerk`);
    assert.equal(typeof ok.lastRunAt, 'number');
    assert.equal(seen[0].url, `/__clerk/v1/proxy-health?domain_id=${domain.id}`);
    assert.equal(seen[0].headers['clerk-proxy-url'], `${base}/__clerk`);
    assert.equal(seen[0].headers['clerk-secret-key'], undefined);
    assert.equal(seen[0].headers.authorization, undefined);
    const bad = await clerk.proxyChecks.verify({ domainId: domain.id, proxyUrl: `${base}/elsewhere` });
    assert.equal(bad.successful, false);
    const again = await clerk.proxyChecks.verify({ domainId: domain.id, proxyUrl: `${base}/__clerk` });
    assert.equal(again.id, ok.id, 'one record per domain and proxy URL');
  } finally {
    proxy.close();
  }
});

check('an expired token → token-expired', async () => {
  const wait = S.shortLivedAt + 37_000 - Date.now();
  if (wait > 0) await sleep(wait);
  assert.ok(claimsOf(S.shortLived).exp * 1000 < Date.now() - 5000);
  await rejects(verifyToken(S.shortLived, { secretKey, apiUrl }), e => {
    assert.equal(e.reason, 'token-expired', `${e.reason}: ${e.message}`);
  }, 'verifyToken with an expired token');
});

let failed = 0;
for (const [name, fn] of checks) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL - ${name}\n${e?.stack ?? e}`);
  }
}
console.log(`${checks.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
