// Publish an event to Echo from Node.js 18+ (no dependencies). Needs ECHO_URL and ECHO_API_KEY.
import { randomUUID } from "node:crypto";

export async function publishEchoEvent(eventType, payload, options = {}) {
  const { userId, echoUrl = process.env.ECHO_URL, apiKey = process.env.ECHO_API_KEY } = options;
  // One key for every try: a retry after a lost answer returns the same event, never a second one.
  const idempotencyKey = options.idempotencyKey ?? randomUUID();
  for (let attempt = 1; ; attempt++) {
    let response;
    try {
      response = await fetch(`${echoUrl}/api/v1/events`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${apiKey}`,
          "Content-Type": "application/json",
          "Idempotency-Key": idempotencyKey,
        },
        body: JSON.stringify({ eventType, payload, ...(userId ? { userId } : {}) }),
      });
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      continue;
    }
    const body = await response.json();
    if (response.ok) return body; // { id: "evt_…", eventType, userId, timestamp, idempotencyKey, replayed }
    if (response.status >= 500 && attempt < 3) continue;
    // application/problem+json: `errors` names each failing field, e.g. payload.total.
    const fields = (body.errors ?? []).map((e) => `${e.field}: ${e.message}`).join("; ");
    throw new Error(`Echo refused the event (${response.status} ${body.title}): ${fields || body.detail}`);
  }
}

// From a shell: node publish-event.mjs <eventType> '<payload JSON>' [idempotency key]
if (import.meta.url === `file://${process.argv[1]}`) {
  const [eventType, payload, idempotencyKey] = process.argv.slice(2);
  try {
    console.log(JSON.stringify(await publishEchoEvent(eventType, JSON.parse(payload), { idempotencyKey })));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
