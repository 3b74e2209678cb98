// The explorer's drag and drop move (issue 27), in Debian's Chromium against a real server: a
// group's row dragged onto another group's row opens the same `moveImpact` preview as "Move to…"
// (the move named, the users gaining and losing roles as the API says), and nothing is written
// until "Confirm move", after which the group is under its new parent (in the API and the tree)
// and the users' roles changed exactly as previewed; the drop target is highlighted while
// dragging; dropping on the "root group" zone then cancelling writes nothing; dropping a group on
// its own subgroup shows the CYCLE refusal with no way to confirm; without groups:write no row is
// draggable.
import type { Browser, Locator, Page } from 'playwright-core';
import { type Session, expectedLines, moveFixtures, newRecordingTab, shownUsers } from './move-support';
import { type Site, chromiumAvailable, closeTab, createNamedGroup, launchBrowser, openExplorerWith, startSite, textOf, treeItem, waitForText } from './support';

const describeIf = chromiumAvailable('the explorer drag and drop e2e test') ? describe : describe.skip;

describeIf('the explorer console: moving a group by drag and drop', () => {
  let site: Site;
  let browser: Browser;
  let readOnlyKey: string;
  const ids: Record<string, string> = {};
  const users: Record<string, string> = {};

  const createGroup = (name: string, parent?: string) => createNamedGroup(site, ids, name, parent);

  const { createUser, grantRole, parentOf, effectiveRoles, moveImpact } = moveFixtures(() => site, ids, users);

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
    await createUser('Ann', ['Databases']);
    await createUser('Bob', ['Platform']);
    await createUser('Cid', ['Team']);
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
    const session = await newRecordingTab(browser);
    const { page } = session;
    await openExplorerWith(session, site, key, `#/groups/${ids[name]}`);
    await waitForText(page, '#details h2', new RegExp(`^${name}$`));
    await page.waitForSelector(`${treeItem(ids[name])}[aria-selected="true"]`);
    return session;
  }

  const close = (session: Session) => closeTab(session, site);
  const row = (page: Page, name: string): Locator => page.locator(`${treeItem(ids[name])} > .row`);
  const previewShown = (page: Page) => page.waitForSelector('#drag-move[open] #drag-preview:not([aria-busy]) h4');

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
    expect(await shownUsers(page, '#drag-preview')).toEqual(expectedLines(impact));
    expect((await shownUsers(page, '#drag-preview')).find((u) => u.id === users.Ann)?.lines).toEqual([
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
    expect(await shownUsers(page, '#drag-preview')).toEqual(expectedLines(await moveImpact('Team', null)));

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
