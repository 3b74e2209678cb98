// The `kauth` commands: argument parsing and the operator tasks, run on an open database. Each
// command prints one JSON document on stdout. The CLI (src/cli.ts) runs them on a database it
// opens itself; a running server runs them on its own for a CLI that finds it held (./socket).
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { explain } from '../bootstrap';
import { treeLimits } from '../config';
import { type Database, migrate, statisticsReport } from '../db';
import { OPERATOR, createApiKey, listApiKeys, revokeApiKey } from '../domain/apikeys';
import { type DomainContext, fullAccessContext } from '../domain/context';
import { type CountFinding, type TreeFinding, checkCounts, checkTree } from '../domain/doctor';
import { type AuditFilter, decodeCursor, encodeCursor, eventJson, latestSeq, listAuditEvents } from '../domain/audit';
import { DomainError, NotFoundError, ValidationError } from '../domain/errors';
import { exportWorkspace, formatWorkspaceFile, importSourceOf, importWorkspace, readImportFile } from '../domain/import';
import { type Tenant, createTenant, tenantBySlug } from '../domain/tenants';
import { createUser } from '../domain/users';
import { parseId } from '../domain/validate';
import { progressReporter } from './progress';

/** Where a command writes: a terminal, or a CLI's connection to the server. */
export interface Output {
  stdout(text: string): void | Promise<void>;
  stderr(text: string): void | Promise<void>;
}

export interface CommandIO extends Output {
  /** Aborted when whoever asked goes away (Ctrl-C, a closed connection): `audit --follow` stops. */
  signal: AbortSignal;
  /** stderr is a terminal: progress redraws one line instead of printing lines. */
  interactive?: boolean;
}

const USAGE = `usage:
  kauth migrate
  kauth tenant create <slug> [--name <name>]
  kauth user create <slug> --email <email> [--name <name>]
  kauth key create <slug> --scope <scope> [--scope <scope> …] [--name <name>] [--expires-in <30d>]
  kauth key list <slug>
  kauth key revoke <slug> <id>
  kauth doctor [<slug>]          check each group's path against its parent links, and its id against its
                                 workspace's id floor, and each workspace's counts against its rows
                                 (exits 1 on any finding); say who keeps table statistics, and which
                                 tables hold too many dead rows
  kauth audit <slug> [--since <2026-11-01T00:00Z | 24h>] [--after <cursor>] [--limit <n>] [--follow]
                                 the audit trail, oldest first: {"events":[…],"endCursor":…}; with
                                 --follow, one JSON line per event as it commits (Ctrl-C to stop)
  kauth import <slug> <file> [--from kauth|keycloak|csv] [--dry-run]
                                 creates and updates the groups, users, roles, memberships and role
                                 assignments of a kauth-workspace file (README "Import and export");
                                 prints what it created, updated and left alone; --dry-run writes nothing;
                                 --from keycloak reads a realm export, --from csv lines of
                                 "group path, user email" (the default for *.csv; else kauth)
  kauth export <slug> [<file>]   the workspace in the same format, to <file> or stdout
environment: DATA_DIR (embedded database, default ./data) or DATABASE_URL (postgres://…);
             while a kauth server holds DATA_DIR, commands run on it through DATA_DIR/kauth.sock`;

class UsageError extends Error {}

const ONE_WORD_COMMANDS = ['migrate', 'doctor', 'audit', 'import', 'export'];

