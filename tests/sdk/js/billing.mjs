// Billing through @clerk/backend: every `clerk.billing.*` method against the local ledger (the catalogue of
// tests/sdk/billing_catalogue.json, applied by `tessera billing apply` before the program runs), and the plan claims of
// session tokens read by `authenticateRequest`: `has({ plan })` and `has({ feature })` true once a user moves to a paid
// plan, still true after a cancellation until the period ends, false after it ended — the billing clock moved to the
// period's end with `tessera billing tick --at` — and the same for an organization's plan with an active organization.
// Run by crates/server/tests/sdk.rs with TESSERA_API_URL, TESSERA_SECRET_KEY, TESSERA_PUBLISHABLE_KEY, TESSERA_BIN and
// the database's TESSERA_DATABASE_URL (and TESSERA_MASTER_KEY) set; exits non-zero on failure. The checks run in order
// and share state.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createClerkClient } from '@clerk/backend';

const apiUrl = mustEnv('TESSERA_API_URL');
const secretKey = mustEnv('TESSERA_SECRET_KEY');
const publishableKey = mustEnv('TESSERA_PUBLISHABLE_KEY');
const tesseraBin = mustEnv('TESSERA_BIN');
mustEnv('TESSERA_DATABASE_URL');

const DAY_MS = 86_400_000;

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

/** A Backend API call the SDK has no method for (price transitions, prices, organization roles). */
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

/** Runs the instance's billing clock as if it were `ms` (`tessera billing tick --at`, the server's own work). */
function tickAt(ms) {
  const out = execFileSync(tesseraBin, ['billing', 'tick', '--at', new Date(ms).toISOString()], { encoding: 'utf8' });
  return out.trim();
}

/** The error an SDK call rejects with; its HTTP status must be `status`. */
async function rejects(promise, status) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.status, status, `${e}`);
    return e;
  }
  assert.fail(`expected HTTP ${status}, the call succeeded`);
}

const checks = [];
const check = (name, fn) => checks.push([name, fn]);

const clerk = createClerkClient({ secretKey, apiUrl, publishableKey });
const bearerRequest = token =>
  new Request('https://app.example.com/dashboard', { headers: { Authorization: `Bearer ${token}` } });
const s = {}; // shared state

let users = 0;
async function newUser(name) {
  users += 1;
  return (await clerk.users.createUser({ emailAddress: [`${name.toLowerCase()}${users}@example.com`], firstName: name }))
    .id;
}

async function planBySlug(slug) {
  const plans = await clerk.billing.getPlanList({ limit: 100 });
  const plan = plans.data.find(p => p.slug === slug);
  assert.ok(plan, `no plan ${slug}`);
  return plan;
}

async function defaultPriceId(slug) {
  const plan = await planBySlug(slug);
  const prices = await bapi('GET', `/billing/prices?plan_id=${plan.id}`);
  return prices.data.find(p => p.is_default).id;
}

/** The live item of plan `slug` in a subscription (ended items are not listed). */
function itemOf(subscription, slug) {
  const item = subscription.subscriptionItems.find(i => i.plan?.slug === slug);
  assert.ok(item, `no ${slug} item in ${JSON.stringify(subscription.subscriptionItems.map(i => i.plan?.slug))}`);
  return item;
}

/** Moves the payer of `item` to plan `slug`'s default price (no SDK method: the Backend API). */
async function move(item, slug) {
  const body = { from_price_id: item.priceId, to_price_id: await defaultPriceId(slug) };
  return bapi('POST', `/billing/subscription_items/${item.id}/price_transition`, body);
}

/** The auth object of a fresh session token of `userId` (with an active organization when given). */
async function authOf(userId, activeOrganizationId) {
  const session = await clerk.sessions.createSession({ userId, activeOrganizationId });
  const token = await clerk.sessions.getToken(session.id);
  const state = await clerk.authenticateRequest(bearerRequest(token.jwt));
  assert.equal(state.isAuthenticated, true, `${state.reason}: ${state.message}`);
  return state.toAuth();
}

check('getPlanList: the catalogue and the default free plans, by payer type, paged', async () => {
  const all = await clerk.billing.getPlanList({ limit: 100 });
  assert.equal(all.totalCount, 5);
  assert.deepEqual(all.data.map(p => p.slug).sort(), ['free_org', 'free_user', 'plus', 'pro', 'team']);
  const users = await clerk.billing.getPlanList({ payerType: 'user' });
  assert.deepEqual(users.data.map(p => p.slug).sort(), ['free_user', 'plus', 'pro']);
  assert.equal(users.totalCount, 3);
  const orgs = await clerk.billing.getPlanList({ payerType: 'org' });
  assert.deepEqual(orgs.data.map(p => p.slug).sort(), ['free_org', 'team']);
  const first = await clerk.billing.getPlanList({ limit: 2 });
  const rest = await clerk.billing.getPlanList({ limit: 10, offset: 2 });
  assert.equal(first.data.length, 2);
  assert.equal(rest.data.length, 3);
  assert.equal(first.totalCount, 5);
  assert.ok(first.data.every(p => !rest.data.some(q => q.id === p.id)), 'pages overlap');

  const pro = all.data.find(p => p.slug === 'pro');
  assert.equal(pro.name, 'Pro');
  assert.equal(pro.forPayerType, 'user');
  assert.equal(pro.isDefault, false);
  assert.equal(pro.fee.amount, 2000);
  assert.equal(pro.fee.currency, 'USD');
  assert.equal(pro.annualMonthlyFee.amount, 1600);
  assert.equal(pro.annualFee.amount, 19200);
  assert.equal(pro.freeTrialEnabled, true);
  assert.equal(pro.freeTrialDays, 14);
  assert.deepEqual(pro.features.map(f => f.slug), ['reports', 'exports']);
  const free = all.data.find(p => p.slug === 'free_user');
  assert.equal(free.isDefault, true);
  assert.equal(free.fee.amount, 0);
  const team = all.data.find(p => p.slug === 'team');
  assert.equal(team.forPayerType, 'org');
});

