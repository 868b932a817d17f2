/**
 * The contract between Echo and an integration module. The `integration-run` task runs a
 * module for one event; the module answers with messages, and an `account` message is
 * what creates (or re-activates) an IntegrationAccount.
 */
export enum IntegrationEventType {
  SETUP = "SETUP",
}

/** What a connect flow collected, by auth type. Credentials here never reach the browser or the logs. */
export type SetupInput =
  | {
      kind: "oauth2";
      accessToken: string;
      refreshToken?: string;
      expiresAt?: string;
      scope?: string;
      raw?: Record<string, unknown>;
    }
  | { kind: "api_key"; apiKey: string }
  | { kind: "mcp"; url: string; token?: string };

export type IntegrationEvent = { type: IntegrationEventType.SETUP; userId: string; input: SetupInput };

export type AccountMessage = {
  type: "account";
  data: {
    /** The account's id at the provider: the same id on every reconnect. */
    accountId: string;
    displayName: string;
    settings: Record<string, unknown>;
    credentials: Record<string, unknown>;
  };
};

/**
 * An expected failure, shown to the user as is (never containing a credential). `retryable`
 * marks the provider's trouble (unreachable, 429, 5xx) rather than the user's input: the web
 * flow answers 502 instead of 400, and the integration-run task retries instead of giving up.
 */
export type ErrorMessage = { type: "error"; data: { message: string; field?: string; retryable?: boolean } };

export type IntegrationMessage = AccountMessage | ErrorMessage;

export type IntegrationContext = {
  /** fetch for the provider's API, with Echo's outbound protections and a timeout. */
  fetch: typeof fetch;
  /** The provider's API base URL (configurable so tests can point it at a local stand-in). */
  apiUrl: string;
};

export type IntegrationModule = {
  slug: string;
  handleEvent(event: IntegrationEvent, context: IntegrationContext): Promise<IntegrationMessage[]>;
};

export function errorMessage(message: string, field?: string): ErrorMessage {
  return { type: "error", data: { message, field } };
}

/** The provider could not be asked: nothing is wrong with what the user gave. */
export function unavailableMessage(message: string, field?: string): ErrorMessage {
  return { type: "error", data: { message, field, retryable: true } };
}

/** An answer Echo cannot use; 429 and 5xx are the provider's passing trouble. */
export function unexpectedAnswerMessage(message: string, status: number): ErrorMessage {
  return status === 429 || status >= 500 ? unavailableMessage(message) : errorMessage(message);
}

/** Reads a provider's JSON answer, turning transport problems into user-facing messages. */
export async function fetchProviderJson(
  context: IntegrationContext,
  provider: string,
  url: string,
  init: RequestInit,
): Promise<{ ok: true; status: number; body: unknown } | { ok: false; error: ErrorMessage }> {
  let response: Response;
  try {
    response = await context.fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    const reason =
      error instanceof Error && error.name === "TimeoutError"
        ? "did not answer within 15 seconds"
        : "could not be reached";
    return { ok: false, error: unavailableMessage(`${provider} ${reason}. Try again in a moment.`) };
  }
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    return {
      ok: false,
      error: unexpectedAnswerMessage(
        `${provider} answered with something that is not JSON (HTTP ${response.status}).`,
        response.status,
      ),
    };
  }
  return { ok: true, status: response.status, body };
}
