// A minimal app that uses Tessera the way an app uses Clerk (see crates/server/tests/browser.rs):
//   /        an HTML page that loads @clerk/ui and clerk-js from Tessera (`/npm/...`), with the instance's
//            publishable key and `proxyUrl` = Tessera's proxy path for the instance's frontend host, then mounts
//            <SignIn/>, which leads to /home once signed in;
//   /sign-up the same page mounting <SignUp/>, which leads to /home once signed up;
//   /home    the same page with no component mounted (mounted while signed in, <SignIn/> navigates away);
//   /api/me  what `authenticateRequest` of @clerk/backend makes of the browser's cookies;
//   /express/me  the same through @clerk/express: `clerkMiddleware()` and `getAuth(req)`;
//   /protected  a document route: what `authenticateRequest` says, after passing its handshake redirects and
//            cookies on to the browser (as the framework middlewares do).

import http from 'node:http';
import { createClerkClient } from '@clerk/backend';
import { clerkMiddleware, getAuth } from '@clerk/express';
import express from 'express';

/** `pk_test_<base64(host$)>` → `host`. */
export function frontendHost(publishableKey) {
  const b64 = publishableKey.split('_').slice(2).join('_');
  return Buffer.from(b64, 'base64').toString('utf8').replace(/\$$/, '');
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page({ tesseraUrl, publishableKey, proxyUrl, mount }) {
  return `<!doctype html>
<html>
<head><meta charset="utf-8"><title>Tessera browser test</title></head>
<body>
<div id="sign-in"></div>
<script crossorigin="anonymous" src="${escape(tesseraUrl)}/npm/@clerk/ui@1/dist/ui.browser.js"></script>
<script crossorigin="anonymous" src="${escape(tesseraUrl)}/npm/@clerk/clerk-js@6/dist/clerk.browser.js"
  data-clerk-publishable-key="${escape(publishableKey)}" data-clerk-proxy-url="${escape(proxyUrl)}"></script>
<script>
  window.__clerkLoaded = (async () => {
    try {
      await window.Clerk.load({ ui: { ClerkUI: window.__internal_ClerkUICtor }, telemetry: false });
      ${mount ? `window.Clerk.${mount}(document.getElementById('sign-in'), { forceRedirectUrl: '/home' });` : ''}
      return 'loaded';
    } catch (e) {
      window.__clerkError = String((e && e.stack) || e);
      throw e;
    }
  })();
</script>
</body>
</html>`;
}

/** Starts the app on 127.0.0.1 (a free port); resolves to `{ url, close }`. */
export async function startApp({ tesseraUrl, publishableKey, secretKey, proxyUrl }) {
  const clerk = createClerkClient({ secretKey, publishableKey, apiUrl: tesseraUrl });
  const html = page({ tesseraUrl, publishableKey, proxyUrl, mount: 'mountSignIn' });
  const signUp = page({ tesseraUrl, publishableKey, proxyUrl, mount: 'mountSignUp' });
  const home = page({ tesseraUrl, publishableKey, proxyUrl, mount: null });
  const viaExpress = express();
  viaExpress.use(clerkMiddleware({ clerkClient: clerk, secretKey, publishableKey, proxyUrl }));
  viaExpress.get('/express/me', (req, res) => {
    const auth = getAuth(req);
    res.set('cache-control', 'no-store').json({
      isSignedIn: auth.isAuthenticated ?? Boolean(auth.userId),
      userId: auth.userId ?? null,
      sessionId: auth.sessionId ?? null,
      orgId: auth.orgId ?? null,
    });
  });
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, `http://${req.headers.host}`);
    const send = (status, type, body) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    try {
      if (url.pathname === '/') return send(200, 'text/html; charset=utf-8', html);
      if (url.pathname === '/sign-up') return send(200, 'text/html; charset=utf-8', signUp);
      if (url.pathname === '/home') return send(200, 'text/html; charset=utf-8', home);
      if (url.pathname.startsWith('/express/')) return viaExpress(req, res);
      if (url.pathname === '/favicon.ico') return send(204, 'image/x-icon', '');
      if (url.pathname === '/api/me' || url.pathname === '/protected') {
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) {
          for (const value of [v].flat()) if (value !== undefined) headers.append(k, value);
        }
        const state = await clerk.authenticateRequest(new Request(url, { method: req.method, headers }), {
          proxyUrl,
        });
        if (url.pathname === '/protected' && state.headers) {
          // Handshake redirects (to the Frontend API and back) and the cookies they resolve to.
          for (const cookie of state.headers.getSetCookie()) res.appendHeader('set-cookie', cookie);
          state.headers.forEach((value, name) => {
            if (name !== 'set-cookie') res.setHeader(name, value);
          });
          if (state.headers.get('location')) {
            res.statusCode = 307;
            return res.end();
          }
        }
        const auth = state.isSignedIn ? state.toAuth() : null;
        const body = {
          isSignedIn: state.isSignedIn,
          userId: auth?.userId ?? null,
          sessionId: auth?.sessionId ?? null,
          orgId: auth?.orgId ?? null,
          reason: state.reason ?? null,
          status: state.status,
        };
        return send(200, 'application/json', JSON.stringify(body));
      }
      return send(404, 'text/plain', 'not found');
    } catch (e) {
      return send(500, 'text/plain', String((e && e.stack) || e));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, close: () => new Promise((resolve) => server.close(resolve)) };
}
