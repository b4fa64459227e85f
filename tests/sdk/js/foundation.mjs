// Foundation checks through @clerk/backend: JWKS, secret-key errors.
// Run by crates/server/tests/sdk.rs with TESSERA_API_URL and TESSERA_SECRET_KEY set; exits non-zero on failure.
import assert from 'node:assert/strict';
import { createClerkClient, verifyToken } from '@clerk/backend';
import { isClerkAPIResponseError } from '@clerk/backend/errors';

const apiUrl = mustEnv('TESSERA_API_URL');
const secretKey = mustEnv('TESSERA_SECRET_KEY');
const WRONG_KEY = 'sk_test_' + 'x'.repeat(40);
// An operation of the spec that Tessera does not serve yet (SAML connections are far down the list); change it
// when it gets implemented.

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

const b64url = s => Buffer.from(s).toString('base64url');
/** A JWT-shaped token with a real-looking header and a signature that cannot verify. */
function forgedToken(kid) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ sub: 'user_123', sid: 'sess_123', iat: now, nbf: now - 10, exp: now + 60 }));
  return `${header}.${payload}.${b64url('not a signature'.repeat(16))}`;
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

const checks = [];
const check = (name, fn) => checks.push([name, fn]);

const clerk = createClerkClient({ secretKey, apiUrl });

check('jwks.getJwks returns the instance RSA key', async () => {
  const jwks = await clerk.jwks.getJwks();
  assert.ok(Array.isArray(jwks.keys) && jwks.keys.length >= 1, `keys: ${JSON.stringify(jwks)}`);
  for (const k of jwks.keys) {
    assert.equal(k.kty, 'RSA');
    assert.equal(k.alg, 'RS256');
    assert.equal(k.use, 'sig');
    assert.equal(k.e, 'AQAB');
    assert.ok(typeof k.kid === 'string' && k.kid.length > 0);
    // 2048-bit modulus: 256 bytes → 342 base64url characters without padding.
    assert.equal(Buffer.from(k.n, 'base64url').length, 256);
  }
});

check('wrong secret key: ClerkAPIResponseError 401 clerk_key_invalid', async () => {
  const bad = createClerkClient({ secretKey: WRONG_KEY, apiUrl });
  await rejects(bad.jwks.getJwks(), e => {
    assert.ok(isClerkAPIResponseError(e), `not a ClerkAPIResponseError: ${e}`);
    assert.equal(e.status, 401);
    assert.equal(e.errors[0].code, 'clerk_key_invalid');
    assert.ok(e.errors[0].longMessage.length > 0);
    assert.ok(e.clerkTraceId, 'clerk_trace_id is surfaced');
  }, 'getJwks with a wrong key');
});

check('verifyToken: wrong secret key → secret-key-invalid', async () => {
  const { keys } = await clerk.jwks.getJwks();
  await rejects(verifyToken(forgedToken(keys[0].kid), { secretKey: WRONG_KEY, apiUrl, skipJwksCache: true }), e => {
    assert.equal(e.reason, 'secret-key-invalid', `${e.reason}: ${e.message}`);
  }, 'verifyToken with a wrong key');
});

check('verifyToken: JWKS loads, unknown kid → jwk-kid-mismatch', async () => {
  await rejects(verifyToken(forgedToken('kid_that_does_not_exist'), { secretKey, apiUrl, skipJwksCache: true }), e => {
    assert.equal(e.reason, 'jwk-kid-mismatch', `${e.reason}: ${e.message}`);
  }, 'verifyToken with an unknown kid');
});

check('verifyToken: the published key is used, bad signature → token-invalid-signature', async () => {
  const { keys } = await clerk.jwks.getJwks();
  await rejects(verifyToken(forgedToken(keys[0].kid), { secretKey, apiUrl, skipJwksCache: true }), e => {
    assert.equal(e.reason, 'token-invalid-signature', `${e.reason}: ${e.message}`);
  }, 'verifyToken with a forged signature');
});

// No unimplemented-operation check here any more: every operation @clerk/backend 3.x has a method for is routed
// (the unrouted ones, enterprise-connection test runs and 2026-05-12's directory operations, have none). The Python
// suite still checks the answer through `enterprise_connections.list_test_runs`.

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
