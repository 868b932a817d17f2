/**
 * A run's payload as the runs console may show it. Echo's own payloads carry ids, not secrets,
 * with one exception: integration-run's `input` is what a connect flow collected (an API key, an
 * OAuth code), sealed with the at-rest key; it is never shown, not even sealed. Beyond that, any
 * field whose name says it holds a secret is hidden, wherever it is nested, so a payload added
 * later cannot leak one by accident.
 */

export const REDACTED = "[redacted]";

/** Fields that hold sealed (encrypted at rest) input, per task. */
const SEALED_FIELDS: Record<string, readonly string[]> = {
  "integration-run": ["input"],
};

const SECRET_NAME =
  /secret|token|passw(or)?d|credential|api[-_]?key|authori[sz]ation|cookie|private[-_]?key|signature|sealed/i;

const MAX_DEPTH = 20;

export function redactRunPayload(taskId: string, payload: unknown): unknown {
  const sealed = new Set(SEALED_FIELDS[taskId] ?? []);
  if (payload && typeof payload === "object" && !Array.isArray(payload) && sealed.size > 0) {
    const top = Object.fromEntries(
      Object.entries(payload as Record<string, unknown>).map(([key, value]) => [
        key,
        sealed.has(key) ? "[sealed: encrypted at rest, never shown]" : value,
      ]),
    );
    return redactSecrets(top, 0);
  }
  return redactSecrets(payload, 0);
}

function redactSecrets(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) return "[nested too deep to show]";
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [
        key,
        SECRET_NAME.test(key) && item !== null && item !== "" ? REDACTED : redactSecrets(item, depth + 1),
      ]),
    );
  }
  return value;
}
