/** A secret shown exactly once, right after it was made. */
export function SecretOnce({ label, value }: { label: string; value: string }) {
  return (
    <div role="status" className="rounded-md border border-amber-300 bg-amber-50 p-4">
      <p className="text-sm font-medium text-amber-900">{label}: copy it now, Echo will not show it again.</p>
      <code data-testid="secret-once" className="mt-2 block break-all rounded bg-white p-2 font-mono text-sm">
        {value}
      </code>
    </div>
  );
}
