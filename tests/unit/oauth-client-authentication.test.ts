import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formUrlDecode, readClientCredentials } from "~/lib/oauth-client-authentication";

const ID = "echo_app_0123456789abcdef01234567";
const SECRET = "echo_cs_Ab-c_De-F";

function basic(credentials: string | Buffer, scheme = "Basic"): string {
  return `${scheme} ${Buffer.from(credentials).toString("base64")}`;
}

function credentialsOf(authorization: string | null, form: Record<string, string> = {}) {
  const result = readClientCredentials(authorization, form);
  if (!result.ok) throw new Error(`refused: ${result.error} ${result.description}`);
  return result.credentials;
}

function refusalOf(authorization: string | null, form: Record<string, string> = {}) {
  const result = readClientCredentials(authorization, form);
  if (result.ok) throw new Error("accepted");
  // RFC 6749 §5.2: error_description is printable ASCII without `"` and `\`.
  expect(result.description).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
  return result.error;
}

describe("readClientCredentials: HTTP Basic (client_secret_basic)", () => {
  it("form-urldecodes the id and secret, so a strict client's %5F is Echo's _", () => {
    expect(credentialsOf(basic("echo%5Fapp%5F0123456789abcdef01234567:echo%5Fcs%5FAb%2Dc%5FDe%2DF"))).toEqual({
      method: "client_secret_basic",
      clientId: ID,
      clientSecret: SECRET,
    });
  });

  it("takes unencoded credentials as they are (legacy clients), since decoding leaves [A-Za-z0-9_-] alone", () => {
    expect(credentialsOf(basic(`${ID}:${SECRET}`))).toEqual({
      method: "client_secret_basic",
      clientId: ID,
      clientSecret: SECRET,
    });
  });

  it("decodes lower-case %-escapes too", () => {
    expect(credentialsOf(basic("echo%5fapp%5f0123456789abcdef01234567:echo%5fcs%5fAb-c_De-F")).clientId).toBe(ID);
  });

  it("reads + as a space and %2B as a plus (application/x-www-form-urlencoded)", () => {
    expect(credentialsOf(basic("my+client:s+e%2Bcret%20x"))).toMatchObject({
      clientId: "my client",
      clientSecret: "s e+cret x",
    });
  });

  it("reads a : in the secret sent as %3A, and an unencoded one after the first : as part of the secret", () => {
    expect(credentialsOf(basic(`${ID}:a%3Ab`)).clientSecret).toBe("a:b");
    expect(credentialsOf(basic(`${ID}:a:b:c`)).clientSecret).toBe("a:b:c");
    expect(credentialsOf(basic("my%3Aclient:s")).clientId).toBe("my:client");
  });

  it("decodes %-escaped UTF-8 into characters, then refuses them: ids and secrets are printable ASCII", () => {
    expect(refusalOf(basic(`${ID}:caf%C3%A9`))).toBe("invalid_client");
  });

  it("accepts the scheme in any case and extra spaces around the credentials", () => {
    for (const scheme of ["basic", "BASIC", "bAsIc"]) {
      expect(credentialsOf(basic(`${ID}:${SECRET}`, scheme)).clientId).toBe(ID);
    }
    expect(credentialsOf(`Basic   ${Buffer.from(`${ID}:${SECRET}`).toString("base64")}  `).clientId).toBe(ID);
  });

  it("treats an empty password as no secret (a public client naming itself through Basic)", () => {
    expect(credentialsOf(basic(`${ID}:`))).toEqual({ method: "client_secret_basic", clientId: ID, clientSecret: null });
  });

  it("accepts a client_id in the body that repeats the header's", () => {
    expect(credentialsOf(basic(`${ID}:${SECRET}`), { client_id: ID }).clientSecret).toBe(SECRET);
  });

  it.each([
    ["no credentials after the scheme", "Basic"],
    ["only spaces after the scheme", "Basic    "],
    ["characters outside base64", "Basic !!!not-base64!!!"],
    ["two tokens", "Basic YWJj ZGVm"],
    ["padding in the middle", "Basic YW=Jj"],
    ["no colon", basic("no-colon-here")],
    ["an empty client id", basic(`:${SECRET}`)],
    ["a malformed %-escape in the id", basic(`${ID}%ZZ:${SECRET}`)],
    ["a malformed %-escape in the secret", basic(`${ID}:${SECRET}%`)],
    ["a %-escape that is not UTF-8", basic(`${ID}:%E0%A4`)],
    ["bytes that are not UTF-8", basic(Buffer.concat([Buffer.from(`${ID}:`), Buffer.from([0xff, 0xfe])]))],
    ["a NUL, raw", basic(`${ID}:a\u0000b`)],
    ["a NUL, %-escaped", basic(`${ID}:a%00b`)],
    ["a control character", basic(`${ID}\n:${SECRET}`)],
  ])("refuses %s as invalid_client (a 401, never a server error)", (_name, authorization) => {
    expect(refusalOf(authorization)).toBe("invalid_client");
  });

  it("refuses a client that also sends client_secret in the body: one method per request (RFC 6749 §2.3)", () => {
    expect(refusalOf(basic(`${ID}:${SECRET}`), { client_secret: SECRET })).toBe("invalid_request");
  });

  it("refuses a client_id in the body that is not the header's", () => {
    expect(refusalOf(basic(`${ID}:${SECRET}`), { client_id: "echo_app_other" })).toBe("invalid_request");
  });

  it("never throws, whatever the header holds", () => {
    fc.assert(
      fc.property(fc.string(), fc.uint8Array({ maxLength: 64 }), (text, bytes) => {
        for (const header of [text, `Basic ${text}`, basic(Buffer.from(bytes)), basic(text)]) {
          const result = readClientCredentials(header, {});
          if (!result.ok) expect(["invalid_client", "invalid_request"]).toContain(result.error);
        }
      }),
    );
  });

  it("reads back any printable-ASCII id and secret that a strict client encoded", () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
    const strict = (value: string) =>
      encodeURIComponent(value)
        .replace(/%20/g, "+")
        .replace(/[-_.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    fc.assert(
      fc.property(printable.filter(Boolean), printable.filter(Boolean), (id, secret) => {
        expect(credentialsOf(basic(`${strict(id)}:${strict(secret)}`))).toEqual({
          method: "client_secret_basic",
          clientId: id,
          clientSecret: secret,
        });
      }),
    );
  });
});

describe("readClientCredentials: the form body", () => {
  it("is client_secret_post with client_id and client_secret, taken as sent", () => {
    expect(credentialsOf(null, { client_id: ID, client_secret: SECRET })).toEqual({
      method: "client_secret_post",
      clientId: ID,
      clientSecret: SECRET,
    });
  });

  it("is none with client_id alone (a public client with PKCE)", () => {
    expect(credentialsOf(null, { client_id: ID })).toEqual({ method: "none", clientId: ID, clientSecret: null });
  });

  it("names no client when neither the header nor the body does", () => {
    expect(credentialsOf(null)).toEqual({ method: "none", clientId: null, clientSecret: null });
  });

  it("ignores an Authorization header of another scheme", () => {
    expect(credentialsOf("Bearer abc", { client_id: ID }).method).toBe("none");
    expect(credentialsOf("Basically abc", { client_id: ID }).method).toBe("none");
  });
});

describe("formUrlDecode", () => {
  it.each([
    ["echo%5Fapp", "echo_app"],
    ["a+b", "a b"],
    ["a%2Bb", "a+b"],
    ["%3A", ":"],
    ["plain-value_1", "plain-value_1"],
    ["%E2%82%AC", "€"],
  ])("decodes %s as %s", (encoded, decoded) => {
    expect(formUrlDecode(encoded)).toBe(decoded);
  });

  it.each(["%", "%Z1", "abc%4", "%C3"])("returns null for the malformed %s", (encoded) => {
    expect(formUrlDecode(encoded)).toBeNull();
  });
});
