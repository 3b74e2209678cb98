-- One sibling-name rule (issue 26). Hand-written; kept in step with prisma/schema.prisma.
--
-- A group's name is unique among its siblings (the groups of the workspace under the same parent;
-- roots are siblings of each other), ignoring case, whichever API writes it: GraphQL, REST and SCIM
-- all go through src/domain/sibling-names.ts, and this index holds the rule whatever the code does.
--
-- Names that already break it are renamed first, deterministically: among groups of one workspace
-- under one parent whose names are equal ignoring case, the one with the lowest id keeps its name;
-- each later one (by id) becomes "<name> (2)", "<name> (3)", ... with the smallest number that no
-- sibling has yet (ignoring case), the name cut so the whole stays within 255 characters. Each
-- rename bumps the group's version (SCIM ETags) and is recorded in the audit trail as a
-- GROUP_RENAMED event by actor `cli`, actor name "migration 20261206000002_sibling_names".
DO $$
DECLARE
  dup RECORD;
  n INTEGER;
  suffix TEXT;
  candidate TEXT;
  next_seq BIGINT;
BEGIN
  FOR dup IN
    SELECT id, tenant_id, parent_group_id, name, path
    FROM (
      SELECT g.*, row_number() OVER (PARTITION BY tenant_id, coalesce(parent_group_id, 0), lower(name) ORDER BY id) AS rank
      FROM "groups" g
    ) ranked
    WHERE rank > 1
    ORDER BY tenant_id, coalesce(parent_group_id, 0), id
  LOOP
    n := 2;
    LOOP
      suffix := ' (' || n || ')';
      candidate := left(dup.name, 255 - length(suffix)) || suffix;
      EXIT WHEN NOT EXISTS (
        SELECT 1 FROM "groups" s
        WHERE s.tenant_id = dup.tenant_id AND s.id <> dup.id AND lower(s.name) = lower(candidate)
          AND (s.parent_group_id = dup.parent_group_id OR (s.parent_group_id IS NULL AND dup.parent_group_id IS NULL)));
      n := n + 1;
    END LOOP;
    UPDATE "groups" SET "name" = candidate, "version" = "version" + 1, "updated_at" = now() WHERE id = dup.id;
    INSERT INTO "audit_sequences" AS s ("tenant_id", "last_seq") VALUES (dup.tenant_id, 1)
      ON CONFLICT ("tenant_id") DO UPDATE SET "last_seq" = s."last_seq" + 1
      RETURNING "last_seq" INTO next_seq;
    INSERT INTO "audit_events" ("tenant_id", "seq", "actor", "actor_name", "action", "target_type", "target_id", "group_id", "group_path", "changes")
    VALUES (dup.tenant_id, next_seq, 'cli', 'migration 20261206000002_sibling_names', 'GROUP_RENAMED', 'Group', dup.id::text, dup.id, dup.path,
            jsonb_build_object('name', jsonb_build_object('before', dup.name, 'after', candidate)));
  END LOOP;
END
$$;

-- Roots have no parent: coalesce makes them one set of siblings (ids start at 1, so 0 is no group's).
CREATE UNIQUE INDEX "groups_sibling_name_key" ON "groups" ("tenant_id", coalesce("parent_group_id", 0), lower("name"));
