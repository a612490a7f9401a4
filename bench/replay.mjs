// Replays the requests the transition CLI sent (recorded by bench/transition.mjs) against a server
// holding a copy of the estate as it stood before the CLI ran, as fast as the server answers: N
// keep-alive HTTPS connections, each with one request in flight, taking the next request as soon as its
// last reply is read. What is kept from the CLI's run:
// - every request, in the recorded order (a request waits only for the ones it depends on, below),
//   with its method, path and query, JSON body and If-Match;
// - phase by phase (plan, then apply, then verify), each phase starting when the last finished;
// - per machine, the order: a request on a machine (its extensions, legacy resources, power actions)
//   is sent after the one before it on that machine has been answered, so that writes find the state
//   the CLI's found (started before cleaned, cleaned before deallocated);
// - a poll of a long-running operation: the CLI's GET of the URL a reply gave it is sent to the URL
//   that the replayed reply gave (operation ids are new on every run), and no sooner than the CLI's
//   poll interval after the reply before it, as the CLI waits (so that a poll finds the operation as
//   far along as the CLI's did, and the server settles operations in the background as it did).
// Usage (as a child of bench/transition.mjs):
//   node bench/replay.mjs RECORDING.json URL CA TOKEN CONNECTIONS POLL_INTERVAL_MS
// The recording is `{ phases: { name, requests: [{ method, url, body?, ifMatch?, status, asyncOperation?, location? }] }[] }`.
// Reports per phase requests, seconds, requests/s and replies whose status differs from the recording.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

const [recordingPath, baseUrl, caPath, token, connectionsArg = '64', pollIntervalArg = '20'] =
  process.argv.slice(2);
const connections = Number(connectionsArg);
const pollIntervalMs = Number(pollIntervalArg);
const recording = JSON.parse(readFileSync(recordingPath, 'utf8'));
const ca = readFileSync(caPath);
const base = new URL(baseUrl);
const agent = new Agent({ keepAlive: true, maxSockets: connections, ca });

/** The path and query of an absolute URL, as a request line carries it, for matching polls to replies. */
const pathOf = (url) => {
  const parsed = new URL(url, base);
  return `${parsed.pathname}${parsed.search}`;
};
const machineKey =
  /^(\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.(?:compute\/virtualmachines|hybridcompute\/machines)\/[^/?]+)/i;

/**
 * Each request with its chain (the machine or resource it works on) and, for a poll, the request
 * whose reply named the URL and which of its headers did.
 */
function prepare(requests) {
  const linkOwner = new Map();
  return requests.map((recorded, index) => {
    const path = recorded.url;
    let poll;
    if (recorded.method === 'GET') {
      const owner = linkOwner.get(path.toLowerCase());
      if (owner) poll = owner;
    }
    for (const header of ['asyncOperation', 'location']) {
      if (recorded[header]) linkOwner.set(pathOf(recorded[header]).toLowerCase(), { index, header });
    }
    return { ...recorded, index, poll };
  });
}

function chainsOf(prepared) {
  const chainOf = new Array(prepared.length);
  const last = new Map();
  const next = new Array(prepared.length).fill(-1);
  const heads = [];
  for (const item of prepared) {
    const key = item.poll
      ? chainOf[item.poll.index]
      : (machineKey.exec(item.url)?.[1] ?? item.url.split('?')[0]).toLowerCase();
    chainOf[item.index] = key;
    const previous = last.get(key);
    if (previous === undefined) heads.push(item.index);
    else next[previous] = item.index;
    last.set(key, item.index);
  }
  return { next, heads };
}

/** A min-heap of request indices: the earliest recorded request that may go is sent first. */
function createHeap() {
  const items = [];
  return {
    get size() {
      return items.length;
    },
    push(value) {
      items.push(value);
      let at = items.length - 1;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (items[parent] <= value) break;
        items[at] = items[parent];
        at = parent;
      }
      items[at] = value;
    },
    pop() {
      const top = items[0];
      const end = items.pop();
      if (items.length > 0) {
        let at = 0;
        for (;;) {
          const left = 2 * at + 1;
          if (left >= items.length) break;
          const child = left + 1 < items.length && items[left + 1] < items[left] ? left + 1 : left;
          if (items[child] >= end) break;
          items[at] = items[child];
          at = child;
        }
        items[at] = end;
      }
      return top;
    },
  };
}

function send(method, path, body, ifMatch) {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    if (ifMatch !== undefined) headers['if-match'] = ifMatch;
    const outgoing = request(
      { host: base.hostname, port: base.port, path, method, headers, agent },
      (response) => {
        response.on('data', () => {});
        response.on('end', () =>
          resolve({
            status: response.statusCode,
            asyncOperation: response.headers['azure-asyncoperation'],
            location: response.headers.location,
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

async function replayPhase(requests) {
  const prepared = prepare(requests);
  const { next, heads } = chainsOf(prepared);
  const replies = new Array(prepared.length);
  const ready = createHeap();
  for (const head of heads) ready.push(head);
  let inFlight = 0;
  let done = 0;
  let mismatched = 0;
  let failed = 0;
  const statuses = {};
  const started = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
    const pump = () => {
      while (inFlight < connections && ready.size > 0) {
        const item = prepared[ready.pop()];
        let path = item.url;
        if (item.poll) {
          const link = replies[item.poll.index]?.[item.poll.header];
          if (link) path = pathOf(link);
        }
        inFlight++;
        send(item.method, path, item.body, item.ifMatch).then(
          (reply) => {
            replies[item.index] = reply;
            statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
            if (reply.status !== item.status) mismatched++;
            finish(item);
          },
          (error) => {
            failed++;
            if (failed > 100) reject(error);
            else finish(item);
          },
        );
      }
      if (done === prepared.length) resolve();
    };
    const finish = (item) => {
      inFlight--;
      done++;
      const following = next[item.index];
      if (following >= 0 && prepared[following].poll) {
        setTimeout(() => {
          ready.push(following);
          pump();
        }, pollIntervalMs);
      } else if (following >= 0) {
        ready.push(following);
      }
      pump();
    };
    pump();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const reply of replies) {
    if (reply) {
      delete reply.asyncOperation;
      delete reply.location;
    }
  }
  return {
    requests: prepared.length,
    seconds,
    requestsPerSecond: prepared.length / seconds,
    statuses,
    statusDiffersFromRecording: mismatched,
    transportErrors: failed,
  };
}

const phases = {};
for (const phase of recording.phases) {
  process.send?.({ phaseStarted: phase.name });
  const cpu = process.cpuUsage();
  phases[phase.name] = await replayPhase(phase.requests);
  const used = process.cpuUsage(cpu);
  process.send?.({ phaseEnded: phase.name });
  phases[phase.name].clientBusy = (used.user + used.system) / 1e6 / phases[phase.name].seconds;
}
agent.destroy();
const report = { connections, pollIntervalMs, phases };
process.send?.(report);
if (!process.send) console.log(JSON.stringify(report, null, 2));
