/**
 * The portal (web/, built by `npm run build` into dist/web), served beside ARM. `/` and
 * `/index.html` answer the app shell with `Cache-Control: no-cache`, so a new release is seen at
 * once; `/assets/*` answers the content-hashed files as immutable for a year, brotli or gzip
 * precompressed when the client accepts them. Every other path stays ARM's: the portal's own pages
 * are hash routes (`#/…`), never paths.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build` writes the portal, from `src/` and `dist/` alike. */
export const PORTAL_DIR = fileURLToPath(new URL('../dist/web/', import.meta.url));

/** Registers the portal's routes when it has been built; answers whether it was. */
export async function registerPortal(app: FastifyInstance, directory = PORTAL_DIR): Promise<boolean> {
  if (!existsSync(join(directory, 'index.html'))) return false;
  await app.register(
    async (assets) => {
      await assets.register(fastifyStatic, {
        root: join(directory, 'assets'),
        prefix: '/',
        preCompressed: true,
        immutable: true,
        maxAge: '365d',
        index: false,
        list: false,
        // The same URL answers brotli, gzip or identity: shared caches must key on the encoding.
        setHeaders: (response) => response.setHeader('vary', 'accept-encoding'),
      });
      assets.setNotFoundHandler(async (request, reply) =>
        reply
          .code(404)
          .header('cache-control', 'no-cache')
          .send({
            error: { code: 'NotFound', message: `The portal has no file '${request.url.split('?')[0]}'.` },
          }),
      );
    },
    { prefix: '/assets' },
  );
  const sendShell = async (reply: FastifyReply) =>
    reply
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(await readFile(join(directory, 'index.html')));
  app.get('/', async (_request, reply) => sendShell(reply));
  app.get('/index.html', async (_request, reply) => sendShell(reply));
  return true;
}
