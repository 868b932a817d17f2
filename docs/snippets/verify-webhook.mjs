// Verify an Echo webhook in Node.js (no dependencies). Pass the raw body exactly as received.
import { createHmac, timingSafeEqual } from "node:crypto";

export function verifyEchoWebhook(rawBody, headers, secrets, toleranceSeconds = 300) {
  const header = (name) => headers[name] ?? headers[name.toLowerCase()];
  const id = header("webhook-id");
  const timestamp = header("webhook-timestamp");
  const signatures = header("webhook-signature");
  if (!id || !timestamp || !signatures) throw new Error("missing webhook-id, webhook-timestamp or webhook-signature");
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) {
    throw new Error("timestamp outside the tolerance: possible replay");
  }
  const offered = signatures
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .map((s) => Buffer.from(s.slice(3), "base64"));
  for (const secret of secrets) {
    const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
    const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(rawBody).digest();
    if (offered.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) {
      return { id, timestamp: Number(timestamp) };
    }
  }
  throw new Error("no valid signature");
}

// The test suite feeds a real Echo delivery on stdin: {"body": ..., "headers": ..., "secret": ...}
if (import.meta.url === `file://${process.argv[1]}`) {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const { body, headers, secret } = JSON.parse(Buffer.concat(chunks).toString());
  try {
    verifyEchoWebhook(body, headers, [secret]);
    console.log("valid");
  } catch (error) {
    console.log(`invalid: ${error.message}`);
  }
}
