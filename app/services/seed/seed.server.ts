import { createHash, randomBytes } from "node:crypto";
import type { Database } from "~/db.server";
import { createUser } from "~/models/user.server";
import { hashPassword } from "~/services/auth/password.server";
import { recordGrantEvent } from "~/services/oauth/grant-events.server";
import { DEMO_EVENT_TYPES } from "./demo-event-types";
import { INTEGRATION_CATALOG } from "./integration-catalog";

export const DEMO_USER = { email: "demo@echo.local", password: "echo-demo-password", name: "Demo User" } as const;
export const DEMO_OAUTH_CLIENT_ID = "echo_demo_app";

/** The integrations Echo ships with: always present, kept current with the code on every start. */
export async function seedIntegrationCatalog(db: Database): Promise<void> {
  for (const entry of INTEGRATION_CATALOG) {
    await db.integrationDefinition.upsert({
      where: { slug: entry.slug },
      create: { ...entry, config: entry.config as object },
      // The catalog is Echo's own data: keep it current with the code.
      update: {
        name: entry.name,
        description: entry.description,
        icon: entry.icon,
        authType: entry.authType,
        config: entry.config as object,
      },
    });
  }
}

/** Safe to run on every start: it creates what is missing and never overwrites a user's changes. */
export async function seedDemoData(db: Database): Promise<void> {
  await seedIntegrationCatalog(db);
  const existingDemo = await db.user.findUnique({ where: { email: DEMO_USER.email }, select: { id: true } });
  const demoUser =
    existingDemo ??
    // Through createUser: on an empty database the demo user is the first user, so an operator.
    (await createUser(db, {
      email: DEMO_USER.email,
      name: DEMO_USER.name,
      passwordHash: await hashPassword(DEMO_USER.password),
    }));

  // A few custom event types, so publishing can be tried at once; an operator's later changes are kept.
  await db.eventType.createMany({
    data: DEMO_EVENT_TYPES.map((type) => ({ ...type, schema: type.schema, example: type.example })),
    skipDuplicates: true,
  });

  const demoApp = await db.oAuthClient.findUnique({ where: { clientId: DEMO_OAUTH_CLIENT_ID }, select: { id: true } });
  if (!demoApp) {
    // Nobody ever sees this secret: the developer rotates it in the UI to get one.
    const unusedSecret = randomBytes(32).toString("base64url");
    const scopes = ["openid", "profile", "email", "integration"];
    await db.$transaction(async (tx) => {
      const app = await tx.oAuthClient.create({
        data: {
          clientId: DEMO_OAUTH_CLIENT_ID,
          clientSecretHash: createHash("sha256").update(unusedSecret).digest("hex"),
          clientType: "CONFIDENTIAL",
          name: "Demo Notes App",
          redirectUris: ["http://localhost:8976/callback"],
          allowedScopes: scopes,
          ownerId: demoUser.id,
        },
        select: { id: true, clientId: true, name: true },
      });
      // The demo user has connected the app, as the consent screen would record it (with its
      // oauth.grant.created event, which the worker fans out): give the app a webhook URL and
      // connect an integration, and it hears of it.
      await tx.oAuthConsent.create({ data: { clientId: app.id, userId: demoUser.id, scopes } });
      await tx.oAuthIntegrationGrant.create({
        data: { clientId: app.id, userId: demoUser.id, scopes: ["integration"] },
      });
      await recordGrantEvent(tx, {
        type: "oauth.grant.created",
        userId: demoUser.id,
        client: { dbId: app.id, clientId: app.clientId, name: app.name },
        scopes,
      });
    });
  }
}
