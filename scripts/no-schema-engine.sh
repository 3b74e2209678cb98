#!/bin/sh
# Stand-in for Prisma's schema engine, which these machines cannot download.
# `prisma generate` only needs the path to exist; migrations are applied by src/db/migrator.ts.
echo "kauth: the Prisma schema engine is not used; migrations are applied by 'kauth migrate'" >&2
exit 1