check('getUserBillingSubscription: a new user is on the free plan; an unknown user is 404', async () => {
  s.user = await newUser('Paula');
  const sub = await clerk.billing.getUserBillingSubscription(s.user);
  assert.equal(sub.status, 'active');
  assert.deepEqual(
    sub.subscriptionItems.map(i => [i.plan.slug, i.status]),
    [['free_user', 'active']],
  );
  const auth = await authOf(s.user);
  assert.equal(auth.has({ plan: 'free_user' }), true);
  assert.equal(auth.has({ plan: 'plus' }), false);
  assert.equal(auth.has({ feature: 'api' }), false);
  await rejects(clerk.billing.getUserBillingSubscription('user_nope'), 404);
});

check('a paid plan: has({ plan }) and has({ feature }) true in a new session token', async () => {
  const sub = await clerk.billing.getUserBillingSubscription(s.user);
  const t = await move(itemOf(sub, 'free_user'), 'plus');
  assert.equal(t.subscription_item.status, 'active');
  s.plusItem = t.subscription_item.id;
  s.periodEnd = t.subscription_item.period_end;
  const after = await clerk.billing.getUserBillingSubscription(s.user);
  const plus = itemOf(after, 'plus');
  assert.equal(plus.status, 'active');
  assert.equal(plus.isFreeTrial, false);
  assert.equal(plus.periodEnd, s.periodEnd);

  const auth = await authOf(s.user);
  assert.equal(auth.has({ plan: 'plus' }), true);
  assert.equal(auth.has({ plan: 'u:plus' }), true);
  assert.equal(auth.has({ plan: 'o:plus' }), false);
  assert.equal(auth.has({ plan: 'pro' }), false);
  assert.equal(auth.has({ plan: 'free_user' }), false);
  assert.equal(auth.has({ feature: 'api' }), true);
  assert.equal(auth.has({ feature: 'u:reports' }), true);
  assert.equal(auth.has({ feature: 'exports' }), false);
  assert.equal(auth.has({ plan: 'plus', feature: 'api' }), true);
});

check('cancelSubscriptionItem at the period end: the plan holds until the clock reaches it', async () => {
  const canceled = await clerk.billing.cancelSubscriptionItem(s.plusItem);
  assert.equal(canceled.id, s.plusItem);
  assert.equal(canceled.status, 'canceled');
  assert.ok(canceled.canceledAt > 0);
  assert.equal(canceled.endedAt, null);
  const sub = await clerk.billing.getUserBillingSubscription(s.user);
  assert.equal(itemOf(sub, 'free_user').status, 'upcoming');
  assert.equal(itemOf(sub, 'free_user').periodStart, s.periodEnd);

  let auth = await authOf(s.user);
  assert.equal(auth.has({ plan: 'plus' }), true, 'a canceled item keeps its plan until its period ends');
  assert.equal(auth.has({ feature: 'api' }), true);

  // A day before the period's end nothing moves; just after it, the item ends and the free plan starts.
  assert.match(tickAt(s.periodEnd - DAY_MS), /^0 subscription items moved/);
  auth = await authOf(s.user);
  assert.equal(auth.has({ plan: 'plus' }), true);
  assert.match(tickAt(s.periodEnd + 1000), /^2 subscription items moved/);
  const ended = await clerk.billing.getUserBillingSubscription(s.user);
  assert.deepEqual(
    ended.subscriptionItems.map(i => [i.plan.slug, i.status]),
    [['free_user', 'active']],
  );
  auth = await authOf(s.user);
  assert.equal(auth.has({ plan: 'plus' }), false);
  assert.equal(auth.has({ feature: 'api' }), false);
  assert.equal(auth.has({ feature: 'reports' }), false);
  assert.equal(auth.has({ plan: 'free_user' }), true);
});

