/** One refused input: the path of the field (`events.2.payload.amount`) and what is wrong with it. */
export type FieldIssue = { field: string | null; message: string };

/**
 * An expected failure of a service call (not found, a limit reached, a field refused), with
 * the HTTP status a route should answer. Routes turn it into a problem+json or a form error;
 * anything else that a service throws is a bug, logged once and answered with 500.
 */
export class ServiceError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 409 | 413 | 422 | 429 | 503,
    /** The input field the message is about, when there is one. */
    readonly field?: string,
    /** Every refused field, when there are several (a JSON Schema's failures, a batch's items). */
    readonly issues?: FieldIssue[],
  ) {
    super(message);
    this.name = "ServiceError";
  }
}
