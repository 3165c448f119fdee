// A GraphQL-over-HTTP client in one function, typed by its documents.
//
// The client preset (documentMode "string") turns every operation in src/operations/ into a
// `TypedDocumentString`: a String holding the operation's text (fragments included) that carries the
// result and variables types as a `DocumentTypeDecoration`, the type `TypedDocumentNode` is built on.
// So `request(ViewerDocument)` is typed `Promise<ViewerQuery>`, and the variables are checked too.
import type { DocumentTypeDecoration } from "@graphql-typed-document-node/core";

/** An entry of a response's top-level `errors`: a request the API could not run (not a user error). */
export interface GraphQLErrorEntry {
  readonly message: string;
  readonly path?: ReadonlyArray<string | number>;
  readonly extensions?: { readonly code?: string } & Readonly<Record<string, unknown>>;
}

/** The request failed as a whole: network or CORS refusal, a non-GraphQL answer (413, 500), or
 * top-level GraphQL errors. `requestId` is the API's `X-Request-ID`, for a support ticket. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly requestId: string | null,
    readonly graphQLErrors: readonly GraphQLErrorEntry[] = [],
  ) {
    super(message);
    this.name = "RequestError";
  }
}

// Operations without variables take none; the others require theirs.
type VariablesArgument<V> = V extends Record<string, never> ? [] : [variables: V];

export interface ClientOptions {
  /** The `/graphql` endpoint, on the API's origin. */
  readonly endpoint: string;
  /** The bearer token of the session, or null when signed out. */
  readonly token: () => string | null;
  /** Told the request ID of every answer that has one. */
  readonly onRequestId?: (requestId: string) => void;
}

export type Request = <R, V>(document: DocumentTypeDecoration<R, V>, ...variables: VariablesArgument<V>) => Promise<R>;

export function createClient(options: ClientOptions): Request {
  return async function request<R, V>(
    document: DocumentTypeDecoration<R, V>,
    ...[variables]: VariablesArgument<V>
  ): Promise<R> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json;q=0.9",
    };
    const token = options.token();
    if (token !== null) {
      headers.authorization = `Bearer ${token}`;
    }
    let response: Response;
    try {
      response = await fetch(options.endpoint, {
        method: "POST",
        headers,
        // documentMode "string": the document is the operation's text.
        body: JSON.stringify({ query: String(document), variables: variables ?? {} }),
        mode: "cors",
        credentials: "omit", // bearer tokens, never cookies
        cache: "no-store",
      });
    } catch {
      throw new RequestError(
        `Could not reach the API at ${options.endpoint}: is it running, and does its CORS_ALLOWED_ORIGINS list ${location.origin}?`,
        null,
        null,
      );
    }
    // Readable from another origin because the API exposes it (Access-Control-Expose-Headers).
    const requestId = response.headers.get("x-request-id");
    if (requestId !== null) {
      options.onRequestId?.(requestId);
    }
    const type = response.headers.get("content-type") ?? "";
    if (!/^application\/(graphql-response\+)?json\b/.test(type)) {
      throw new RequestError(`The API answered HTTP ${response.status}.`, response.status, requestId);
    }
    const body = (await response.json()) as { data?: R | null; errors?: readonly GraphQLErrorEntry[] };
    if (body.errors !== undefined && body.errors.length > 0) {
      const messages = body.errors.map((e) => (e.extensions?.code ? `${e.extensions.code}: ${e.message}` : e.message));
      throw new RequestError(messages.join("; "), response.status, requestId, body.errors);
    }
    if (body.data === undefined || body.data === null) {
      throw new RequestError(`The API answered HTTP ${response.status} without data.`, response.status, requestId);
    }
    return body.data;
  };
}
