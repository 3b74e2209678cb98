// Queries and mutations go over HTTP (POST /graphql); subscriptions over the graphql-ws socket at
// /graphql/ws, authenticated with the Authorization header from the headers editor.
import { type Fetcher, createGraphiQLFetcher } from '@graphiql/toolkit';
import { getOperationAST } from 'graphql';
import { type Client, createClient } from 'graphql-ws';

const http = createGraphiQLFetcher({ url: `${location.origin}/graphql` });

/** One socket per credential: a different key in the headers editor opens a new one. */
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

function header(headers: Record<string, unknown> | undefined, name: string): string {
  const entry = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return typeof entry?.[1] === 'string' ? entry[1] : '';
}

export const fetcher: Fetcher = (params, options) => {
  const operation = options?.documentAST ? getOperationAST(options.documentAST, params.operationName ?? undefined) : null;
  if (operation?.operation !== 'subscription') return http(params, options);
  const results = socketFor(header(options?.headers, 'authorization')).iterate({
    query: params.query,
    variables: params.variables ?? undefined,
    operationName: params.operationName ?? undefined,
  });
  // The wire carries formatted errors (plain JSON), as HTTP answers do; GraphiQL shows them as JSON.
  return explainClose(results) as unknown as ReturnType<Fetcher>;
};

/** A socket closed by the server (4403: the key was refused) shows as an error, not as `{"isTrusted": true}`. */
async function* explainClose<T>(results: AsyncIterableIterator<T>): AsyncGenerator<T | { errors: { message: string }[] }> {
  try {
    yield* results;
  } catch (error) {
    if (!(error instanceof CloseEvent)) throw error;
    const why = error.code === 4403 ? 'the credential was refused' : error.reason || 'closed by the server';
    yield { errors: [{ message: `WebSocket closed (${error.code}): ${why}. Check the Authorization header of this tab.` }] };
  }
}
