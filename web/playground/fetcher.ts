// Queries and mutations go over HTTP (POST /graphql); subscriptions over the graphql-ws socket at
// /graphql/ws. Every request of every tab carries the key of the key bar (./key-bar.tsx); with no
// key there, a tab's own Authorization header is sent instead.
import { type Fetcher, type FetcherParams, createGraphiQLFetcher } from '@graphiql/toolkit';
import { type DocumentNode, type OperationDefinitionNode, getOperationAST, parse } from 'graphql';
import { type Client, createClient } from 'graphql-ws';

const http = createGraphiQLFetcher({ url: `${location.origin}/graphql` });

/** One socket per credential: a different key opens a new one. */
let socket: { authorization: string; client: Client } | null = null;

function socketFor(authorization: string): Client {
  if (socket?.authorization !== authorization) {
    void socket?.client.dispose();
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql/ws`;
    // A refused key closes the socket (4403): say so once instead of retrying.
    socket = { authorization, client: createClient({ url, connectionParams: { authorization }, lazy: true, retryAttempts: 0 }) };
  }
  return socket.client;
}

/** The headers of a tab without its Authorization, and that Authorization ('' when it has none). */
function splitAuthorization(headers: Record<string, unknown> | undefined): { rest: Record<string, unknown>; tabAuthorization: string } {
  const rest: Record<string, unknown> = {};
  let tabAuthorization = '';
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'authorization') rest[name] = value;
    else if (typeof value === 'string') tabAuthorization = value;
  }
  return { rest, tabAuthorization };
}

/**
 * The operation the request runs, read from the text being sent. GraphiQL's own parse
 * (`documentAST`) and `operationName` trail the editor: run right after switching tabs, they may
 * still be the previous tab's, and a subscription would go over HTTP (or name an operation the
 * text does not have). A name the text does not have is dropped when the text has one operation.
 */
function operationOf(params: FetcherParams): { operation: OperationDefinitionNode | null; operationName: string | undefined } {
  let document: DocumentNode;
  try {
    document = parse(params.query);
  } catch {
    return { operation: null, operationName: params.operationName ?? undefined }; // the server answers the syntax error
  }
  const named = getOperationAST(document, params.operationName ?? undefined);
  if (named) return { operation: named, operationName: params.operationName ?? undefined };
  const only = getOperationAST(document) ?? null;
  return { operation: only, operationName: only ? undefined : (params.operationName ?? undefined) };
}

/**
 * The fetcher for one key: GraphiQL introspects again whenever its fetcher changes, so a new key
 * is a new fetcher and the schema (the docs) reloads with it.
 */
export function fetcherFor(key: string): Fetcher {
  return (params, options) => {
    const { rest, tabAuthorization } = splitAuthorization(options?.headers);
    const authorization = key ? `Bearer ${key}` : tabAuthorization;
    const headers = authorization ? { ...rest, authorization } : rest;
    const { operation, operationName } = operationOf(params);
    if (operation?.operation !== 'subscription') return http({ ...params, operationName }, { ...options, headers });
    const results = socketFor(authorization).iterate({
      query: params.query,
      variables: params.variables ?? undefined,
      operationName,
    });
    // The wire carries formatted errors (plain JSON), as HTTP answers do; GraphiQL shows them as JSON.
    return explainClose(results) as unknown as ReturnType<Fetcher>;
  };
}

/** A socket closed by the server (4403: the key was refused) shows as an error, not as `{"isTrusted": true}`. */
async function* explainClose<T>(results: AsyncIterableIterator<T>): AsyncGenerator<T | { errors: { message: string }[] }> {
  try {
    yield* results;
  } catch (error) {
    if (!(error instanceof CloseEvent)) throw error;
    const why = error.code === 4403 ? 'the credential was refused' : error.reason || 'closed by the server';
    yield { errors: [{ message: `WebSocket closed (${error.code}): ${why}. Check the API key above.` }] };
  }
}
