// The baseline: a bare `node:https` server with the same certificate and key as vaplane, answering
// every request with one fixed JSON body (the bytes vaplane returns for the GET being compared).
// Whatever vaplane does beyond this — routing, auth, RBAC, the store, serialisation — is its cost.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

const [certPath, keyPath, bodyPath] = process.argv.slice(2);
if (!certPath || !keyPath || !bodyPath)
  throw new Error('usage: node bench/bare-server.mjs <cert> <key> <body>');
const body = readFileSync(bodyPath);

const server = createServer(
  { cert: readFileSync(certPath), key: readFileSync(keyPath), keepAliveTimeout: 120_000 },
  (request, response) => {
    request.resume();
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': body.length,
    });
    response.end(body);
  },
);
server.listen(0, '127.0.0.1', () => {
  process.send?.({ url: `https://127.0.0.1:${server.address().port}` });
});

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
process.on('SIGTERM', stop);
process.on('disconnect', stop);
