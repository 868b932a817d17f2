import pino from "pino";
import { env } from "~/env.server";

/** Structured logs; secrets never go in: `redact` is a second line of defence, not the first. */
export const logger = pino({
  level: env.LOG_LEVEL,
  base: { service: "echo" },
  redact: {
    paths: [
      "*.password",
      "*.secret",
      "*.clientSecret",
      "*.webhookSecret",
      "*.apiKey",
      "*.credentials",
      "*.authorization",
    ],
    censor: "[redacted]",
  },
});