check('cancelSubscriptionItem with endNow: the plan is gone at once; unknown items are 404', async () => {
  const u = await newUser('Nora');
  const t = await move(itemOf(await clerk.billing.getUserBillingSubscription(u), 'free_user'), 'plus');
  assert.equal((await authOf(u)).has({ plan: 'plus' }), true);
  const ended = await clerk.billing.cancelSubscriptionItem(t.subscription_item.id, { endNow: true });
  assert.equal(ended.status, 'ended');
  assert.ok(ended.endedAt > 0);
  const auth = await authOf(u);
  assert.equal(auth.has({ plan: 'plus' }), false);
  assert.equal(auth.has({ plan: 'free_user' }), true);
  await rejects(clerk.billing.cancelSubscriptionItem('csubi_nope'), 404);
  // The default plan's item cannot be canceled.
  const free = itemOf(await clerk.billing.getUserBillingSubscription(u), 'free_user');
  await rejects(clerk.billing.cancelSubscriptionItem(free.id), 422);
});

check('extendSubscriptionItemFreeTrial, then the trial converts when the clock passes its end', async () => {
  const u = await newUser('Tina');
  const t = await move(itemOf(await clerk.billing.getUserBillingSubscription(u), 'free_user'), 'pro');
  const trial = t.subscription_item;
  assert.equal(trial.is_free_trial, true);
  assert.equal(trial.period_end - trial.period_start, 14 * DAY_MS);
  let auth = await authOf(u);
  assert.equal(auth.has({ plan: 'pro' }), true, 'a trial gives the plan');
  assert.equal(auth.has({ feature: 'exports' }), true);

  const extendTo = new Date(trial.period_end + 5 * DAY_MS);
  const extended = await clerk.billing.extendSubscriptionItemFreeTrial(trial.id, { extendTo });
  assert.equal(extended.id, trial.id);
  assert.equal(extended.periodEnd, extendTo.getTime());
  assert.equal(extended.isFreeTrial, true);
  await rejects(clerk.billing.extendSubscriptionItemFreeTrial(trial.id, { extendTo: new Date(Date.now() - DAY_MS) }), 422);
  await rejects(clerk.billing.extendSubscriptionItemFreeTrial('csubi_nope', { extendTo }), 404);

  tickAt(extendTo.getTime() + 1000);
  const sub = await clerk.billing.getUserBillingSubscription(u);
  const paid = itemOf(sub, 'pro');
  assert.equal(paid.id, trial.id);
  assert.equal(paid.status, 'active');
  assert.equal(paid.isFreeTrial, false);
  assert.equal(paid.periodStart, extendTo.getTime());
  auth = await authOf(u);
  assert.equal(auth.has({ plan: 'pro' }), true);
});

check('getOrganizationBillingSubscription and the organization plan claims of an active organization', async () => {
  await bapi('PATCH', '/instance/organization_settings', { enabled: true, max_allowed_memberships: 10 });
  const owner = await newUser('Olive');
  const member = await newUser('Max');
  const org = await clerk.organizations.createOrganization({ name: 'Billing Org', createdBy: owner });
  const sub = await clerk.billing.getOrganizationBillingSubscription(org.id);
  assert.deepEqual(
    sub.subscriptionItems.map(i => [i.plan.slug, i.status]),
    [['free_org', 'active']],
  );
  await rejects(clerk.billing.getOrganizationBillingSubscription('org_nope'), 404);

  // A role whose permissions belong to the plan's features (sso) and to a feature outside it (posts).
  const sso = await bapi('POST', '/organization_permissions', { name: 'Manage SSO', key: 'org:sso:manage' });
  const posts = await bapi('POST', '/organization_permissions', { name: 'Read posts', key: 'org:posts:read' });
  await bapi('POST', '/organization_roles', {
    name: 'Operator',
    key: 'org:operator',
    permissions: [sso.id, posts.id],
    include_in_initial_role_set: true, // new organizations get Clerk's primary role set; a role outside it is refused
  });
  await clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: member, role: 'org:operator' });

  let auth = await authOf(member, org.id);
  assert.equal(auth.orgId, org.id);
  assert.equal(auth.has({ plan: 'free_org' }), true);
  assert.equal(auth.has({ plan: 'team' }), false);
  assert.equal(auth.has({ feature: 'sso' }), false);
  assert.equal(auth.has({ permission: 'org:sso:manage' }), false, 'the free plan has no sso feature');

  const t = await move(itemOf(sub, 'free_org'), 'team');
  assert.equal(t.subscription_item.status, 'active');
  const paid = await clerk.billing.getOrganizationBillingSubscription(org.id);
  assert.equal(itemOf(paid, 'team').status, 'active');
  auth = await authOf(member, org.id);
  assert.equal(auth.has({ plan: 'team' }), true);
  assert.equal(auth.has({ plan: 'o:team' }), true);
  assert.equal(auth.has({ plan: 'u:team' }), false);
  assert.equal(auth.has({ feature: 'sso' }), true);
  assert.equal(auth.has({ feature: 'o:reports' }), true);
  assert.equal(auth.has({ permission: 'org:sso:manage' }), true);
  assert.equal(auth.has({ permission: 'org:posts:read' }), false, 'posts is not a feature of the plan');
  // Without the organization active, the member's own (free) plan is the one in the token.
  auth = await authOf(member);
  assert.equal(auth.has({ plan: 'team' }), false);
  assert.equal(auth.has({ plan: 'u:free_user' }), true);
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
