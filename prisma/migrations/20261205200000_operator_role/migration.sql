-- Operators see the runs console and may act for any user. The first user of an empty
-- database becomes one (ECHO_ADMIN_EMAILS names more); on a database that already has
-- users, the oldest one is that first user.
ALTER TABLE "User" ADD COLUMN "isOperator" BOOLEAN NOT NULL DEFAULT false;
UPDATE "User" SET "isOperator" = true
WHERE "id" = (SELECT "id" FROM "User" ORDER BY "createdAt", "id" LIMIT 1);
