import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { decryptAtRest } from "~/services/encryption.server";
import { hashPassword } from "~/services/auth/password.server";
import { openCustomHeaders } from "~/services/webhooks/custom-headers.server";
import { createEndpoint, MAX_ENDPOINTS_PER_USER } from "~/services/webhooks/endpoints.server";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { csrfTokenIn, fetchWithJar, logInOverHttp, type CookieJar } from "../support/http-session";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

// The endpoint screens' forms as a browser posts them, against the real built Echo (run
// `npm run build` first): CSRF on every form, 400 with the message beside the field, 404
// for another user's endpoint, and credentials in custom headers never sent back in HTML.

let echo: RunningEcho;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver({ status: 200, body: "received" });
  echo = await startEchoServer({ databaseUrl: process.env.DATABASE_URL as string, env: { SEED_DEMO_DATA: "false" } });
}, 60_000);

afterAll(async () => {
  await echo?.stop();
  await receiver?.close();
});

async function newUser() {
  const email = `endpoints-${Math.random().toString(36).slice(2)}@example.com`;
  const password = "a-long-password-123";
  const user = await prisma.user.create({
    data: { email, name: "Enda Point", passwordHash: await hashPassword(password) },
    select: { id: true },
  });
  const jar = await logInOverHttp(echo.url, email, password);
  return { ...user, jar, csrf: await csrfFor(jar) };
}

async function csrfFor(jar: CookieJar): Promise<string> {
  const page = await fetchWithJar(jar, `${echo.url}/webhooks/endpoints`);
  expect(page.status).toBe(200);
  return csrfTokenIn(await page.text());
}

/** The page's HTML without React's text separators, with entities decoded where messages use them. */
async function html(response: Response): Promise<string> {
  return (await response.text()).replaceAll("<!-- -->", "").replaceAll("&quot;", '"').replaceAll("&#x27;", "'");
}

