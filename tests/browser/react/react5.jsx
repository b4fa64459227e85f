// The README's Vite + React app on @clerk/clerk-react 5, which loads clerk-js 5 (its UI included) from Tessera:
// bundled by tests/browser/react.mjs with esbuild, which replaces `import.meta.env.VITE_*` as Vite does.
import { ClerkProvider, SignIn, UserButton, useUser } from '@clerk/clerk-react';
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
    clerkJSUrl={`${TESSERA}/npm/@clerk/clerk-js@5/dist/clerk.browser.js`}
    telemetry={false}>
    <App />
  </ClerkProvider>,
);
