import { env } from "~/env.server";

/**
 * Operators run Echo: they see the runs console and may act for any user (publishing for a
 * `userId`). The first user of an empty database is one (the demo user on a fresh `npm start`),
 * and so is every address in ECHO_ADMIN_EMAILS.
 */
const adminEmails = new Set(env.ECHO_ADMIN_EMAILS);

export function hasOperatorRole(user: { email: string; isOperator: boolean }): boolean {
  return user.isOperator || adminEmails.has(user.email.toLowerCase());
}
