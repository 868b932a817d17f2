-- Nothing queries deliveries by (status, nextAttemptAt): runs carry the schedule. Without an
-- index on status, the claim and the record of an attempt change no indexed column, so they
-- can be HOT updates (no index entries written) when the row's page has room for the new
-- version: new pages are filled to 60%.
DROP INDEX "WebhookDelivery_status_nextAttemptAt_idx";
ALTER TABLE "WebhookDelivery" SET (fillfactor = 60);
