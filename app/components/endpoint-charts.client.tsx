import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

/**
 * The stats page's charts. Browser-only (the `.client` suffix keeps recharts out of the
 * server build): recharts measures the DOM and sets inline styles, which the CSP allows
 * from scripts but not in server-rendered HTML. The page wraps them in ClientOnly.
 */

export type ChartPoint = {
  label: string;
  SUCCESS: number;
  FAILED: number;
  RETRYING: number;
  SENDING: number;
  PENDING: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
};

const STATUS_COLORS = [
  ["SUCCESS", "#10b981", "success"],
  ["RETRYING", "#f59e0b", "retrying"],
  ["FAILED", "#ef4444", "failed"],
  ["SENDING", "#0ea5e9", "sending"],
  ["PENDING", "#94a3b8", "pending"],
] as const;

export function DeliveriesChart({ points }: { points: ChartPoint[] }) {
  return (
    <ResponsiveContainer width="100%" height={280}>
      <BarChart data={points} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
        <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} />
        <YAxis allowDecimals={false} tick={{ fontSize: 11 }} width={40} />
        <Tooltip />
        <Legend />
        {STATUS_COLORS.map(([key, color, name]) => (
          <Bar key={key} dataKey={key} name={name} stackId="status" fill={color} isAnimationActive={false} />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}

export function ResponseTimeChart({ points }: { points: ChartPoint[] }) {
  return (
    <ResponsiveContainer width="100%" height={280}>
      <LineChart data={points} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
        <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} />
        <YAxis tick={{ fontSize: 11 }} width={48} unit=" ms" />
        <Tooltip />
        <Legend />
        <Line dataKey="p50" name="p50" stroke="#6366f1" dot={{ r: 2 }} connectNulls isAnimationActive={false} />
        <Line dataKey="p95" name="p95" stroke="#f59e0b" dot={{ r: 2 }} connectNulls isAnimationActive={false} />
        <Line dataKey="p99" name="p99" stroke="#ef4444" dot={{ r: 2 }} connectNulls isAnimationActive={false} />
      </LineChart>
    </ResponsiveContainer>
  );
}
