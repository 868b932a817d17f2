import { z } from "zod";
import {
  errorMessage,
  fetchProviderJson,
  IntegrationEventType,
  unexpectedAnswerMessage,
  type IntegrationModule,
} from "../types";

const ViewerSchema = z.object({
  data: z.object({ viewer: z.object({ id: z.string(), name: z.string(), email: z.string().optional() }) }),
});

/** Linear: OAuth 2.0; the account is the authorising user (`viewer` in Linear's GraphQL API). */
export const linearIntegration: IntegrationModule = {
  slug: "linear",
  async handleEvent(event, context) {
    if (event.type !== IntegrationEventType.SETUP || event.input.kind !== "oauth2")
      return [errorMessage("Linear connects with OAuth.")];
    const answer = await fetchProviderJson(context, "Linear", `${context.apiUrl}/graphql`, {
      method: "POST",
      headers: { Authorization: `Bearer ${event.input.accessToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ query: "query { viewer { id name email } }" }),
    });
    if (!answer.ok) return [answer.error];
    const parsed = ViewerSchema.safeParse(answer.body);
    if (answer.status !== 200 || !parsed.success)
      return [unexpectedAnswerMessage(`Linear did not say who you are (HTTP ${answer.status}).`, answer.status)];
    const viewer = parsed.data.data.viewer;
    return [
      {
        type: "account",
        data: {
          accountId: viewer.id,
          displayName: viewer.email ? `${viewer.name} (${viewer.email})` : viewer.name,
          settings: { name: viewer.name, scope: event.input.scope ?? null },
          credentials: {
            accessToken: event.input.accessToken,
            refreshToken: event.input.refreshToken,
            expiresAt: event.input.expiresAt,
          },
        },
      },
    ];
  },
};
