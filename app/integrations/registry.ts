import { githubIntegration } from "./github";
import { linearIntegration } from "./linear";
import { mcpIntegration } from "./mcp";
import { postmarkIntegration } from "./postmark";
import { slackIntegration } from "./slack";
import type { IntegrationModule } from "./types";

const modules: IntegrationModule[] = [
  linearIntegration,
  slackIntegration,
  githubIntegration,
  postmarkIntegration,
  mcpIntegration,
];

export const INTEGRATION_MODULES: ReadonlyMap<string, IntegrationModule> = new Map(
  modules.map((module) => [module.slug, module]),
);
