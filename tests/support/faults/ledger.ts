import { appendFileSync } from "node:fs";
import { expect } from "vitest";
import type { Database } from "~/db.server";
import { INTEGRATION_FANOUT_TASK_ID } from "~/services/webhooks/outbox-dispatcher.server";
import type { FaultReceiver } from "./fault-receiver";

export type FaultApp = { id: string; receiver: FaultReceiver };
export type ProducedEvent = { eventId: string; accountId: string };

/** What one fault scenario did to every expected delivery, as the receivers and the database saw it. */
export type Ledger = {
  scenario: string;
  events: number;
  /** One per (event, app) that was eligible when the event happened. */
  expected: number;
  /** Expected deliveries the receiver acknowledged (2xx) at least once. */
  received: number;
  /** Acknowledgements beyond the first of the same delivery: allowed (at-least-once), reported. */
  duplicates: number;
  /** Not received because the receiver refused them for good (410 Gone, which disables the app). */
  refused: number;
  /** Neither received nor refused: the one thing that must never happen. */
  lost: number;
  requests: number;
  seconds: number;
  /** Each loss, described. */
  lostDetails: string[];
  /** Each duplicate, with the attempts Echo recorded: why it was sent again. */
  duplicateDetails: string[];
  /** Breaches of at-least-once other than loss (success never received, forged or stray requests, two rows). */
  violations: string[];
};

export const FAULTS_SCALE = Math.max(1, Math.floor(Number(process.env.FAULTS_SCALE ?? "1")) || 1);

const OPEN = ["PENDING", "SENDING", "RETRYING"] as const;

/**
 * How long a scenario may take to deliver everything: settling returns as soon as it is done
 * (seconds on an idle machine), so this only matters on a badly overloaded one.
 */
export const SETTLE_DEADLINE_MS = 60_000 * FAULTS_SCALE;

/**
 * Waits until the pipeline is done with these events: all handed to the engine, no fan-out
 * run queued or executing, no delivery still open (a delivery run that wakes up later for a
 * finished delivery only skips it). Returns false (instead of throwing) at the deadline, so
 * the ledger can say what was lost.
 */
