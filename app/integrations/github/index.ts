import { z } from "zod";
import {
  errorMessage,
  fetchProviderJson,
  IntegrationEventType,
  unexpectedAnswerMessage,
  type IntegrationModule,
} from "../types";

const UserSchema = z.object({ id: z.number(), login: z.string(), name: z.string().nullable().optional() });

/** GitHub: OAuth 2.0; the account is the GitHub user (`GET /user`). */
export const githubIntegration: IntegrationModule = {
  slug: "github",
  async handleEvent(event, context) {
    if (event.type !== IntegrationEventType.SETUP || event.input.kind !== "oauth2")
      return [errorMessage("GitHub connects with OAuth.")];
    const answer = await fetchProviderJson(context, "GitHub", `${context.apiUrl}/user`, {
      headers: { Authorization: `Bearer ${event.input.accessToken}`, Accept: "application/vnd.github+json" },
    });
    if (!answer.ok) return [answer.error];
    const parsed = UserSchema.safeParse(answer.body);
    if (answer.status !== 200 || !parsed.success)
      return [unexpectedAnswerMessage(`GitHub did not say who you are (HTTP ${answer.status}).`, answer.status)];
    const user = parsed.data;
    return [
      {
        type: "account",
        data: {
          accountId: String(user.id),
          displayName: user.name ? `${user.name} (@${user.login})` : `@${user.login}`,
          settings: { login: user.login },
          credentials: { accessToken: event.input.accessToken, scope: event.input.scope },
        },
      },
    ];
  },
};
