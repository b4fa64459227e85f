// A Vite + React app on @clerk/react 6, as in the README's quick start: bundled by tests/browser/react.mjs with
// esbuild, which replaces `import.meta.env.VITE_*` as Vite does.
import { ClerkProvider, SignIn, UserButton, useUser } from '@clerk/react';
import { createRoot } from 'react-dom/client';

const TESSERA = import.meta.env.VITE_TESSERA_URL;

function App() {
  const { isLoaded, isSignedIn, user } = useUser();
  if (!isLoaded) return <p>Loading…</p>;
  return isSignedIn ? <><UserButton /><p id="user-id">{user.id}</p></> : <SignIn />;
}

createRoot(document.getElementById('root')).render(
  <ClerkProvider
    publishableKey={import.meta.env.VITE_CLERK_PUBLISHABLE_KEY}
    proxyUrl={import.meta.env.VITE_CLERK_PROXY_URL}
    __internal_clerkJSUrl={`${TESSERA}/npm/@clerk/clerk-js@6/dist/clerk.browser.js`}
    __internal_clerkUIUrl={`${TESSERA}/npm/@clerk/ui@1/dist/ui.browser.js`}
    telemetry={false}>
    <App />
  </ClerkProvider>,
);
