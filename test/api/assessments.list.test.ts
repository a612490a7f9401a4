import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VA_ASSESSMENT_KEY } from '../../src/coverage/index.js';
import { vaAssessmentsForSubscription } from '../../src/providers/security/assessments/index.js';
import type { Db } from '../../src/store/index.js';
import {
  arcMachine,
  byolSolution,
  connector,
  defenderSubscription,
  EXTENSIONS,
  legacyOnboarding,
  mdvmReady,
  resourceGroup,
  vm,
} from '../support/defender.js';
import { startTestServer, type TestServer } from '../support/server.js';

const API = 'api-version=2021-06-01';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ listen: false });
});
afterAll(() => t.close());

/** Follows `nextLink` from `url` and returns every page's items. */
async function allPages(url: string): Promise<{ pages: number; items: any[] }> {
  const items: any[] = [];
  let next: string | undefined = url;
  let pages = 0;
  while (next) {
    const response = await t.inject({ method: 'GET', url: next.replace(/^https?:\/\/[^/]+/, '') });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    items.push(...response.body.value);
    next = response.body.nextLink;
    pages++;
  }
  return { pages, items };
}

const machineOf = (item: { properties: { resourceDetails: { id: string } } }) =>
  item.properties.resourceDetails.id;

/** A subscription with VMs and Arc machines in two resource groups; returns the machines' ids in key order. */
async function mixedEstate(): Promise<{ sub: string; ids: string[] }> {
  const sub = await defenderSubscription(t);
  await resourceGroup(t, sub, 'rg-other');
  const ids = [
    await vm(t, sub, 'vm-a'),
    await vm(t, sub, 'vm-b', { powerState: 'deallocated' }),
    await arcMachine(t, sub, 'arc-a'),
    await arcMachine(t, sub, 'arc-b', { status: 'Disconnected' }),
    await vm(t, sub, 'vm-c', { group: 'rg-other' }),
  ];
  await mdvmReady(t, sub);
  return { sub, ids: ids.sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)) };
}

