import { describe, expect, it } from "vitest";
import {
  NEW_EVENT_TYPE_VALUES,
  eventTypeInputFrom,
  fieldErrorsFromIssues,
  readEventTypeForm,
} from "~/lib/events/event-type-form";
import { compileJsonSchema } from "~/lib/events/json-schema";

describe("the event type form", () => {
  it("starts with a schema and an example that go together", () => {
    const parsed = eventTypeInputFrom(NEW_EVENT_TYPE_VALUES);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const compiled = compileJsonSchema(parsed.input.schema);
    expect(compiled.ok && compiled.check(parsed.input.example)).toEqual([]);
  });

  it("reads the fields and parses the two JSON ones", () => {
    const form = new FormData();
    form.set("name", " order.paid ");
    form.set("description", "An order was paid.");
    form.set("schema", '{"type": "object"}');
    form.set("example", '{"id": "ord_1"}');
    expect(eventTypeInputFrom(readEventTypeForm(form))).toEqual({
      ok: true,
      input: {
        name: "order.paid",
        description: "An order was paid.",
        schema: { type: "object" },
        example: { id: "ord_1" },
      },
    });
  });

  it("says beside each field that is empty or not JSON what is wrong", () => {
    const result = eventTypeInputFrom({ name: "a.b", description: "x", schema: "{type: object}", example: "" });
    expect(result).toMatchObject({
      ok: false,
      fieldErrors: { schema: expect.stringMatching(/^This is not valid JSON/), example: "Enter an example payload" },
    });
  });

  it("gathers a service's problems beside their form field, each with its place in the document", () => {
    expect(
      fieldErrorsFromIssues([
        { field: "schema.properties.total.minimum", message: "Must be number" },
        { field: "schema", message: "strict mode: unknown keyword" },
        { field: "example.id", message: "Required (the example must match the schema)" },
        { field: null, message: "Something else" },
      ]),
    ).toEqual({
      schema: "properties.total.minimum: Must be number; strict mode: unknown keyword",
      example: "id: Required (the example must match the schema)",
      form: "Something else",
    });
  });
});
