import { Form } from "@remix-run/react";
import { CsrfInput } from "./csrf-input";

const STYLES = {
  neutral: "border border-slate-300 hover:bg-slate-50",
  danger: "border border-red-300 text-red-700 hover:bg-red-50",
} as const;

/** A one-button form posting an `intent` (and any hidden fields) to the current route, with its CSRF token. */
export function IntentButton({
  intent,
  fields = {},
  variant = "neutral",
  confirmation,
  children,
}: {
  intent: string;
  fields?: Record<string, string>;
  variant?: keyof typeof STYLES;
  /** Asked before submitting; cancelling keeps everything as it is. */
  confirmation?: string;
  children: React.ReactNode;
}) {
  return (
    <Form
      method="post"
      onSubmit={confirmation ? (event) => (!confirm(confirmation) ? event.preventDefault() : undefined) : undefined}
    >
      <CsrfInput />
      <input type="hidden" name="intent" value={intent} />
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <button type="submit" className={`rounded-md px-3 py-1.5 text-sm ${STYLES[variant]}`}>
        {children}
      </button>
    </Form>
  );
}
