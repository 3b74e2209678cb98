// The README cannot drift from the service: its blocks marked `<!-- runnable -->` run as written,
// in order, with bash against a started server (the demo workspace on a fresh embedded database,
// the README's http://127.0.0.1:4000 replaced by the server's address). A block fails the run when
// a command in it exits non-zero or its `<!-- expect: … -->` lines are absent from its output.
// `<!-- runnable: postgres -->` blocks run against a scratch PostgreSQL database (their
// DATABASE_URL replaced), `<!-- runnable: subscription -->` blocks are Node programs that must
// print a change made while they listen.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROCESS_TEST_MS, ROOT } from './support/kauth';
import { databaseUrl, withAdmin } from './support/postgres';
import { describeOnPostgres } from './support/services';
import { GENEROUS_SERVER_ENV, type ServerProcess, startServer, stopServer } from './support/servers';
import { untilSeen, waitFor } from './support/wait';

type Kind = 'shell' | 'postgres' | 'subscription';

interface Block {
  kind: Kind;
  /** 1-based line of the block's opening fence in the README. */
  line: number;
  code: string;
  expects: string[];
}

const PRELUDE = path.join(ROOT, 'test/support/readme-prelude.sh');
const README_ADDRESS = '127.0.0.1:4000';
const MARKED = /<!-- runnable(?::\s*(\w+))? -->\n```(\w+)\n([\s\S]*?)\n```\n((?:<!-- expect: .* -->\n)*)/g;

