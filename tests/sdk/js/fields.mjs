// The field sweep of issue 17: every field @clerk/backend 3.25 reads from an object Tessera returns is there.
//
// The checklist is the SDK itself: each resource class in @clerk/backend's dist has a `static fromJSON(data)`, and
// the `data.<field>` it reads are the fields an app gets as `undefined` when the server leaves them out (as
// `instance.updateRestrictions()` returned `ignoreDotsForGmailAddresses: undefined`). This program reads those
// field lists from the installed package, creates one of each main resource through the Backend API, and checks
// the raw JSON answered for it (and the objects nested in it) against the class that parses it. A field the server
// leaves out must be listed in ABSENT below with the reason; everything else must be present (null is a value).
// Run by crates/server/tests/sdk.rs with TESSERA_API_URL and TESSERA_SECRET_KEY set; exits non-zero on failure.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClerkClient } from '@clerk/backend';

const apiUrl = mustEnv('TESSERA_API_URL');
const secretKey = mustEnv('TESSERA_SECRET_KEY');

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

/** Class name → the top-level fields its `fromJSON` reads, from the installed package's dist. */
function fromJsonReads() {
  const dist = path.dirname(fileURLToPath(import.meta.resolve('@clerk/backend')));
  const source = readdirSync(dist)
    .filter(f => /^chunk-.*\.mjs$/.test(f))
    .map(f => readFileSync(path.join(dist, f), 'utf8'))
    .join('\n');
  const reads = new Map();
  for (const cls of source.matchAll(/\nvar (\w+) = class _?\w* \{([\s\S]*?)\n\};/g)) {
    const f = cls[2].match(/static fromJSON\((\w+)\) \{([\s\S]*?)\n {2}\}/);
    if (!f) continue;
    const [, param, body] = f;
    const fields = new Set([...body.matchAll(new RegExp(`\\b${param}\\??\\.([A-Za-z_]\\w*)`, 'g'))].map(m => m[1]));
    reads.set(cls[1], fields);
  }
  return reads;
}

const READS = fromJsonReads();

// Fields Tessera leaves out on purpose, per class, with the reason. Keep this list short and true: each is a field
// the spec leaves optional (or does not allow) where Clerk leaves it out too.
const ABSENT = {
  User: { timezone: "not in the spec's User (additionalProperties: false)" },
  // One class parses every kind of verification; e-mail and phone (otp/admin) verifications have neither field
  // (additionalProperties: false), web3/OAuth/SAML ones do.
  Verification: { nonce: 'web3 verifications only', external_verification_redirect_url: 'OAuth/SAML verifications only' },
  OrganizationSettings: { max_allowed_permissions: 'deprecated and optional in the spec: Clerk made it a no-op' },
  // Only with `include_members_count=true` (checked below with it).
  Organization: { members_count: 'only when the request asks for it' },
  OrganizationInvitation: {
    public_organization_data: "not in the spec's OrganizationInvitation (additionalProperties: false)",
  },
  // The invitation's ticket is kept as a digest: its URL is answered once, at creation.
  Invitation: { url: 'only in the answer that created the invitation' },
  AllowlistIdentifier: { invitation_id: 'only when adding the identifier sent an invitation (optional in the spec)' },
  DeletedObject: { slug: 'organizations only (optional in the spec)' },
  MachineScope: { deleted: 'only in the answer of a deletion' },
};

