import { describe, expect, it } from "vitest";
import { customEventTypeNameProblem, EVENT_TYPES, EventTypeNameSchema } from "~/lib/events/catalog";
import { compileJsonSchema } from "~/lib/events/json-schema";
import { DEMO_EVENT_TYPES } from "~/services/seed/demo-event-types";

const ORDER = {
  type: "object",
  properties: {
    id: { type: "string" },
    total: { type: "number", minimum: 0 },
    email: { type: "string", format: "email" },
    items: { type: "array", items: { type: "object", properties: { sku: { type: "string" } }, required: ["sku"] } },
  },
  required: ["id", "total"],
  additionalProperties: false,
};

function compiled(schema: unknown) {
  const result = compileJsonSchema(schema);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.check;
}

describe("compileJsonSchema: payloads", () => {
  it("accepts a payload that matches", () => {
    expect(compiled(ORDER)({ id: "ord_1", total: 3, email: "a@example.com", items: [{ sku: "x" }] })).toEqual([]);
  });

  it("lists every failing path, as dotted paths with messages a person can act on", () => {
    expect(compiled(ORDER)({ total: -1, email: "not-an-email", items: [{}], extra: true })).toEqual([
      { path: "id", message: "Required" },
      { path: "extra", message: "Not allowed by the schema (additionalProperties is false)" },
      { path: "total", message: "Must be >= 0" },
      { path: "email", message: 'Must match format "email"' },
      { path: "items.0.sku", message: "Required" },
    ]);
  });

  it("names a wrong type at the payload's root with an empty path", () => {
    expect(compiled({ type: "object" })([1, 2])).toEqual([{ path: "", message: "Must be object" }]);
  });

  it("reads JSON Pointer escapes in property names", () => {
    const check = compiled({ type: "object", properties: { "a/b": { type: "string" } } });
    expect(check({ "a/b": 1 })).toEqual([{ path: "a/b", message: "Must be string" }]);
  });

  it("keeps JSON Schema 2020-12 semantics (prefixItems, unevaluatedProperties, $defs)", () => {
    const check = compiled({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: { money: { type: "integer" } },
      properties: { pair: { type: "array", prefixItems: [{ type: "string" }, { $ref: "#/$defs/money" }] } },
      unevaluatedProperties: false,
    });
    expect(check({ pair: ["EUR", 100] })).toEqual([]);
    expect(check({ pair: ["EUR", "100"], other: 1 })).toEqual([
      { path: "pair.1", message: "Must be integer" },
      { path: "other", message: "Not allowed by the schema (unevaluatedProperties is false)" },
    ]);
  });
});

describe("compileJsonSchema: schemas", () => {
  it.each([
    ["not an object", 42, /is an object/],
    ["an array", [], /is an object/],
    ["another draft", { $schema: "http://json-schema.org/draft-07/schema#", type: "object" }, /2020-12/],
    ["an unknown type", { type: "objekt" }, /allowed values/],
    ["a misspelt keyword", { type: "object", requried: ["id"] }, /unknown keyword: "requried"/],
    ["an unknown format", { type: "string", format: "shoe-size" }, /unknown format "shoe-size"/],
    ["a reference Echo will not fetch", { $ref: "https://evil.example/schema.json" }, /can't resolve reference/],
    ["a pattern that is not a regular expression", { type: "string", pattern: "(" }, /Invalid regular expression/],
  ])("refuses %s", (_name, schema, message) => {
    const result = compileJsonSchema(schema);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((issue) => issue.message).join(" ")).toMatch(message);
  });

  it("says where a schema breaks the meta-schema", () => {
    const result = compileJsonSchema({ type: "object", properties: { total: { type: "number", minimum: "0" } } });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues).toContainEqual({ path: "properties.total.minimum", message: "Must be number" });
  });

  it("compiles the same $id twice (nothing stays registered between calls)", () => {
    const schema = { $id: "https://example.com/order.json", type: "object" };
    expect(compileJsonSchema(schema).ok).toBe(true);
    expect(compileJsonSchema({ ...schema }).ok).toBe(true);
  });
});

describe("the demo's custom event types", () => {
  it.each(DEMO_EVENT_TYPES.map((type) => [type.name, type] as const))(
    "%s: a valid name, a schema that compiles and an example that matches it",
    (_name, type) => {
      expect(EventTypeNameSchema.safeParse(type.name).success).toBe(true);
      expect(customEventTypeNameProblem(type.name)).toBeNull();
      expect(compiled(type.schema)(type.example)).toEqual([]);
    },
  );

  it("make, with Echo's own types, a catalog of at least 20", () => {
    expect(EVENT_TYPES.length + DEMO_EVENT_TYPES.length).toBeGreaterThanOrEqual(20);
  });
});
