/** A page boundary of the runs list: the (createdAt, id) of the last run shown, id being the TaskRun's or the delivery's own. */
export type RunCursor = { createdAt: Date; id: string };

/** Opaque to callers: they pass back what they were given. */
export function encodeRunCursor(cursor: RunCursor): string {
  return Buffer.from(`${cursor.createdAt.toISOString()}|${cursor.id}`).toString("base64url");
}

/** null when the string is not a cursor encodeRunCursor made. */
export function decodeRunCursor(value: string): RunCursor | null {
  const text = Buffer.from(value, "base64url").toString("utf8");
  const separator = text.indexOf("|");
  if (separator < 0) return null;
  const createdAt = new Date(text.slice(0, separator));
  const id = text.slice(separator + 1);
  if (!id || id.length > 200 || id.includes("\u0000") || Number.isNaN(createdAt.getTime())) return null;
  return { createdAt, id };
}
