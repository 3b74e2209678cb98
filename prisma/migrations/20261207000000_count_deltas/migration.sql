-- Workspace counts without a hot row (issue 29). Hand-written; kept in step with prisma/schema.prisma.
--
-- The scale migration's triggers added every creation and deletion of groups and users to the
-- workspace's row in tenants: one dead row per writing statement, in one row per workspace. They
-- now INSERT one row of deltas per statement instead; a workspace's count is its folded part
-- (tenants.group_count, user_count) plus the sum of its deltas (src/domain/counts.ts), and the
-- statistics keeper's round folds the deltas into tenants in one statement (src/db/count-deltas.ts).
CREATE TABLE "tenant_count_deltas" (
  "id"        BIGSERIAL PRIMARY KEY,
  "tenant_id" INTEGER NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE,
  "groups"    INTEGER NOT NULL DEFAULT 0,
  "users"     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX "tenant_count_deltas_tenant_id_idx" ON "tenant_count_deltas" ("tenant_id");

-- One delta per statement and workspace. A workspace being deleted (its groups and users go by
-- cascade) gets none: its row is already gone, and the delta would break the foreign key.
CREATE OR REPLACE FUNCTION "kauth_group_counts"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  source text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "tenant_count_deltas" ("tenant_id", "groups")
    SELECT d."tenant_id", d.n FROM (SELECT "tenant_id", count(*)::int AS n FROM new_rows GROUP BY 1) d
    WHERE EXISTS (SELECT 1 FROM "tenants" t WHERE t."id" = d."tenant_id");
    source := 'SELECT "path", "parent_group_id" AS parent, 1 AS sign FROM new_rows';
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "tenant_count_deltas" ("tenant_id", "groups")
    SELECT d."tenant_id", -d.n FROM (SELECT "tenant_id", count(*)::int AS n FROM old_rows GROUP BY 1) d
    WHERE EXISTS (SELECT 1 FROM "tenants" t WHERE t."id" = d."tenant_id");
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

CREATE OR REPLACE FUNCTION "kauth_user_counts"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "tenant_count_deltas" ("tenant_id", "users")
    SELECT d."tenant_id", d.n FROM (SELECT "tenant_id", count(*)::int AS n FROM new_rows GROUP BY 1) d
    WHERE EXISTS (SELECT 1 FROM "tenants" t WHERE t."id" = d."tenant_id");
  ELSE
    INSERT INTO "tenant_count_deltas" ("tenant_id", "users")
    SELECT d."tenant_id", -d.n FROM (SELECT "tenant_id", count(*)::int AS n FROM old_rows GROUP BY 1) d
    WHERE EXISTS (SELECT 1 FROM "tenants" t WHERE t."id" = d."tenant_id");
  END IF;
  RETURN NULL;
END $$;
