// Times `kauth import` on PostgreSQL, through the CLI as an operator runs it (npm run bench:import).
//
//   npm run bench:import -- --groups 10000     # 10,000 groups, 20,000 users, 100,000 memberships
//   npm run bench:import -- --groups 100000    # the goal: 100,000 / 200,000 / 1,000,000 in under 60 s
//
// Generates a kauth-workspace file (a random tree: each group under a uniformly chosen earlier
// group less than 8 levels deep, 20 roots; 2 users and 10 distinct memberships per group, 20
// roles, a role on 1% of the groups and 1% of the users), creates an empty workspace with
// `kauth tenant create`, then runs, each as its own process, timed, with its peak RSS:
//   1. kauth import <slug> <file>            (into the empty workspace; its progress lines timed)
//   2. kauth import <slug> <file>            (again: every row unchanged, nothing written)
//   3. kauth doctor <slug>                   (the tree's paths agree with its parent links)
// Target: a scratch database made for the run on the PostgreSQL of DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/), kauth_bench_import_<time>, dropped at the end (deleting a
// 100,000-group workspace row by row through the cascades takes minutes); --keep leaves it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { LineReader } from '../src/control/protocol';
import { formatWorkspaceFile } from '../src/domain/import';
import { generateWorkspace } from './import-file';
import { runBench } from './support';

const ROOT = path.resolve(__dirname, '..');
const DEFAULT_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
  maxRssMiB: number;
}

/** Runs the CLI as a process; each line it writes on stderr is kept with the seconds since it started. */
function kauth(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const started = performance.now();
  const preload = path.join(__dirname, 'report-rss.cjs');
  const child = spawn(process.execPath, ['--require', preload, path.join(ROOT, 'bin/kauth.js'), ...args], { cwd: ROOT, env });
  let stdout = '';
  const stderr: string[] = [];
  const lines = new LineReader();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    const at = ((performance.now() - started) / 1000).toFixed(1);
    for (const line of lines.push(chunk)) stderr.push(`${at.padStart(6)} s  ${line}`);
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const rss = stderr.map((line) => /kauth-bench: maxRSS (\d+)/.exec(line)).find(Boolean);
      resolve({
        code: code ?? 1,
        stdout,
        stderr: stderr.filter((line) => !line.includes('kauth-bench: maxRSS')).join('\n'),
        seconds: (performance.now() - started) / 1000,
        maxRssMiB: rss ? Math.round(Number(rss[1]) / 1024) : Number.NaN,
      });
    });
  });
}

/** Runs `sql` on the server's `postgres` database. */
async function admin(server: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: Object.assign(new URL(server), { pathname: '/postgres' }).toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function expectOk(step: string, run: Run): void {
  if (run.code !== 0) throw new Error(`${step} failed (exit ${run.code}):\n${run.stderr}\n${run.stdout}`);
}

runBench(async () => {
  const { values } = parseArgs({ options: { groups: { type: 'string', default: '10000' }, keep: { type: 'boolean' } } });
  const groupCount = Number(values.groups);
  const server = process.env.DATABASE_URL ?? DEFAULT_SERVER;
  const name = `kauth_bench_import_${Date.now().toString(36)}`;
  const url = Object.assign(new URL(server), { pathname: `/${name}` }).toString();
  await admin(server, `CREATE DATABASE "${name}"`);
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' };
  delete env.DATA_DIR;

  const dir = mkdtempSync(path.join(tmpdir(), 'kauth-bench-import-'));
  const file = path.join(dir, 'workspace.json');
  const generated = performance.now();
  const workspace = generateWorkspace(groupCount);
  writeFileSync(file, formatWorkspaceFile(workspace));
  const sizeMiB = statSync(file).size / 2 ** 20;
  console.log(
    `file: ${workspace.groups.length} groups, ${workspace.users.length} users, ${workspace.memberships.length} memberships, ` +
      `${workspace.roleAssignments.length} role assignments; ${sizeMiB.toFixed(1)} MiB, made in ${((performance.now() - generated) / 1000).toFixed(1)} s`,
  );

  const slug = 'bench-import';
  try {
    expectOk('tenant create', await kauth(['tenant', 'create', slug], env));
    const first = await kauth(['import', slug, file], env);
    expectOk('import', first);
    console.log(`import into the empty workspace: ${first.seconds.toFixed(1)} s, peak RSS of the CLI ${first.maxRssMiB} MiB`);
    console.log(`  ${JSON.stringify(JSON.parse(first.stdout))}`);
    console.log(`  progress (seconds since the process started):\n${first.stderr.replace(/^/gm, '  ')}`);
    const second = await kauth(['import', slug, file], env);
    expectOk('import again', second);
    console.log(`the same file again (nothing to write): ${second.seconds.toFixed(1)} s, peak RSS ${second.maxRssMiB} MiB`);
    console.log(`  ${JSON.stringify(JSON.parse(second.stdout))}`);
    const doctor = await kauth(['doctor', slug], env);
    console.log(`kauth doctor: exit ${doctor.code} (${JSON.parse(doctor.stdout).findings.length} findings), ${doctor.seconds.toFixed(1)} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (values.keep) console.log(`kept: DATABASE_URL=${url}`);
    else await admin(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
});
