import { POSTMARK_STAND_IN_PORT } from "../../../playwright.config";
import { startPostmarkStandIn } from "../../support/stand-ins/postmark";

/** Local stand-ins for the third parties the browser tests connect to. */
export default async function globalSetup() {
  const postmark = await startPostmarkStandIn({ port: POSTMARK_STAND_IN_PORT });
  return async () => {
    await postmark.close();
  };
}
