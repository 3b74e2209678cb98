// Request validation for the REST routes. Fastify's default ajv coerces types and silently
// drops unknown properties; a documented JSON API must reject both in bodies instead.
// Path and query values arrive as strings: only plain decimal integers become integers
// ("12" → 12), so "abc", "1.5", "1e3", "0x10" or one beyond 2^53 fail an integer schema.
import Ajv, { type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

const ajv = new Ajv({ useDefaults: true, coerceTypes: false, removeAdditional: false, allErrors: false, strict: true, allowUnionTypes: true });

const DECIMAL_INTEGER = /^-?[0-9]+$/;

interface ObjectSchema {
  properties?: Record<string, { type?: unknown }>;
}

function withIntegerCoercion(schema: ObjectSchema, validate: ValidateFunction): ValidateFunction {
  const integers = Object.entries(schema.properties ?? {})
    .filter(([, property]) => property.type === 'integer')
    .map(([name]) => name);
  const coercing = ((data: Record<string, unknown>) => {
    for (const name of integers) {
      const value = data[name];
      // Past 2^53 Number() rounds ("9007199254740993" → …992): such a string stays a string and fails the type.
      if (typeof value === 'string' && DECIMAL_INTEGER.test(value) && Number.isSafeInteger(Number(value))) data[name] = Number(value);
    }
    return validate(data);
  }) as ValidateFunction;
  Object.defineProperty(coercing, 'errors', { get: () => validate.errors });
  return coercing;
}

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  const validate = ajv.compile(schema);
  return httpPart === 'body' ? validate : withIntegerCoercion(schema as ObjectSchema, validate);
};
