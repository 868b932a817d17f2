// Browser tests use Debian's Chromium (Playwright's own download cannot work offline).
// Installs it with apt when it is missing; run as root or with sudo available.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";

if (existsSync(CHROMIUM)) process.exit(0);

console.log("Chromium is missing: installing Debian's chromium package with apt…");
const isRoot = process.getuid?.() === 0;
const sudo = isRoot ? [] : ["sudo", "-n"];
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };

function run(args) {
  const [command, ...rest] = [...sudo, ...args];
  const result = spawnSync(command, rest, { stdio: "inherit", env });
  return result.status === 0;
}

if (!isRoot) {
  try {
    execFileSync("sudo", ["-n", "true"], { stdio: "ignore" });
  } catch {
    console.error(
      "Cannot install Chromium: not root and no password-less sudo. Install it by hand: apt-get install chromium",
    );
    process.exit(1);
  }
}

const installed =
  run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"]) ||
  (run(["apt-get", "update"]) && run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"]));

if (!installed || !existsSync(CHROMIUM)) {
  console.error(`Installing Chromium failed; ${CHROMIUM} is still missing. Browser tests cannot run.`);
  process.exit(1);
}
console.log(`Chromium installed at ${CHROMIUM}.`);
