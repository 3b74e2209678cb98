// The explorer's "Move to…" (issue 27), in Debian's Chromium against a real server: the picker
// finds the new parent by name; the preview is what `moveImpact` says (the users gaining and
// losing roles, and who grants them; a refusal word for word, Confirm then disabled); only
// "Confirm move" writes, and the user's effective roles then change exactly as previewed; Cancel
// writes nothing; a failure at confirm time is shown with its code; without groups:write the
// control is disabled, naming the scope.
import type { Browser, Page } from 'playwright-core';
import { type Session, expectedLines, moveFixtures, newRecordingTab, shownUsers } from './move-support';
import { type Site, chromiumAvailable, closeTab, createNamedGroup, openExplorerWith, treeItem, launchBrowser, startSite, textOf, waitForText } from './support';

const describeIf = chromiumAvailable('the explorer move e2e test') ? describe : describe.skip;

const item = treeItem;
/** More affected users than a page of the preview (25). */
const CROWD = 26;

describeIf('the explorer console: moving a group', () => {
  let site: Site;
  let browser: Browser;
  let readOnlyKey: string;
  let noRolesKey: string;
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
    // Ann and Bob hold eng only through the moved subtree; Cid is also a direct member of Engineering.
    await createUser('Ann', ['Databases']);
    await createUser('Bob', ['Platform']);
    await createUser('Cid', ['Databases', 'Engineering']);
    const crowd = Array.from({ length: CROWD }, (_, i) => `u${i}: createUser(input: { name: "Crowd ${i + 1}", email: "crowd${i + 1}@example.com" }) { id }`);
    const created = await site.graphql(`mutation { ${crowd.join(' ')} }`);
    await site.graphql(`mutation($g: ID!, $u: [ID!]!) { setGroupMembers(groupId: $g, userIds: $u) { __typename } }`, {
      g: ids.Team,
      u: Object.values(created).map((user) => (user as { id: string }).id),
    });
    const { createApiKey } = await site.graphql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, {
      input: { name: 'read only', scopes: ['groups:read', 'roles:read'] },
    });
    readOnlyKey = createApiKey.key;
    noRolesKey = (
      await site.graphql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, {
        input: { name: 'no roles', scopes: ['groups:read', 'groups:write'] },
      })
    ).createApiKey.key;
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  const link = (id: string) => `#/groups/${id}`;
  const hashOf = (page: Page) => new URL(page.url()).hash;

  /** A fresh tab on the group's address, `key` pasted, its details shown. */
  async function openGroup(name: string, key = site.key): Promise<Session> {
    const session = await newRecordingTab(browser);
    const { page } = session;
    await openExplorerWith(session, site, key, link(ids[name]));
    await waitForText(page, '#details h2', new RegExp(`^${name}$`));
    await page.waitForSelector(`${item(ids[name])}[aria-selected="true"]`);
    return session;
  }

  const close = (session: Session) => closeTab(session, site);

  /** "Move to…", then the candidate named `parent` found by the picker's search. */
  async function pickParent(page: Page, parent: string): Promise<void> {
    await page.click('#move-group');
    await page.fill('#move-search', parent);
    await page.click(`#move-candidates button[data-group-id="${ids[parent]}"]`);
    await page.waitForSelector('#move-preview:not([aria-busy]) h4');
  }

  it('previews a move as moveImpact says, and makes it only on Confirm: roles change exactly as previewed', async () => {
    const session = await openGroup('Platform');
    const { page } = session;
    const before = { Ann: await effectiveRoles('Ann'), Bob: await effectiveRoles('Bob'), Cid: await effectiveRoles('Cid') };
    expect(before).toEqual({ Ann: ['eng'], Bob: ['eng'], Cid: ['eng'] });

    await page.click('#move-group');
    await page.fill('#move-search', 'Ops');
    await waitForText(page, '#move-candidates', /Ops a root group/);
    await page.click(`#move-candidates button[data-group-id="${ids.Ops}"]`);
    await page.waitForSelector('#move-preview:not([aria-busy]) h4');
    expect(session.operations).not.toContain('UpdateGroup');

    const impact = await moveImpact('Platform', 'Ops');
    expect(impact.allowed).toBe(true);
    expect(impact.totals).toEqual({ usersAffected: 3, rolesGained: 3, rolesLost: 2 });
    expect(await textOf(page, '#move-preview h4')).toBe('Move “Platform” under “Ops”');
    expect(await textOf(page, '#move-totals')).toBe('2 groups move; 3 users gain or lose roles: 3 roles gained, 2 roles lost.');
    expect(await shownUsers(page)).toEqual(expectedLines(impact));
    const ann = (await shownUsers(page)).find((u) => u.id === users.Ann);
    expect(ann?.lines).toEqual(['gains ops, granted after the move by Ops', 'loses eng, granted before the move by Engineering']);
    expect(await page.locator('#move-refusals').count()).toBe(0);
    expect(await page.isDisabled('#confirm-move')).toBe(false);
    expect(await parentOf('Platform')).toBe(ids.Engineering);

    await page.click('#confirm-move');
    await waitForText(page, '#edit-done', /^Moved “Platform” under “Ops”\.$/);
    expect(hashOf(page)).toBe(link(ids.Platform));
    expect(await page.locator('#breadcrumb li').allTextContents()).toEqual(['Ops', 'Platform']);
    await page.waitForSelector(`${item(ids.Ops)} > [role="group"] > ${item(ids.Platform)}[aria-selected="true"]`);
    expect(await page.locator(`${item(ids.Engineering)} ${item(ids.Platform)}`).count()).toBe(0);
    expect(await parentOf('Platform')).toBe(ids.Ops);

    // Each user's effective roles: before, less what the preview said is lost, plus what it said is gained.
    for (const [name, roles] of Object.entries(before)) {
      const change = impact.users.nodes.find((node) => node.user.id === users[name]);
      const expected = roles.filter((role) => !change?.lost.some((c) => c.role.name === role)).concat(change?.gained.map((c) => c.role.name) ?? []);
      expect(await effectiveRoles(name)).toEqual(expected.sort());
    }
    expect(await effectiveRoles('Cid')).toEqual(['eng', 'ops']);
    await close(session);
  });

  it('shows a move into its own subtree refused as the API words it, with Confirm disabled', async () => {
    const session = await openGroup('Engineering');
    const { page } = session;
    await pickParent(page, 'Team');

    const impact = await moveImpact('Engineering', 'Team');
    expect(impact.allowed).toBe(false);
    expect(impact.refusals.map((r) => r.code)).toEqual(['CYCLE']);
    const [cycle] = impact.refusals;
    expect(await page.getAttribute('#move-refusals li', 'data-code')).toBe('CYCLE');
    expect(await textOf(page, '#move-refusals li')).toBe(`CYCLE ${cycle.errorCode} ${cycle.message}`);
    expect(await page.isDisabled('#confirm-move')).toBe(true);
    expect(await parentOf('Engineering')).toBeNull();
    expect(session.operations).not.toContain('UpdateGroup');
    await close(session);
  });

  it('pages the affected users as the API does, and Cancel writes nothing', async () => {
    const session = await openGroup('Team');
    const { page } = session;
    await page.click('#move-group');
    await page.click('#move-to-root');
    await page.waitForSelector('#move-preview:not([aria-busy]) h4');
    expect(await textOf(page, '#move-preview h4')).toBe('Move “Team” to the top level, as a root group');
    expect(await textOf(page, '#move-totals')).toBe(`1 group moves; ${CROWD} users gain or lose roles: 0 roles gained, ${CROWD} roles lost.`);
    expect(await page.locator('#move-users > li').count()).toBe(25);
    await page.click(`#move-preview button.more:text("Show more (25 of ${CROWD})")`);
    await page.waitForSelector(`#move-users > li:nth-child(${CROWD})`);
    expect(await page.locator('#move-users > li').count()).toBe(CROWD);
    expect(await page.locator('#move-preview button.more').count()).toBe(0);
    expect(await shownUsers(page)).toEqual(expectedLines(await moveImpact('Team', null)));

    await page.click('#cancel-move');
    expect(await page.isHidden('#move-picker')).toBe(true);
    expect(await page.locator('#move-preview > *').count()).toBe(0);
    expect(await page.evaluate('document.activeElement?.id')).toBe('move-group');
    expect(hashOf(page)).toBe(link(ids.Team));
    expect(await page.locator('#breadcrumb li').allTextContents()).toEqual(['Engineering', 'Team']);
    expect(await parentOf('Team')).toBe(ids.Engineering);
    expect(session.operations).not.toContain('UpdateGroup');
    await close(session);
  });

  it('shows a failure at confirm time word for word with its code, moving nothing', async () => {
    const session = await openGroup('Sales');
    const { page } = session;
    await pickParent(page, 'Team');
    expect(await page.isDisabled('#confirm-move')).toBe(false);
    // Meanwhile Team moves under Sales: moving Sales under Team is now a cycle.
    await site.graphql(`mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }`, { id: ids.Team, p: ids.Sales });
    const [cycle] = (await moveImpact('Sales', 'Team')).refusals;
    expect(cycle.code).toBe('CYCLE');

    await page.click('#confirm-move');
    await waitForText(page, '#move-error', new RegExp(cycle.errorCode));
    expect(await textOf(page, '#move-error')).toBe(`${cycle.errorCode} ${cycle.message}`);
    expect(await textOf(page, '#details h2')).toBe('Sales');
    expect(await parentOf('Sales')).toBeNull();
    await close(session);
  });

  it('shows "Move to…" disabled to a key without groups:write, naming the scope', async () => {
    const session = await openGroup('Sales', readOnlyKey);
    const { page } = session;
    expect(await page.isDisabled('#move-group')).toBe(true);
    expect(await textOf(page, '#move .needs-scope')).toBe('needs scope groups:write');
    await close(session);
  });

  it('previews a move for a key without roles:read, naming the scope its role changes need', async () => {
    const session = await openGroup('Ops', noRolesKey);
    const { page } = session;
    await pickParent(page, 'Sales');
    expect(await textOf(page, '#move-totals')).toBe('3 groups move; roles: needs scope groups:read and roles:read');
    expect(await page.locator('#move-users').count()).toBe(0);
    expect(await page.isDisabled('#confirm-move')).toBe(false);
    await page.click('#cancel-move');
    expect(await parentOf('Ops')).toBeNull();
    await close(session);
  });
});
