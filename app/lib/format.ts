/**
 * Dates rendered the same on the server and in the browser (a locale- or time-zone-dependent
 * format would differ between the two and break hydration).
 */
export function formatDateTime(value: Date | string): string {
  const date = typeof value === "string" ? new Date(value) : value;
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
