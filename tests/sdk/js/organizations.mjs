// Organizations through @clerk/backend: create an organization, add a member with a custom role, invite with that role,
// and read the member's session token (a session created with `active_organization_id`) with `authenticateRequest`: `orgId`,
// `orgRole`, `orgSlug` and `has({ permission })` come from the token's `o` claim.
// Run by crates/server/tests/sdk.rs with TESSERA_API_URL, TESSERA_SECRET_KEY and TESSERA_PUBLISHABLE_KEY set; exits
// non-zero on failure. The checks run in order and share state.
import assert from 'node:assert/strict';
import { createClerkClient } from '@clerk/backend';

const apiUrl = mustEnv('TESSERA_API_URL');
const secretKey = mustEnv('TESSERA_SECRET_KEY');
const publishableKey = mustEnv('TESSERA_PUBLISHABLE_KEY');

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

/** A Backend API call the SDK has no method for (organization settings, roles, permissions). */
async function bapi(method, path, body) {
  const res = await fetch(`${apiUrl}/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${secretKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const checks = [];
const check = (name, fn) => checks.push([name, fn]);

const clerk = createClerkClient({ secretKey, apiUrl, publishableKey });
const bearerRequest = token =>
  new Request('https://app.example.com/dashboard', { headers: { Authorization: `Bearer ${token}` } });
const s = {}; // shared state

check('organization with its creator as admin', async () => {
  await bapi('PATCH', '/instance/organization_settings', { enabled: true, max_allowed_memberships: 10 });
  s.owner = (await clerk.users.createUser({ emailAddress: ['owner@example.com'], firstName: 'Olive' })).id;
  s.member = (await clerk.users.createUser({ emailAddress: ['member@example.com'], firstName: 'Max' })).id;
  const org = await clerk.organizations.createOrganization({ name: 'Acme Corp', createdBy: s.owner });
  s.org = org;
  assert.equal(org.slug, 'acme-corp');
  const members = await clerk.organizations.getOrganizationMembershipList({ organizationId: org.id });
  assert.equal(members.totalCount, 1);
  assert.equal(members.data[0].role, 'org:admin');
  assert.equal(members.data[0].publicUserData.userId, s.owner);
  assert.equal(members.data[0].organization.id, org.id);
});

check('custom role with custom permissions; the member gets it', async () => {
  const read = await bapi('POST', '/organization_permissions', { name: 'Read posts', key: 'org:posts:read' });
  const publish = await bapi('POST', '/organization_permissions', { name: 'Publish posts', key: 'org:posts:publish' });
  const invoices = await bapi('POST', '/organization_permissions', { name: 'Invoices', key: 'org:invoices:read' });
  const role = await bapi('POST', '/organization_roles', {
    name: 'Editor',
    key: 'org:editor',
    permissions: [read.id, publish.id, invoices.id],
    // Organizations get Clerk's primary role set: a role is theirs to assign once it is in it.
    include_in_initial_role_set: true,
  });
  assert.equal(role.permissions.length, 3);
  const m = await clerk.organizations.createOrganizationMembership({
    organizationId: s.org.id,
    userId: s.member,
    role: 'org:editor',
  });
  assert.equal(m.role, 'org:editor');
  assert.deepEqual([...m.permissions].sort(), ['org:invoices:read', 'org:posts:publish', 'org:posts:read']);
  const mine = await clerk.users.getOrganizationMembershipList({ userId: s.member });
  assert.equal(mine.totalCount, 1);
  assert.equal(mine.data[0].organization.slug, 'acme-corp');
});

check('invitation with the custom role: created, pending, listed for the organization, revoked', async () => {
  const inv = await clerk.organizations.createOrganizationInvitation({
    organizationId: s.org.id,
    inviterUserId: s.owner,
    emailAddress: 'newcomer@example.com',
    role: 'org:editor',
  });
  assert.equal(inv.status, 'pending');
  assert.equal(inv.role, 'org:editor');
  assert.equal(inv.organizationId, s.org.id);
  const pending = await clerk.organizations.getOrganizationInvitationList({
    organizationId: s.org.id,
    status: ['pending'],
  });
  assert.deepEqual(pending.data.map(i => i.id), [inv.id]);
  const revoked = await clerk.organizations.revokeOrganizationInvitation({
    organizationId: s.org.id,
    invitationId: inv.id,
    requestingUserId: s.owner,
  });
  assert.equal(revoked.status, 'revoked');
});

check('authenticateRequest: the session token carries the organization, role and permissions', async () => {
  const session = await clerk.sessions.createSession({ userId: s.member, activeOrganizationId: s.org.id });
  assert.equal(session.lastActiveOrganizationId, s.org.id);
  const token = await clerk.sessions.getToken(session.id);
  const state = await clerk.authenticateRequest(bearerRequest(token.jwt));
  assert.equal(state.isAuthenticated, true, `${state.reason}: ${state.message}`);
  const auth = state.toAuth();
  assert.equal(auth.userId, s.member);
  assert.equal(auth.sessionId, session.id);
  assert.equal(auth.orgId, s.org.id);
  assert.equal(auth.orgSlug, 'acme-corp');
  assert.equal(auth.orgRole, 'org:editor');
  for (const permission of ['org:posts:read', 'org:posts:publish', 'org:invoices:read']) {
    assert.equal(auth.has({ permission }), true, permission);
  }
  assert.equal(auth.has({ permission: 'org:invoices:publish' }), false);
  assert.equal(auth.has({ permission: 'org:posts:delete' }), false);
  assert.equal(auth.has({ role: 'org:editor' }), true);
  assert.equal(auth.has({ role: 'org:admin' }), false);
});

check('a session without an organization has no org claims', async () => {
  const session = await clerk.sessions.createSession({ userId: s.member });
  const token = await clerk.sessions.getToken(session.id);
  const state = await clerk.authenticateRequest(bearerRequest(token.jwt));
  assert.equal(state.isAuthenticated, true, `${state.reason}: ${state.message}`);
  const auth = state.toAuth();
  assert.ok(!auth.orgId, `orgId ${auth.orgId}`);
  assert.equal(auth.has({ permission: 'org:posts:read' }), false);
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
