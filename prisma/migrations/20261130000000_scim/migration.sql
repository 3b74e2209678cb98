-- SCIM provisioning (src/scim). Hand-written; kept in step with prisma/schema.prisma.
--
-- Users get the attributes identity providers push: a userName unique per workspace ignoring case
-- (IdPs match users by it), their own id for the user (externalId), given and family names, every
-- email they send (`emails`; `email` stays the one address the rest of the service uses, and may
-- now be absent), and `active`: a deactivated user is kept but grants nothing.
-- `version` numbers each state of a user or group for SCIM's ETags (meta.version): every write
-- that changes what SCIM shows of the row adds one.
ALTER TABLE "users" ALTER COLUMN "email" DROP NOT NULL;
ALTER TABLE "users"
  ADD COLUMN "user_name"   TEXT,
  ADD COLUMN "external_id" TEXT,
  ADD COLUMN "given_name"  TEXT,
  ADD COLUMN "family_name" TEXT,
  ADD COLUMN "emails"      JSONB NOT NULL DEFAULT '[]',
  ADD COLUMN "active"      BOOLEAN NOT NULL DEFAULT true,
  ADD COLUMN "version"     INTEGER NOT NULL DEFAULT 1,
  ADD COLUMN "updated_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT now();
UPDATE "users"
SET "user_name" = "email",
    "emails" = jsonb_build_array(jsonb_build_object('value', "email", 'type', 'work', 'primary', true)),
    "updated_at" = "created_at";
ALTER TABLE "users" ALTER COLUMN "user_name" SET NOT NULL;
CREATE UNIQUE INDEX "users_tenant_id_user_name_key" ON "users" ("tenant_id", lower("user_name"));
CREATE INDEX "users_tenant_id_external_id_idx" ON "users" ("tenant_id", "external_id");

ALTER TABLE "groups"
  ADD COLUMN "external_id" TEXT,
  ADD COLUMN "version"     INTEGER NOT NULL DEFAULT 1;
-- SCIM clients find groups by name, and a name is unique among the groups a SCIM client makes under one parent.
CREATE INDEX "groups_tenant_id_parent_group_id_name_idx" ON "groups" ("tenant_id", "parent_group_id", lower("name"));
