import type { WebhookDeliveryStatus } from "~/generated/prisma/enums";

/** Shared by the server and the browser (filters, chips). */
export const DELIVERY_STATUSES = [
  "PENDING",
  "SENDING",
  "SUCCESS",
  "FAILED",
  "RETRYING",
] as const satisfies readonly WebhookDeliveryStatus[];