describe('listing ffff0522 assessments', () => {
  it('at subscription scope pages through every VM and Arc machine with nextLink', async () => {
    const { sub, ids } = await mixedEstate();
    const { pages, items } = await allPages(
      `/subscriptions/${sub}/providers/Microsoft.Security/assessments?${API}&$top=2`,
    );
    expect(pages).toBe(3);
    expect(items.map(machineOf)).toEqual(ids);
    expect(new Set(items.map((item) => item.name))).toEqual(new Set([VA_ASSESSMENT_KEY]));
    const byMachine = Object.fromEntries(items.map((item) => [machineOf(item).split('/').pop(), item]));
    expect(byMachine['vm-a'].properties.status).toMatchObject({ code: 'Healthy', cause: 'mdeTvm' });
    expect(byMachine['vm-b'].properties.status).toMatchObject({
      code: 'NotApplicable',
      cause: 'MachineNotRunning',
    });
    expect(byMachine['arc-b'].properties.status).toMatchObject({
      code: 'NotApplicable',
      cause: 'MachineDisconnected',
    });
  });

  it('answers one page without nextLink when everything fits', async () => {
    const { sub, ids } = await mixedEstate();
    const response = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/assessments?${API}`,
    });
    expect(response.body.nextLink).toBeUndefined();
    expect(response.body.value.map(machineOf)).toEqual(ids);
  });

  it('at resource-group scope lists the machines of that group only', async () => {
    const { sub, ids } = await mixedEstate();
    const { items } = await allPages(
      `/subscriptions/${sub}/resourceGroups/rg-other/providers/Microsoft.Security/assessments?${API}&$top=1`,
    );
    expect(items.map(machineOf)).toEqual(ids.filter((id) => id.includes('/rg-other/')));
  });

  it('at machine scope lists its one assessment, and at any other resource none', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    const own = await t.inject({
      method: 'GET',
      url: `${id}/providers/Microsoft.Security/assessments?${API}`,
    });
    expect(own.body.value.map(machineOf)).toEqual([id]);
    const connectorId = await connector(t, sub, 'gcp-prod');
    const other = await t.inject({
      method: 'GET',
      url: `${connectorId}/providers/Microsoft.Security/assessments?${API}`,
    });
    expect(other.status).toBe(200);
    expect(other.body).toEqual({ value: [] });
  });

  it('an empty subscription lists nothing, and a missing one is 404 SubscriptionNotFound', async () => {
    const sub = await defenderSubscription(t);
    const empty = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/assessments?${API}`,
    });
    expect(empty.body).toEqual({ value: [] });
    const missing = await t.inject({
      method: 'GET',
      url: `/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Security/assessments?${API}`,
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('SubscriptionNotFound');
  });

  it('a $skipToken this server did not issue is 400', async () => {
    const sub = await defenderSubscription(t);
    const response = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/assessments?${API}&$skipToken=bm9wZQ`,
    });
    expect(response.status).toBe(400);
  });
});

describe('store queries of a subscription list do not grow with its machines', () => {
  /** A Kysely plugin that counts the statements run through the database it is attached to. */
  function counted(db: Db): { db: Db; queries: () => number } {
    let queries = 0;
    const plugin: KyselyPlugin = {
      transformQuery(args) {
        queries++;
        return args.node;
      },
      async transformResult(args) {
        return args.result;
      },
    };
    return { db: db.withPlugin(plugin), queries: () => queries };
  }

  /** A subscription of `count` machines (VMs with extensions, connector-governed Arc machines, some onboarded to Qualys), a connector and a BYOL solution. */
  async function estate(count: number): Promise<string> {
    const sub = await defenderSubscription(t);
    await mdvmReady(t, sub);
    await connector(t, sub, 'gcp-prod');
    await byolSolution(t, sub, 'byol');
    for (let k = 0; k < count; k++) {
      const id =
        k % 3 === 2
          ? await arcMachine(t, sub, `arc-${k}`, {
              cloudProvider: 'GCP',
              tags: { MDFCSecurityConnector: 'gcp-prod' },
            })
          : await vm(t, sub, `vm-${k}`, { extensions: [EXTENSIONS.qualysLinux, EXTENSIONS.mdeLinux] });
      if (k % 4 === 0) await legacyOnboarding(t, id, 'Default');
    }
    return sub;
  }

  it('vaAssessmentsForSubscription runs the same four queries for 3 and for 60 machines', async () => {
    const now = t.server.services.clock.now();
    const counts: number[] = [];
    for (const count of [3, 60]) {
      const sub = await estate(count);
      const probe = counted(t.server.store.db);
      const page = await vaAssessmentsForSubscription(probe.db, sub, now, { size: 1000 });
      expect(page.value).toHaveLength(count);
      expect(page.nextAfter).toBeUndefined();
      counts.push(probe.queries());
    }
    // Two machine lists (VMs, Arc), what hangs off them, the subscription's context.
    expect(counts).toEqual([4, 4]);
  });

  it('pages with nextAfter and the same per-page cost', async () => {
    const sub = await estate(7);
    const now = t.server.services.clock.now();
    const seen: string[] = [];
    let after: string | undefined;
    const costs: number[] = [];
    do {
      const probe = counted(t.server.store.db);
      const page = await vaAssessmentsForSubscription(probe.db, sub, now, { size: 3, after });
      costs.push(probe.queries());
      seen.push(...page.value.map((assessment) => assessment.machineKey));
      after = page.nextAfter;
    } while (after);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    expect(new Set(costs).size).toBe(1);
  });

  it('the list request runs the same number of queries for 3 and for 60 machines', async () => {
    const store = t.server.services.store as { db: Db };
    const original = store.db;
    const counts: number[] = [];
    try {
      for (const count of [3, 60]) {
        const sub = await estate(count);
        const url = `/subscriptions/${sub}/providers/Microsoft.Security/assessments?${API}`;
        await t.inject({ method: 'GET', url });
        const probe = counted(original);
        store.db = probe.db;
        const response = await t.inject({ method: 'GET', url });
        store.db = original;
        expect(response.body.value).toHaveLength(count);
        counts.push(probe.queries());
      }
    } finally {
      store.db = original;
    }
    expect(counts[1]).toBe(counts[0]);
  });
});
