import { readdir } from "node:fs/promises";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { apiUser } from "../support/api-client";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

let echo: RunningEcho;
let inbox: WebhookReceiver;

type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, { security?: Record<string, string[]>[]; responses: Record<string, unknown> }>>;
  components: { securitySchemes: Record<string, Record<string, unknown>>; schemas: Record<string, unknown> };
  webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: Record<string, unknown> }> } } }>;
};

beforeAll(async () => {
  echo = await startEchoServer({ databaseUrl: process.env.DATABASE_URL as string, env: { SEED_DEMO_DATA: "false" } });
  inbox = await startWebhookReceiver();
}, 60_000);

afterAll(async () => {
  await echo?.stop();
  await inbox?.close();
});

async function fetchDocument(): Promise<OpenApiDocument> {
  const response = await fetch(`${echo.url}/api/v1/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("application/json");
  return (await response.json()) as OpenApiDocument;
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** `api.v1.endpoints.$endpointId.[test].ts` → `/api/v1/endpoints/{endpointId}/test` (Remix flat routes). */
function pathOfRouteFile(file: string): string {
  const name = file.replace(/\.tsx?$/, "");
  const segments: string[] = [];
  let current = "";
  let escaped = false;
  for (const char of name) {
    if (char === "[") escaped = true;
    else if (char === "]") escaped = false;
    else if (char === "." && !escaped) {
      segments.push(current);
      current = "";
    } else current += char;
  }
  segments.push(current);
  return `/${segments.map((segment) => (segment.startsWith("$") ? `{${segment.slice(1)}}` : segment)).join("/")}`;
}

describe("GET /api/v1/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const document = await fetchDocument();
    expect(document.openapi).toBe("3.1.0");
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("lists the event catalog as webhooks: Echo's own types for anyone, the custom ones for a caller with a key", async () => {
    await prisma.eventType.create({
      data: {
        name: "invoice.voided",
        description: "An invoice was voided.",
        schema: {
          type: "object",
          $defs: { money: { type: "number" } },
          properties: { total: { $ref: "#/$defs/money" } },
        },
        example: { total: 1 },
      },
    });
    const anonymous = await fetchDocument();
    expect(Object.keys(anonymous.webhooks)).toEqual(
      expect.arrayContaining(["integration.connected", "delivery.exhausted"]),
    );
    expect(Object.keys(anonymous.webhooks)).not.toContain("invoice.voided");

    const me = await apiUser(prisma, echo.url);
    const response = await fetch(`${echo.url}/api/v1/openapi.json`, { headers: { Authorization: `Bearer ${me.key}` } });
    const document = (await response.json()) as OpenApiDocument;
    const envelope = document.webhooks["invoice.voided"]!.post.requestBody.content["application/json"]!.schema as {
      properties: { event: { properties: { type: unknown; payload: Record<string, unknown> } } };
    };
    expect(envelope.properties.event.properties.type).toEqual({ const: "invoice.voided" });
    expect(envelope.properties.event.properties.payload).toMatchObject({
      $id: `${echo.url}/api/v1/event-types/invoice.voided`,
      properties: { total: { $ref: "#/$defs/money" } },
    });
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
  });

  it("declares the bearer API key and OAuth 2 authorization code with the integration scope", async () => {
    const document = await fetchDocument();
    expect(document.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(document.components.securitySchemes.oauth2).toMatchObject({
      type: "oauth2",
      flows: {
        authorizationCode: {
          authorizationUrl: `${echo.url}/oauth/authorize`,
          tokenUrl: `${echo.url}/oauth/token`,
          scopes: expect.objectContaining({ integration: expect.any(String) }),
        },
      },
    });
    const endpoints = document.paths["/api/v1/endpoints"]!.get!;
    expect(endpoints.security).toEqual([{ apiKey: [] }, { oauth2: ["integration"] }]);
    expect(document.paths["/api/v1/oauth-apps"]!.get!.security).toEqual([{ apiKey: [] }]);
  });

  it("describes errors as problem+json on every operation but its own", async () => {
    const document = await fetchDocument();
    for (const [route, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (route === "/api/v1/openapi.json") continue;
        const errors = Object.entries(operation.responses).filter(([status]) => status.startsWith("4"));
        expect(errors.length, `${method} ${route}`).toBeGreaterThan(0);
        for (const [, response] of errors) {
          expect(response).toMatchObject({
            content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
          });
        }
      }
    }
  });

  it("documents exactly the api.v1 route files, and each route answers exactly the documented methods", async () => {
    const document = await fetchDocument();
    const files = (await readdir(path.resolve("app/routes"))).filter((file) => file.startsWith("api.v1."));
    const routePaths = files.map(pathOfRouteFile).sort();
    expect(Object.keys(document.paths).sort()).toEqual(routePaths);

    // Real records, so that a route reaches its method check rather than a 404.
    const me = await apiUser(prisma, echo.url);
    const endpoint = (await (
      await me.call("/endpoints", { method: "POST", json: { name: "Probe", url: inbox.url } })
    ).json()) as { id: string };
    const test = (await (await me.call(`/endpoints/${endpoint.id}/test`, { method: "POST" })).json()) as {
      deliveryId: string;
    };
    const app = (await (
      await me.call("/oauth-apps", {
        method: "POST",
        json: {
          name: "Probe app",
          clientType: "CONFIDENTIAL",
          redirectUris: ["https://app.example.com/cb"],
          allowedScopes: ["integration"],
        },
      })
    ).json()) as { id: string };
    const ids: Record<string, string> = {
      endpointId: endpoint.id,
      deliveryId: test.deliveryId,
      appId: app.id,
      eventType: "integration.connected",
    };
    const concrete = (route: string) => route.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!);

    const deletes: string[] = [];
    for (const route of routePaths) {
      const documented = Object.keys(document.paths[route]!).map((method) => method.toUpperCase());
      for (const method of METHODS) {
        if (method === "DELETE" && documented.includes(method)) {
          deletes.push(route);
          continue;
        }
        // A body that is not JSON: documented methods that take one answer 415 and change nothing.
        const response = await fetch(`${echo.url}${concrete(route)}`, {
          method,
          headers: { Authorization: `Bearer ${me.key}`, "Content-Type": "text/plain" },
          body: method === "GET" ? undefined : "probe",
        });
        if (documented.includes(method)) {
          expect(response.status, `${method} ${route}`).not.toBe(405);
          expect(response.status, `${method} ${route}`).toBeLessThan(500);
        } else {
          expect(response.status, `${method} ${route} is not documented`).toBe(405);
          expect(response.headers.get("allow")?.split(", ").sort(), `${method} ${route}`).toEqual(
            [...documented].sort(),
          );
        }
      }
    }
    for (const route of deletes) {
      const response = await fetch(`${echo.url}${concrete(route)}`, {
        method: "DELETE",
        headers: { Authorization: `Bearer ${me.key}` },
      });
      expect(response.status, `DELETE ${route}`).toBe(204);
    }
  });
});