const OPTIONS = {
  name: { type: 'string' },
  email: { type: 'string' },
  scope: { type: 'string', multiple: true },
  'expires-in': { type: 'string' },
  since: { type: 'string' },
  after: { type: 'string' },
  limit: { type: 'string' },
  follow: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  from: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

const DURATION = /^([1-9][0-9]*)([smhdw])$/;

export function parseDuration(text: string): number {
  const match = DURATION.exec(text);
  if (!match) throw new ValidationError('expires-in', `--expires-in must look like 30d, 12h, 90m or 2w, got "${text}"`);
  return Number(match[1]) * DURATION_UNITS[match[2]] * 1000;
}

async function tenantContext(db: Database, slug: string | undefined): Promise<DomainContext & { tenant: Tenant }> {
  if (!slug) throw new UsageError('missing <slug>');
  const tenant = await tenantBySlug(db.prisma, slug);
  if (!tenant) throw new NotFoundError('Workspace', slug);
  return { ...fullAccessContext(db.prisma, tenant.id, treeLimits()), groupIdFloor: tenant.groupIdFloor, userIdFloor: tenant.userIdFloor, tenant };
}

/** --since: an ISO time, or a duration back from now (24h, 7d). */
function sinceFrom(text: string | undefined): Date | null {
  if (text === undefined) return null;
  if (DURATION.test(text)) return new Date(Date.now() - parseDuration(text));
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw new ValidationError('since', `--since must be an ISO time or a duration such as 24h, got "${text}"`);
  return at;
}

function limitFrom(text: string | undefined): number {
  if (text === undefined) return 100;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new ValidationError('limit', '--limit must be between 1 and 10000');
  return limit;
}

const FOLLOW_POLL_MS = 1000;

/** Prints every event after the cursor as one JSON line each, polling, until the signal aborts. */
async function followAudit(ctx: DomainContext, after: bigint | null, filter: AuditFilter, io: CommandIO): Promise<void> {
  let cursor = after;
  while (!io.signal.aborted) {
    const { events, hasNextPage } = await listAuditEvents(ctx, { after: cursor, first: 500 }, filter);
    for (const event of events) await io.stdout(`${JSON.stringify(eventJson(event))}\n`);
    if (events.length > 0) cursor = events[events.length - 1].seq;
    // The wait ends early (rejecting with the abort, which ends the loop) when the signal aborts.
    if (!hasNextPage) await delay(FOLLOW_POLL_MS, undefined, { signal: io.signal }).catch(() => undefined);
  }
}

/** What `run` returns for a command that wrote its own output as it went. */
const STREAMED = Symbol('streamed');

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** A command line, parsed: `kauth key list acme` is { command: 'key list', rest: ['acme'] }. */
export interface Invocation {
  command: string;
  rest: string[];
  values: Values;
}

/** `audit --follow`: runs until interrupted. */
export function follows(invocation: Invocation): boolean {
  return invocation.command === 'audit' && invocation.values.follow === true;
}

async function run(db: Database, { command, rest, values }: Invocation, io: CommandIO): Promise<unknown> {
  const [slug, id] = rest;
  switch (command) {
    case 'migrate':
      return migrate(db.raw);
    case 'tenant create':
      if (!slug) throw new UsageError('missing <slug>');
      return createTenant(db.prisma, { slug, name: values.name });
    case 'user create': {
      if (!values.email) throw new UsageError('missing --email');
      return createUser(await tenantContext(db, slug), { email: values.email, name: values.name });
    }
    case 'key create': {
      const ctx = await tenantContext(db, slug);
      const expiresIn = values['expires-in'];
      const { key, apiKey } = await createApiKey(ctx, OPERATOR, {
        name: values.name ?? 'cli',
        scopes: values.scope ?? [],
        expiresAt: expiresIn ? new Date(Date.now() + parseDuration(expiresIn)) : null,
      });
      return { id: apiKey.id, key, name: apiKey.name, scopes: apiKey.scopes, expiresAt: apiKey.expiresAt };
    }
    case 'key list':
      return (await listApiKeys(await tenantContext(db, slug))).map(({ secretHash: _, ...key }) => key);
    case 'key revoke': {
      const ctx = await tenantContext(db, slug);
      if (!id) throw new UsageError('missing <id>');
      // The operator acts with every scope, so any key of the workspace can be revoked.
      const { secretHash: _, ...key } = await revokeApiKey(ctx, OPERATOR, parseId(id, 'id'));
      return key;
    }
    case 'doctor':
      return {
        findings: await checkTree(db.prisma, { slug }),
        counts: await checkCounts(db.prisma, { slug }),
        statistics: await statisticsReport(db.raw, db.statistics),
      };
    case 'audit': {
      const ctx = await tenantContext(db, slug);
      const after = values.after === undefined ? null : decodeCursor(values.after, 'after');
      const filter: AuditFilter = { since: sinceFrom(values.since) };
      if (values.follow) {
        // Following without a starting point starts from now, like `tail -f` on a long log.
        await followAudit(ctx, after ?? (filter.since ? null : await latestSeq(db.prisma, ctx.tenantId)), filter, io);
        return STREAMED;
      }
      const { events } = await listAuditEvents(ctx, { after, first: limitFrom(values.limit) }, filter);
      const last = events.at(-1);
      return { events: events.map(eventJson), endCursor: last ? encodeCursor(last.seq) : (values.after ?? null) };
    }
    case 'import': {
      const ctx = await tenantContext(db, slug);
      const [, file] = rest;
      if (!file) throw new UsageError('missing <file>');
      const dryRun = values['dry-run'] === true;
      const source = importSourceOf(values.from, file);
      const text = await readFile(file, 'utf8').catch((error: Error) => {
        throw new ValidationError('file', `cannot read ${file}: ${error.message}`);
      });
      const { file: parsed, relocate } = readImportFile(text, source);
      const onProgress = dryRun ? undefined : progressReporter(io, io.interactive === true);
      return importWorkspace(ctx, ctx.tenant.slug, parsed, { dryRun, source: file, onProgress }).catch((error: unknown) => {
        throw relocate(error);
      });
    }
    case 'export': {
      const ctx = await tenantContext(db, slug);
      const [, file] = rest;
      const exported = await exportWorkspace(ctx, ctx.tenant.slug);
      const text = formatWorkspaceFile(exported);
      if (!file) {
        await io.stdout(text);
        return STREAMED;
      }
      await writeFile(file, text, { mode: 0o600 });
      const { groups, users, roles, memberships, roleAssignments } = exported;
      return {
        file,
        groups: groups.length,
        users: users.length,
        roles: roles.length,
        memberships: memberships.length,
        roleAssignments: roleAssignments.length,
      };
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/**
 * The command `argv` names; or, when there is nothing to run (--help, no command, an unknown
 * option), the exit code after printing the usage.
 */
export async function parseInvocation(argv: string[], out: Output): Promise<Invocation | number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    await out.stderr(`kauth: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    await out.stdout(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const command = ONE_WORD_COMMANDS.includes(positionals[0]) ? positionals[0] : positionals.slice(0, 2).join(' ');
  return { command, rest: positionals.slice(command.split(' ').length), values };
}

/** Prints a failure the way every command does, and returns the exit code: 2 for usage, else 1. */
export async function reportFailure(error: unknown, out: Output): Promise<number> {
  if (error instanceof UsageError) {
    await out.stderr(`kauth: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  const message = explain(error);
  if (!message) {
    await out.stderr(`kauth: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
  const code = error instanceof DomainError ? error.code : 'ERROR';
  await out.stdout(`${JSON.stringify({ error: { code, message } })}\n`);
  await out.stderr(`kauth: ${message}\n`);
  return 1;
}

/** Runs a parsed command on `db`; never throws: every failure is printed and becomes the exit code. */
export async function runInvocation(db: Database, invocation: Invocation, io: CommandIO): Promise<number> {
  try {
    const result = await run(db, invocation, io);
    if (result === STREAMED) return 0;
    await io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    // doctor prints its findings like any result, and fails when there are any.
    if (invocation.command !== 'doctor') return 0;
    const { findings, counts } = result as { findings: TreeFinding[]; counts: CountFinding[] };
    return findings.length + counts.length > 0 ? 1 : 0;
  } catch (error) {
    return reportFailure(error, io);
  }
}

/** Parses and runs one command line on `db`, printing to `io`; resolves to the exit code. */
export async function runCommand(db: Database, argv: string[], io: CommandIO): Promise<number> {
  const invocation = await parseInvocation(argv, io);
  return typeof invocation === 'number' ? invocation : runInvocation(db, invocation, io);
}
