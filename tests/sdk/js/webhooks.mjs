// Webhooks through @clerk/backend: the Svix-app operations, the endpoint portal (one-time link, session cookie,
// CSRF-protected forms) driven over HTTP, then a scripted session of user changes whose events must reach a local
// receiver exactly once each, in order per user, and pass `verifyWebhook` (Clerk's own verification, built on
// the `standardwebhooks` package) with the endpoint's secret.
// Run by crates/server/tests/sdk.rs with TESSERA_API_URL and TESSERA_SECRET_KEY set; exits non-zero on failure.
import assert from 'node:assert/strict';
import http from 'node:http';
import { createClerkClient } from '@clerk/backend';
import { verifyWebhook } from '@clerk/backend/webhooks';

const apiUrl = mustEnv('TESSERA_API_URL');
const secretKey = mustEnv('TESSERA_SECRET_KEY');

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const clerk = createClerkClient({ secretKey, apiUrl });

// The receiver: records every request as it arrived.
const received = [];
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(204);
    res.end();
  });
});
await new Promise(resolve => receiver.listen(0, '127.0.0.1', resolve));
const hookUrl = `http://127.0.0.1:${receiver.address().port}/clerk-webhooks`;

// 1. The webhook application and a portal link.
const { svix_url: portalLink } = await clerk.webhooks.createSvixApp();
assert.match(portalLink, /^http:\/\/.+\/webhooks-portal\/open\/wpt_/);

// 2. The portal: the link opens a session once.
let res = await fetch(portalLink, { redirect: 'manual' });
assert.equal(res.status, 303);
const cookie = res.headers.getSetCookie().map(c => c.split(';')[0]).find(c => c.startsWith('tessera_webhooks_portal='));
assert.ok(cookie, 'session cookie');
assert.match(res.headers.getSetCookie().join('\n'), /HttpOnly/);
assert.equal((await fetch(portalLink, { redirect: 'manual' })).status, 403, 'a link works once');
const portal = new URL('/webhooks-portal', portalLink).href;
res = await fetch(portal, { headers: { cookie } });
assert.equal(res.status, 200);
assert.equal(res.headers.get('cache-control'), 'no-store');
const page = await res.text();
const csrf = page.match(/name="csrf" value="([0-9a-f]+)"/)?.[1];
assert.ok(csrf, 'the form carries a CSRF token');
assert.equal((await fetch(portal)).status, 403, 'no session, no portal');

const form = fields => new URLSearchParams(fields);
const post = (path, fields, withCookie = true) =>
  fetch(new URL(path, portalLink), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(withCookie ? { cookie } : {}) },
    body: form(fields),
  });
assert.equal((await post('/webhooks-portal/endpoints', { url: hookUrl })).status, 403, 'no CSRF token');
assert.equal((await post('/webhooks-portal/endpoints', { url: hookUrl, csrf: '00' + csrf.slice(2) })).status, 403);
assert.equal((await post('/webhooks-portal/endpoints', { url: hookUrl, csrf }, false)).status, 403, 'no cookie');
assert.equal((await post('/webhooks-portal/endpoints', { url: 'ftp://nope', csrf })).status, 400);
res = await post('/webhooks-portal/endpoints', { url: hookUrl, description: 'sdk test', csrf });
assert.equal(res.status, 303);
const endpointPage = new URL(res.headers.get('location'), portalLink).href;
const secretOf = async () => {
  const html = await (await fetch(endpointPage, { headers: { cookie } })).text();
  return html.match(/<code id="secret">(whsec_[A-Za-z0-9+/=]+)<\/code>/)?.[1];
};
const signingSecret = await secretOf();
assert.ok(signingSecret, 'the endpoint page shows the secret');

// 3. A scripted session of user changes.
const ada = await clerk.users.createUser({ emailAddress: ['ada@example.com'], firstName: 'Ada' });
const bob = await clerk.users.createUser({ emailAddress: ['bob@example.com'] });
await clerk.users.updateUser(ada.id, { lastName: 'Lovelace' });
await clerk.users.updateUser(bob.id, { firstName: 'Bob' });
await clerk.users.updateUserMetadata(ada.id, { publicMetadata: { role: 'admin' } });
await clerk.users.banUser(bob.id);
await clerk.users.deleteUser(ada.id);
const expected = {
  [ada.id]: ['user.created', 'user.updated', 'user.updated', 'user.deleted'],
  [bob.id]: ['user.created', 'user.updated', 'user.updated'],
};
const total = Object.values(expected).flat().length;
for (let i = 0; i < 200 && received.length < total; i++) await sleep(100);
await sleep(1500); // anything extra would arrive now
assert.equal(received.length, total, `exactly ${total} deliveries`);

// 4. Every delivery verifies with Clerk's verifyWebhook; each event once; in order per user.
const seen = new Set();
const perUser = {};
for (const { headers, body } of received) {
  const request = new Request(hookUrl, { method: 'POST', headers, body });
  const evt = await verifyWebhook(request, { signingSecret });
  assert.equal(evt.object, 'event');
  assert.ok(!seen.has(headers['svix-id']), 'each event once');
  seen.add(headers['svix-id']);
  (perUser[evt.data.id] ??= []).push(evt.type);
  if (evt.type === 'user.deleted') assert.equal(evt.data.deleted, true);
}
assert.deepEqual(perUser, expected);
const last = received.find(r => JSON.parse(r.body).data.id === bob.id && JSON.parse(r.body).data.banned);
assert.ok(last, 'the ban is in a user.updated event');

// A tampered body or another secret does not verify.
const { headers, body } = received[0];
await assert.rejects(verifyWebhook(new Request(hookUrl, { method: 'POST', headers, body: body.replace('user', 'usEr') }), { signingSecret }));
await assert.rejects(verifyWebhook(new Request(hookUrl, { method: 'POST', headers, body }), { signingSecret: 'whsec_' + Buffer.alloc(24).toString('base64') }));

// 5. Rotating the secret: new deliveries verify with the new one only.
assert.equal((await post(new URL(endpointPage).pathname + '/rotate', { csrf })).status, 303);
const rotated = await secretOf();
assert.notEqual(rotated, signingSecret);
await clerk.users.updateUser(bob.id, { lastName: 'Rotated' });
for (let i = 0; i < 100 && received.length < total + 1; i++) await sleep(100);
assert.equal(received.length, total + 1);
const fresh = received[total];
const req = () => new Request(hookUrl, { method: 'POST', headers: fresh.headers, body: fresh.body });
assert.equal((await verifyWebhook(req(), { signingSecret: rotated })).data.last_name, 'Rotated');
await assert.rejects(verifyWebhook(req(), { signingSecret }));

// 6. Deleting the application ends the portal's endpoints.
await clerk.webhooks.deleteSvixApp();
await assert.rejects(clerk.webhooks.generateSvixAuthURL());
receiver.close();
console.log(`webhooks: ${total + 1} deliveries verified by verifyWebhook`);
