import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CustomHeaderNameSchema,
  CustomHeadersSchema,
  CustomHeaderValueSchema,
  isReservedHeaderName,
  isSensitiveHeaderName,
  REDACTED,
  redactHeaders,
} from "~/lib/webhooks/headers";
import { buildSignatureHeaders } from "~/lib/webhooks/signing";

function issues(input: unknown): string {
  const result = CustomHeadersSchema.safeParse(input);
  expect(result.success).toBe(false);
  return JSON.stringify(result.error?.issues);
}

describe("custom header names", () => {
  it.each(["X-Team", "Authorization", "x-api-key", "X_Underscore", "A", "!#$%&'*+-.^_`|~09az"])(
    "accepts %j",
    (name) => {
      expect(CustomHeaderNameSchema.safeParse(name).success).toBe(true);
    },
  );

  it.each(["", "Bad Name", "X-Evil\r\n", "X:Colon", "X(Paren)", "Ünïcode", "X\u0000", "Tab\tName", '"quoted"', "a/b"])(
    "refuses %j: not an RFC 9110 token",
    (name) => {
      expect(CustomHeaderNameSchema.safeParse(name).success).toBe(false);
    },
  );

  it("refuses names over 128 characters", () => {
    expect(CustomHeaderNameSchema.safeParse("X".repeat(128)).success).toBe(true);
    expect(issues({ ["X".repeat(129)]: "v" })).toContain("at most 128");
  });

  it.each([
    "content-type",
    "Content-Length",
    "content-encoding",
    "User-Agent",
    "HOST",
    "connection",
    "proxy-connection",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "webhook-id",
    "Webhook-Signature",
    "webhook-timestamp",
    "webhook-anything-new",
    "x-webhook-secret",
    "X-Webhook-Signature",
    "x-webhook-timestamp",
    "X-Webhook-Event",
    "x-webhook-delivery",
  ])("refuses %j: Echo sets it itself", (name) => {
    expect(isReservedHeaderName(name)).toBe(true);
    expect(issues({ [name]: "forged" })).toContain("Echo sets this header itself");
  });

  it("does not reserve look-alikes outside Echo's namespaces", () => {
    for (const name of ["x-webhooks", "my-webhook-id", "content-typo", "x-host"]) {
      expect(isReservedHeaderName(name)).toBe(false);
    }
  });
});

describe("custom header values", () => {
  it.each(["Bearer abc.def", "", "a b\tc", "caf\u00e9", "~!@#$%^&*()"])("accepts %j", (value) => {
    expect(CustomHeaderValueSchema.safeParse(value).success).toBe(true);
  });

  it.each([
    ["CR LF", "a\r\nInjected: yes"],
    ["LF", "a\nb"],
    ["CR", "a\rb"],
    ["NUL", "a\u0000b"],
    ["DEL", "a\u007fb"],
    ["other controls", "a\u0001b"],
    ["characters beyond Latin-1", "emoji ☕"],
  ])("refuses %s", (_label, value) => {
    expect(issues({ "X-Evil": value })).toContain("cannot contain line breaks or control characters");
  });

  it("refuses values over 4096 characters", () => {
    expect(CustomHeaderValueSchema.safeParse("v".repeat(4096)).success).toBe(true);
    expect(issues({ "X-Big": "v".repeat(4097) })).toContain("at most 4096");
  });

  it("never accepts a value containing CR, LF or NUL", () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom("\r", "\n", "\u0000"), fc.string(), (before, bad, after) => {
        expect(CustomHeaderValueSchema.safeParse(before + bad + after).success).toBe(false);
      }),
    );
  });
});

describe("CustomHeadersSchema", () => {
  it("accepts ordinary headers and returns them unchanged", () => {
    const headers = { "X-Team": "payments", Authorization: "Bearer abc" };
    expect(CustomHeadersSchema.parse(headers)).toEqual(headers);
    expect(CustomHeadersSchema.parse({})).toEqual({});
  });

  it("accepts 20 headers and refuses 21", () => {
    const headers = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`X-H${i}`, "v"]));
    expect(CustomHeadersSchema.safeParse(headers(20)).success).toBe(true);
    expect(issues(headers(21))).toContain("At most 20 custom headers");
  });

  it("names the refused header and says why, for each bad name", () => {
    const result = CustomHeadersSchema.safeParse({ "Content-Type": "x", "Bad Name": "y", "X-Fine": "z" });
    expect(result.success).toBe(false);
    const issues = result.error!.issues.map((issue) => ({ path: issue.path, message: issue.message }));
    expect(issues).toEqual([
      { path: ["Content-Type"], message: "Content-Type: Echo sets this header itself" },
      { path: ["Bad Name"], message: expect.stringMatching(/^Bad Name: Header names may contain only/) },
    ]);
  });

  it("refuses the same name twice in different case", () => {
    expect(issues({ "X-Team": "a", "x-team": "b" })).toContain("already set");
  });

  it("refuses anything but an object of strings", () => {
    expect(CustomHeadersSchema.safeParse(["X-Team", "a"]).success).toBe(false);
    expect(CustomHeadersSchema.safeParse({ "X-Count": 3 }).success).toBe(false);
    expect(CustomHeadersSchema.safeParse(null).success).toBe(false);
  });
});

