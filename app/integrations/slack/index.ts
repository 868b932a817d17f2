import { z } from "zod";
import {
  errorMessage,
  fetchProviderJson,
  IntegrationEventType,
  unexpectedAnswerMessage,
  type IntegrationModule,
} from "../types";

const AuthTestSchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), user_id: z.string(), team_id: z.string(), team: z.string(), user: z.string() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

/** Slack: OAuth 2.0 (v2); the account is the workspace member, identified by team and user. */
export const slackIntegration: IntegrationModule = {
  slug: "slack",
  async handleEvent(event, context) {
    if (event.type !== IntegrationEventType.SETUP || event.input.kind !== "oauth2")
      return [errorMessage("Slack connects with OAuth.")];
    const answer = await fetchProviderJson(context, "Slack", `${context.apiUrl}/auth.test`, {
      method: "POST",
      headers: { Authorization: `Bearer ${event.input.accessToken}` },
    });
    if (!answer.ok) return [answer.error];
    const parsed = AuthTestSchema.safeParse(answer.body);
    if (!parsed.success)
      return [unexpectedAnswerMessage(`Slack did not say who you are (HTTP ${answer.status}).`, answer.status)];
    if (!parsed.data.ok) return [errorMessage(`Slack refused the connection: ${parsed.data.error}.`)];
    const { team_id, user_id, team, user } = parsed.data;
    return [
      {
        type: "account",
        data: {
          accountId: `${team_id}:${user_id}`,
          displayName: `${user} in ${team}`,
          settings: { teamId: team_id, team, userId: user_id },
          credentials: { accessToken: event.input.accessToken, scope: event.input.scope },
        },
      },
    ];
  },
};
