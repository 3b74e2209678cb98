// GraphiQL 5, bundled (Monaco and its workers included) and served by the service itself, under
// a key bar: one API key for every tab (./key-bar.tsx).
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './key-bar.css';
import { GraphiQL } from 'graphiql';
import { StrictMode, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { EXAMPLES } from './examples';
import { fetcherFor } from './fetcher';
import { KeyBar, storedKey } from './key-bar';

function Playground() {
  const [key, setKey] = useState(storedKey);
  // A new fetcher for a new key: GraphiQL then introspects again, so the docs follow the key.
  const fetcher = useMemo(() => fetcherFor(key), [key]);
  return (
    <>
      <KeyBar applied={key} onApply={setKey} />
      <GraphiQL
        fetcher={fetcher}
        defaultTabs={EXAMPLES}
        defaultEditorToolsVisibility="variables"
        // Headers stay per tab, empty by default (the key bar supplies Authorization). GraphiQL's
        // history keeps each run's headers whatever shouldPersistHeaders says, so tabs and history
        // live in this browser tab's session storage, gone when the tab closes.
        shouldPersistHeaders={false}
        storage={sessionStorage}
      />
    </>
  );
}

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <Playground />
  </StrictMode>,
);
