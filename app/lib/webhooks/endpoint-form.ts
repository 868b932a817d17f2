import { z } from "zod";
import { CustomHeaderNameSchema, isSensitiveHeaderName } from "./headers";

/**
 * The endpoint form as the browser posts it, turned into the shape the endpoint service
 * takes. Pure, so the route stays thin and the rules (seconds in the form, milliseconds in
 * the service; custom headers as rows; hidden values kept) have unit tests.
 */

export type HeaderRow = { name: string; value: string; hidden?: boolean };

/** What the form shows; sensitive header values are never among them once saved. */
export type EndpointFormValues = {
  name: string;
  url: string;
  secretMode: "generate" | "paste";
  eventTypes: string[];
  enabled: boolean;
  headers: HeaderRow[];
  maxRetries: string;
  retryBaseDelaySeconds: string;
  timeoutSeconds: string;
};

/** Where a service or schema error about one field is shown in the form. */
const FORM_FIELD_OF: Record<string, string> = {
  retryBaseDelayMs: "retryBaseDelaySeconds",
  timeoutMs: "timeoutSeconds",
  customHeaders: "headers",
};
export function formFieldOf(field: string): string {
  return FORM_FIELD_OF[field] ?? field;
}

/** Form field errors keyed by the form's own field names. */
export function endpointFormErrors(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = formFieldOf(String(issue.path[0] ?? "form"));
    const message = field === "headers" && issue.path[1] ? `${String(issue.path[1])}: ${issue.message}` : issue.message;
    errors[field] ??= message;
  }
  return errors;
}

function text(formData: FormData, name: string): string {
  const value = formData.get(name);
  return typeof value === "string" ? value : "";
}

/** A number the service validates; text that is not one stays text so the message says so. */
const NumberText = (message: string) =>
  z
    .string()
    .trim()
    .refine((value) => value === "" || Number.isFinite(Number(value)), message);

const secondsToMs = (value: string) => Math.round(Number(value) * 1000);

export function readEndpointForm(formData: FormData): EndpointFormValues {
  const names = formData.getAll("headerName").map(String);
  const values = formData.getAll("headerValue").map(String);
  const kept = new Set(formData.getAll("headerKept").map(String));
  return {
    name: text(formData, "name"),
    url: text(formData, "url"),
    secretMode: text(formData, "secretMode") === "paste" ? "paste" : "generate",
    eventTypes: formData.getAll("eventTypes").map(String),
    enabled: formData.get("enabled") === "on",
    headers: names.map((name, index) => ({
      name: name.trim(),
      value: values[index] ?? "",
      hidden: kept.has(String(index)) && (values[index] ?? "") === "",
    })),
    maxRetries: text(formData, "maxRetries"),
    retryBaseDelaySeconds: text(formData, "retryBaseDelaySeconds"),
    timeoutSeconds: text(formData, "timeoutSeconds"),
  };
}

const FormNumbersSchema = z.object({
  maxRetries: NumberText("Enter a number of retries").refine((value) => value !== "", "Enter a number of retries"),
  retryBaseDelaySeconds: NumberText("Enter the base delay in seconds, or leave it empty"),
  timeoutSeconds: NumberText("Enter the timeout in seconds").refine(
    (value) => value !== "",
    "Enter the timeout in seconds",
  ),
});

/**
 * The service input for these form values. Header rows with no name are ignored; a row
 * whose sensitive value was hidden and left empty keeps the value saved before.
 */
export function endpointInputFrom(
  values: EndpointFormValues,
  savedHeaders: Record<string, string> = {},
):
  | { ok: true; input: Record<string, unknown> & { customHeaders: Record<string, string> } }
  | { ok: false; fieldErrors: Record<string, string> } {
  const numbers = FormNumbersSchema.safeParse(values);
  if (!numbers.success) return { ok: false, fieldErrors: endpointFormErrors(numbers.error) };
  const savedByName = new Map(Object.entries(savedHeaders).map(([name, value]) => [name.toLowerCase(), value]));
  const customHeaders: Record<string, string> = {};
  const fieldErrors: Record<string, string> = {};
  for (const row of values.headers) {
    if (row.name === "" && row.value === "") continue;
    if (row.name === "") {
      fieldErrors.headers ??= "Give every header a name, or remove the row";
      continue;
    }
    // Checked per row: zod 4 reports a refused record key only as "Invalid key in record".
    const name = CustomHeaderNameSchema.safeParse(row.name);
    if (!name.success) {
      fieldErrors.headers ??= `${row.name}: ${name.error.issues[0]?.message ?? "Invalid header name"}`;
      continue;
    }
    if (Object.keys(customHeaders).some((name) => name.toLowerCase() === row.name.toLowerCase())) {
      fieldErrors.headers ??= `${row.name}: This header is already set (names ignore case)`;
      continue;
    }
    const saved = savedByName.get(row.name.toLowerCase());
    customHeaders[row.name] = row.hidden && saved !== undefined ? saved : row.value;
  }
  if (Object.keys(fieldErrors).length > 0) return { ok: false, fieldErrors };
  return {
    ok: true,
    input: {
      name: values.name,
      url: values.url,
      eventTypes: values.eventTypes,
      enabled: values.enabled,
      customHeaders,
      maxRetries: Number(numbers.data.maxRetries),
      retryBaseDelayMs:
        numbers.data.retryBaseDelaySeconds === "" ? null : secondsToMs(numbers.data.retryBaseDelaySeconds),
      timeoutMs: secondsToMs(numbers.data.timeoutSeconds),
    },
  };
}

/** Header rows to show: values of sensitive-looking names are blanked and marked as kept. */
export function headerRowsForDisplay(headers: Record<string, string>): HeaderRow[] {
  return Object.entries(headers).map(([name, value]) =>
    isSensitiveHeaderName(name) ? { name, value: "", hidden: true } : { name, value },
  );
}

/** The form values, safe to send back to the browser (after a refused save). */
export function redisplayedValues(values: EndpointFormValues): EndpointFormValues {
  return {
    ...values,
    headers: values.headers.map((row) =>
      isSensitiveHeaderName(row.name) ? { name: row.name, value: "", hidden: row.hidden } : row,
    ),
  };
}
