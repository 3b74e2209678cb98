// The `kauth` CLI beside a running server: while the server holds the embedded database, each
// command runs on the server through DATA_DIR/kauth.sock, with the output and exit code it has
// without a server. Real processes throughout: the server (src/main.ts) and bin/kauth.js.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KAUTH, PROCESS_TEST_MS, ROOT, kauth } from './support/kauth';
import { GENEROUS_SERVER_ENV, type ServerProcess, startServer, stopServer } from './support/servers';
import { waitFor } from './support/wait';

const isSocket = (file: string) => statSync(file, { throwIfNoEntry: false })?.isSocket() === true;

/** Starts a server on `dataDir` and waits until its control socket is up. */
async function serverOn(dataDir: string): Promise<ServerProcess> {
  const server = await startServer({ ...GENEROUS_SERVER_ENV, DATA_DIR: dataDir, LOG_LEVEL: 'info' });
  await server.ready;
  await waitFor('the control socket', () => server.output().includes('control socket: the kauth CLI runs its commands here'));
  return server;
}

async function viewerSlug(server: ServerProcess, key: string): Promise<{ status: number; slug?: string }> {
  const res = await fetch(`${server.baseUrl}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ viewer { tenant { slug } } }' }),
  });
  const body = (await res.json()) as { data?: { viewer: { tenant: { slug: string } } } };
  return { status: res.status, slug: body.data?.viewer.tenant.slug };
}

/** Sends raw bytes to the control socket and collects what comes back until the server closes. */
function exchange(socketPath: string, request: string): Promise<{ frames: unknown[]; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let text = '';
    const socket = connect(socketPath, () => socket.write(request));
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve({ frames: text.split('\n').filter(Boolean).map((line) => JSON.parse(line)), ms: Date.now() - started }));
  });
}

/** Where an fd points; '' for one the process closed between listing and reading (the server keeps working meanwhile). */
function linkOf(fd: string): string {
  try {
    return readlinkSync(fd, { encoding: 'utf8' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** TCP ports `pid` listens on: its socket inodes, looked up among /proc/net/tcp{,6}'s LISTEN rows. */
function listeningTcpPorts(pid: number): number[] {
  const fdDir = `/proc/${pid}/fd`;
  const inodes = new Set(
    readdirSync(fdDir).flatMap((fd) => {
      const match = /^socket:\[(\d+)\]$/.exec(linkOf(path.join(fdDir, fd)));
      return match ? [match[1]] : [];
    }),
  );
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((cols) => cols[3] === '0A' && inodes.has(cols[9]))
      .map((cols) => parseInt(cols[1].split(':')[1], 16)),
  );
}

describe('kauth beside a running server', () => {
  let dataDir: string;
  let server: ServerProcess;
  let env: Record<string, string>;
  beforeAll(async () => {
    dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'kauth-sock-')), 'data');
    env = { DATA_DIR: dataDir };
    server = await serverOn(dataDir);
  }, PROCESS_TEST_MS);
  afterAll(async () => {
    await stopServer(server);
    rmSync(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('creates a tenant, a user and a key in the live database: the key authenticates at once, and once revoked gets 401', async () => {
    const tenant = await kauth(['tenant', 'create', 'acme', '--name', 'Acme Inc'], env);
    expect({ code: tenant.code, stderr: tenant.stderr, tenant: JSON.parse(tenant.stdout) }).toEqual({
      code: 0,
      stderr: '',
      tenant: expect.objectContaining({ slug: 'acme', name: 'Acme Inc' }),
    });
    const user = await kauth(['user', 'create', 'acme', '--email', 'Ann@Acme.example'], env);
    expect({ code: user.code, user: JSON.parse(user.stdout) }).toEqual({ code: 0, user: expect.objectContaining({ email: 'ann@acme.example' }) });

    const created = await kauth(['key', 'create', 'acme', '--scope', 'groups:read', '--name', 'ops'], env);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: number; key: string };
    expect(await viewerSlug(server, key.key)).toEqual({ status: 200, slug: 'acme' });

    const listed = await kauth(['key', 'list', 'acme'], env);
    expect({ code: listed.code, ids: (JSON.parse(listed.stdout) as { id: number }[]).map((k) => k.id) }).toEqual({ code: 0, ids: [key.id] });

    const revoked = await kauth(['key', 'revoke', 'acme', String(key.id)], env);
    expect({ code: revoked.code, revokedAt: JSON.parse(revoked.stdout).revokedAt }).toEqual({ code: 0, revokedAt: expect.any(String) });
    expect((await viewerSlug(server, key.key)).status).toBe(401);
  }, PROCESS_TEST_MS);

  it('runs doctor and migrate there: a sound tree, and nothing left to apply', async () => {
    const doctor = await kauth(['doctor'], env);
    expect({ code: doctor.code, report: JSON.parse(doctor.stdout) }).toEqual({ code: 0, report: { findings: [], counts: [], statistics: { keptBy: 'service', reason: 'the embedded database has no autovacuum', deadRows: [] } } });
    const migrated = await kauth(['migrate'], env);
    expect({ code: migrated.code, applied: JSON.parse(migrated.stdout).applied }).toEqual({ code: 0, applied: [] });
  }, PROCESS_TEST_MS);

  it('fails as it does without a server: a JSON error and exit 1, a usage error and exit 2', async () => {
    const unknown = await kauth(['key', 'list', 'nowhere'], env);
    expect(unknown).toEqual({
      code: 1,
      stdout: `${JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Workspace nowhere not found' } })}\n`,
      stderr: 'kauth: Workspace nowhere not found\n',
    });
    const usage = await kauth(['frobnicate'], env);
    expect({ code: usage.code, stdout: usage.stdout }).toEqual({ code: 2, stdout: '' });
    expect(usage.stderr).toMatch(/^kauth: unknown command "frobnicate"\nusage:\n/);
  }, PROCESS_TEST_MS);

  it('streams audit --follow through the socket, and stops following on the server when interrupted', async () => {
    expect((await kauth(['tenant', 'create', 'tail'], env)).code).toBe(0);
    expect((await kauth(['user', 'create', 'tail', '--email', 'first@tail.example'], env)).code).toBe(0);
    // Start after the last event so far: what is printed is what happens once the CLI runs.
    const { endCursor } = JSON.parse((await kauth(['audit', 'tail'], env)).stdout) as { endCursor: string };
    const follower = spawn(process.execPath, [KAUTH, 'audit', 'tail', '--follow', '--after', endCursor], { cwd: ROOT, env: { ...process.env, ...env } });
    let printed = '';
    follower.stdout.on('data', (d) => (printed += d));
    follower.stderr.on('data', (d) => (printed += d));
    const exited = new Promise<number | null>((resolve) => follower.once('exit', (code) => resolve(code)));
    try {
      expect((await kauth(['user', 'create', 'tail', '--email', 'later@tail.example'], env)).code).toBe(0);
      await waitFor('the event on the follower', () => printed.includes('\n'), 120_000); // a process that starts on a busy machine
      const [line] = printed.split('\n');
      expect(JSON.parse(line)).toMatchObject({ action: 'USER_CREATED', actor: { ref: 'cli' } });
      expect(follower.exitCode).toBeNull(); // still following
      const finishedBefore = server.output().split('"command":"audit tail"').length;
      follower.kill('SIGINT');
      expect(await exited).toBe(0);
      // The server's side of the follow ends with the connection, and the server goes on serving.
      await waitFor('the follow to end on the server', () => server.output().split('"command":"audit tail"').length > finishedBefore);
      expect((await kauth(['doctor'], env)).code).toBe(0);
    } finally {
      follower.kill('SIGKILL');
    }
  }, PROCESS_TEST_MS);

  it('accepts nothing on the socket but one kauth command line, and goes on serving', async () => {
    const socketPath = path.join(dataDir, 'kauth.sock');
    const refused = { frames: [{ error: expect.any(String) }] };
    expect(await exchange(socketPath, 'not json\n')).toMatchObject(refused);
    expect(await exchange(socketPath, '{"argv":["doctor"],"as":"root"}\n')).toMatchObject(refused);
    expect(await exchange(socketPath, '{"argv":["doctor",1]}\n')).toMatchObject(refused);
    expect(await exchange(socketPath, '["doctor"]\n')).toMatchObject(refused);
    expect(await exchange(socketPath, `{"argv":["${'x'.repeat(70_000)}"]}\n`)).toMatchObject({ frames: [{ error: expect.stringMatching(/longer than/) }] });
    // A client that says nothing is answered once the server's wait for a request is over.
    const silent = await exchange(socketPath, '');
    expect(silent).toMatchObject({ frames: [{ error: expect.stringMatching(/no request within/) }] });

    const doctor = await exchange(socketPath, '{"argv":["doctor"]}\n');
    expect(doctor).toEqual({ frames: [{ stdout: expect.any(String) }, { exit: 0 }], ms: expect.any(Number) });
    expect(JSON.parse((doctor.frames[0] as { stdout: string }).stdout)).toEqual({ findings: [], counts: [], statistics: { keptBy: 'service', reason: 'the embedded database has no autovacuum', deadRows: [] } });
  }, PROCESS_TEST_MS);

  it('opens no network port but the HTTP one: the control channel is a Unix socket', () => {
    expect(isSocket(path.join(dataDir, 'kauth.sock'))).toBe(true);
    expect(listeningTcpPorts(server.child.pid!)).toEqual([server.port]);
  });
});

