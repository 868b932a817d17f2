/** What the HTTP server (server/index.ts) passes to every loader and action. */
export type EchoLoadContext = { clientAddress: string; cspNonce?: string };

declare module "@remix-run/node" {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface AppLoadContext extends EchoLoadContext {}
}

declare module "@remix-run/node" {
  interface Future {
    v3_singleFetch: true;
  }
}