describe("redactHeaders", () => {
  it("hides signatures and credentials and keeps everything else", () => {
    expect(
      redactHeaders({
        "content-type": "application/json",
        "user-agent": "Echo-OAuth-Webhooks/1.0",
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": "v1,abc",
        "x-webhook-timestamp": "1700000000",
        "x-webhook-signature": "sha256=abc",
        "x-webhook-secret": "abc",
        "x-webhook-event": "integration.connected",
        authorization: "Bearer abc",
        "proxy-authorization": "Basic abc",
        cookie: "session=abc",
        "set-cookie": "session=abc",
      }),
    ).toEqual({
      "content-type": "application/json",
      "user-agent": "Echo-OAuth-Webhooks/1.0",
      "webhook-id": "msg_1",
      "webhook-timestamp": "1700000000",
      "webhook-signature": REDACTED,
      "x-webhook-timestamp": "1700000000",
      "x-webhook-signature": REDACTED,
      "x-webhook-secret": REDACTED,
      "x-webhook-event": "integration.connected",
      authorization: REDACTED,
      "proxy-authorization": REDACTED,
      cookie: REDACTED,
      "set-cookie": REDACTED,
    });
  });

  it("hides custom headers whose names suggest a credential", () => {
    for (const name of [
      "X-Api-Key",
      "X-API_KEY",
      "apikey",
      "X-Auth-Token",
      "X-Access-Token",
      "X-Client-Secret",
      "X-Password",
      "X-Session-Id",
      "X-Private-Key",
      "X-Credentials",
    ]) {
      expect(isSensitiveHeaderName(name), name).toBe(true);
      expect(redactHeaders({ [name]: "s3cr3t" })).toEqual({ [name]: REDACTED });
    }
  });

  it("keeps the header names as given", () => {
    expect(Object.keys(redactHeaders({ Authorization: "x", "X-Team": "y" }))).toEqual(["Authorization", "X-Team"]);
  });

  it("reads a Fetch Headers instance and Node-style arrays", () => {
    expect(redactHeaders(new Headers({ Authorization: "Bearer abc", "X-Team": "payments" }))).toEqual({
      authorization: REDACTED,
      "x-team": "payments",
    });
    expect(redactHeaders({ "set-cookie": ["a=1", "b=2"], vary: ["accept"], absent: undefined })).toEqual({
      "set-cookie": REDACTED,
      vary: ["accept"],
    });
  });

  it("does not change its input", () => {
    const headers = { authorization: "Bearer abc" };
    redactHeaders(headers);
    expect(headers).toEqual({ authorization: "Bearer abc" });
  });

  it("never lets a sensitive value through, whatever the casing", () => {
    const sensitive = ["x-webhook-secret", "x-webhook-signature", "webhook-signature", "authorization", "cookie"];
    fc.assert(
      fc.property(
        fc.constantFrom(...sensitive),
        fc.array(fc.boolean(), { minLength: 32, maxLength: 32 }),
        fc.string({ minLength: 1 }),
        (name, upper, value) => {
          const cased = [...name].map((char, i) => (upper[i] ? char.toUpperCase() : char)).join("");
          expect(redactHeaders({ [cased]: value })).toEqual({ [cased]: REDACTED });
        },
      ),
    );
  });

  it("never leaks a signature from the headers Echo actually sends", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.integer({ min: 0, max: 4_000_000_000 }), (body, timestamp) => {
        const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        const sent = {
          "content-type": "application/json",
          ...buildSignatureHeaders({ body, id: "msg_1", timestamp, secrets: [secret] }),
        };
        const logged = JSON.stringify(redactHeaders(sent));
        for (const name of ["webhook-signature", "x-webhook-signature", "x-webhook-secret"] as const) {
          for (const part of sent[name].split(" ")) expect(logged).not.toContain(part.replace(/^(v1,|sha256=)/, ""));
        }
        expect(logged).not.toContain(secret);
      }),
    );
  });

  it("passes every other header through untouched", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^x-[a-z]{1,12}$/), fc.string()), (headers) => {
        const redacted = redactHeaders(headers);
        for (const [name, value] of Object.entries(headers)) {
          expect(redacted[name]).toBe(isSensitiveHeaderName(name) ? REDACTED : value);
        }
      }),
    );
  });
});
