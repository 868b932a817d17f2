import { describe, expect, it } from "vitest";
import { describeDataLocation } from "../../server/data-location";

const describeFor = (dataDir: string, embeddedDatabase = true, localSecrets = true) =>
  describeDataLocation({ dataDir, cwd: "/srv/echo", embeddedDatabase, localSecrets });

describe("describeDataLocation (npm start's line about where data lives)", () => {
  it("names the default data folder as the README does, with the database and secrets inside it", () => {
    expect(describeFor(".data")).toBe("data in .data/: database in .data/postgres/, secrets in .data/secrets.json");
    expect(describeFor("/srv/echo/state")).toBe(
      "data in state/: database in state/postgres/, secrets in state/secrets.json",
    );
  });

  it("shows a data folder outside the working folder by its absolute path", () => {
    expect(describeFor("/var/lib/echo")).toBe(
      "data in /var/lib/echo/: database in /var/lib/echo/postgres/, secrets in /var/lib/echo/secrets.json",
    );
    expect(describeFor("../shared")).toBe(
      "data in /srv/shared/: database in /srv/shared/postgres/, secrets in /srv/shared/secrets.json",
    );
  });

  it("says the database is DATABASE_URL's, and where generated secrets are when some are", () => {
    expect(describeFor(".data", false, true)).toBe("database at DATABASE_URL, secrets in .data/secrets.json");
    expect(describeFor(".data", false, false)).toBe("database at DATABASE_URL");
  });
});
