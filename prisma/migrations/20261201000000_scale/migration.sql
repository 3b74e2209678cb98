-- Organisation scale (issue 12). Hand-written; kept in step with prisma/schema.prisma.
--
-- Counts that lists report (`totalCount`, REST `meta.total`) are kept up to date in the same
-- transaction as the writes, so reading them never scans a workspace:
--   groups.child_count   direct children;
--   groups.subtree_size  the group and every group below it (descendants = subtree_size - 1);
--   tenants.group_count, tenants.user_count.
-- Statement-level triggers with transition tables keep them: one UPDATE per statement whatever
-- the number of rows (a move of a 1,000-group subtree is one UPDATE of paths and one of counts),
-- and every writer (GraphQL, REST, SCIM, the CLI, bulk loads) is covered without remembering to.
-- Lock order: a trigger touches the tenant row before any group row (deleting a user locks the
-- tenant row, then bumps its groups' versions), so two writers never wait on each other in a cycle.
ALTER TABLE "groups"
  ADD COLUMN "child_count"  INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "subtree_size" INTEGER NOT NULL DEFAULT 1;
ALTER TABLE "tenants"
  ADD COLUMN "group_count" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "user_count"  INTEGER NOT NULL DEFAULT 0;

UPDATE "groups" g SET "child_count" = c.n
FROM (SELECT "parent_group_id" AS id, count(*)::int AS n FROM "groups" WHERE "parent_group_id" IS NOT NULL GROUP BY 1) c
WHERE g."id" = c.id;
UPDATE "groups" g SET "subtree_size" = s.n
FROM (SELECT a.id, count(*)::int AS n FROM "groups", unnest("path") AS a(id) GROUP BY a.id) s
WHERE g."id" = s.id;
UPDATE "tenants" t SET
  "group_count" = (SELECT count(*) FROM "groups" g WHERE g."tenant_id" = t."id"),
  "user_count"  = (SELECT count(*) FROM "users" u WHERE u."tenant_id" = t."id");

-- A subtree in tree order (depth first, siblings by id) is one range of this index: the rows whose
-- path starts with the subtree root's path. Descendant pages read only the rows they return.
CREATE INDEX "groups_tenant_id_path_idx" ON "groups" ("tenant_id", "path");
-- A user's groups, by group id (User.groups pages).
CREATE INDEX "group_members_tenant_id_user_id_group_id_idx" ON "group_members" ("tenant_id", "user_id", "group_id");
DROP INDEX IF EXISTS "group_members_tenant_id_user_id_idx";

-- Applies the rows a statement removed (-1) and added (+1) to the counts of their ancestors and
-- parents; rows a statement left in place (same path, same parent) cancel out. The transition
-- tables differ by operation, so the one UPDATE of counts reads them through `source`.
CREATE FUNCTION "kauth_group_counts"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  source text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE "tenants" t SET "group_count" = t."group_count" + d.n
    FROM (SELECT "tenant_id", count(*)::int AS n FROM new_rows GROUP BY 1) d WHERE t."id" = d."tenant_id";
    source := 'SELECT "path", "parent_group_id" AS parent, 1 AS sign FROM new_rows';
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE "tenants" t SET "group_count" = t."group_count" - d.n
    FROM (SELECT "tenant_id", count(*)::int AS n FROM old_rows GROUP BY 1) d WHERE t."id" = d."tenant_id";
    source := 'SELECT "path", "parent_group_id" AS parent, -1 AS sign FROM old_rows';
  ELSE
    -- Every UPDATE of groups comes here (PostgreSQL has no column list with transition tables),
    -- the UPDATE of counts below too: only one that moved a group changes a count.
    -- (EXCEPT hashes both tables: a join of two transition tables is a nested loop, quadratic.)
    IF NOT EXISTS (SELECT "id", "path", "parent_group_id" FROM old_rows
                   EXCEPT SELECT "id", "path", "parent_group_id" FROM new_rows) THEN
      RETURN NULL;
    END IF;
    source := 'SELECT "path", "parent_group_id" AS parent, -1 AS sign FROM old_rows
               UNION ALL SELECT "path", "parent_group_id", 1 FROM new_rows';
  END IF;
  EXECUTE format($sql$
    UPDATE "groups" g SET
      "subtree_size" = g."subtree_size" + coalesce(x.below, 0),
      "child_count"  = g."child_count" + coalesce(x.kids, 0)
    FROM (
      SELECT coalesce(s.id, k.id) AS id, s.n AS below, k.n AS kids
      FROM (SELECT a.id, sum(d.sign)::int AS n
            FROM (%1$s) d, unnest(d."path"[1:cardinality(d."path") - 1]) AS a(id)
            GROUP BY a.id HAVING sum(d.sign) <> 0) s
      FULL JOIN (SELECT d.parent AS id, sum(d.sign)::int AS n FROM (%1$s) d
                 WHERE d.parent IS NOT NULL GROUP BY 1 HAVING sum(d.sign) <> 0) k ON k.id = s.id
    ) x
    WHERE g."id" = x.id$sql$, source);
  RETURN NULL;
END $$;

CREATE TRIGGER "groups_counts_insert" AFTER INSERT ON "groups"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "kauth_group_counts"();
CREATE TRIGGER "groups_counts_delete" AFTER DELETE ON "groups"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "kauth_group_counts"();
CREATE TRIGGER "groups_counts_move" AFTER UPDATE ON "groups"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "kauth_group_counts"();

CREATE FUNCTION "kauth_user_counts"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE "tenants" t SET "user_count" = t."user_count" + d.n
    FROM (SELECT "tenant_id", count(*)::int AS n FROM new_rows GROUP BY 1) d WHERE t."id" = d."tenant_id";
  ELSE
    UPDATE "tenants" t SET "user_count" = t."user_count" - d.n
    FROM (SELECT "tenant_id", count(*)::int AS n FROM old_rows GROUP BY 1) d WHERE t."id" = d."tenant_id";
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "users_counts_insert" AFTER INSERT ON "users"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "kauth_user_counts"();
CREATE TRIGGER "users_counts_delete" AFTER DELETE ON "users"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "kauth_user_counts"();
