// Issue 17 through @clerk/backend 3.25, which sends Clerk-API-Version 2026-05-12: the metadata rule of that version,
// the calls beyond the spec (invitations.deleteInvitation, emails.create / createBatch / get with idempotency keys),
// and the fidelity defects it exposed (duplicate allow-list identifiers, organization domains held by another
// organization, the ignore_dots_for_gmail_addresses restriction, Clerk's primary role set).
// Run by crates/server/tests/sdk.rs with TESSERA_API_URL and TESSERA_SECRET_KEY set; exits non-zero on failure.
import assert from 'node:assert/strict';
import { createClerkClient } from '@clerk/backend';

const apiUrl = mustEnv('TESSERA_API_URL');
const secretKey = mustEnv('TESSERA_SECRET_KEY');

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

/** A raw Backend API call, answering `{status, json}` (for what the SDK has no method for, or hides). */
async function raw(method, path, body, headers = {}) {
  const res = await fetch(`${apiUrl}/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${secretKey}`, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** Awaits a call that must fail with a Clerk error; returns it. */
async function clerkError(promise, status, code) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.status, status, `status: ${JSON.stringify(e.errors ?? e.message)}`);
    if (code) assert.equal(e.errors?.[0]?.code, code, JSON.stringify(e.errors));
    return e;
  }
  throw new Error(`expected a ${status} ${code ?? ''} error`);
}

const checks = [];
const check = (name, fn) => checks.push([name, fn]);
const clerk = createClerkClient({ secretKey, apiUrl });
const s = {};

check('2026-05-12: updateUser moves metadata to PUT …/metadata; PATCH with metadata is refused', async () => {
  const user = await clerk.users.createUser({ emailAddress: ['ada@example.com'], firstName: 'Ada' });
  s.user = user;
  // The SDK splits this call into PATCH /users/{id} (first_name) and PUT /users/{id}/metadata.
  const updated = await clerk.users.updateUser(user.id, { firstName: 'Ada L', publicMetadata: { plan: 'pro' } });
  const got = await clerk.users.getUser(user.id);
  assert.equal(got.firstName, 'Ada L');
  assert.deepEqual(got.publicMetadata, { plan: 'pro' });
  assert.ok(updated);
  const h = { 'Clerk-API-Version': '2026-05-12' };
  const refused = await raw('PATCH', `/users/${user.id}`, { public_metadata: { x: 1 } }, h);
  assert.equal(refused.status, 422);
  assert.equal(refused.json.errors[0].code, 'form_param_unknown');
  const older = await raw('PATCH', `/users/${user.id}`, { public_metadata: { x: 1 } }, { 'Clerk-API-Version': '2025-11-10' });
  assert.equal(older.status, 200);
  const both = await raw('GET', '/users?__clerk_api_version=2026-05-12', undefined, h);
  assert.equal(both.status, 400);
  const unknown = await raw('GET', '/users', undefined, { 'Clerk-API-Version': '2099-01-01' });
  assert.equal(unknown.status, 400);
});

check('invitations.deleteInvitation erases an invitation of any status', async () => {
  const inv = await clerk.invitations.createInvitation({ emailAddress: 'guest@example.com' });
  const revoked = await clerk.invitations.createInvitation({ emailAddress: 'gone@example.com', notify: false });
  await clerk.invitations.revokeInvitation(revoked.id);
  for (const id of [inv.id, revoked.id]) {
    const deleted = await clerk.invitations.deleteInvitation(id);
    assert.equal(deleted.id, id);
    assert.equal(deleted.deleted, true);
  }
  const left = await clerk.invitations.getInvitationList();
  assert.equal(left.totalCount, 0);
  await clerkError(clerk.invitations.deleteInvitation(inv.id), 404, 'resource_not_found');
});

check('emails.create / get, idempotent per key', async () => {
  const params = {
    to: { address: 'customer@example.com' },
    from: { address: 'support@example.com', name: 'Support' },
    subject: 'Your receipt',
    html: '<p>Thanks for your order.</p>',
  };
  const email = await clerk.emails.create(params, { idempotencyKey: 'order_123_receipt' });
  assert.ok(email.id.startsWith('ema_'));
  assert.equal(email.toEmailAddress, 'customer@example.com');
  assert.equal(email.status, 'accepted');
  const again = await clerk.emails.create(params, { idempotencyKey: 'order_123_receipt' });
  assert.equal(again.id, email.id, 'the same key and request answer the same e-mail');
  await clerkError(
    clerk.emails.create({ ...params, subject: 'Another' }, { idempotencyKey: 'order_123_receipt' }),
    409,
    'conflict',
  );
  const got = await clerk.emails.get(email.id);
  assert.equal(got.subject, 'Your receipt');
  const toUser = await clerk.emails.create({ ...params, to: { userId: s.user.id } });
  assert.equal(toUser.toEmailAddress, 'ada@example.com');
  assert.equal(toUser.userId, s.user.id);
});