export async function settle(db: Database, eventIds: string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [undispatched, runs, open] = await Promise.all([
      db.webhookEvent.count({ where: { id: { in: eventIds }, dispatchedAt: null } }),
      db.taskRun.count({ where: { taskId: INTEGRATION_FANOUT_TASK_ID, status: { in: ["QUEUED", "EXECUTING"] } } }),
      db.webhookDelivery.count({ where: { eventId: { in: eventIds }, status: { in: [...OPEN] } } }),
    ]).catch(() => [1, 1, 1]);
    if (undispatched + runs + open === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

export async function computeLedger({
  scenario,
  db,
  events,
  apps,
  startedAt,
}: {
  scenario: string;
  db: Database;
  events: ProducedEvent[];
  apps: FaultApp[];
  startedAt: number;
}): Promise<Ledger> {
  const eventIds = events.map((event) => event.eventId);
  const [rows, appStates] = await Promise.all([
    db.webhookDelivery.findMany({
      where: { eventId: { in: eventIds } },
      select: { id: true, eventId: true, oauthClientId: true, status: true, lastStatusCode: true, lastError: true },
    }),
    db.oAuthClient.findMany({
      where: { id: { in: apps.map((app) => app.id) } },
      select: { id: true, webhookDisabledReason: true },
    }),
  ]);
  const goneApps = new Set(
    appStates.filter((app) => /410 Gone/.test(app.webhookDisabledReason ?? "")).map((app) => app.id),
  );
  const ledger: Ledger = {
    scenario,
    events: events.length,
    expected: 0,
    received: 0,
    duplicates: 0,
    refused: 0,
    lost: 0,
    requests: 0,
    seconds: 0,
    lostDetails: [],
    duplicateDetails: [],
    violations: [],
  };
  const attempts = await db.deliveryAttempt.findMany({
    where: { deliveryId: { in: rows.map((row) => row.id) } },
    select: { deliveryId: true, attemptNumber: true, responseStatus: true, error: true, durationMs: true },
    orderBy: { attemptNumber: "asc" },
  });

  for (const app of apps) {
    const requests = app.receiver.requests;
    ledger.requests += requests.length;
    const forged = requests.filter((request) => !request.signatureValid).length;
    if (forged > 0) ledger.violations.push(`app ${app.id}: ${forged} request(s) with an invalid signature`);
    const rowIds = new Set(rows.filter((row) => row.oauthClientId === app.id).map((row) => row.id));
    const stray = requests.filter((request) => !rowIds.has(request.deliveryId)).length;
    if (stray > 0) ledger.violations.push(`app ${app.id}: ${stray} request(s) for no delivery of these events`);

    for (const event of events) {
      ledger.expected++;
      const pairRows = rows.filter((row) => row.eventId === event.eventId && row.oauthClientId === app.id);
      if (pairRows.length > 1) {
        ledger.violations.push(`event ${event.eventId} → app ${app.id}: ${pairRows.length} delivery rows`);
      }
      const row = pairRows[0];
      const acks = requests.filter((request) => request.accountId === event.accountId && request.acknowledged).length;
      if (row?.status === "SUCCESS" && acks === 0) {
        ledger.violations.push(`delivery ${row.id} is SUCCESS but its receiver never acknowledged it`);
      }
      if (acks > 0) {
        ledger.received++;
        ledger.duplicates += acks - 1;
        if (acks > 1) {
          const log = attempts
            .filter((attempt) => attempt.deliveryId === row?.id)
            .map((a) => `#${a.attemptNumber} ${a.responseStatus ?? a.error?.slice(0, 80)} (${a.durationMs} ms)`);
          ledger.duplicateDetails.push(`delivery ${row?.id} received ${acks}x; attempts: ${log.join("; ")}`);
        }
      } else if (
        row?.status === "FAILED" ? row.lastStatusCode === 410 || goneApps.has(app.id) : !row && goneApps.has(app.id)
      ) {
        ledger.refused++;
      } else {
        ledger.lost++;
        ledger.lostDetails.push(
          `event ${event.eventId} → app ${app.id}: ${row ? `${row.status} (${row.lastError ?? "no error"})` : "no delivery row"}`,
        );
      }
    }
  }
  ledger.seconds = Math.round((Date.now() - startedAt) / 100) / 10;
  return ledger;
}

/** One line per scenario in the test output (and in FAULTS_REPORT_FILE, for `npm test`'s summary). */
export function printLedger(ledger: Ledger): void {
  const line =
    `[faults] ${ledger.scenario.padEnd(40)} events ${String(ledger.events).padStart(3)}` +
    `  expected ${String(ledger.expected).padStart(3)}  received ${String(ledger.received).padStart(3)}` +
    `  duplicates ${ledger.duplicates}  refused ${ledger.refused}  lost ${ledger.lost}` +
    `  (requests ${ledger.requests}, ${ledger.seconds.toFixed(1)} s)`;
  console.log(line);
  if (process.env.FAULTS_REPORT_FILE) {
    const { lostDetails: _lost, duplicateDetails: _duplicates, violations: _violations, ...figures } = ledger;
    appendFileSync(process.env.FAULTS_REPORT_FILE, `${JSON.stringify({ ...figures, line })}\n`);
  }
}

/** Loss and breaches of at-least-once fail the test; duplicates only where a crash makes them legitimate. */
export function expectAtLeastOnce(ledger: Ledger, { duplicatesAllowed }: { duplicatesAllowed: boolean }): void {
  expect(ledger.lostDetails, "expected deliveries that were lost").toEqual([]);
  expect(ledger.violations, "deliveries outside at-least-once").toEqual([]);
  expect(ledger.received + ledger.refused + ledger.lost).toBe(ledger.expected);
  if (!duplicatesAllowed) expect(ledger.duplicateDetails, "duplicates without any crash").toEqual([]);
}
