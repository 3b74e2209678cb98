-- kauth groups: initial schema. Hand-written; kept in step with prisma/schema.prisma.
-- Every tenant-owned table has UNIQUE (tenant_id, id), and every reference between
-- tenant-owned rows is a composite foreign key on (tenant_id, …): a row can never
-- point at a row of another tenant, whatever the code does.

CREATE TABLE "tenants" (
  "id"         SERIAL PRIMARY KEY,
  "slug"       TEXT NOT NULL,
  "name"       TEXT NOT NULL,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  CONSTRAINT "tenants_slug_format" CHECK ("slug" ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$')
);
CREATE UNIQUE INDEX "tenants_slug_key" ON "tenants" ("slug");

CREATE TABLE "users" (
  "id"         SERIAL PRIMARY KEY,
  "tenant_id"  INTEGER NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE,
  "email"      TEXT NOT NULL,
  "name"       TEXT,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  CONSTRAINT "users_email_normalised" CHECK ("email" = lower(btrim("email")))
);
CREATE UNIQUE INDEX "users_tenant_id_id_key" ON "users" ("tenant_id", "id");
CREATE UNIQUE INDEX "users_tenant_id_email_key" ON "users" ("tenant_id", "email");

CREATE TABLE "roles" (
  "id"          SERIAL PRIMARY KEY,
  "tenant_id"   INTEGER NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE,
  "name"        TEXT NOT NULL,
  "description" TEXT,
  "created_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX "roles_tenant_id_id_key" ON "roles" ("tenant_id", "id");
CREATE UNIQUE INDEX "roles_tenant_id_name_key" ON "roles" ("tenant_id", "name");

-- The tree: an adjacency list (parent_group_id) plus a materialised path
-- (path = ids from the root down to the group itself, like GitLab's traversal_ids).
-- Ancestors are read from one row; a subtree is one GIN-indexed `path @> ARRAY[id]`.
CREATE TABLE "groups" (
  "id"              SERIAL PRIMARY KEY,
  "tenant_id"       INTEGER NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE,
  "name"            VARCHAR(255) NOT NULL,
  "description"     TEXT,
  "parent_group_id" INTEGER,
  "path"            INTEGER[] NOT NULL,
  "created_at"      TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "updated_at"      TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  CONSTRAINT "groups_name_not_blank" CHECK (length(btrim("name")) > 0),
  CONSTRAINT "groups_not_own_parent" CHECK ("parent_group_id" IS NULL OR "parent_group_id" <> "id"),
  CONSTRAINT "groups_path_ends_with_self" CHECK ("path"[cardinality("path")] = "id"),
  CONSTRAINT "groups_path_matches_parent" CHECK (
    ("parent_group_id" IS NULL AND cardinality("path") = 1)
    OR ("parent_group_id" IS NOT NULL AND cardinality("path") > 1
        AND "path"[cardinality("path") - 1] = "parent_group_id"))
);
CREATE UNIQUE INDEX "groups_tenant_id_id_key" ON "groups" ("tenant_id", "id");
CREATE INDEX "groups_tenant_id_parent_group_id_id_idx" ON "groups" ("tenant_id", "parent_group_id", "id");
CREATE INDEX "groups_path_idx" ON "groups" USING GIN ("path");
ALTER TABLE "groups" ADD CONSTRAINT "groups_tenant_id_parent_group_id_fkey"
  FOREIGN KEY ("tenant_id", "parent_group_id") REFERENCES "groups" ("tenant_id", "id")
  ON DELETE NO ACTION ON UPDATE NO ACTION;

CREATE TABLE "group_members" (
  "tenant_id"  INTEGER NOT NULL,
  "group_id"   INTEGER NOT NULL,
  "user_id"    INTEGER NOT NULL,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  PRIMARY KEY ("group_id", "user_id"),
  FOREIGN KEY ("tenant_id", "group_id") REFERENCES "groups" ("tenant_id", "id") ON DELETE CASCADE,
  FOREIGN KEY ("tenant_id", "user_id") REFERENCES "users" ("tenant_id", "id") ON DELETE CASCADE
);
CREATE INDEX "group_members_tenant_id_user_id_idx" ON "group_members" ("tenant_id", "user_id");

CREATE TABLE "group_roles" (
  "tenant_id" INTEGER NOT NULL,
  "group_id"  INTEGER NOT NULL,
  "role_id"   INTEGER NOT NULL,
  PRIMARY KEY ("group_id", "role_id"),
  FOREIGN KEY ("tenant_id", "group_id") REFERENCES "groups" ("tenant_id", "id") ON DELETE CASCADE,
  FOREIGN KEY ("tenant_id", "role_id") REFERENCES "roles" ("tenant_id", "id") ON DELETE CASCADE
);
CREATE INDEX "group_roles_tenant_id_role_id_idx" ON "group_roles" ("tenant_id", "role_id");

CREATE TABLE "user_roles" (
  "tenant_id" INTEGER NOT NULL,
  "user_id"   INTEGER NOT NULL,
  "role_id"   INTEGER NOT NULL,
  PRIMARY KEY ("user_id", "role_id"),
  FOREIGN KEY ("tenant_id", "user_id") REFERENCES "users" ("tenant_id", "id") ON DELETE CASCADE,
  FOREIGN KEY ("tenant_id", "role_id") REFERENCES "roles" ("tenant_id", "id") ON DELETE CASCADE
);
CREATE INDEX "user_roles_tenant_id_role_id_idx" ON "user_roles" ("tenant_id", "role_id");

CREATE TABLE "api_keys" (
  "id"           SERIAL PRIMARY KEY,
  "tenant_id"    INTEGER NOT NULL REFERENCES "tenants" ("id") ON DELETE CASCADE,
  "name"         TEXT NOT NULL,
  "prefix"       TEXT NOT NULL,
  "secret_hash"  TEXT NOT NULL,
  "scopes"       TEXT[] NOT NULL,
  "created_at"   TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "expires_at"   TIMESTAMPTZ(3),
  "last_used_at" TIMESTAMPTZ(3),
  "revoked_at"   TIMESTAMPTZ(3)
);
CREATE UNIQUE INDEX "api_keys_secret_hash_key" ON "api_keys" ("secret_hash");
CREATE UNIQUE INDEX "api_keys_tenant_id_id_key" ON "api_keys" ("tenant_id", "id");
