// Tells an outage or an overloaded database apart from a bug: such errors become a 503
// with Retry-After at the edges, never a 500.

// Driver adapter error kinds (@prisma/driver-adapter-utils) that mean "cannot talk to the database now".
const UNAVAILABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TlsConnectionError',
  'TransactionAlreadyClosed',
  'TransactionWriteConflict',
]);
// Prisma: server unreachable, timed out, connection closed, pool timeout, transaction could not start,
// write conflict or deadlock (once its retries are spent: src/domain/write-turn.ts).
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028', 'P2034']);
// PostgreSQL: too many connections, statement timeout, shutting down or starting, deadlock, lock timeout.
const UNAVAILABLE_SQLSTATES = new Set(['53300', '57014', '57P01', '57P02', '57P03', '40P01', '55P03']);
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection closed|Can't reach database server/i;

interface Inspectable {
  code?: unknown;
  originalCode?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: { cause?: unknown } };
}

function causes(error: unknown): Inspectable[] {
  const chain: Inspectable[] = [];
  let current = error as Inspectable | undefined;
  for (let i = 0; current && typeof current === 'object' && i < 6; i += 1) {
    chain.push(current);
    const adapterCause = current.meta?.driverAdapterError?.cause as Inspectable | undefined;
    if (adapterCause) chain.push(adapterCause);
    current = current.cause as Inspectable | undefined;
  }
  return chain;
}

/** True when the error says the database cannot be reached or cannot take the work now. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return causes(error).some((e) => {
    const code = typeof e.code === 'string' ? e.code : '';
    if (UNAVAILABLE_PRISMA_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_SOCKET_CODES.has(code)) return true;
    if (code.startsWith('08')) return true; // SQLSTATE class 08: connection exception
    if (typeof e.kind === 'string' && UNAVAILABLE_KINDS.has(e.kind)) return true;
    return typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message);
  });
}

/**
 * True when the database rolled the transaction back to break a deadlock or a serialisation
 * conflict (SQLSTATE 40P01, 40001; Prisma's P2034): run again, it is expected to succeed.
 */
export function isWriteConflict(error: unknown): boolean {
  return causes(error).some(
    (e) => e.code === 'P2034' || e.kind === 'TransactionWriteConflict' || ['40P01', '40001'].includes(String(e.code ?? e.originalCode)),
  );
}

/**
 * True when a write broke the unique index `index` (SQLSTATE 23505; Prisma's P2002 for model
 * writes, the driver adapter's UniqueConstraintViolation for raw ones).
 */
export function isUniqueViolation(error: unknown, index: string): boolean {
  const chain = causes(error);
  const unique = chain.some((e) => e.code === 'P2002' || e.kind === 'UniqueConstraintViolation' || String(e.code ?? e.originalCode) === '23505');
  return unique && chain.some((e) => JSON.stringify(e).includes(index) || (typeof e.message === 'string' && e.message.includes(index)));
}