/** The README's runnable blocks, in order; a README with none is an error (nothing would be checked). */
function runnableBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  for (const match of markdown.matchAll(MARKED)) {
    const kind = (match[1] ?? 'shell') as Kind;
    if (!['shell', 'postgres', 'subscription'].includes(kind)) throw new Error(`unknown runnable kind "${kind}"`);
    const line = markdown.slice(0, match.index).split('\n').length + 1;
    const expects = [...match[4].matchAll(/<!-- expect: (.*) -->/g)].map((m) => m[1]);
    blocks.push({ kind, line, code: match[3], expects });
  }
  if (blocks.length === 0) throw new Error('the README has no block marked <!-- runnable -->');
  return blocks;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBash(script: string, cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    // Nothing of the test run's own database settings: the blocks say what they use.
    const { DATABASE_URL: _url, DATA_DIR: _dir, ...inherited } = process.env;
    const child = spawn('bash', ['-c', script], { cwd, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const SEPARATOR = (index: number) => `@@readme-block-${index}@@`;

/**
 * Runs shell blocks in one bash session (variables carry from block to block, as in a terminal),
 * after the prelude; rejects naming the first block that failed or lacks an expected output.
 */
async function runShellBlocks(blocks: Block[], cwd: string, env: Record<string, string>, address: string): Promise<void> {
  const script = [`source ${JSON.stringify(PRELUDE)}`]
    .concat(blocks.map((block, i) => `printf '\\n${SEPARATOR(i)}\\n'\n${block.code.split(README_ADDRESS).join(address)}`))
    .join('\n');
  const run = await runBash(script, cwd, env);
  const outputs = run.stdout.split(/\n@@readme-block-\d+@@\n/).slice(1);
  const failed = outputs.length - 1;
  if (run.code !== 0) {
    throw new Error(
      `the README block at line ${blocks[failed]?.line ?? '?'} failed (exit ${run.code}):\n${blocks[failed]?.code}\n--- stdout\n${outputs[failed] ?? ''}\n--- stderr\n${run.stderr}`,
    );
  }
  blocks.forEach((block, i) => {
    for (const expected of block.expects) {
      if (!outputs[i].includes(expected)) {
        throw new Error(`the README block at line ${block.line} did not print ${JSON.stringify(expected)}; it printed:\n${outputs[i]}`);
      }
    }
  });
}

/** Runs a subscription block with Node, makes changes under group 2 until it prints what is expected. */
async function runSubscription(block: Block, baseUrl: string, key: string): Promise<void> {
  const child = spawn(process.execPath, ['--input-type=module'], { cwd: ROOT, env: { ...process.env, KEY: key }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.stdin.end(block.code.split(README_ADDRESS).join(new URL(baseUrl).host));
  try {
    await untilSeen(
      `the README's subscription (line ${block.line}) to print ${block.expects.join(', ')}`,
      async (round, patienceMs) => {
        if (child.exitCode !== null) throw new Error(`the subscription program exited (${child.exitCode}): ${output}`);
        const renamed = await fetch(`${baseUrl}/t/demo/api/v1/groups/2`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `Engineering ${round}` }),
        });
        expect(renamed.status).toBe(200);
        return waitFor('the change', () => block.expects.every((text) => output.includes(text)), patienceMs).then(() => true, () => false);
      },
      120_000,
    );
  } finally {
    child.kill('SIGTERM');
  }
}

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('the README', () => {
  it('marks its quickstart, CLI, REST and SCIM examples, the production first key and the Node subscription runnable', () => {
    const blocks = runnableBlocks(readme);
    const marked = (text: string) => blocks.some((block) => block.code.includes(text));
    expect(marked('KEY=$(cat data/demo-admin-key)')).toBe(true);
    expect(marked('curl -s http://127.0.0.1:4000/graphql')).toBe(true);
    expect(marked('npx kauth key create acme --name sync-bot')).toBe(true);
    expect(marked('curl "$API/groups"')).toBe(true);
    expect(marked('npx kauth key create demo --name entra')).toBe(true);
    expect(blocks.filter((block) => block.kind === 'postgres')).toHaveLength(1);
    expect(blocks.filter((block) => block.kind === 'subscription')).toHaveLength(1);
  });

  describe('the check itself', () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'kauth-readme-check-'));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));
    const run = (markdown: string) => runShellBlocks(runnableBlocks(markdown), scratch, { KAUTH_ROOT: ROOT }, README_ADDRESS);

    it('fails on a README with no runnable block', () => {
      expect(() => runnableBlocks(readme.replace(/<!-- runnable(:\s*\w+)? -->\n/g, ''))).toThrow('no block marked');
    });

    it('fails when a command in a block exits non-zero, naming the block', async () => {
      await expect(run('text\n\n<!-- runnable -->\n```sh\necho one\n```\n\n<!-- runnable -->\n```sh\ntrue\nfalse\necho after\n```\n')).rejects.toThrow(
        'the README block at line 9 failed (exit 1)',
      );
    });

    it('fails when a command in a pipeline fails or a captured command fails', async () => {
      await expect(run('<!-- runnable -->\n```sh\nX=$(echo \'{}\' | jq -e .id)\n```\n')).rejects.toThrow('failed');
    });

    it('fails when an expected output is absent, and passes when it is there', async () => {
      const block = (text: string) => `<!-- runnable -->\n\`\`\`sh\necho '${text}'\n\`\`\`\n<!-- expect: "id":1 -->\n`;
      await expect(run(block('{"id":2}'))).rejects.toThrow('did not print "\\"id\\":1"');
      await expect(run(block('{"id":1}'))).resolves.toBeUndefined();
    });
  });

  describe('run against a started server', () => {
    const blocks = runnableBlocks(readme);
    const work = mkdtempSync(path.join(tmpdir(), 'kauth-readme-'));
    let server: ServerProcess;

    beforeAll(async () => {
      server = await startServer({ ...GENEROUS_SERVER_ENV, DATA_DIR: path.join(work, 'data'), KAUTH_DEMO: '1', LOG_LEVEL: 'info' });
      await server.ready;
      await waitFor('the control socket', () => server.output().includes('control socket: the kauth CLI runs its commands here'), 120_000);
      await waitFor('the demo admin key', () => statSync(path.join(work, 'data/demo-admin-key'), { throwIfNoEntry: false })?.isFile());
    }, PROCESS_TEST_MS);

    afterAll(async () => {
      if (server) await stopServer(server);
      rmSync(work, { recursive: true, force: true });
    });

    it(
      'runs every runnable shell block as written, in order',
      async () => {
        const shell = blocks.filter((block) => block.kind === 'shell');
        await runShellBlocks(shell, work, { KAUTH_ROOT: ROOT }, `127.0.0.1:${server.port}`);
      },
      PROCESS_TEST_MS,
    );

    it(
      'runs the Node subscription program, which prints a change made while it listens',
      async () => {
        const key = readFileSync(path.join(work, 'data/demo-admin-key'), 'utf8').trim();
        for (const block of blocks.filter((b) => b.kind === 'subscription')) await runSubscription(block, server.baseUrl, key);
      },
      PROCESS_TEST_MS,
    );
  });
});

describeOnPostgres("the README's production first-workspace block", () => {
  const database = `kauth_readme_${process.pid}`;
  const work = mkdtempSync(path.join(tmpdir(), 'kauth-readme-production-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(
    'runs against a fresh PostgreSQL database, its DATABASE_URL replaced',
    async () => {
      await withAdmin((c) => c.query(`CREATE DATABASE ${database}`));
      try {
        for (const block of runnableBlocks(readme).filter((b) => b.kind === 'postgres')) {
          const code = block.code.replace(/DATABASE_URL=postgres:\/\/\S+/, `DATABASE_URL=${databaseUrl(database)}`);
          expect(code).not.toBe(block.code);
          await runShellBlocks([{ ...block, code }], work, { KAUTH_ROOT: ROOT }, README_ADDRESS);
        }
      } finally {
        await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
      }
    },
    PROCESS_TEST_MS,
  );
});
