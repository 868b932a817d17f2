/**
 * The event type form as the browser posts it: the JSON Schema and the example are typed as
 * text and parsed here, so the route stays thin and a field that is not JSON gets its own
 * message beside it.
 */

export type EventTypeFormValues = { name: string; description: string; schema: string; example: string };

export const NEW_EVENT_TYPE_VALUES: EventTypeFormValues = {
  name: "",
  description: "",
  schema: JSON.stringify(
    {
      type: "object",
      properties: { id: { type: "string" }, total: { type: "number", minimum: 0 } },
      required: ["id"],
    },
    null,
    2,
  ),
  example: JSON.stringify({ id: "ord_1001", total: 42.5 }, null, 2),
};

function text(formData: FormData, name: string): string {
  const value = formData.get(name);
  return typeof value === "string" ? value : "";
}

export function readEventTypeForm(formData: FormData): EventTypeFormValues {
  return {
    name: text(formData, "name").trim(),
    description: text(formData, "description"),
    schema: text(formData, "schema"),
    example: text(formData, "example"),
  };
}

/** The values with the two JSON fields parsed, or an error beside each field that is not a JSON object. */
export function eventTypeInputFrom(
  values: EventTypeFormValues,
):
  | { ok: true; input: { name: string; description: string; schema: unknown; example: unknown } }
  | { ok: false; fieldErrors: Record<string, string> } {
  const fieldErrors: Record<string, string> = {};
  const parsed: Record<"schema" | "example", unknown> = { schema: undefined, example: undefined };
  for (const field of ["schema", "example"] as const) {
    const raw = values[field].trim();
    if (raw === "") {
      fieldErrors[field] = field === "schema" ? "Enter the payload's JSON Schema" : "Enter an example payload";
      continue;
    }
    try {
      parsed[field] = JSON.parse(raw) as unknown;
    } catch (error) {
      fieldErrors[field] = `This is not valid JSON: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  if (Object.keys(fieldErrors).length > 0) return { ok: false, fieldErrors };
  return { ok: true, input: { name: values.name, description: values.description, ...parsed } };
}

/**
 * Problems named by path (`schema.properties.total.type`) gathered beside their form field
 * (`schema`), each with where in the document it is.
 */
export function fieldErrorsFromIssues(issues: { field: string | null; message: string }[]): Record<string, string> {
  const grouped = new Map<string, string[]>();
  for (const issue of issues) {
    const [field = "form", ...rest] = (issue.field ?? "form").split(".");
    const line = rest.length > 0 ? `${rest.join(".")}: ${issue.message}` : issue.message;
    grouped.set(field, [...(grouped.get(field) ?? []), line]);
  }
  return Object.fromEntries([...grouped].map(([field, lines]) => [field, lines.join("; ")]));
}
