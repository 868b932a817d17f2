import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createRequestHandler } from "@remix-run/express";
import type { ServerBuild } from "@remix-run/node";
import { randomBytes } from "node:crypto";
import compression from "compression";
import helmet from "helmet";
import express from "express";
import type { Env } from "../app/lib/env-schema.ts";
import { requestGuards } from "./request-guards.ts";

export type RunningHttpServer = { port: number; close(): Promise<void> };

export async function startHttpServer(env: Env): Promise<RunningHttpServer> {
  const buildPath = path.resolve("build/index.js");
  const build = (await import(pathToFileURL(buildPath).href).catch((error: Error) => {
    throw new Error(`The app is not built (${error.message}). Run \`npm start\`, which builds it first.`);
  })) as ServerBuild;

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  app.use(compression());
  // A fresh nonce per response: the only inline scripts allowed are the ones Remix renders.
  app.use((_req, res, next) => {
    res.locals.cspNonce = randomBytes(16).toString("base64");
    next();
  });
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          "default-src": ["'self'"],
          "script-src": ["'self'", (_req, res) => `'nonce-${(res as express.Response).locals.cspNonce as string}'`],
          "style-src": ["'self'"],
          "img-src": ["'self'", "data:"],
          "connect-src": ["'self'"],
          "font-src": ["'self'"],
          "object-src": ["'none'"],
          "base-uri": ["'self'"],
          // Not form-action: the consent form's answer redirects to each app's own redirect URI.
          "frame-ancestors": ["'none'"],
        },
      },
      strictTransportSecurity: env.APP_URL.startsWith("https://")
        ? { maxAge: 31_536_000, includeSubDomains: true }
        : false,
      referrerPolicy: { policy: "strict-origin-when-cross-origin" },
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use(requestGuards);
  // Fingerprinted assets can be cached forever; everything else briefly.
  app.use("/build", express.static("public/build", { immutable: true, maxAge: "1y" }));
  app.use(express.static("public", { maxAge: "1h" }));
  // Browsers ask for /favicon.ico whatever the page declares.
  app.get("/favicon.ico", (_req, res) => res.redirect(301, "/favicon.svg"));
  app.all(
    "*",
    createRequestHandler({
      build,
      mode: env.NODE_ENV,
      getLoadContext: (req, res) => ({
        clientAddress: req.ip ?? req.socket.remoteAddress ?? "unknown",
        cspNonce: res.locals.cspNonce as string,
      }),
    }),
  );

  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(env.PORT, env.HOST, () => resolve(listening));
    listening.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === "EADDRINUSE"
            ? `Port ${env.PORT} is already in use. Set PORT to a free port.`
            : `Cannot listen on ${env.HOST}:${env.PORT}: ${error.message}`,
        ),
      );
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() open; idle ones can go now.
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      }),
  };
}
