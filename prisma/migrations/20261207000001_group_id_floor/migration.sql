-- A workspace's group id floor (issue 29). Hand-written; kept in step with prisma/schema.prisma.
--
-- Group ids come from one sequence shared by every workspace (cache 1; every insert takes them
-- from it, none names a lower id), so a workspace's groups all have ids above the sequence's value
-- at the workspace's creation: `group_id_floor`. A scan of a workspace's groups in id order starts
-- there (`tenant_id = $1 AND id > group_id_floor`, src/domain/reads/groups.ts) instead of reading
-- and throwing away every lower id of the workspaces made before it, which the planner does when a
-- workspace holds most of the table (BENCHMARKS.md, "A million groups"). `kauth doctor` reports a
-- group whose id is not above its workspace's floor.

-- The last id the groups sequence gave (0 while it has given none): a new workspace's floor.
-- Read from the sequence itself, not nextval, so that making a workspace uses up no id.
CREATE FUNCTION "current_group_id_floor"() RETURNS INTEGER LANGUAGE sql VOLATILE AS $$
  SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::integer FROM "groups_id_seq"
$$;

ALTER TABLE "tenants" ADD COLUMN "group_id_floor" INTEGER;

-- Existing workspaces: just below their first group (ORDER BY tenant_id, id reads the
-- (tenant_id, id) index), or the sequence's value when they have none.
UPDATE "tenants" t SET "group_id_floor" = coalesce(
  (SELECT g."id" - 1 FROM "groups" g WHERE g."tenant_id" = t."id" ORDER BY g."tenant_id", g."id" LIMIT 1),
  "current_group_id_floor"()
);

ALTER TABLE "tenants"
  ALTER COLUMN "group_id_floor" SET DEFAULT "current_group_id_floor"(),
  ALTER COLUMN "group_id_floor" SET NOT NULL;
