// The explorer's drag and drop move (issue 27), in Debian's Chromium against a real server: a
// group's row dragged onto another group's row opens the same `moveImpact` preview as "Move to…"
// (the move named, the users gaining and losing roles as the API says), and nothing is written
// until "Confirm move", after which the group is under its new parent (in the API and the tree)
// and the users' roles changed exactly as previewed; the drop target is highlighted while
// dragging; dropping on the "root group" zone then cancelling writes nothing; dropping a group on
// its own subgroup shows the CYCLE refusal with no way to confirm; without groups:write no row is
// draggable.
import type { Browser, Locator, Page } from 'playwright-core';
import { type Site, type Tab, chromiumAvailable, closeTab, createNamedGroup, launchBrowser, newTab, openExplorerWith, startSite, textOf, treeItem, waitForText } from './support';

const describeIf = chromiumAvailable('the explorer drag and drop e2e test') ? describe : describe.skip;

interface Session extends Tab {
  /** The operation names the page sent to /graphql, in order. */
  operations: string[];
}

interface RoleChange {
  role: { name: string };
  grantedBy: { name: string }[];
}

interface Impact {
  allowed: boolean;
  refusals: { code: string; errorCode: string; message: string }[];
  totals: { usersAffected: number; rolesGained: number; rolesLost: number };
  users: { totalCount: number; nodes: { user: { id: string; name: string }; gained: RoleChange[]; lost: RoleChange[] }[] };
}

const MOVE_IMPACT = `query($g: ID!, $p: ID) {
  moveImpact(groupId: $g, newParentId: $p) {
    allowed
    refusals { code errorCode message }
    totals { usersAffected rolesGained rolesLost }
    users(first: 40) { totalCount nodes { user { id name } gained { role { name } grantedBy { name } } lost { role { name } grantedBy { name } } } }
  }
}`;