check('emails.createBatch answers one result per message, in order', async () => {
  const base = { from: { address: 'support@example.com' }, subject: 'Hello', text: 'Hi.' };
  const results = await clerk.emails.createBatch([
    { ...base, to: { address: 'one@example.com' }, idempotencyKey: 'batch_one' },
    { ...base, to: { address: 'not an address' } },
    { ...base, to: { address: 'three@example.com' } },
  ]);
  assert.deepEqual(results.map(r => [r.index, r.statusCode]), [[0, 200], [1, 422], [2, 200]]);
  assert.equal(results[0].email.toEmailAddress, 'one@example.com');
  assert.equal(results[1].errors[0].code, 'form_param_format_invalid');
  const retried = await clerk.emails.createBatch([{ ...base, to: { address: 'one@example.com' }, idempotencyKey: 'batch_one' }]);
  assert.equal(retried[0].email.id, results[0].email.id);
});

check('a duplicate allow-list identifier is 400 duplicate_record', async () => {
  await clerk.allowlistIdentifiers.createAllowlistIdentifier({ identifier: 'dup@example.com', notify: false });
  await clerkError(
    clerk.allowlistIdentifiers.createAllowlistIdentifier({ identifier: 'dup@example.com', notify: false }),
    400,
    'duplicate_record',
  );
});

check("a domain another organization holds is organization_domain_already_exists", async () => {
  await raw('PATCH', '/instance/organization_settings', { enabled: true, domains_enabled: true });
  const a = await clerk.organizations.createOrganization({ name: 'Acme', createdBy: s.user.id });
  const b = await clerk.organizations.createOrganization({ name: 'Globex', createdBy: s.user.id });
  await clerk.organizations.createOrganizationDomain({ organizationId: a.id, name: 'acme.test', enrollmentMode: 'manual_invitation' });
  await clerkError(
    clerk.organizations.createOrganizationDomain({ organizationId: b.id, name: 'acme.test', enrollmentMode: 'manual_invitation' }),
    422,
    'organization_domain_already_exists',
  );
});

check('instance.updateRestrictions({ ignoreDotsForGmailAddresses }): returned, and dotted gmail variants are one identifier', async () => {
  const before = await clerk.instance.updateRestrictions({});
  assert.equal(before.ignoreDotsForGmailAddresses, false);
  await clerk.users.createUser({ emailAddress: ['john@gmail.com'] });
  const on = await clerk.instance.updateRestrictions({ ignoreDotsForGmailAddresses: true });
  assert.equal(on.ignoreDotsForGmailAddresses, true);
  const e = await clerkError(clerk.users.createUser({ emailAddress: ['j.o.h.n@gmail.com'] }), 422, 'form_identifier_exists');
  assert.equal(e.errors[0].meta?.paramName, 'email_address');
  // Other domains keep their dots.
  await clerk.users.createUser({ emailAddress: ['j.o.h.n@example.com'] });
  const off = await clerk.instance.updateRestrictions({ ignoreDotsForGmailAddresses: false });
  assert.equal(off.ignoreDotsForGmailAddresses, false);
});

check("organizations get Clerk's primary role set; includeInInitialRoleSet adds a role to it", async () => {
  // @clerk/backend's OrganizationSettings does not read initial_role_set_key: the raw answer shows it.
  const settings = await raw('GET', '/instance/organization_settings');
  assert.equal(settings.json.initial_role_set_key, 'role_set:default');
  const { data: sets } = await clerk.roleSets.getRoleSetList();
  const primary = sets.find(set => set.key === 'role_set:default');
  assert.ok(primary, JSON.stringify(sets.map(set => set.key)));
  assert.equal(primary.type, 'initial');
  assert.deepEqual(primary.roles.map(r => r.key).sort(), ['org:admin', 'org:member']);
  await clerk.organizationRoles.createOrganizationRole({ name: 'Billing', key: 'org:billing', includeInInitialRoleSet: true });
  const after = await clerk.roleSets.getRoleSet('role_set:default');
  assert.deepEqual(after.roles.map(r => r.key).sort(), ['org:admin', 'org:billing', 'org:member']);
  const org = await clerk.organizations.createOrganization({ name: 'Initech', createdBy: s.user.id });
  // @clerk/backend's Organization does not read role_set_key: the raw answer shows it.
  const got = await raw('GET', `/organizations/${org.id}`);
  assert.equal(got.json.role_set_key, 'role_set:default');
});

check('superseded calls say what to use instead', async () => {
  await clerkError(clerk.sessions.verifySession('sess_123', 'token'), 410, 'operation_superseded');
});

let failed = 0;
for (const [name, fn] of checks) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n${e.stack ?? e}`);
  }
}
process.exit(failed ? 1 : 0);
