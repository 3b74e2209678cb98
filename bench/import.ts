// Times `kauth import` on PostgreSQL, through the CLI as an operator runs it (npm run bench:import).
//
//   npm run bench:import -- --groups 10000     # 10,000 groups, 20,000 users, 100,000 memberships
//   npm run bench:import -- --groups 100000    # the goal: 100,000 / 200,000 / 1,000,000 in under 60 s
//
// Generates a kauth-workspace file (a random tree: each group under a uniformly chosen earlier
// group less than 8 levels deep, 20 roots; 2 users and 10 distinct memberships per group, 20
// roles, a role on 1% of the groups and 1% of the users), creates an empty workspace with
// `kauth tenant create`, then runs, each as its own process, timed, with its peak RSS:
//   1. kauth import <slug> <file>            (into the empty workspace)
//   2. kauth import <slug> <file>            (again: every row unchanged, nothing written)
//   3. kauth doctor <slug>                   (the tree's paths agree with its parent links)
// Target: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/kauth_bench_import (created if
// missing). The workspace is deleted at the end; --keep leaves it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { formatWorkspaceFile } from '../src/domain/import';
import { generateWorkspace } from './import-file';
import { runBench } from './support';

const ROOT = path.resolve(__dirname, '..');
const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/kauth_bench_import';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
  maxRssMiB: number;
}

function kauth(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const started = performance.now();
  const preload = path.join(__dirname, 'report-rss.cjs');
  return new Promise((resolve) => {
    execFile(process.execPath, ['--require', preload, path.join(ROOT, 'bin/kauth.js'), ...args], { cwd: ROOT, env, maxBuffer: 1 << 30 }, (error, stdout, stderr) => {
      const rss = /kauth-bench: maxRSS (\d+)/.exec(stderr);
      resolve({
        code: error ? Number(error.code ?? 1) : 0,
        stdout,
        stderr,
        seconds: (performance.now() - started) / 1000,
        maxRssMiB: rss ? Math.round(Number(rss[1]) / 1024) : Number.NaN,
      });
    });
  });
}

async function ensureDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
}

function expectOk(step: string, run: Run): void {
  if (run.code !== 0) throw new Error(`${step} failed (exit ${run.code}):\n${run.stderr}\n${run.stdout}`);
}

runBench(async () => {
  const { values } = parseArgs({ options: { groups: { type: 'string', default: '10000' }, keep: { type: 'boolean' } } });
  const groupCount = Number(values.groups);
  const url = process.env.DATABASE_URL ?? DEFAULT_URL;
  await ensureDatabase(url);
  const env = { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' };
  delete (env as NodeJS.ProcessEnv).DATA_DIR;

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

  const slug = `bench-import-${Date.now().toString(36)}`;
  expectOk('tenant create', await kauth(['tenant', 'create', slug], env));
  try {
    const first = await kauth(['import', slug, file], env);
    expectOk('import', first);
    console.log(`import into the empty workspace: ${first.seconds.toFixed(1)} s, peak RSS of the CLI ${first.maxRssMiB} MiB`);
    console.log(`  ${JSON.stringify(JSON.parse(first.stdout))}`);
    const second = await kauth(['import', slug, file], env);
    expectOk('import again', second);
    console.log(`the same file again (nothing to write): ${second.seconds.toFixed(1)} s, peak RSS ${second.maxRssMiB} MiB`);
    console.log(`  ${JSON.stringify(JSON.parse(second.stdout))}`);
    const doctor = await kauth(['doctor', slug], env);
    console.log(`kauth doctor: exit ${doctor.code} (${JSON.parse(doctor.stdout).findings.length} findings), ${doctor.seconds.toFixed(1)} s`);
  } finally {
    if (!values.keep) {
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query('DELETE FROM tenants WHERE slug = $1', [slug]);
      await client.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
