// GraphiQL 5, bundled (Monaco and its workers included) and served by the service itself.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { DEFAULT_HEADERS, EXAMPLES } from './examples';
import { fetcher } from './fetcher';

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      defaultTabs={EXAMPLES.map((example) => ({ ...example, headers: DEFAULT_HEADERS }))}
      defaultHeaders={DEFAULT_HEADERS}
      defaultEditorToolsVisibility="headers"
      // A key pasted into the headers editor is never written to local storage. GraphiQL's
      // history keeps each run's headers whatever shouldPersistHeaders says, so tabs and history
      // live in this browser tab's session storage, gone when the tab closes.
      shouldPersistHeaders={false}
      storage={sessionStorage}
    />
  </StrictMode>,
);
