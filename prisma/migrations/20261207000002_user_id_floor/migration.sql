-- A workspace's user id floor (issue 29), as 20261207000001_group_id_floor gives it a group id
-- floor. Hand-written; kept in step with prisma/schema.prisma.
--
-- User ids come from one sequence shared by every workspace (cache 1; every insert takes them from
-- it, none names a lower id), so a workspace's users all have ids above the sequence's value at
-- the workspace's creation: `user_id_floor`. A scan of a workspace's users in id order (GraphQL
-- `users`, SCIM `/Users`, the walk that finds a big subtree's inherited members) starts there
-- instead of reading and throwing away every lower id of the workspaces made before it: at
-- 100,000 groups, a workspace made after a 200,000-user one walked its crowd's members in 42.9 ms
-- instead of 13 (BENCHMARKS.md, "A million groups"). `kauth doctor` reports a user whose id is not
-- above its workspace's floor.

-- The last id the users sequence gave (0 while it has given none): a new workspace's floor.
CREATE FUNCTION "current_user_id_floor"() RETURNS INTEGER LANGUAGE sql VOLATILE AS $$
  SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::integer FROM "users_id_seq"
$$;

ALTER TABLE "tenants" ADD COLUMN "user_id_floor" INTEGER;

-- Existing workspaces: just below their first user (ORDER BY tenant_id, id reads the
-- (tenant_id, id) index), or the sequence's value when they have none.
UPDATE "tenants" t SET "user_id_floor" = coalesce(
  (SELECT u."id" - 1 FROM "users" u WHERE u."tenant_id" = t."id" ORDER BY u."tenant_id", u."id" LIMIT 1),
  "current_user_id_floor"()
);

ALTER TABLE "tenants"
  ALTER COLUMN "user_id_floor" SET DEFAULT "current_user_id_floor"(),
  ALTER COLUMN "user_id_floor" SET NOT NULL;