describeIf('the explorer console: moving a group by drag and drop', () => {
  let site: Site;
  let browser: Browser;
  let readOnlyKey: string;
  const ids: Record<string, string> = {};
  const users: Record<string, string> = {};

  const createGroup = (name: string, parent?: string) => createNamedGroup(site, ids, name, parent);

  const createUser = async (name: string, group: string) => {
    const { createUser } = await site.graphql(`mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, {
      input: { name, email: `${name.toLowerCase()}@example.com` },
    });
    users[name] = createUser.id;
    await site.graphql(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: ids[group], u: createUser.id });
  };

  const grantRole = async (role: string, group: string) => {
    const { createRole } = await site.graphql(`mutation($name: String!) { createRole(input: { name: $name }) { id } }`, { name: role });
    await site.graphql(`mutation($g: ID!, $r: ID!) { assignGroupRole(groupId: $g, roleId: $r) { id } }`, { g: ids[group], r: createRole.id });
  };

  const parentOf = async (group: string): Promise<string | null> =>
    (await site.graphql(`query($id: ID!) { group(id: $id) { parent { id } } }`, { id: ids[group] })).group.parent?.id ?? null;

  const effectiveRoles = async (user: string): Promise<string[]> =>
    (await site.graphql(`query($id: ID!) { user(id: $id) { effectiveRoles { role { name } } } }`, { id: users[user] })).user.effectiveRoles
      .map((r: { role: { name: string } }) => r.role.name)
      .sort();

  const moveImpact = async (group: string, parent: string | null): Promise<Impact> =>
    (await site.graphql(MOVE_IMPACT, { g: ids[group], p: parent ? ids[parent] : null })).moveImpact;

  beforeAll(async () => {
    site = await startSite(['groups:read', 'groups:write', 'groups:members:write', 'users:read', 'users:write', 'roles:read', 'roles:write', 'apikeys:write']);
    // Engineering (role eng) › Platform › Databases, Engineering › Team; Ops (role ops); Sales.
    await createGroup('Engineering');
    await createGroup('Platform', 'Engineering');
    await createGroup('Databases', 'Platform');
    await createGroup('Team', 'Engineering');
    await createGroup('Ops');
    await createGroup('Sales');
    await grantRole('eng', 'Engineering');
    await grantRole('ops', 'Ops');
    await createUser('Ann', 'Databases');
    await createUser('Bob', 'Platform');
    await createUser('Cid', 'Team');
    readOnlyKey = (
      await site.graphql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, {
        input: { name: 'read only', scopes: ['groups:read', 'roles:read'] },
      })
    ).createApiKey.key;
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  /** A fresh tab on the group's address, `key` pasted, the tree open down to the group. */
  async function openAt(name: string, key = site.key): Promise<Session> {
    const session: Session = { ...(await newTab(browser, { height: 900 })), operations: [] };
    const { page } = session;
    page.on('request', (request) => {
      const operation = /^\s*(query|mutation)\s+(\w+)/.exec(JSON.parse(request.postData() ?? '{}').query ?? '');
      if (operation) session.operations.push(operation[2]);
    });
    await openExplorerWith(session, site, key, `#/groups/${ids[name]}`);
    await waitForText(page, '#details h2', new RegExp(`^${name}$`));
    await page.waitForSelector(`${treeItem(ids[name])}[aria-selected="true"]`);
    return session;
  }

  const close = (session: Session) => closeTab(session, site);
  const row = (page: Page, name: string): Locator => page.locator(`${treeItem(ids[name])} > .row`);
  const previewShown = (page: Page) => page.waitForSelector('#drag-move[open] #drag-preview:not([aria-busy]) h4');

  /** What the preview says of each user, in the API's words: a line per role gained, then lost. */
  const expectedLines = (impact: Impact) =>
    impact.users.nodes.map(({ user, gained, lost }) => ({
      id: user.id,
      name: user.name,
      lines: [
        ...gained.map((c) => `gains ${c.role.name}, granted after the move by ${c.grantedBy.map((g) => g.name).join(', ')}`),
        ...lost.map((c) => `loses ${c.role.name}, granted before the move by ${c.grantedBy.map((g) => g.name).join(', ')}`),
      ],
    }));

  const shownUsers = (page: Page) =>
    page.$$eval('#drag-preview #move-users > li', (items) =>
      items.map((li) => ({
        id: li.getAttribute('data-user-id'),
        name: li.querySelector('.user')?.textContent,
        lines: [...li.querySelectorAll('li')].map((line) => line.textContent),
      })),
    );

  it('previews a group dropped on another as moveImpact says, moves it only on Confirm, and roles change as previewed', async () => {
    const session = await openAt('Platform');
    const { page } = session;
    const before = { Ann: await effectiveRoles('Ann'), Bob: await effectiveRoles('Bob'), Cid: await effectiveRoles('Cid') };
    expect(before).toEqual({ Ann: ['eng'], Bob: ['eng'], Cid: ['eng'] });
    expect(await row(page, 'Platform').getAttribute('draggable')).toBe('true');

    await row(page, 'Platform').dragTo(row(page, 'Ops'));
    await previewShown(page);
    expect(session.operations).not.toContain('UpdateGroup');

    const impact = await moveImpact('Platform', 'Ops');
    expect(impact.allowed).toBe(true);
    expect(impact.totals).toEqual({ usersAffected: 2, rolesGained: 2, rolesLost: 2 });
    expect(await textOf(page, '#drag-preview h4')).toBe('Move “Platform” under “Ops”');
    expect(await textOf(page, '#drag-preview #move-totals')).toBe('2 groups move; 2 users gain or lose roles: 2 roles gained, 2 roles lost.');
    expect(await shownUsers(page)).toEqual(expectedLines(impact));
    expect((await shownUsers(page)).find((u) => u.id === users.Ann)?.lines).toEqual([
      'gains ops, granted after the move by Ops',
      'loses eng, granted before the move by Engineering',
    ]);
    expect(await page.locator('#move-refusals').count()).toBe(0);
    expect(await page.isDisabled('#drag-preview #confirm-move')).toBe(false);
    expect(await parentOf('Platform')).toBe(ids.Engineering);

    await page.click('#drag-preview #confirm-move');
    await waitForText(page, '#edit-done', /^Moved “Platform” under “Ops”\.$/);
    expect(await page.locator('#drag-move[open]').count()).toBe(0);
    expect(await parentOf('Platform')).toBe(ids.Ops);
    expect(await page.locator('#breadcrumb li').allTextContents()).toEqual(['Ops', 'Platform']);
    await page.waitForSelector(`${treeItem(ids.Ops)} > [role="group"] > ${treeItem(ids.Platform)}[aria-selected="true"]`);
    expect(await page.locator(`${treeItem(ids.Engineering)} ${treeItem(ids.Platform)}`).count()).toBe(0);

    // Each user's effective roles: before, less what the preview said is lost, plus what it said is gained.
    for (const [name, roles] of Object.entries(before)) {
      const change = impact.users.nodes.find((node) => node.user.id === users[name]);
      const expected = roles.filter((role) => !change?.lost.some((c) => c.role.name === role)).concat(change?.gained.map((c) => c.role.name) ?? []);
      expect(await effectiveRoles(name)).toEqual(expected.sort());
    }
    expect(await effectiveRoles('Ann')).toEqual(['ops']);
    expect(await effectiveRoles('Cid')).toEqual(['eng']);
    expect(session.operations.filter((operation) => operation === 'UpdateGroup')).toHaveLength(1);
    await close(session);
  });

  it('highlights the drop target while dragging; dropped on the root zone then cancelled, nothing moves', async () => {
    const session = await openAt('Team');
    const { page } = session;
    // By hand, to look at the page mid-drag: the row dragged from, then the zone it is held over.
    await row(page, 'Team').hover();
    await page.mouse.down();
    await page.locator('#drop-root').hover();
    await page.locator('#drop-root').hover({ position: { x: 10, y: 5 } });
    await page.waitForSelector('#drop-root.drop-target');
    expect(await page.locator('.row.drop-target').count()).toBe(0);
    await page.mouse.up();
    await previewShown(page);
    expect(await page.locator('.drop-target').count()).toBe(0);

    expect(await textOf(page, '#drag-preview h4')).toBe('Move “Team” to the top level, as a root group');
    expect(await textOf(page, '#drag-preview #move-totals')).toBe('1 group moves; 1 user gain or lose roles: 0 roles gained, 1 role lost.');
    expect(await shownUsers(page)).toEqual(expectedLines(await moveImpact('Team', null)));

    await page.click('#drag-preview #cancel-move');
    await page.waitForSelector('#drag-move:not([open])', { state: 'attached' });
    expect(await page.locator('#drag-preview > *').count()).toBe(0);
    expect(await page.evaluate('document.activeElement?.dataset.groupId')).toBe(ids.Team);
    expect(await parentOf('Team')).toBe(ids.Engineering);
    expect(await effectiveRoles('Cid')).toEqual(['eng']);
    expect(await page.locator(`${treeItem(ids.Engineering)} > [role="group"] > ${treeItem(ids.Team)}`).count()).toBe(1);
    expect(session.operations).not.toContain('UpdateGroup');

    // Escape closes a preview just as well, writing nothing.
    await row(page, 'Team').dragTo(row(page, 'Sales'));
    await previewShown(page);
    expect(await textOf(page, '#drag-preview h4')).toBe('Move “Team” under “Sales”');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#drag-move:not([open])', { state: 'attached' });
    expect(await parentOf('Team')).toBe(ids.Engineering);
    expect(session.operations).not.toContain('UpdateGroup');
    await close(session);
  });

  it('shows a group dropped on its own subgroup refused (CYCLE) as the API words it, with no confirm', async () => {
    const session = await openAt('Team');
    const { page } = session;
    await row(page, 'Engineering').dragTo(row(page, 'Team'));
    await previewShown(page);

    const impact = await moveImpact('Engineering', 'Team');
    expect(impact.allowed).toBe(false);
    expect(impact.refusals.map((r) => r.code)).toEqual(['CYCLE']);
    const [cycle] = impact.refusals;
    expect(await textOf(page, '#drag-preview h4')).toBe('Move “Engineering” under “Team”');
    expect(await page.getAttribute('#drag-preview #move-refusals li', 'data-code')).toBe('CYCLE');
    expect(await textOf(page, '#drag-preview #move-refusals li')).toBe(`CYCLE ${cycle.errorCode} ${cycle.message}`);
    expect(await page.isDisabled('#drag-preview #confirm-move')).toBe(true);
    await page.click('#drag-preview #cancel-move');
    expect(await parentOf('Engineering')).toBeNull();
    expect(session.operations).not.toContain('UpdateGroup');
    await close(session);
  });

  it('makes no row draggable, and shows no root zone, for a key without groups:write', async () => {
    const session = await openAt('Databases', readOnlyKey);
    const { page } = session;
    expect(await page.locator('#tree [role="treeitem"] > .row').count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator('#tree [draggable="true"]').count()).toBe(0);
    expect(await page.isHidden('#drop-root')).toBe(true);
    await close(session);
  });
});
