import { z } from "zod";
import type { Database } from "~/db.server";
import { Prisma } from "~/generated/prisma/client";
import { createUser, findUserForLogin, type PublicUser } from "~/models/user.server";
import { consumeRateLimit, resetRateLimit } from "~/services/rate-limit.server";
import { burnPasswordCheck, hashPassword, verifyPassword } from "./password.server";

export const SignupSchema = z.object({
  name: z.string().trim().min(1, "Enter your name").max(100, "Keep your name under 100 characters"),
  email: z.email("Enter a valid email address").trim().toLowerCase().max(254),
  password: z.string().min(10, "Use at least 10 characters").max(200, "Use at most 200 characters"),
});

export const LoginSchema = z.object({
  email: z.email("Enter a valid email address").trim().toLowerCase(),
  password: z.string().min(1, "Enter your password").max(200),
});

export type FieldErrors = Partial<Record<string, string>>;

export type AuthResult =
  { ok: true; userId: string } | { ok: false; status: number; formError?: string; fieldErrors?: FieldErrors };

export async function signUp(db: Database, input: z.infer<typeof SignupSchema>): Promise<AuthResult> {
  const passwordHash = await hashPassword(input.password);
  try {
    const user: PublicUser = await createUser(db, { email: input.email, name: input.name, passwordHash });
    return { ok: true, userId: user.id };
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      return {
        ok: false,
        status: 400,
        fieldErrors: { email: "An account with this email already exists. Log in instead." },
      };
    }
    throw error;
  }
}

// Per email (slow guessing of one account) and per client address (spraying many).
const LOGIN_LIMITS = { perEmail: 10, perAddress: 50, windowSeconds: 15 * 60 };

export async function logIn(
  db: Database,
  input: z.infer<typeof LoginSchema>,
  clientAddress: string,
): Promise<AuthResult> {
  const emailKey = `login:email:${input.email}`;
  for (const [key, limit] of [
    [emailKey, LOGIN_LIMITS.perEmail],
    [`login:address:${clientAddress}`, LOGIN_LIMITS.perAddress],
  ] as const) {
    const result = await consumeRateLimit(db, { key, limit, windowSeconds: LOGIN_LIMITS.windowSeconds });
    if (!result.allowed) {
      const minutes = Math.ceil(result.retryAfterSeconds / 60);
      return {
        ok: false,
        status: 429,
        formError: `Too many login attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`,
      };
    }
  }

  const user = await findUserForLogin(db, input.email);
  if (!user) {
    await burnPasswordCheck(input.password);
    return { ok: false, status: 400, formError: "Wrong email or password." };
  }
  if (!(await verifyPassword(user.passwordHash, input.password))) {
    return { ok: false, status: 400, formError: "Wrong email or password." };
  }
  await resetRateLimit(db, emailKey);
  return { ok: true, userId: user.id };
}
