import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROUTES, type Method } from "../support/route-table";

// The authorization and bad-input tests are only as good as the route table they run over:
// a route, a method or a form intent that is not in it is never tested, so it fails here.
const routesDir = path.resolve(import.meta.dirname, "../../app/routes");
const files = readdirSync(routesDir).filter((name) => /\.(tsx?|jsx?)$/.test(name));
const idOf = (name: string) => name.replace(/\.(tsx?|jsx?)$/, "");

/** Intents a route's source names: hidden `intent` fields, IntentButtons, zod literals and comparisons. */
function intentsIn(source: string): string[] {
  const patterns = [
    /name="intent" value="([^"]+)"/g,
    /\bintent="([^"]+)"/g,
    /intent: z\.literal\("([^"]+)"\)/g,
    /intent === "([^"]+)"/g,
    /get\("intent"\) === "([^"]+)"/g,
  ];
  return [...new Set(patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1]!)))];
}

/** Methods an action answers, as its source names them (`request.method === "PATCH"` and the like). */
function methodsIn(source: string): Method[] {
  return [
    ...new Set([...source.matchAll(/request\.method [!=]== "(POST|PUT|PATCH|DELETE)"/g)].map((m) => m[1] as Method)),
  ];
}

describe("the route table", () => {
  it("has every file in app/routes", () => {
    const missing = files.map(idOf).filter((id) => !ROUTES.some((row) => row.file === id));
    expect(missing, "add these routes to tests/support/route-table.ts").toEqual([]);
  });

  it("lists no route that does not exist", () => {
    const ids = new Set(files.map(idOf));
    expect(ROUTES.map((row) => row.file).filter((id) => !ids.has(id))).toEqual([]);
  });

  it.each(files)("covers the loader, the action's methods and every form intent of %s", (file) => {
    const source = readFileSync(path.join(routesDir, file), "utf8");
    const rows = ROUTES.filter((row) => row.file === idOf(file));
    if (/export (async )?function loader\b|export const loader\b/.test(source)) {
      expect(
        rows.some((row) => row.method === "GET"),
        "a GET row for the loader",
      ).toBe(true);
    }
    if (/export (async )?function action\b|export const action\b/.test(source)) {
      expect(
        rows.some((row) => row.method !== "GET"),
        "a row for the action",
      ).toBe(true);
      for (const method of methodsIn(source)) {
        expect(
          rows.some((row) => row.method === method),
          `a ${method} row`,
        ).toBe(true);
      }
      for (const intent of intentsIn(source)) {
        expect(
          rows.some((row) => row.method !== "GET" && row.intent === intent),
          `a row for intent "${intent}"`,
        ).toBe(true);
      }
    }
  });
});
