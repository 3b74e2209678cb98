-- Audit trail and change feed. Hand-written; kept in step with prisma/schema.prisma.
--
-- Every write appends its event in its own transaction. Events are numbered per workspace from
-- `audit_sequences`: the write takes the next number with an UPDATE of the workspace's row as
-- its last statement, so the row stays locked until the write commits and the next writer of
-- that workspace gets its number only afterwards. Numbers are therefore gap-free in commit
-- order, and "every event after seq N" never misses one that commits later with a smaller
-- number (see src/domain/audit.ts).
CREATE TABLE "audit_sequences" (
  "tenant_id" INTEGER PRIMARY KEY REFERENCES "tenants" ("id") ON DELETE CASCADE,
  "last_seq"  BIGINT NOT NULL
);

CREATE TABLE "audit_events" (
  "tenant_id"   INTEGER NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE,
  "seq"         BIGINT NOT NULL,
  "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
  -- `apikey:<id>`, `jwt:<subject>` or `cli`; the key's name (or the subject) beside it.
  "actor"       TEXT NOT NULL,
  "actor_name"  TEXT,
  "action"      TEXT NOT NULL,
  "target_type" TEXT NOT NULL,
  "target_id"   TEXT NOT NULL,
  -- The group the event is about (null for users, roles, keys, the workspace) and every group
  -- on its path before and after: what subtree filters and restricted audit:read match on.
  "group_id"    INTEGER,
  "group_path"  INTEGER[] NOT NULL DEFAULT '{}',
  -- {"field": {"before": …, "after": …}, …}
  "changes"     JSONB NOT NULL,
  "request_id"  TEXT,
  PRIMARY KEY ("tenant_id", "seq"),
  CONSTRAINT "audit_events_actor_format" CHECK ("actor" ~ '^(apikey:[0-9]+|jwt:.+|cli)$')
);
CREATE INDEX "audit_events_group_path_idx" ON "audit_events" USING GIN ("group_path");
CREATE INDEX "audit_events_occurred_at_idx" ON "audit_events" ("occurred_at");
