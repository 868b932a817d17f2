import fc from "fast-check";
import type { z } from "zod";

/**
 * Hostile values shaped like a zod schema: the right keys with wrong, extreme or malformed
 * values, missing keys, unknown keys, and now and then anything at all. Covers what Echo's
 * schemas use (objects, strings, numbers, booleans, enums, literals, arrays, records,
 * unions, optional/nullable/default wrappers, pipes); anything else is `fc.anything()`.
 */

/** Strings that break naive code: empty, blank, huge, control characters, markup, injection, odd Unicode. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\r\nX-Injected: 1",
    "<script>alert(1)</script>",
    '\'; DROP TABLE "User"; --',
    "${process.env}",
    "../../etc/passwd",
    "\u202e\u200b\ufeff",
    "null",
    "true",
    "-1",
    "1e309",
    "javascript:alert(1)",
    "http://169.254.169.254/latest/meta-data",
    "\ud800",
  ),
  fc.integer({ min: 90, max: 12_000 }).map((length) => "x".repeat(length)),
);

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: false }),
  fc.constantFrom(-1, 0, -0, 0.5, 2 ** 31, 2 ** 53 + 1, Number.MAX_VALUE, -Number.MAX_VALUE, 1e-300),
);

/** Any JSON value, nested a few levels deep. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(null, true, false, 0, "", [], {}),
  fc.array(fc.constant({}), { maxLength: 50 }),
);

type Def = { type: string } & Record<string, unknown>;
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

export function hostileFor(schema: z.ZodType, depth = 0): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: shaped(schema, depth), weight: 4 }, { arbitrary: junk, weight: 1 });
}

function shaped(schema: z.ZodType, depth: number): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  switch (def.type) {
    case "object": {
      const shape = def.shape as Record<string, z.ZodType>;
      const fields = Object.fromEntries(
        Object.entries(shape).map(([key, value]) => [key, depth > 3 ? junk : hostileFor(value, depth + 1)]),
      );
      return fc
        .tuple(
          fc.record(fields, { requiredKeys: [] }),
          fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), junk, { maxKeys: 3 }), {
            nil: undefined,
          }),
        )
        .map(([known, unknown]) => ({ ...unknown, ...known }));
    }
    case "string":
      return hostileString;
    case "number":
    case "int":
      return fc.oneof(hostileNumber, hostileNumber.map(String));
    case "boolean":
      return fc.oneof(fc.boolean(), fc.constantFrom("true", "false", 1, 0));
    case "enum": {
      const values = Object.values(def.entries as Record<string, string>);
      return fc.oneof(
        fc.constantFrom(...values),
        fc.constantFrom(...values).map((v) => v.toLowerCase()),
        hostileString,
      );
    }
    case "literal": {
      const values = def.values as unknown[];
      return fc.oneof(fc.constantFrom(...values), hostileString);
    }
    case "array":
      return fc.oneof(
        fc.array(hostileFor(def.element as z.ZodType, depth + 1), { maxLength: 5 }),
        fc.integer({ min: 11, max: 200 }).map((length) => Array.from({ length }, (_, i) => `item-${i}`)),
      );
    case "record":
      return fc.dictionary(hostileString, hostileFor(def.valueType as z.ZodType, depth + 1), { maxKeys: 25 });
    case "union":
      return fc.oneof(...(def.options as z.ZodType[]).map((option) => shaped(option, depth + 1)));
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
      return fc.oneof(shaped(def.innerType as z.ZodType, depth), fc.constantFrom(null, undefined));
    case "pipe":
      return shaped(def.in as z.ZodType, depth);
    default:
      return fc.anything();
  }
}

/** Hostile form fields for an object schema: every value a string (as a browser sends), some fields repeated. */
export function hostileFormFor(schema: z.ZodType): fc.Arbitrary<[string, string][]> {
  const shape = defOf(schema).type === "object" ? (defOf(schema).shape as Record<string, z.ZodType>) : {};
  const field = (name: string) =>
    fc.array(
      hostileString.map((value): [string, string] => [name, value]),
      { maxLength: 3 },
    );
  return fc
    .tuple(
      ...Object.keys(shape).map(field),
      fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), hostileString), { maxLength: 3 }),
    )
    .map((groups) => groups.flat() as [string, string][]);
}
