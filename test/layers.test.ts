// One-way floors: every part of src/ stands on a floor and imports only from the floors below it
// (its own folder aside). The transports stand side by side above the request edge they share;
// the composition root above them all; the domain knows nothing of credentials or transports, the
// policy nothing of the rest of the service; and no module imports itself through others.
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

/**
 * The floors of src/, top down: a folder (or a file at src/'s top) imports only parts on floors
 * below its own. Parts on one floor do not import each other: the transports are siblings.
 */
const FLOORS: string[][] = [
  ['main.ts', 'cli.ts'], // entry points
  ['http', 'control'], // the composition root (the app, its pages and health), the control socket
  ['graphql', 'rest', 'scim'], // the transports
  ['edge'], // what every transport shares at the edge of a request: admission, traffic, deadline, metrics, failures
  ['auth', 'feed', 'bootstrap.ts'], // credentials → principal; the change hub; start-up failures explained
  ['domain'],
  ['db', 'demo-key.ts'],
  ['policy', 'config.ts', 'clock.ts', 'coded-error.ts', 'generated'],
];

/** The part of src/ a module belongs to: its top folder, or the file itself at the top. */
const partOf = (file: string): string => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file);

function floorOf(part: string): number {
  const floor = FLOORS.findIndex((parts) => parts.includes(part));
  if (floor < 0) throw new Error(`${part} is on no floor of test/layers.test.ts: place it`);
  return floor;
}

/** Imports that do not go down: to a part on the same floor or one above (src/generated's own imports are its generators'). */
function importsNotDown(graph: Graph): string[] {
  return [...graph].filter(([file]) => partOf(file) !== 'generated').flatMap(([file, targets]) =>
    targets
      .filter((target) => partOf(target) !== partOf(file) && floorOf(partOf(target)) <= floorOf(partOf(file)))
      .map((target) => `${file} (floor ${floorOf(partOf(file))}) imports ${target} (floor ${floorOf(partOf(target))})`),
  );
}

describe('import layers of src/', () => {
  const graph = importGraph(SRC);

  it('places every part of src/ on a floor', () => {
    expect([...new Set([...graph.keys()].map(partOf))].filter((part) => !FLOORS.flat().includes(part))).toEqual([]);
  });

  it('imports only downwards, floor by floor: no transport imports the composition root or a sibling, the edge no transport', () => {
    expect(importsNotDown(graph)).toEqual([]);
  });

  it('keeps the transports apart: src/graphql, rest and scim import neither each other nor src/http', () => {
    expect(importsAcross(graph, 'graphql', ['rest', 'scim', 'http'])).toEqual([]);
    expect(importsAcross(graph, 'rest', ['graphql', 'scim', 'http'])).toEqual([]);
    expect(importsAcross(graph, 'scim', ['graphql', 'rest', 'http'])).toEqual([]);
  });

  it('keeps the edge below the transports: src/edge imports no src/graphql, rest, scim or http', () => {
    expect(graph.get('edge/tenant-api.ts')).toEqual(expect.arrayContaining(['edge/admission.ts', 'edge/failures.ts']));
    expect(importsAcross(graph, 'edge', ['graphql', 'rest', 'scim', 'http'])).toEqual([]);
  });

  it('reads the imports of every module, type-only ones included', () => {
    expect(graph.get('domain/apikeys.ts')).toEqual(expect.arrayContaining(['policy/scopes.ts', 'domain/errors.ts', 'generated/prisma/client.ts']));
    expect(graph.get('http/app.ts')).toEqual(expect.arrayContaining(['auth/authenticate.ts', 'edge/admission.ts']));
  });

  it('keeps the domain free of credentials and transports: no import of src/auth, edge, graphql, rest, scim, http or feed', () => {
    expect(importsAcross(graph, 'domain', ['auth', 'edge', 'graphql', 'rest', 'scim', 'http', 'feed'])).toEqual([]);
  });

  it('keeps the change hub below the transports: src/feed imports no src/auth, edge, graphql, rest, scim or http', () => {
    expect(graph.get('feed/hub.ts')).toEqual(expect.arrayContaining(['domain/audit.ts']));
    expect(importsAcross(graph, 'feed', ['auth', 'edge', 'graphql', 'rest', 'scim', 'http'])).toEqual([]);
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

  it('find an import that does not go down: to a sibling on the same floor, or to a floor above', () => {
    const graph: Graph = new Map([
      ['rest/plugin.ts', ['edge/admission.ts', 'graphql/errors.ts', 'rest/errors.ts']],
      ['edge/failures.ts', ['rest/errors.ts', 'domain/errors.ts']],
      ['domain/errors.ts', []],
    ]);
    expect(importsNotDown(graph)).toEqual([
      'rest/plugin.ts (floor 2) imports graphql/errors.ts (floor 2)',
      'edge/failures.ts (floor 3) imports rest/errors.ts (floor 2)',
    ]);
  });

  it('find an import across layers', () => {
    const graph: Graph = new Map([
      ['domain/keys.ts', ['auth/principal.ts', 'domain/errors.ts']],
      ['auth/principal.ts', ['domain/errors.ts']],
    ]);
    expect(importsAcross(graph, 'domain', ['auth', 'http'])).toEqual(['domain/keys.ts imports auth/principal.ts']);
  });
});
