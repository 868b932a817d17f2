import { Form } from "@remix-run/react";
import { useId } from "react";
import type { EventTypeFormValues } from "~/lib/events/event-type-form";
import { CsrfInput } from "./csrf-input";

type Errors = Record<string, string | undefined>;

const INPUT = "mt-1 block w-full rounded-md border px-3 py-2 text-sm";
const border = (error?: string) => (error ? "border-red-500" : "border-slate-300");

function Field({
  name,
  label,
  defaultValue,
  error,
  hint,
  rows,
  mono,
}: {
  name: string;
  label: string;
  defaultValue: string;
  error?: string;
  hint?: string;
  /** A textarea of this many rows; a one-line input without. */
  rows?: number;
  mono?: boolean;
}) {
  const id = useId();
  const common = {
    id,
    name,
    defaultValue,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": error ? `${id}-error` : hint ? `${id}-hint` : undefined,
    className: `${INPUT} ${border(error)} ${mono ? "font-mono" : ""}`,
  };
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      {rows ? <textarea {...common} rows={rows} spellCheck={false} /> : <input {...common} type="text" />}
      {hint && !error ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} role="alert" className="mt-1 whitespace-pre-wrap text-sm text-red-600">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** Creating (with a name) or editing a custom event type; each problem beside its field. */
export function EventTypeForm({
  values,
  errors,
  withName,
  submitLabel,
}: {
  values: EventTypeFormValues;
  errors: Errors;
  withName: boolean;
  submitLabel: string;
}) {
  return (
    <Form method="post" className="mt-6 max-w-3xl space-y-6" noValidate>
      <CsrfInput />
      {withName ? null : <input type="hidden" name="intent" value="save" />}
      {errors.form ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">
          {errors.form}
        </p>
      ) : null}
      {withName ? (
        <Field
          name="name"
          label="Name"
          defaultValue={values.name}
          error={errors.name}
          mono
          hint="Lowercase words separated by dots, e.g. order.created. It cannot be changed later."
        />
      ) : null}
      <Field
        name="description"
        label="Description"
        defaultValue={values.description}
        error={errors.description}
        hint="When this event happens, in a sentence your receivers' developers will read."
      />
      <Field
        name="schema"
        label="Payload JSON Schema"
        defaultValue={values.schema}
        error={errors.schema}
        rows={14}
        mono
        hint="JSON Schema draft 2020-12. Every published payload is checked against it; unknown keywords are refused."
      />
      <Field
        name="example"
        label="Example payload"
        defaultValue={values.example}
        error={errors.example}
        rows={8}
        mono
        hint="Shown in the catalog; it must match the schema."
      />
      <button type="submit" className="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500">
        {submitLabel}
      </button>
    </Form>
  );
}
