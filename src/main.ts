// config → database → app → listen; nothing else.
import { fail } from './bootstrap';
import { loadConfig } from './config';
import { type ControlSocket, listenForCommands } from './control/socket';
import { openDatabase, statisticsLine } from './db';
import { writeDemoKey } from './demo-key';
import { OPERATOR, createApiKey } from './domain/apikeys';
import { fullAccessContext } from './domain/context';
import { isEmpty, seedDemo } from './domain/demo';
import { buildApp } from './http/app';
import { ALL_SCOPES } from './policy/scopes';

async function main(): Promise<void> {
  const config = loadConfig();
  const db = await openDatabase(config.database, { pool: config.pool });
  const app = await buildApp({
    db: db.prisma,
    maxGroupDepth: config.maxGroupDepth,
    jwt: config.jwt,
    logger: { level: config.logLevel },
    query: config.query,
    traffic: config.traffic,
    redisUrl: config.redisUrl,
    redisPrefix: config.redisPrefix,
    metricsToken: config.metricsToken,
    trustProxy: config.trustProxy,
    readiness: () => db.readiness(),
    statistics: db.statistics.keeper,
    poolStats: () => db.poolStats(),
    listen: db.listen,
    auditRetentionDays: config.auditRetentionDays,
    playground: config.playground,
    corsOrigins: config.corsOrigins,
  });
  app.log[db.statistics.keeper === 'nobody' ? 'warn' : 'info']({ statistics: db.statistics.keeper }, statisticsLine(db.statistics));
  // A backstop: a rejection nobody handled is a bug to log, not a reason for one request to end the process.
  process.on('unhandledRejection', (reason) => app.log.error({ err: reason }, 'unhandled promise rejection'));
  let control: ControlSocket | null = null;
  app.addHook('onClose', async () => {
    await control?.close(); // its commands run on the database: close it first
    await db.close();
  });

  if (config.database.kind === 'pglite' && config.demo && (await isEmpty(db.prisma))) {
    const tenant = await seedDemo(db.prisma, config);
    const ctx = fullAccessContext(db.prisma, tenant.id, config);
    const { key } = await createApiKey(ctx, OPERATOR, { name: 'demo admin', scopes: ALL_SCOPES });
    // The key never goes through the logger (log storage keeps secrets): only the file's path does.
    const keyFile = writeDemoKey(config.database.dataDir, key);
    app.log.info(
      { workspace: tenant.slug, keyFile },
      `empty database: created the demo workspace "demo"; its admin API key is in ${keyFile} (readable by this user only)`,
    );
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.close().then(() => process.exit(0), fail);
    });
  }
  try {
    await app.listen({
      host: config.host,
      port: config.port,
      listenTextResolver: (address) => `kauth groups listening on ${address}/graphql`,
    });
  } catch (error) {
    await app.close();
    throw error;
  }
  // The `kauth` CLI cannot open the embedded database this process holds: it runs its commands here.
  if (config.database.kind === 'pglite') control = await listenForCommands(db, config.database.dataDir, app.log);
}

main().catch(fail);
