import { z } from "zod";
import {
  errorMessage,
  fetchProviderJson,
  IntegrationEventType,
  unexpectedAnswerMessage,
  type IntegrationModule,
} from "../types";

const ServerSchema = z.object({ ID: z.number(), Name: z.string() });

/**
 * Postmark: a server API token. Postmark's `GET /server` answers with the server the token
 * belongs to, which is the account; a wrong token gets 401 and creates nothing.
 */
export const postmarkIntegration: IntegrationModule = {
  slug: "postmark",
  async handleEvent(event, context) {
    if (event.type !== IntegrationEventType.SETUP || event.input.kind !== "api_key")
      return [errorMessage("Postmark connects with a server API token.")];
    const answer = await fetchProviderJson(context, "Postmark", `${context.apiUrl}/server`, {
      headers: { Accept: "application/json", "X-Postmark-Server-Token": event.input.apiKey },
    });
    if (!answer.ok) return [answer.error];
    if (answer.status === 401 || answer.status === 403) {
      return [
        errorMessage(
          "Postmark did not accept this server API token. Copy it again from Postmark → Servers → API Tokens.",
          "apiKey",
        ),
      ];
    }
    const parsed = ServerSchema.safeParse(answer.body);
    if (answer.status !== 200 || !parsed.success)
      return [
        unexpectedAnswerMessage(
          `Postmark answered unexpectedly (HTTP ${answer.status}). Try again later.`,
          answer.status,
        ),
      ];
    return [
      {
        type: "account",
        data: {
          accountId: String(parsed.data.ID),
          displayName: parsed.data.Name,
          settings: { serverName: parsed.data.Name },
          credentials: { apiKey: event.input.apiKey },
        },
      },
    ];
  },
};