describe('the control socket file', () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(path.join(tmpdir(), 'kauth-sock-'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  /** A socket file nobody listens on, as a server killed with SIGKILL leaves behind. */
  async function leaveStaleSocket(socketPath: string): Promise<void> {
    const script = `require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`;
    await new Promise((resolve) => spawn(process.execPath, ['-e', script]).once('exit', resolve));
    expect(isSocket(socketPath)).toBe(true);
  }

  it('replaces a stale socket at start-up, is 0600 in a 0700 directory while the server runs, and is gone after SIGTERM', async () => {
    const dataDir = path.join(base, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    const socketPath = path.join(dataDir, 'kauth.sock');
    await leaveStaleSocket(socketPath);
    const server = await serverOn(dataDir);
    try {
      expect(statSync(socketPath).mode & 0o777).toBe(0o600);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect((await kauth(['tenant', 'create', 'acme'], { DATA_DIR: dataDir })).code).toBe(0);
    } finally {
      expect(await stopServer(server)).toBe(0);
    }
    expect(statSync(socketPath, { throwIfNoEntry: false })).toBeUndefined();
  }, PROCESS_TEST_MS);

  it('answers as it does without a server: the same key list fields, the same errors and exit codes', async () => {
    const withoutServer = { DATA_DIR: path.join(base, 'alone') };
    const withServer = { DATA_DIR: path.join(base, 'served') };
    const server = await serverOn(withServer.DATA_DIR);
    try {
      const answers = [];
      for (const env of [withoutServer, withServer]) {
        expect((await kauth(['tenant', 'create', 'acme'], env)).code).toBe(0);
        expect((await kauth(['key', 'create', 'acme', '--scope', 'groups:read', '--expires-in', '1d'], env)).code).toBe(0);
        const listed = await kauth(['key', 'list', 'acme'], env);
        answers.push({
          list: { code: listed.code, stderr: listed.stderr, keys: (JSON.parse(listed.stdout) as object[]).map((k) => Object.keys(k).sort()) },
          unknownWorkspace: await kauth(['key', 'revoke', 'nowhere', '1'], env),
          usage: await kauth(['key', 'revoke', 'acme'], env),
        });
      }
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[0].list.keys).toEqual([expect.arrayContaining(['id', 'name', 'scopes', 'expiresAt', 'revokedAt'])]);
      expect([answers[0].unknownWorkspace.code, answers[0].usage.code]).toEqual([1, 2]);
    } finally {
      await stopServer(server);
    }
  }, PROCESS_TEST_MS);

  it('keeps the "in use" error when the process holding the data directory does not answer on the socket', async () => {
    const dataDir = path.join(base, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    writeFileSync(path.join(dataDir, 'kauth.lock'), String(process.pid)); // held by a live process: this one
    await leaveStaleSocket(path.join(dataDir, 'kauth.sock'));
    const held = await kauth(['tenant', 'create', 'acme'], { DATA_DIR: dataDir });
    expect({ code: held.code, error: JSON.parse(held.stdout).error.code }).toEqual({ code: 1, error: 'ERROR' });
    expect(held.stderr).toContain(`in use by process ${process.pid}`);
  }, PROCESS_TEST_MS);
});
