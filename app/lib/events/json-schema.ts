import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/**
 * The JSON Schemas of custom event types (draft 2020-12), checked and applied with Ajv. A schema
 * is checked against the 2020-12 meta-schema and then compiled in strict mode, so a misspelt
 * keyword (`requried`), an unknown `format` or a `$ref` Echo cannot resolve is refused when the
 * type is saved rather than silently ignored when a payload is checked. Nothing is fetched:
 * a `$ref` must point inside the schema.
 */

/** A schema (or an example) bigger than this is refused: the catalog is read on every publish. */
export const MAX_SCHEMA_BYTES = 64 * 1024;

export type SchemaIssue = {
  /** Where in the checked document, as a dotted path (`properties.amount.type`), or "" for the whole of it. */
  path: string;
  message: string;
};

/**
 * One instance for the process: strict about the schema's own keywords (a typo is an error),
 * lenient about style (a `properties` without `type: "object"` is fine, as JSON Schema allows).
 * Compiled schemas are removed from its registry at once, so it holds nothing between calls.
 */
const ajv = new Ajv2020({
  allErrors: true,
  strictSchema: true,
  strictNumbers: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allowUnionTypes: true,
  validateFormats: true,
});
addFormats(ajv);

/** `/properties/a~1b/0` → `properties.a/b.0`. */
function dottedPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}

function join(base: string, key: string | undefined): string {
  if (key === undefined) return base;
  return base === "" ? key : `${base}.${key}`;
}

/** Ajv's errors as issues a person can act on, each at the path of the value it is about. */
function issuesOf(errors: ErrorObject[] | null | undefined): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  for (const error of errors ?? []) {
    const at = dottedPath(error.instancePath);
    if (error.keyword === "required") {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      issues.push({ path: join(at, missing), message: "Required" });
    } else if (error.keyword === "additionalProperties") {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      issues.push({ path: join(at, extra), message: "Not allowed by the schema (additionalProperties is false)" });
    } else if (error.keyword === "unevaluatedProperties") {
      const extra = (error.params as { unevaluatedProperty: string }).unevaluatedProperty;
      issues.push({ path: join(at, extra), message: "Not allowed by the schema (unevaluatedProperties is false)" });
    } else {
      const message = error.message ?? `fails ${error.keyword}`;
      issues.push({ path: at, message: message.charAt(0).toUpperCase() + message.slice(1) });
    }
  }
  // allErrors reports the branches of an anyOf as well as the anyOf: keep one line per path and message.
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export type CompiledSchema = (payload: unknown) => SchemaIssue[];

/**
 * Checks a custom type's JSON Schema and compiles it: the issues that make it unusable, or a
 * function that lists a payload's issues (none: it matches). The schema must be an object.
 */
export function compileJsonSchema(
  schema: unknown,
): { ok: true; check: CompiledSchema } | { ok: false; issues: SchemaIssue[] } {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    return { ok: false, issues: [{ path: "", message: 'A JSON Schema here is an object, e.g. {"type": "object"}' }] };
  }
  const declared = (schema as { $schema?: unknown }).$schema;
  if (declared !== undefined && declared !== "https://json-schema.org/draft/2020-12/schema") {
    return {
      ok: false,
      issues: [
        {
          path: "$schema",
          message:
            "Echo reads JSON Schema draft 2020-12: leave $schema out or set it to https://json-schema.org/draft/2020-12/schema",
        },
      ],
    };
  }
  if (!ajv.validateSchema(schema)) return { ok: false, issues: issuesOf(ajv.errors) };
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    // Strict mode and references: an unknown keyword or format, a $ref that points nowhere, a bad pattern.
    return { ok: false, issues: [{ path: "", message: error instanceof Error ? error.message : String(error) }] };
  } finally {
    ajv.removeSchema(schema);
  }
  return {
    ok: true,
    check: (payload) => (validate(payload) ? [] : issuesOf(validate.errors)),
  };
}
