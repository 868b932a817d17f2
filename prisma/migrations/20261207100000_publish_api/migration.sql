-- Custom event types (issue 16): producers publish events of them through POST /api/v1/events.
-- Echo's own types stay in code (app/lib/events/catalog.ts); the catalog shows both.
CREATE TABLE "EventType" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "schema" JSONB NOT NULL,
    "example" JSONB NOT NULL,
    "archivedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "EventType_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "EventType_name_key" ON "EventType"("name");

-- Idempotency keys of published events, per publisher, for 24 hours (expiresAt); expired rows
-- are deleted hourly and never honoured meanwhile.
CREATE TABLE "PublishIdempotencyKey" (
    "publisherId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "PublishIdempotencyKey_pkey" PRIMARY KEY ("publisherId","key")
);

CREATE INDEX "PublishIdempotencyKey_expiresAt_idx" ON "PublishIdempotencyKey"("expiresAt");

CREATE INDEX "PublishIdempotencyKey_eventId_idx" ON "PublishIdempotencyKey"("eventId");

ALTER TABLE "PublishIdempotencyKey" ADD CONSTRAINT "PublishIdempotencyKey_publisherId_fkey" FOREIGN KEY ("publisherId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "PublishIdempotencyKey" ADD CONSTRAINT "PublishIdempotencyKey_eventId_fkey" FOREIGN KEY ("eventId") REFERENCES "WebhookEvent"("id") ON DELETE CASCADE ON UPDATE CASCADE;
