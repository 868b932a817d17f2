import { describe, expect, it } from "vitest";
import {
  endpointInputFrom,
  headerRowsForDisplay,
  readEndpointForm,
  redisplayedValues,
} from "~/lib/webhooks/endpoint-form";
import { endpointState } from "~/lib/webhooks/endpoint-state";

function form(fields: [string, string][]): FormData {
  const data = new FormData();
  for (const [name, value] of fields) data.append(name, value);
  return data;
}

const BASE: [string, string][] = [
  ["name", "Orders"],
  ["url", "https://example.com/hook"],
  ["enabled", "on"],
  ["maxRetries", "3"],
  ["retryBaseDelaySeconds", ""],
  ["timeoutSeconds", "12.5"],
];

describe("the endpoint form", () => {
  it("turns seconds into milliseconds, an empty base delay into the default schedule, and rows into headers", () => {
    const values = readEndpointForm(
      form([
        ...BASE,
        ["eventTypes", "oauth.grant.created"],
        ["headerName", " X-Team "],
        ["headerValue", "blue"],
        ["headerName", ""],
        ["headerValue", ""],
      ]),
    );
    expect(endpointInputFrom(values)).toEqual({
      ok: true,
      input: {
        name: "Orders",
        url: "https://example.com/hook",
        eventTypes: ["oauth.grant.created"],
        enabled: true,
        customHeaders: { "X-Team": "blue" },
        maxRetries: 3,
        retryBaseDelayMs: null,
        timeoutMs: 12_500,
      },
    });
  });

  it("reads an unchecked box as switched off", () => {
    const values = readEndpointForm(form(BASE.filter(([name]) => name !== "enabled")));
    expect(values.enabled).toBe(false);
  });

  it("keeps a hidden credential when its field is left empty, and replaces it when one is typed", () => {
    const saved = { "X-Api-Key": "old-key" };
    const kept = readEndpointForm(
      form([...BASE, ["headerName", "x-api-key"], ["headerValue", ""], ["headerKept", "0"]]),
    );
    expect(endpointInputFrom(kept, saved)).toMatchObject({
      ok: true,
      input: { customHeaders: { "x-api-key": "old-key" } },
    });
    const replaced = readEndpointForm(
      form([...BASE, ["headerName", "X-Api-Key"], ["headerValue", "new-key"], ["headerKept", "0"]]),
    );
    expect(endpointInputFrom(replaced, saved)).toMatchObject({
      ok: true,
      input: { customHeaders: { "X-Api-Key": "new-key" } },
    });
  });

  it.each([
    [
      [
        ["headerName", "Content-Type"],
        ["headerValue", "x"],
      ],
      "Content-Type: Echo sets this header itself",
    ],
    [
      [
        ["headerName", "bad name"],
        ["headerValue", "x"],
      ],
      "bad name: Header names may contain only",
    ],
    [
      [
        ["headerName", ""],
        ["headerValue", "orphan"],
      ],
      "Give every header a name",
    ],
    [
      [
        ["headerName", "X-A"],
        ["headerValue", "1"],
        ["headerName", "x-a"],
        ["headerValue", "2"],
      ],
      "x-a: This header is already set",
    ],
  ] as [[string, string][], string][])("refuses header rows %j beside the headers", (rows, message) => {
    const result = endpointInputFrom(readEndpointForm(form([...BASE, ...rows])));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.fieldErrors.headers).toContain(message);
  });

  it("says which number is not one", () => {
    const result = endpointInputFrom(
      readEndpointForm(form([...BASE.filter(([name]) => name !== "timeoutSeconds"), ["timeoutSeconds", "soon"]])),
    );
    expect(result).toEqual({ ok: false, fieldErrors: { timeoutSeconds: "Enter the timeout in seconds" } });
  });

  it("never shows the value of a header whose name looks like a credential", () => {
    expect(headerRowsForDisplay({ Authorization: "Bearer x", "X-Api-Key": "k", "X-Team": "blue" })).toEqual([
      { name: "Authorization", value: "", hidden: true },
      { name: "X-Api-Key", value: "", hidden: true },
      { name: "X-Team", value: "blue" },
    ]);
    const typed = readEndpointForm(form([...BASE, ["headerName", "X-Auth-Token"], ["headerValue", "typed"]]));
    expect(JSON.stringify(redisplayedValues(typed))).not.toContain("typed");
  });
});

describe("an endpoint's state", () => {
  const base = { enabled: true, pausedAt: null, disabledAt: null, disabledReason: null };
  it("is active, paused, switched off or disabled (with the reason), Echo's disabling first", () => {
    expect(endpointState(base).label).toBe("active");
    expect(endpointState({ ...base, pausedAt: new Date() }).label).toBe("paused");
    expect(endpointState({ ...base, enabled: false, pausedAt: new Date() }).label).toBe("switched off");
    expect(endpointState({ ...base, enabled: false, disabledAt: new Date(), disabledReason: "HTTP 410 Gone" })).toEqual(
      { kind: "disabled", label: "disabled", reason: "HTTP 410 Gone" },
    );
  });
});
