// The kauth-workspace file bench/import.ts imports: a random organisation of a given size,
// the same for the same size (see bench/import.ts for its shape).
import type { WorkspaceFile } from '../src/domain/import';

/** A small deterministic generator (mulberry32): the same file for the same size. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateWorkspace(groupCount: number): WorkspaceFile {
  const rand = random(1);
  const pick = (n: number) => Math.floor(rand() * n);
  const depth: number[] = [];
  const eligible: number[] = [];
  const groups = Array.from({ length: groupCount }, (_, i) => {
    const parent = i < 20 ? null : eligible[pick(eligible.length)];
    depth.push(parent === null ? 1 : depth[parent] + 1);
    if (depth[i] < 8) eligible.push(i);
    return { externalId: `g${i}`, name: `Group ${i}`, description: i % 10 === 0 ? `The group number ${i}` : null, parent: parent === null ? null : `g${parent}` };
  });
  const userCount = 2 * groupCount;
  const users = Array.from({ length: userCount }, (_, i) => ({
    externalId: `u${i}`,
    userName: `user${i}`,
    email: `user${i}@example.com`,
    name: `User ${i}`,
    givenName: null,
    familyName: null,
    active: true,
  }));
  const memberships: WorkspaceFile['memberships'] = [];
  for (let g = 0; g < groupCount; g += 1) {
    const members = new Set<number>();
    while (members.size < 10) members.add(pick(userCount));
    for (const u of members) memberships.push({ group: `g${g}`, user: `u${u}` });
  }
  const roles = Array.from({ length: 20 }, (_, i) => ({ name: `role-${i}`, description: null }));
  const roleAssignments = [
    ...Array.from({ length: Math.ceil(groupCount / 100) }, (_, i) => ({ role: `role-${i % 20}`, group: `g${i * 100}`, user: null })),
    ...Array.from({ length: Math.ceil(userCount / 100) }, (_, i) => ({ role: `role-${i % 20}`, group: null, user: `u${i * 100}` })),
  ];
  return { format: 'kauth-workspace', version: 1, groups, users, roles, memberships, roleAssignments };
}
