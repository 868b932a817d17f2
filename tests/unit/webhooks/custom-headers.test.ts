import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DecryptionError, decryptSecret, encryptSecret, keyIdOf } from "~/lib/encryption";
import { openCustomHeaders, resealCustomHeaders, sealCustomHeaders } from "~/services/webhooks/custom-headers.server";

const oldKey = randomBytes(32).toString("base64");
const newKey = randomBytes(32).toString("base64");
const headers = { "X-Api-Key": "k-plain-credential", "X-Team": "blue" };

describe("sealCustomHeaders / openCustomHeaders", () => {
  it("seals to a ciphertext with no header name or value in it, and opens it again", () => {
    const sealed = sealCustomHeaders(headers, { current: oldKey, previous: [] });
    expect(sealed.startsWith(`v2.${keyIdOf(oldKey)}.`)).toBe(true);
    for (const text of [...Object.keys(headers), ...Object.values(headers)]) expect(sealed).not.toContain(text);
    expect(openCustomHeaders(sealed, { current: oldKey, previous: [] })).toEqual(headers);
  });

  it("uses the deployment's ENCRYPTION_KEY when no keyring is given", () => {
    expect(openCustomHeaders(sealCustomHeaders(headers))).toEqual(headers);
  });

  it("reads a row written before encryption (a plain object) as it is", () => {
    expect(openCustomHeaders(headers, { current: oldKey, previous: [] })).toEqual(headers);
    expect(openCustomHeaders({}, { current: oldKey, previous: [] })).toEqual({});
  });

  it("keeps only string values, as every writer stored", () => {
    const odd = { "X-A": "a", "X-B": 1, "X-C": null, "X-D": ["d"] };
    expect(openCustomHeaders(odd, { current: oldKey, previous: [] })).toEqual({ "X-A": "a" });
    const sealedOdd = encryptSecret(JSON.stringify(odd), oldKey);
    expect(openCustomHeaders(sealedOdd, { current: oldKey, previous: [] })).toEqual({ "X-A": "a" });
    expect(openCustomHeaders(["X-A"], { current: oldKey, previous: [] })).toEqual({});
  });

  it("refuses a ciphertext no configured key opens instead of reading it as no headers", () => {
    const sealed = sealCustomHeaders(headers, { current: oldKey, previous: [] });
    expect(() => openCustomHeaders(sealed, { current: newKey, previous: [] })).toThrow(DecryptionError);
  });
});

describe("resealCustomHeaders", () => {
  const keys = { current: newKey, previous: [oldKey] };

  it("re-encrypts a value under an old key with the current one", () => {
    const resealed = resealCustomHeaders(sealCustomHeaders(headers, { current: oldKey, previous: [] }), keys);
    expect(resealed?.startsWith(`v2.${keyIdOf(newKey)}.`)).toBe(true);
    expect(openCustomHeaders(resealed!, { current: newKey, previous: [] })).toEqual(headers);
  });

  it("leaves a value already under the current key alone", () => {
    expect(resealCustomHeaders(sealCustomHeaders(headers, keys), keys)).toBeNull();
  });

  it("seals a plain row exactly as it is", () => {
    const odd = { "X-A": "a", "X-B": 1 };
    const sealed = resealCustomHeaders(odd, keys);
    expect(sealed?.startsWith(`v2.${keyIdOf(newKey)}.`)).toBe(true);
    expect(JSON.parse(decryptSecret(sealed!, keys))).toEqual(odd);
  });
});
