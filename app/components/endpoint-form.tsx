import { Form } from "@remix-run/react";
import { useId, useState } from "react";
import type { EndpointFormValues, HeaderRow } from "~/lib/webhooks/endpoint-form";
import { CsrfInput } from "./csrf-input";

type Errors = Record<string, string | undefined>;

function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={id} role="alert" className="mt-1 text-sm text-red-600">
      {message}
    </p>
  );
}

const INPUT = "mt-1 block w-full rounded-md border px-3 py-2 text-sm";
const HEADER_INPUT = "rounded-md border px-3 py-2 font-mono text-sm";
const border = (error?: string) => (error ? "border-red-500" : "border-slate-300");

function TextField({
  name,
  label,
  defaultValue,
  error,
  hint,
  mono,
  placeholder,
  type = "text",
  className = "",
}: {
  name: string;
  label: string;
  defaultValue: string;
  error?: string;
  hint?: string;
  mono?: boolean;
  placeholder?: string;
  type?: string;
  className?: string;
}) {
  const id = useId();
  return (
    <div className={className}>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <input
        id={id}
        name={name}
        type={type}
        defaultValue={defaultValue}
        placeholder={placeholder}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        className={`${INPUT} ${border(error)} ${mono ? "font-mono" : ""}`}
      />
      {hint && !error ? <p className="mt-1 text-xs text-slate-500">{hint}</p> : null}
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}

let nextRowKey = 0;
type KeyedRow = HeaderRow & { key: number };

/** Custom header rows; a hidden (sensitive) value left empty keeps what was saved. */
function HeaderRows({ initial, error }: { initial: HeaderRow[]; error?: string }) {
  const [rows, setRows] = useState<KeyedRow[]>(() =>
    (initial.length > 0 ? initial : [{ name: "", value: "" }]).map((row) => ({ ...row, key: nextRowKey++ })),
  );
  return (
    <fieldset aria-describedby={error ? "headers-error" : undefined}>
      <legend className="text-sm font-medium text-slate-700">Custom headers</legend>
      <p className="text-xs text-slate-500">
        Sent with every webhook (say, an API key your receiver expects). Values of names that look like credentials are
        not shown again after saving; leave them empty to keep them.
      </p>
      <div className="mt-2 space-y-2">
        {rows.map((row, index) => (
          <div key={row.key} className="flex gap-2" data-testid="header-row">
            <input
              name="headerName"
              aria-label={`Header ${index + 1} name`}
              defaultValue={row.name}
              placeholder="X-Api-Key"
              className={`${HEADER_INPUT} ${border(error)} w-1/3`}
            />
            <input
              name="headerValue"
              aria-label={`Header ${index + 1} value`}
              defaultValue={row.value}
              placeholder={row.hidden ? "(saved, hidden; leave empty to keep)" : "value"}
              className={`${HEADER_INPUT} ${border(error)} min-w-0 flex-1`}
            />
            {row.hidden ? <input type="hidden" name="headerKept" value={String(index)} /> : null}
            <button
              type="button"
              onClick={() => setRows((current) => current.filter((candidate) => candidate.key !== row.key))}
              className="rounded-md border border-slate-300 px-3 text-sm hover:bg-slate-50"
              aria-label={`Remove header ${index + 1}`}
            >
              Remove
            </button>
          </div>
        ))}
      </div>
      <button
        type="button"
        onClick={() => setRows((current) => [...current, { name: "", value: "", key: nextRowKey++ }])}
        className="mt-2 rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-50"
      >
        Add header
      </button>
      <FieldError id="headers-error" message={error} />
    </fieldset>
  );
}

const EVENT_GROUPS = [
  { kind: "custom", title: "Your product's events" },
  { kind: "built-in", title: "Echo's events" },
  { kind: "operational", title: "Operational events (about your endpoints)" },
] as const;

/** The endpoint form, shared by "new" and "edit"; errors beside each field. */
export function EndpointForm({
  values,
  errors,
  catalog,
  withSecret,
  submitLabel,
}: {
  values: EndpointFormValues;
  errors: Errors;
  catalog: { type: string; description: string; kind: "built-in" | "operational" | "custom"; archived: boolean }[];
  withSecret: boolean;
  submitLabel: string;
}) {
  const [secretMode, setSecretMode] = useState(values.secretMode);
  return (
    <Form method="post" className="mt-6 max-w-2xl space-y-6" noValidate>
      <CsrfInput />
      {errors.form ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">
          {errors.form}
        </p>
      ) : null}
      <TextField name="name" label="Name" defaultValue={values.name} error={errors.name} />
      <TextField
        name="url"
        label="URL"
        defaultValue={values.url}
        error={errors.url}
        mono
        placeholder="https://example.com/webhooks/echo"
        hint="Where Echo POSTs each event."
      />
      {withSecret ? (
        <fieldset>
          <legend className="text-sm font-medium text-slate-700">Signing secret</legend>
          <label className="mt-1 flex items-center gap-2 text-sm">
            <input
              type="radio"
              name="secretMode"
              value="generate"
              checked={secretMode === "generate"}
              onChange={() => setSecretMode("generate")}
            />
            Generate one for me (shown once after saving)
          </label>
          <label className="mt-1 flex items-center gap-2 text-sm">
            <input
              type="radio"
              name="secretMode"
              value="paste"
              checked={secretMode === "paste"}
              onChange={() => setSecretMode("paste")}
            />
            Use my own
          </label>
          <input
            name="secret"
            aria-label="Your secret"
            placeholder="whsec_…"
            autoComplete="off"
            aria-invalid={errors.secret ? true : undefined}
            className={`${INPUT} ${border(errors.secret)} font-mono`}
          />
          <p className="mt-1 text-xs text-slate-500">Only used with “Use my own”.</p>
          <FieldError id="secret-error" message={errors.secret} />
        </fieldset>
      ) : null}
      <fieldset>
        <legend className="text-sm font-medium text-slate-700">Events</legend>
        <p className="text-xs text-slate-500">
          None checked: every event type, including types added later, except the operational ones, which an endpoint
          receives only when they are checked.
        </p>
        {EVENT_GROUPS.map(({ kind, title }) => {
          const entries = catalog.filter((entry) => entry.kind === kind);
          if (entries.length === 0) return null;
          return (
            <div key={kind} className="mt-2" data-testid={`event-group-${kind}`}>
              <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{title}</p>
              {entries.map((entry) => (
                <label key={entry.type} className="mt-1 flex items-start gap-2 text-sm">
                  <input
                    type="checkbox"
                    name="eventTypes"
                    value={entry.type}
                    defaultChecked={values.eventTypes.includes(entry.type)}
                    className="mt-1"
                  />
                  <span>
                    <code>{entry.type}</code>
                    {entry.archived ? <span className="text-amber-700"> (archived)</span> : null}{" "}
                    <span className="text-slate-500">— {entry.description}</span>
                  </span>
                </label>
              ))}
            </div>
          );
        })}
        <FieldError id="event-types-error" message={errors.eventTypes} />
      </fieldset>
      <label className="flex items-center gap-2 text-sm font-medium text-slate-700">
        <input type="checkbox" name="enabled" defaultChecked={values.enabled} /> Enabled (switched off, it receives
        nothing and nothing is queued for it)
      </label>
      <HeaderRows initial={values.headers} error={errors.headers} />
      <div className="flex flex-wrap gap-4">
        <TextField
          name="maxRetries"
          label="Retries (0–10)"
          type="number"
          defaultValue={values.maxRetries}
          error={errors.maxRetries}
          className="w-40"
        />
        <TextField
          name="retryBaseDelaySeconds"
          label="First retry after (s)"
          type="number"
          defaultValue={values.retryBaseDelaySeconds}
          error={errors.retryBaseDelaySeconds}
          hint="Empty: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. Later delays scale with it."
          className="w-64"
        />
        <TextField
          name="timeoutSeconds"
          label="Timeout (5–300 s)"
          type="number"
          defaultValue={values.timeoutSeconds}
          error={errors.timeoutSeconds}
          className="w-40"
        />
      </div>
      <button type="submit" className="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500">
        {submitLabel}
      </button>
    </Form>
  );
}