function postForm(jar: CookieJar, path: string, fields: [string, string][]) {
  return fetchWithJar(jar, `${echo.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
}

function endpointForm(csrf: string, overrides: Record<string, string> = {}, extra: [string, string][] = []) {
  const fields: Record<string, string> = {
    csrf,
    name: "Orders",
    url: receiver.url,
    secretMode: "generate",
    enabled: "on",
    maxRetries: "3",
    retryBaseDelaySeconds: "",
    timeoutSeconds: "10",
    ...overrides,
  };
  return [...Object.entries(fields), ...extra];
}

async function endpointOf(userId: string, name = "Secret stash") {
  return createEndpoint(
    { userId },
    {
      name,
      url: receiver.url,
      eventTypes: [],
      enabled: true,
      customHeaders: { "X-Api-Key": "never-in-html-123", "X-Team": "blue" },
      maxRetries: 2,
      retryBaseDelayMs: null,
      timeoutMs: 10_000,
    },
  );
}

describe("creating an endpoint", () => {
  it("answers 400 with each message beside its field, and creates nothing", async () => {
    const user = await newUser();
    const response = await postForm(
      user.jar,
      "/webhooks/endpoints/new",
      endpointForm(user.csrf, {
        name: " ",
        maxRetries: "11",
        timeoutSeconds: "1",
        retryBaseDelaySeconds: "soon",
        secretMode: "paste",
        secret: "not-a-secret",
      }),
    );
    expect(response.status).toBe(400);
    const page = await html(response);
    expect(page).toContain("Enter the base delay in seconds, or leave it empty");

    const second = await postForm(
      user.jar,
      "/webhooks/endpoints/new",
      endpointForm(user.csrf, { name: " ", maxRetries: "11", timeoutSeconds: "1", secretMode: "paste", secret: "x" }, [
        ["eventTypes", "No Such Event"],
      ]),
    );
    expect(second.status).toBe(400);
    const secondPage = await html(second);
    expect(secondPage).toContain("Give the endpoint a name");
    expect(secondPage).toContain("At most 10 retries");
    expect(secondPage).toContain("The timeout must be at least 5 seconds");
    expect(secondPage).toContain('A secret is "whsec_"');
    expect(secondPage).toContain("name is lowercase words (a-z, 0-9, _) separated by dots");

    // A well-formed name the catalog does not have is refused beside the events, once the rest is right.
    const unknownType = await postForm(
      user.jar,
      "/webhooks/endpoints/new",
      endpointForm(user.csrf, {}, [["eventTypes", "no.such.event"]]),
    );
    expect(unknownType.status).toBe(400);
    expect(await html(unknownType)).toContain("No event type no.such.event in the catalog.");

    const badUrl = await postForm(
      user.jar,
      "/webhooks/endpoints/new",
      endpointForm(user.csrf, { url: "ftp://example.com/hook" }),
    );
    expect(badUrl.status).toBe(400);
    expect(await html(badUrl)).toContain("Only http and https URLs are allowed.");

    const badHeader = await postForm(user.jar, "/webhooks/endpoints/new", [
      ...endpointForm(user.csrf),
      ["headerName", "Content-Type"],
      ["headerValue", "text/plain"],
    ]);
    expect(badHeader.status).toBe(400);
    expect(await html(badHeader)).toContain("Content-Type: Echo sets this header itself");

    expect(await prisma.webhookEndpoint.count({ where: { ownerId: user.id } })).toBe(0);
  });

  it("creates it, redirects to its page, and shows the generated secret there exactly once", async () => {
    const user = await newUser();
    const response = await postForm(user.jar, "/webhooks/endpoints/new", [
      ...endpointForm(user.csrf, { name: "Orders" }, [["eventTypes", "oauth.grant.created"]]),
      ["headerName", "X-Api-Key"],
      ["headerValue", "typed-once-456"],
    ]);
    expect(response.status).toBe(302);
    const endpoint = await prisma.webhookEndpoint.findFirstOrThrow({ where: { ownerId: user.id } });
    expect(response.headers.get("location")).toBe(`/webhooks/endpoints/${endpoint.id}`);
    expect(endpoint).toMatchObject({
      name: "Orders",
      eventTypes: ["oauth.grant.created"],
      maxRetries: 3,
      timeoutMs: 10_000,
      retryBaseDelayMs: null,
    });
    expect(openCustomHeaders(endpoint.customHeaders)).toEqual({ "X-Api-Key": "typed-once-456" });

    const first = await html(await fetchWithJar(user.jar, `${echo.url}/webhooks/endpoints/${endpoint.id}`));
    expect(first).toContain(decryptAtRest(endpoint.secret));
    expect(first).not.toContain("typed-once-456");
    const again = await html(await fetchWithJar(user.jar, `${echo.url}/webhooks/endpoints/${endpoint.id}`));
    expect(again).not.toContain(decryptAtRest(endpoint.secret));
  });

  it("refuses the eleventh endpoint, and the list says why New endpoint is disabled", async () => {
    const user = await newUser();
    for (let index = 0; index < MAX_ENDPOINTS_PER_USER; index++) await endpointOf(user.id, `Endpoint ${index}`);
    const list = await html(await fetchWithJar(user.jar, `${echo.url}/webhooks/endpoints`));
    expect(list).toContain(`You have ${MAX_ENDPOINTS_PER_USER} endpoints, the most Echo allows`);
    expect(list).toMatch(/<button[^>]*disabled=""[^>]*>New endpoint<\/button>/);

    const response = await postForm(user.jar, "/webhooks/endpoints/new", endpointForm(user.csrf));
    expect(response.status).toBe(409);
    expect(await html(response)).toContain(`You can have at most ${MAX_ENDPOINTS_PER_USER} endpoints`);
  });
});

describe("editing an endpoint", () => {
  it("never sends a credential header's value back, and keeps it when the field is left empty", async () => {
    const user = await newUser();
    const endpoint = await endpointOf(user.id);
    for (const path of ["", "/edit"]) {
      const page = await html(await fetchWithJar(user.jar, `${echo.url}/webhooks/endpoints/${endpoint.id}${path}`));
      expect(page).toContain("X-Api-Key");
      expect(page).not.toContain("never-in-html-123");
      expect(page).toContain("blue");
    }

    const saved = await postForm(user.jar, `/webhooks/endpoints/${endpoint.id}/edit`, [
      ...endpointForm(user.csrf, { name: "Renamed" }),
      ["headerName", "X-Api-Key"],
      ["headerValue", ""],
      ["headerKept", "0"],
      ["headerName", "X-Team"],
      ["headerValue", "green"],
    ]);
    expect(saved.status).toBe(302);
    const after = await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(after.name).toBe("Renamed");
    expect(openCustomHeaders(after.customHeaders)).toEqual({ "X-Api-Key": "never-in-html-123", "X-Team": "green" });

    // A refused save does not echo a credential typed into the form either.
    const refused = await postForm(user.jar, `/webhooks/endpoints/${endpoint.id}/edit`, [
      ...endpointForm(user.csrf, { timeoutSeconds: "0" }),
      ["headerName", "X-Auth-Token"],
      ["headerValue", "fresh-credential-789"],
    ]);
    expect(refused.status).toBe(400);
    const refusedPage = await html(refused);
    expect(refusedPage).toContain("The timeout must be at least 5 seconds");
    expect(refusedPage).not.toContain("fresh-credential-789");
  });
});

describe("the endpoint page's actions", () => {
  it("answers a bad 'retry failed since' with 400 beside the field", async () => {
    const user = await newUser();
    const endpoint = await endpointOf(user.id);
    const garbage = await postForm(user.jar, `/webhooks/endpoints/${endpoint.id}`, [
      ["csrf", user.csrf],
      ["intent", "retry-failed"],
      ["since", "yesterday"],
    ]);
    expect(garbage.status).toBe(400);
    expect(await html(garbage)).toContain("Pick a date and time (UTC)");

    const future = await postForm(user.jar, `/webhooks/endpoints/${endpoint.id}`, [
      ["csrf", user.csrf],
      ["intent", "retry-failed"],
      ["since", "2999-01-01T00:00"],
    ]);
    expect(future.status).toBe(400);
    expect(await html(future)).toContain("`since` is in the future.");
  });

  it("sends a test event and returns the receiver's answer to the fetcher", async () => {
    const user = await newUser();
    const endpoint = await endpointOf(user.id);
    const before = receiver.received.length;
    const response = await postForm(user.jar, `/resources/webhooks/endpoints/${endpoint.id}/test-event`, [
      ["csrf", user.csrf],
    ]);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { outcome: string; attempt: { responseStatus: number } };
    expect(body).toMatchObject({ outcome: "delivered", attempt: { responseStatus: 200, responseBody: "received" } });
    expect(receiver.received.length).toBe(before + 1);
    expect(receiver.received.at(-1)!.headers["x-api-key"]).toBe("never-in-html-123");
  });

  it("pauses, resumes and deletes, redirecting to the list after deleting", async () => {
    const user = await newUser();
    const endpoint = await endpointOf(user.id);
    const post = (intent: string) =>
      postForm(user.jar, `/webhooks/endpoints/${endpoint.id}`, [
        ["csrf", user.csrf],
        ["intent", intent],
      ]);
    expect((await post("pause")).status).toBe(200);
    expect((await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).pausedAt).not.toBeNull();
    expect((await post("resume")).status).toBe(200);
    expect((await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).pausedAt).toBeNull();
    const deleted = await post("delete");
    expect(deleted.status).toBe(302);
    expect(deleted.headers.get("location")).toBe("/webhooks/endpoints");
    expect(await prisma.webhookEndpoint.count({ where: { id: endpoint.id } })).toBe(0);
  });
});

describe("CSRF", () => {
  it("refuses every endpoint form without the token, and changes nothing", async () => {
    const user = await newUser();
    const endpoint = await endpointOf(user.id);
    const withoutToken = (fields: [string, string][]) => fields.filter(([name]) => name !== "csrf");
    const attempts: [string, [string, string][]][] = [
      ["/webhooks/endpoints/new", withoutToken(endpointForm(user.csrf))],
      [`/webhooks/endpoints/${endpoint.id}/edit`, withoutToken(endpointForm(user.csrf, { name: "Hijacked" }))],
      [`/webhooks/endpoints/${endpoint.id}`, [["intent", "delete"]]],
      [`/webhooks/endpoints/${endpoint.id}`, [["intent", "rotate-secret"]]],
      [`/webhooks/endpoints/${endpoint.id}`, [["intent", "reveal-secret"]]],
      [`/webhooks/endpoints/${endpoint.id}`, [["intent", "pause"]]],
      [`/resources/webhooks/endpoints/${endpoint.id}/test-event`, []],
      [
        `/webhooks/endpoints/${endpoint.id}`,
        [
          ["intent", "pause"],
          ["csrf", "forged-token-forged-token-forged-token"],
        ],
      ],
    ];
    for (const [path, fields] of attempts) {
      const response = await postForm(user.jar, path, fields);
      expect(response.status, path).toBe(403);
      expect(await response.text()).not.toContain("whsec_");
    }
    const after = await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(after).toMatchObject({ name: endpoint.name, secret: endpoint.secret, pausedAt: null });
    expect(await prisma.webhookEndpoint.count({ where: { ownerId: user.id } })).toBe(1);
    expect(await prisma.webhookDelivery.count({ where: { endpointId: endpoint.id } })).toBe(0);
  });
});

describe("another user's endpoint", () => {
  it("is not found on every page and action, and nothing of it changes or leaks", async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const endpoint = await endpointOf(alice.id, "Alice's endpoint");
    const base = `/webhooks/endpoints/${endpoint.id}`;
    for (const path of [base, `${base}/edit`, `${base}/stats`, `${base}/stats?window=7d`]) {
      const response = await fetchWithJar(bob.jar, `${echo.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text()).not.toContain("Alice&#x27;s endpoint");
    }
    for (const intent of ["reveal-secret", "rotate-secret", "pause", "resume", "delete"]) {
      const response = await postForm(bob.jar, base, [
        ["csrf", bob.csrf],
        ["intent", intent],
      ]);
      expect(response.status, intent).toBe(404);
      expect(await response.text()).not.toContain("whsec_");
    }
    const retry = await postForm(bob.jar, base, [
      ["csrf", bob.csrf],
      ["intent", "retry-failed"],
      ["since", "2026-01-01T00:00"],
    ]);
    expect(retry.status).toBe(404);
    expect((await postForm(bob.jar, `${base}/edit`, endpointForm(bob.csrf, { name: "Mine now" }))).status).toBe(404);
    expect(
      (await postForm(bob.jar, `/resources/webhooks/endpoints/${endpoint.id}/test-event`, [["csrf", bob.csrf]])).status,
    ).toBe(404);
    // Filtering the log by it shows nothing of Alice's.
    const log = await html(await fetchWithJar(bob.jar, `${echo.url}/webhooks?endpointId=${endpoint.id}`));
    expect(log).not.toContain("Alice's endpoint");

    const after = await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(after).toMatchObject({ name: "Alice's endpoint", secret: endpoint.secret, pausedAt: null });
    expect(await prisma.webhookDelivery.count({ where: { endpointId: endpoint.id } })).toBe(0);
  });

  it("is 404 for a missing id too", async () => {
    const user = await newUser();
    for (const path of ["/webhooks/endpoints/no-such-endpoint", "/webhooks/endpoints/no-such-endpoint/stats"]) {
      expect((await fetchWithJar(user.jar, `${echo.url}${path}`)).status, path).toBe(404);
    }
  });
});

describe("anonymous requests", () => {
  it.each([
    ["GET", "/webhooks/endpoints"],
    ["GET", "/webhooks/endpoints/new"],
    ["GET", "/webhooks/endpoints/any-id/stats"],
    ["POST", "/webhooks/endpoints/new"],
    ["POST", "/resources/webhooks/endpoints/any-id/test-event"],
  ])("%s %s goes to the login page", async (method, path) => {
    const response = await fetch(`${echo.url}${path}`, {
      method,
      redirect: "manual",
      ...(method === "POST"
        ? { headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "name=x" }
        : {}),
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toMatch(/^\/login\?redirectTo=/);
  });
});
