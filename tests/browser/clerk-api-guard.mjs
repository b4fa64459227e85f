// Imported first by testing.mjs, before any @clerk package: `@clerk/testing`'s `clerk.signIn({ page, emailAddress })`
// (2.2.36) builds its Backend API client from CLERK_SECRET_KEY alone, so its calls go to Clerk's own API host
// whatever CLERK_API_URL says — with the secret key. This sends that host's requests to CLERK_API_URL (Tessera)
// instead, and refuses every other request that is not to a loopback address, so nothing (and no key) ever leaves
// the machine. Counts the redirected calls, so the test can say which ones the helper made.

const apiUrl = process.env.CLERK_API_URL;
if (!apiUrl) throw new Error('CLERK_API_URL is required');
const CLERK_API = 'https://api.clerk.com';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const realFetch = globalThis.fetch;

/** `METHOD /path` of each call sent to CLERK_API_URL instead of Clerk's API host. */
export const redirected = [];

globalThis.fetch = (input, init) => {
  const request = new Request(input, init);
  const url = new URL(request.url);
  if (url.origin === CLERK_API) {
    const to = new URL(url.pathname + url.search, apiUrl);
    redirected.push(`${request.method} ${url.pathname}`);
    return realFetch(new Request(to, request));
  }
  if (!LOOPBACK.has(url.hostname)) {
    return Promise.reject(new Error(`refused: a request to ${url.origin} (only loopback addresses are reached)`));
  }
  return realFetch(request);
};
