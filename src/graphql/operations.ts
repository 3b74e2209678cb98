// Which operation of a document runs: the GraphQL spec's GetOperation (graphql-js's
// getOperationAST), with a stable code for each way it fails. A document may carry several
// operations (GraphiQL's habit); one is executed, and only that one is priced
// (./limits.ts priceOperation), over HTTP and over the WebSocket alike.
import { type DocumentNode, Kind, type OperationDefinitionNode } from 'graphql';
import { ServiceError } from '../edge/errors';

/** The document has no operation by the name the request gave. */
export class OperationNotFoundError extends ServiceError {
  readonly code = 'OPERATION_NOT_FOUND' as const;
  readonly status = 400;
  constructor(operationName: string | null, names: string[]) {
    const has = names.length ? names.map((n) => `"${n}"`).join(', ') : 'no named one';
    super(operationName === null ? 'the document has no operation to run' : `the document has no operation named "${operationName}"; it has ${has}`, {
      operationName,
      operations: names,
    });
  }
}

/** The document has several operations and the request did not say which one to run. */
export class OperationNameRequiredError extends ServiceError {
  readonly code = 'OPERATION_NAME_REQUIRED' as const;
  readonly status = 400;
  constructor(names: string[]) {
    super(`the document has ${names.length} operations: send operationName to say which one runs (one of ${names.map((n) => `"${n}"`).join(', ')})`, {
      operations: names,
    });
  }
}

const operationsOf = (document: DocumentNode): OperationDefinitionNode[] =>
  document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);

/** The operation a request runs: the one `operationName` names, or the document's only one when no name is given. */
export function selectOperation(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode {
  const operations = operationsOf(document);
  const names = operations.flatMap((o) => (o.name ? [o.name.value] : []));
  if (operationName != null) {
    const named = operations.find((o) => o.name?.value === operationName);
    if (!named) throw new OperationNotFoundError(operationName, names);
    return named;
  }
  if (operations.length === 1) return operations[0];
  if (operations.length === 0) throw new OperationNotFoundError(null, names);
  throw new OperationNameRequiredError(names);
}

/** The document cut down to one operation and the fragments (all of them: unused ones cost nothing): what pricing walks. */
export function onlyOperation(document: DocumentNode, operation: OperationDefinitionNode): DocumentNode {
  return { ...document, definitions: document.definitions.filter((d) => d === operation || d.kind === Kind.FRAGMENT_DEFINITION) };
}
