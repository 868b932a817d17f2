import { ServiceError, type FieldIssue } from "./service-error.server";

export type ServiceFailure = {
  ok: false;
  status: ServiceError["status"];
  message: string;
  field?: string;
  /** Every refused field, when the service named several. */
  issues?: FieldIssue[];
};

/**
 * Runs a service call for a form action: a ServiceError becomes a value the page shows
 * (beside its field when it names one), except "not found", which becomes the 404 page.
 * Anything else is a bug and propagates to be logged once.
 */
export async function attemptService<T>(call: () => Promise<T>): Promise<{ ok: true; value: T } | ServiceFailure> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    if (error.status === 404) throw new Response(error.message, { status: 404 });
    return { ok: false, status: error.status, message: error.message, field: error.field, issues: error.issues };
  }
}
