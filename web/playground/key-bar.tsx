// The playground's one credential: an API key entered once, above every tab, kept in this browser
// tab's session storage (it survives a reload, never reaches local storage, and goes when the tab
// closes). Applying a key hands GraphiQL a new fetcher, so the schema and its docs reload.
import { useState } from 'react';

const STORAGE_KEY = 'kauth-playground:api-key';

/** The key kept for this browser tab's session, '' when none. */
export function storedKey(): string {
  return sessionStorage.getItem(STORAGE_KEY) ?? '';
}

/** Keeps the key for the session ('' forgets it); a pasted "Bearer " prefix is dropped. */
export function storeKey(key: string): string {
  const bare = key.trim().replace(/^Bearer\s+/i, '');
  if (bare) sessionStorage.setItem(STORAGE_KEY, bare);
  else sessionStorage.removeItem(STORAGE_KEY);
  return bare;
}

export function KeyBar({ applied, onApply }: { applied: string; onApply: (key: string) => void }) {
  const [draft, setDraft] = useState(applied);
  const [shown, setShown] = useState(false);
  const apply = (key: string) => {
    const bare = storeKey(key);
    setDraft(bare);
    onApply(bare);
  };
  const pending = draft.trim().replace(/^Bearer\s+/i, '') !== applied;
  return (
    <div className="kauth-key-bar">
      <label htmlFor="kauth-api-key">API key</label>
      <input
        id="kauth-api-key"
        type={shown ? 'text' : 'password'}
        autoComplete="off"
        spellCheck={false}
        placeholder="paste your API key, then press Enter"
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter') apply(draft);
        }}
      />
      <button type="button" onClick={() => setShown(!shown)} aria-pressed={shown}>
        {shown ? 'Hide' : 'Show'}
      </button>
      <button type="button" onClick={() => apply(draft)} disabled={!pending}>
        Use key
      </button>
      <button type="button" onClick={() => apply('')} disabled={!applied && !draft}>
        Forget
      </button>
      <span className="kauth-key-status" role="status">
        {pending ? 'not applied yet: press Enter or Use key' : applied ? 'used by every tab, kept until this browser tab closes' : 'no key: requests are refused (UNAUTHENTICATED)'}
      </span>
    </div>
  );
}
