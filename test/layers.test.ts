// One-way layers: the domain knows nothing of credentials or transports, the policy knows
// nothing of the rest of the service, and no module of src/ imports itself through others.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const SRC = path.resolve(__dirname, '../src');

type Graph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

/** The file a relative specifier names (`./x` → x.ts or x/index.ts), or null for a package. */
function resolveImport(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate;
  }
  throw new Error(`${path.relative(SRC, from)}: cannot resolve "${specifier}"`);
}

/** Every module of `dir` and the modules of `dir` it imports (type-only and dynamic imports included), by path relative to `dir`. */
function importGraph(dir: string): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles(dir)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles.flatMap(({ fileName }) => resolveImport(file, fileName) ?? []);
    graph.set(path.relative(dir, file), [...new Set(targets.map((t) => path.relative(dir, t)))]);
  }
  return graph;
}

/**
 * Import cycles as paths a → b → … → a, each reported once, by depth-first search from every
 * module: if the graph has a cycle, at least one is reported (not necessarily every one).
 */
function cyclesOf(graph: Graph): string[] {
  const cycles = new Set<string>();
  const done = new Set<string>();
  const visit = (node: string, stack: string[]) => {
    const at = stack.indexOf(node);
    if (at >= 0) {
      const loop = stack.slice(at);
      const start = loop.indexOf([...loop].sort()[0]);
      const canonical = [...loop.slice(start), ...loop.slice(0, start)];
      cycles.add([...canonical, canonical[0]].join(' → '));
      return;
    }
    if (done.has(node)) return;
    for (const next of graph.get(node) ?? []) visit(next, [...stack, node]);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node, []);
  return [...cycles].sort();
}

/** Imports of a module under `from/` of a module under one of `forbidden/`. */
function importsAcross(graph: Graph, from: string, forbidden: string[]): string[] {
  const under = (file: string, dir: string) => file.startsWith(`${dir}/`);
  return [...graph].flatMap(([file, targets]) =>
    under(file, from) ? targets.filter((t) => forbidden.some((dir) => under(t, dir))).map((t) => `${file} imports ${t}`) : [],
  );
}

describe('import layers of src/', () => {
  const graph = importGraph(SRC);

  it('reads the imports of every module, type-only ones included', () => {
    expect(graph.get('domain/apikeys.ts')).toEqual(expect.arrayContaining(['policy/scopes.ts', 'domain/errors.ts', 'generated/prisma/client.ts']));
    expect(graph.get('http/app.ts')).toEqual(expect.arrayContaining(['auth/authenticate.ts', 'edge/admission.ts']));
  });

  it('keeps the domain free of credentials and transports: no import of src/auth, graphql, rest, scim, http or feed', () => {
    expect(importsAcross(graph, 'domain', ['auth', 'graphql', 'rest', 'scim', 'http', 'feed'])).toEqual([]);
  });

  it('keeps the change hub below the transports: src/feed imports no src/auth, graphql, rest or http', () => {
    expect(graph.get('feed/hub.ts')).toEqual(expect.arrayContaining(['domain/audit.ts']));
    expect(importsAcross(graph, 'feed', ['auth', 'graphql', 'rest', 'http'])).toEqual([]);
  });

  it('keeps the scope policy free of every other module', () => {
    expect([...graph].filter(([file]) => file.startsWith('policy/')).flatMap(([, targets]) => targets.filter((t) => !t.startsWith('policy/')))).toEqual([]);
  });

  it('has no import cycle (src/generated is the code generators\' and left out)', () => {
    const ours: Graph = new Map([...graph].filter(([file]) => !file.startsWith('generated/')));
    expect(cyclesOf(ours)).toEqual([]);
  });
});

describe('the browser pages (web/)', () => {
  const WEB = path.resolve(__dirname, '../web');
  const files = (function walk(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return walk(full);
      return /\.tsx?$/.test(name) ? [full] : [];
    });
  })(WEB);

  it('use the service only through its public API: no import from outside web/', () => {
    expect(files.map((file) => path.relative(WEB, file))).toEqual(expect.arrayContaining(['playground/main.tsx', 'playground/fetcher.ts']));
    const outside = files.flatMap((file) =>
      ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles
        .filter(({ fileName }) => fileName.startsWith('.') && !path.resolve(path.dirname(file), fileName).startsWith(`${WEB}/`))
        .map(({ fileName }) => `${path.relative(WEB, file)} imports ${fileName}`),
    );
    expect(outside).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('report a cycle once, whatever module the search starts from, and a module importing itself', () => {
    const graph: Graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts', 'd.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['d.ts']],
      ['e.ts', ['a.ts']],
    ]);
    expect(cyclesOf(graph)).toEqual(['a.ts → b.ts → c.ts → a.ts', 'd.ts → d.ts']);
  });

  it('find an import across layers', () => {
    const graph: Graph = new Map([
      ['domain/keys.ts', ['auth/principal.ts', 'domain/errors.ts']],
      ['auth/principal.ts', ['domain/errors.ts']],
    ]);
    expect(importsAcross(graph, 'domain', ['auth', 'http'])).toEqual(['domain/keys.ts imports auth/principal.ts']);
  });
});
