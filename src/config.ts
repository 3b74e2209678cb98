// Every environment variable the service reads, parsed and validated once.
import path from 'node:path';

export class ConfigError extends Error {}

export type DatabaseConfig =
  | { kind: 'pglite'; dataDir: string }
  | { kind: 'postgres'; url: string };

/** JWT bearer tokens for frontend apps; off unless a key source is configured. */
export interface JwtConfig {
  jwksUrl?: string;
  publicKey?: string;
  secret?: string;
  issuer?: string;
  audience?: string;
}

export interface Config {
  host: string;
  port: number;
  database: DatabaseConfig;
  maxGroupDepth: number;
  demo: boolean;
  logLevel: string;
  jwt: JwtConfig | null;
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

export function databaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const url = env.DATABASE_URL;
  if (url !== undefined && url !== '') {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(`DATABASE_URL is not a valid URL: "${url}"`);
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got "${parsed.protocol}//…"`);
    }
    return { kind: 'postgres', url };
  }
  return { kind: 'pglite', dataDir: path.resolve(env.DATA_DIR || './data') };
}

export function jwtConfig(env: NodeJS.ProcessEnv = process.env): JwtConfig | null {
  const jwksUrl = env.JWT_JWKS_URL || undefined;
  const publicKey = env.JWT_PUBLIC_KEY || undefined;
  const secret = env.JWT_SECRET || undefined;
  const sources = [jwksUrl, publicKey, secret].filter(Boolean).length;
  if (sources === 0) return null;
  if (sources > 1) throw new ConfigError('set only one of JWT_JWKS_URL, JWT_PUBLIC_KEY and JWT_SECRET');
  if (jwksUrl) {
    try {
      new URL(jwksUrl);
    } catch {
      throw new ConfigError(`JWT_JWKS_URL is not a valid URL: "${jwksUrl}"`);
    }
  }
  if (secret && secret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters');
  return { jwksUrl, publicKey, secret, issuer: env.JWT_ISSUER || undefined, audience: env.JWT_AUDIENCE || undefined };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    host: env.HOST || '127.0.0.1',
    port: intFrom(env, 'PORT', 4000, 0, 65535),
    database: databaseConfig(env),
    maxGroupDepth: intFrom(env, 'MAX_GROUP_DEPTH', 50, 1, 1000),
    demo: env.KAUTH_DEMO !== '0',
    logLevel: env.LOG_LEVEL || 'info',
    jwt: jwtConfig(env),
  };
}
