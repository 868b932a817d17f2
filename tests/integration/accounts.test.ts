import { describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { logIn, signUp } from "~/services/auth/accounts.server";
import { consumeRateLimit } from "~/services/rate-limit.server";

function uniqueEmail() {
  return `user-${Math.random().toString(36).slice(2)}@example.com`;
}

describe("accounts", () => {
  it("signs up with an argon2id hash and never stores the password", async () => {
    const email = uniqueEmail();
    const result = await signUp(prisma, { name: "Ada", email, password: "correct horse battery" });
    expect(result.ok).toBe(true);
    const user = await prisma.user.findUniqueOrThrow({ where: { email } });
    expect(user.passwordHash.startsWith("$argon2id$")).toBe(true);
    expect(user.passwordHash).not.toContain("correct horse");
  });

  it("refuses a second account with the same email with a field error", async () => {
    const email = uniqueEmail();
    await signUp(prisma, { name: "Ada", email, password: "correct horse battery" });
    const again = await signUp(prisma, { name: "Eve", email, password: "another password 1" });
    expect(again).toMatchObject({
      ok: false,
      status: 400,
      fieldErrors: { email: expect.stringContaining("already exists") },
    });
  });

  it("logs in with the right password and refuses a wrong one with one generic message", async () => {
    const email = uniqueEmail();
    await signUp(prisma, { name: "Ada", email, password: "correct horse battery" });
    expect(await logIn(prisma, { email, password: "correct horse battery" }, "10.0.0.1")).toMatchObject({ ok: true });
    const wrong = await logIn(prisma, { email, password: "wrong password!!" }, "10.0.0.1");
    const unknown = await logIn(prisma, { email: uniqueEmail(), password: "whatever123" }, "10.0.0.1");
    expect(wrong).toEqual({ ok: false, status: 400, formError: "Wrong email or password." });
    expect(unknown).toEqual(wrong);
  });

  it("rate-limits repeated failed logins for one email, even with the right password afterwards", async () => {
    const email = uniqueEmail();
    await signUp(prisma, { name: "Ada", email, password: "correct horse battery" });
    for (let attempt = 0; attempt < 10; attempt++) {
      await logIn(prisma, { email, password: `wrong-${attempt}-password` }, "10.0.0.2");
    }
    const blocked = await logIn(prisma, { email, password: "correct horse battery" }, "10.0.0.2");
    expect(blocked).toMatchObject({
      ok: false,
      status: 429,
      formError: expect.stringContaining("Too many login attempts"),
    });
  });

  it("starts a new rate-limit window once the old one has ended", async () => {
    const key = `test:${Math.random()}`;
    expect(await consumeRateLimit(prisma, { key, limit: 1, windowSeconds: 60 })).toEqual({ allowed: true });
    expect(await consumeRateLimit(prisma, { key, limit: 1, windowSeconds: 60 })).toMatchObject({ allowed: false });
    await prisma.rateLimitBucket.update({ where: { key }, data: { windowStart: new Date(Date.now() - 61_000) } });
    expect(await consumeRateLimit(prisma, { key, limit: 1, windowSeconds: 60 })).toEqual({ allowed: true });
  });
});
