import { z } from "zod";
import { env } from "~/env.server";
import { RUN_STATUSES, RUN_TASK_IDS } from "~/lib/runs/runs";
import { usesTriggerDev } from "~/services/jobs.server";
import { RunListFiltersSchema, listRuns, type RunSummary } from "~/services/runs/run-list.server";
import { ServiceError } from "~/services/service-error.server";

/** A form's empty field means "any". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" || value === null ? undefined : value), schema.optional());

/** A `datetime-local` value (read as UTC, like every time Echo shows) or a full ISO 8601 time. */
const FormDateTime = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/,
    "Pick a date and time (UTC), e.g. 2026-01-15T09:30",
  )
  .transform((value) => new Date(/(Z|[+-]\d{2}:\d{2})$/.test(value) ? value : `${value}Z`))
  .refine((date) => !Number.isNaN(date.getTime()), "Pick a date and time (UTC), e.g. 2026-01-15T09:30")
  .transform((date) => date.toISOString());

/** The runs page's query string: the API's filters, as a form sends them. Unknown parameters are ignored. */
const RunListPageQuerySchema = z.object({
  task: optional(z.enum(RUN_TASK_IDS, { message: "Pick a task from the list" })),
  status: optional(z.enum(RUN_STATUSES, { message: "Pick a status from the list" })),
  since: optional(FormDateTime),
  until: optional(FormDateTime),
  q: optional(z.string().trim().max(200, "At most 200 characters")),
  cursor: optional(z.string().max(400)),
});

export type RunListForm = Partial<Record<"task" | "status" | "since" | "until" | "q", string>>;

export type RunListView = {
  /** The filters as the form shows them again (times as `datetime-local` values, in UTC). */
  form: RunListForm;
  runs: RunSummary[];
  nextCursor: string | null;
  paged: boolean;
  /** A filter that could not be used, beside its field. */
  error: { field: string | null; message: string } | null;
  triggerDev: { dashboardUrl: string } | null;
  now: Date;
};

const formTime = (iso: string | undefined) => (iso ? iso.slice(0, 16) : undefined);

export async function presentRunList(searchParams: URLSearchParams): Promise<RunListView> {
  const raw = Object.fromEntries([...searchParams.entries()].filter(([key]) => key in RunListPageQuerySchema.shape));
  const form: RunListForm = {
    task: raw.task || undefined,
    status: raw.status || undefined,
    since: raw.since || undefined,
    until: raw.until || undefined,
    q: raw.q || undefined,
  };
  const base = {
    triggerDev: usesTriggerDev ? { dashboardUrl: env.TRIGGER_DASHBOARD_URL } : null,
    now: new Date(),
  };
  const parsed = RunListPageQuerySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      ...base,
      form,
      runs: [],
      nextCursor: null,
      paged: false,
      error: { field: issue.path.join(".") || null, message: issue.message },
    };
  }
  const query = parsed.data;
  const filters = RunListFiltersSchema.parse({ ...query, q: query.q || undefined });
  try {
    const page = await listRuns(filters);
    return {
      ...base,
      form: { ...form, since: formTime(query.since), until: formTime(query.until) },
      runs: page.runs,
      nextCursor: page.nextCursor,
      paged: Boolean(query.cursor),
      error: null,
    };
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    return {
      ...base,
      form,
      runs: [],
      nextCursor: null,
      paged: false,
      error: { field: error.field ?? null, message: error.message },
    };
  }
}
