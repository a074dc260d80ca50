// The React app of react-app.test.mjs, bundled by esbuild: what a new user writes from Clerk's quickstart.
// @clerk/react hot-loads clerk-js and @clerk/ui from the FAPI itself (no clerkJSUrl / ui override); the page
// gives it only the publishable key and the proxy URL (window.__app_config, set by index.html).
import { ClerkProvider, SignIn, UserButton, useAuth, useUser } from '@clerk/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

function Home() {
  const { isLoaded, isSignedIn, userId, sessionId } = useAuth();
  const { user } = useUser();
  if (!isLoaded) return <p id="status">loading</p>;
  if (!isSignedIn) {
    return (
      <main id="signed-out">
        <h1>Sign in to the latchkey React app</h1>
        <SignIn routing="hash" />
      </main>
    );
  }
  return (
    <main id="signed-in" data-user-id={userId} data-session-id={sessionId}>
      <h1>Signed in</h1>
      <p id="email">{user?.primaryEmailAddress?.emailAddress ?? ''}</p>
      <UserButton />
    </main>
  );
}

const { publishableKey, proxyUrl } = window.__app_config;
createRoot(document.getElementById('root')).render(
  <StrictMode>
    <ClerkProvider publishableKey={publishableKey} proxyUrl={proxyUrl} telemetry={false}>
      <Home />
    </ClerkProvider>
  </StrictMode>,
);