/** A raw Backend API call (`/v1` unless the path is one the SDK calls bare), answering the JSON body. */
async function raw(method, route, body, { bearer = secretKey, bare = false } = {}) {
  const res = await fetch(`${apiUrl}${bare ? '' : '/v1'}${route}`, {
    method,
    headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const problems = [];
const seen = new Set();

/** Checks one object against the class that parses it; `where` names it in the report. */
function fields(cls, json, where) {
  const reads = READS.get(cls);
  if (!reads) {
    problems.push(`${where}: @clerk/backend 3.25 has no ${cls}.fromJSON (the checklist is out of date)`);
    return;
  }
  if (json === null || typeof json !== 'object') {
    problems.push(`${where}: expected a ${cls} object, got ${JSON.stringify(json)}`);
    return;
  }
  seen.add(cls);
  for (const field of reads) {
    if (json[field] === undefined && !ABSENT[cls]?.[field]) problems.push(`${cls}.${field} is missing (${where})`);
  }
}

/** Checks every element of a list (at least one expected). */
function each(cls, list, where) {
  assert.ok(Array.isArray(list) && list.length > 0, `${where}: expected a non-empty list, got ${JSON.stringify(list)}`);
  list.forEach((x, i) => fields(cls, x, `${where}[${i}]`));
}

// ---- The resources ----

const clerk = createClerkClient({ secretKey, apiUrl });

const user = await raw('POST', '/users', {
  email_address: ['ada@example.com'],
  phone_number: ['+15555550100'],
  web3_wallet: ['0x0123456789abcdef0123456789abcdef01234567'],
  first_name: 'Ada',
  password: 'correct horse battery staple 1815',
});
fields('User', user, 'POST /users');
each('EmailAddress', user.email_addresses, 'user.email_addresses');
each('PhoneNumber', user.phone_numbers, 'user.phone_numbers');
each('Web3Wallet', user.web3_wallets, 'user.web3_wallets');
fields('Verification', user.email_addresses[0].verification, 'user.email_addresses[0].verification');
fields('EmailAddress', await raw('GET', `/email_addresses/${user.primary_email_address_id}`), 'GET /email_addresses/{id}');
fields('PhoneNumber', await raw('GET', `/phone_numbers/${user.primary_phone_number_id}`), 'GET /phone_numbers/{id}');
const users = await raw('GET', '/users');
each('User', users, 'GET /users');

await raw('PATCH', '/instance/organization_settings', { enabled: true });
fields('OrganizationSettings', await raw('GET', '/instance/organization_settings'), 'GET /instance/organization_settings');
const org = await raw('POST', '/organizations', { name: 'Acme', created_by: user.id });
fields('Organization', org, 'POST /organizations');
fields('Organization', await raw('GET', `/organizations/${org.id}`), 'GET /organizations/{id}');
each('Organization', (await raw('GET', '/organizations?include_members_count=true')).data, 'GET /organizations?include_members_count=true');
for (const o of (await raw('GET', '/organizations?include_members_count=true')).data) {
  assert.equal(typeof o.members_count, 'number', 'members_count when asked for');
}
const memberships = await raw('GET', `/organizations/${org.id}/memberships`);
each('OrganizationMembership', memberships.data, 'GET /organizations/{id}/memberships');
fields('Organization', memberships.data[0].organization, 'membership.organization');
fields('OrganizationMembershipPublicUserData', memberships.data[0].public_user_data, 'membership.public_user_data');
const userMemberships = await raw('GET', `/users/${user.id}/organization_memberships`);
each('OrganizationMembership', userMemberships.data, 'GET /users/{id}/organization_memberships');
const orgInvitation = await raw('POST', `/organizations/${org.id}/invitations`, {
  email_address: 'guest@example.com',
  role: 'org:member',
  inviter_user_id: user.id,
});
fields('OrganizationInvitation', orgInvitation, 'POST /organizations/{id}/invitations');
each('Role', (await raw('GET', '/organization_roles')).data, 'GET /organization_roles');
each('Permission', (await raw('GET', '/organization_permissions')).data, 'GET /organization_permissions');
const roleSets = await raw('GET', '/role_sets');
each('RoleSet', roleSets.data, 'GET /role_sets');
each('RoleSetItem', roleSets.data[0].roles, 'role_set.roles');

const invitation = await raw('POST', '/invitations', { email_address: 'invitee@example.com', notify: false });
fields('Invitation', invitation, 'POST /invitations');
each('Invitation', await raw('GET', '/invitations'), 'GET /invitations');

const session = await raw('POST', '/sessions', { user_id: user.id });
fields('Session', session, 'POST /sessions');
fields('Session', await raw('GET', `/sessions/${session.id}`), 'GET /sessions/{id}');
const client = await raw('GET', `/clients/${session.client_id}`);
fields('Client', client, 'GET /clients/{id}');
each('Session', client.sessions, 'client.sessions');
fields('Token', await raw('POST', `/sessions/${session.id}/tokens`), 'POST /sessions/{id}/tokens');

fields('AllowlistIdentifier', await raw('POST', '/allowlist_identifiers', { identifier: 'ok@example.com', notify: false }), 'POST /allowlist_identifiers');
fields('BlocklistIdentifier', await raw('POST', '/blocklist_identifiers', { identifier: 'spam@example.com' }), 'POST /blocklist_identifiers');
each('Domain', (await raw('GET', '/domains')).data, 'GET /domains');
fields('JwtTemplate', await raw('POST', '/jwt_templates', { name: 'fields', claims: { plan: 'pro' } }), 'POST /jwt_templates');
const redirect = await raw('POST', '/redirect_urls', { url: 'https://app.example.com/callback' });
fields('RedirectUrl', redirect, 'POST /redirect_urls');
fields('DeletedObject', await raw('DELETE', `/redirect_urls/${redirect.id}`), 'DELETE /redirect_urls/{id}');
fields('SignInToken', await raw('POST', '/sign_in_tokens', { user_id: user.id }), 'POST /sign_in_tokens');
fields('ActorToken', await raw('POST', '/actor_tokens', { user_id: user.id, actor: { sub: user.id } }), 'POST /actor_tokens');
fields('WaitlistEntry', await raw('POST', '/waitlist_entries', { email_address: 'waiting@example.com' }), 'POST /waitlist_entries');
fields('OAuthApplication', await raw('POST', '/oauth_applications', { name: 'Fields app', redirect_uris: ['https://app.example.com/oauth'] }), 'POST /oauth_applications');
fields('InstanceRestrictions', await raw('PATCH', '/instance/restrictions', {}), 'PATCH /instance/restrictions');
fields('InstanceSettings', await raw('PATCH', '/beta_features/instance_settings', {}), 'PATCH /beta_features/instance_settings');
fields('Instance', await raw('GET', '/instance'), 'GET /instance');
fields(
  'Email',
  await raw('POST', '/email', { to: { address: 'customer@example.com' }, from: { address: 'support@example.com' }, subject: 'Hi', text: 'Hello.' }),
  'POST /email',
);

fields('APIKey', await raw('POST', '/api_keys', { name: 'fields key', subject: user.id }, { bare: true }), 'POST /api_keys');
const machine = await raw('POST', '/machines', { name: 'fields machine' });
fields('Machine', machine, 'POST /machines');
const other = await raw('POST', '/machines', { name: 'fields peer' });
fields('MachineScope', await raw('POST', `/machines/${machine.id}/scopes`, { to_machine_id: other.id }), 'POST /machines/{id}/scopes');
const machineKey = await raw('GET', `/machines/${machine.id}/secret_key`);
fields('MachineSecretKey', machineKey, 'GET /machines/{id}/secret_key');
fields('M2MToken', await raw('POST', '/m2m_tokens', {}, { bearer: machineKey.secret, bare: true }), 'POST /m2m_tokens');

// What the SDK itself gets for the defect that started the sweep.
const restrictions = await clerk.instance.updateRestrictions({ ignoreDotsForGmailAddresses: false });
assert.equal(restrictions.ignoreDotsForGmailAddresses, false);

console.log(`checked ${seen.size} classes: ${[...seen].sort().join(', ')}`);
if (problems.length) {
  console.log(`FAIL ${problems.length} field(s) @clerk/backend reads are missing:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('ok   every field @clerk/backend reads is present');
