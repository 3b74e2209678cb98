-- Sorted pages (issue 26): GraphQL `orderBy` NAME | CREATED_AT on groups, children, users and
-- members. Hand-written; kept in step with prisma/schema.prisma.
--
-- A page sorted by a value is `(value, id) > (after) ORDER BY value, id LIMIT n`: one range of an
-- index on (…, value, id), so it reads only its own rows however many there are (read backwards
-- for DESC). Names compare ignoring case: `lower(name) COLLATE "C"`, code-point order on every
-- database whatever its locale. The queries (src/domain/reads/groups.ts GROUP_SORTABLE,
-- src/domain/users.ts USER_SORTABLE) use exactly these expressions, or the indexes are not used.
-- Prisma's schema cannot express an expression index: the NAME indexes are here only (as the
-- scim migration's lower(user_name) one); the CREATED_AT ones are in schema.prisma too.

-- Query.groups sorted by name (the workspace, and `search` / restricted credentials filtering it).
CREATE INDEX "groups_tenant_id_lower_name_id_idx" ON "groups" ("tenant_id", (lower("name") COLLATE "C"), "id");
-- Group.children and Query.groups(parentId:) / (rootsOnly:) sorted by name: IS NULL is a range too.
CREATE INDEX "groups_tenant_id_parent_group_id_lower_name_id_idx" ON "groups" ("tenant_id", "parent_group_id", (lower("name") COLLATE "C"), "id");
CREATE INDEX "groups_tenant_id_created_at_id_idx" ON "groups" ("tenant_id", "created_at", "id");
CREATE INDEX "groups_tenant_id_parent_group_id_created_at_id_idx" ON "groups" ("tenant_id", "parent_group_id", "created_at", "id");

-- Query.users, and the inherited members of a large subtree (which walk the users in order).
CREATE INDEX "users_tenant_id_lower_name_id_idx" ON "users" ("tenant_id", (lower(coalesce("name", '')) COLLATE "C"), "id");
CREATE INDEX "users_tenant_id_created_at_id_idx" ON "users" ("tenant_id", "created_at", "id");
