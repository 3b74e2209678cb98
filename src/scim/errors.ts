// SCIM's error response (RFC 7644 §3.12): the body of every failure of a SCIM request, its status
// and headers decided at the edge (src/edge/failures.ts). `status` is a string; `scimType` only
// where the RFC defines one.
import type { FastifyError } from 'fastify';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import { type KnownError, isKnown } from '../edge/failures';

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
/** The media type of every SCIM response, errors included. */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export type ScimType = 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';

/** A SCIM-level refusal raised by the SCIM layer itself (a malformed filter, PATCH or body); it carries its status, as Fastify's errors do. */
export class ScimError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly scimType?: ScimType,
  ) {
    super(message);
  }
}

interface ScimErrorBody {
  schemas: [typeof ERROR_SCHEMA];
  status: string;
  scimType?: ScimType;
  detail: string;
}

const body = (status: number, detail: string, scimType?: ScimType): ScimErrorBody => ({
  schemas: [ERROR_SCHEMA],
  status: String(status),
  ...(scimType ? { scimType } : {}),
  detail,
});

function scimTypeOf(error: KnownError): ScimType | undefined {
  if (error instanceof ValidationError) return error.field === 'filter' ? 'invalidFilter' : 'invalidValue';
  if (error instanceof NotFoundError) return error.details.field === 'members' || error.details.field === 'userIds' ? 'invalidValue' : undefined;
  if (error instanceof ConflictError) return 'uniqueness';
  return undefined;
}

function detailOf(error: KnownError, status: number): string {
  // An IdP sent a member that is not a user of the workspace.
  if (error instanceof NotFoundError && status === 400) return `members: ${error.message}`;
  if (error.code === 'PRECONDITION_FAILED') return `${error.message} (If-Match)`;
  return error.message;
}

const FASTIFY: Record<string, { detail: string; scimType?: ScimType }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { detail: 'the request body must be application/scim+json or application/json' },
  FST_ERR_CTP_BODY_TOO_LARGE: { detail: 'the request body is larger than 1 MiB' },
  FST_ERR_CTP_INVALID_JSON_BODY: { detail: 'the request body is not valid JSON', scimType: 'invalidSyntax' },
};

/** SCIM's body for a failure (src/edge/failures.ts RenderFailure): a known error, SCIM's or Fastify's own refusal, or null (internal). */
export function scimFailure(error: KnownError | FastifyError | ScimError | null, status: number): ScimErrorBody {
  if (!error) return body(500, 'internal server error; quote the x-request-id header when reporting it');
  if (isKnown(error)) return body(status, detailOf(error, status), scimTypeOf(error));
  if (error instanceof ScimError) return body(status, error.message, error.scimType);
  const known = FASTIFY[(error as FastifyError).code];
  if (known) return body(status, known.detail, known.scimType);
  if ((error as FastifyError).code === 'NO_ROUTE') return body(status, error.message.replace(/^no route/, 'no SCIM endpoint'));
  return body(status, error.message);
}
