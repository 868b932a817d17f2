import { Link } from "@remix-run/react";
import { StatusChip } from "~/components/status-chip";
import { formatDateTime } from "~/lib/format";

export type DeliveryRow = {
  id: string;
  status: string;
  eventType: string;
  attemptCount: number;
  maxAttempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: Date | string | null;
  createdAt: Date | string;
  /** Who it went to; left out where the page is about one target already. */
  target?: { name: string; kind: string };
};

/** The delivery log's table, also the recent deliveries on an endpoint's page. */
export function DeliveriesTable({ deliveries, className = "mt-4" }: { deliveries: DeliveryRow[]; className?: string }) {
  const showTarget = deliveries.some((delivery) => delivery.target);
  return (
    <table
      className={`${className} w-full overflow-hidden rounded-lg bg-white text-left text-sm ring-1 ring-slate-200`}
    >
      <thead className="bg-slate-50 text-slate-500">
        <tr>
          <th className="px-4 py-2 font-medium">Status</th>
          <th className="px-4 py-2 font-medium">Event</th>
          {showTarget ? <th className="px-4 py-2 font-medium">To</th> : null}
          <th className="px-4 py-2 font-medium">Attempts</th>
          <th className="px-4 py-2 font-medium">Last response</th>
          <th className="px-4 py-2 font-medium">Created</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {deliveries.map((delivery) => (
          <tr key={delivery.id} data-testid="delivery-row">
            <td className="px-4 py-2">
              <StatusChip status={delivery.status} />
            </td>
            <td className="px-4 py-2">
              <Link to={`/webhooks/deliveries/${delivery.id}`} className="font-mono text-indigo-700 underline">
                {delivery.eventType}
              </Link>
            </td>
            {showTarget ? (
              <td className="px-4 py-2">
                {delivery.target?.name} <span className="text-xs text-slate-500">({delivery.target?.kind})</span>
              </td>
            ) : null}
            <td className="px-4 py-2">
              {delivery.attemptCount} / {delivery.maxAttempts}
            </td>
            <td className="px-4 py-2 text-slate-600">
              {delivery.lastStatusCode ? `HTTP ${delivery.lastStatusCode}` : (delivery.lastError ?? "—")}
              {delivery.status === "RETRYING" && delivery.nextAttemptAt ? (
                <span className="block text-xs text-amber-800">next try {formatDateTime(delivery.nextAttemptAt)}</span>
              ) : null}
            </td>
            <td className="px-4 py-2 text-slate-600">{formatDateTime(delivery.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
