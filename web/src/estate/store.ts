/**
 * The estate as the portal has read it so far, shared by the overview and the machine list.
 *
 * ARM has no cross-subscription machine query without Resource Graph, so machines are read
 * subscription by subscription, each through its VM and Arc lists with `$top` and `nextLink`; a list
 * only ever holds the pages asked for. Extension lists (to spot the Qualys extension) are one request
 * per machine and are fetched on demand through a bounded queue — visible rows first — and coverage
 * comes from a subscription's `ffff0522` assessments, which also say whether the Qualys extension
 * is installed (`additionalData.legacyQualysExtensionInstalled`): one paged list per subscription
 * answers for all its machines. Only where assessments cannot be read are extensions read machine
 * by machine. Everything is kept per session in memory.
 */
import { type ArmClient, ArmRequestError } from '../arm/client';
import { API, VA_ASSESSMENT_KEY } from '../arm/versions';
import {
  type AssessmentBody,
  assessedResourceId,
  coverageOfAssessment,
  type MachineCoverage,
  UNKNOWN_COVERAGE,
} from '../domain/coverage';
import {
  type ArcBody,
  arcRow,
  type ExtensionBody,
  isLegacyQualysExtension,
  type MachineRow,
  type VmBody,
  vmRow,
} from '../domain/machines';

export interface ExtensionState {
  extensions?: ExtensionBody[];
  legacyQualys?: ExtensionBody[];
  error?: string;
}

export type CoverageState =
  | { state: 'loading' }
  | { state: 'loaded'; byMachine: Map<string, MachineCoverage> }
  | { state: 'unavailable'; message: string };

interface Cursor {
  subscriptionId: string;
  kind: 'vm' | 'arc';
  next: string | undefined;
  started: boolean;
}

const FIRST_PAGE = 100;
const PAGE = 1000;
const EXTENSION_CONCURRENCY = 8;
const SUBSCRIPTIONS_IN_PARALLEL = 6;
const COVERAGE_CONCURRENCY = 6;

export interface MachineSource {
  readonly rows: readonly MachineRow[];
  readonly done: boolean;
  readonly loading: boolean;
  readonly error: ArmRequestError | undefined;
  /** Subscriptions whose machines are fully read. */
  readonly subscriptionsRead: number;
  readonly subscriptionsTotal: number;
  loadMore(): Promise<void>;
}

export interface EstateStore {
  subscribe(listener: () => void): () => void;
  /** Changes whenever anything in the store changes (for useSyncExternalStore). */
  version(): number;
  machineSource(subscriptionIds: readonly string[]): MachineSource;
  extensionsOf(machineId: string): ExtensionState | undefined;
  /** Queues extension reads; `urgent` ones (visible rows) go first. */
  requestExtensions(machineIds: readonly string[], options?: { urgent?: boolean }): void;
  /** Extension reads still queued or running. */
  pendingExtensions(): number;
  coverageOf(machine: MachineRow): MachineCoverage;
  /** Whether the Qualys extension is installed: from the assessment, else from the extension list. */
  legacyOf(machine: MachineRow): 'yes' | 'no' | 'unknown';
  /** Whether `legacyOf` needs the machine's extension list (its subscription's assessments failed). */
  needsExtensions(machine: MachineRow): boolean;
  /** The machine's Qualys extensions, read now (for removal). */
  readLegacyExtensions(machineId: string): Promise<ExtensionBody[]>;
  coverageState(subscriptionId: string): CoverageState | undefined;
  requestCoverage(subscriptionId: string): void;
  /** Why the server answers no assessments at all, once it has said so. */
  assessmentsUnavailable(): string | undefined;
  /** Forget a machine's extensions and its subscription's coverage (after a removal). */
  forgetMachine(machine: { id: string; subscriptionId: string }): void;
  forgetMachines(): void;
}

export function createEstateStore(client: ArmClient): EstateStore {
  let version = 0;
  const listeners = new Set<() => void>();
  let scheduled = false;
  function changed() {
    version += 1;
    if (scheduled) return;
    scheduled = true;
    // Batch a burst of updates (a page of extension reads) into one render.
    requestAnimationFrame(() => {
      scheduled = false;
      for (const listener of listeners) listener();
    });
  }

  const extensions = new Map<string, ExtensionState>();
  const urgentQueue: string[] = [];
  const backgroundQueue: string[] = [];
  const queued = new Set<string>();
  let running = 0;

  function pump() {
    while (running < EXTENSION_CONCURRENCY) {
      const id = urgentQueue.shift() ?? backgroundQueue.shift();
      if (id === undefined) return;
      if (!queued.has(id)) continue;
      queued.delete(id);
      running += 1;
      client
        .listAll<ExtensionBody>(`${id}/extensions`, {
          apiVersion: /\/microsoft\.hybridcompute\//i.test(id) ? API.hybridCompute : API.compute,
        })
        .then(
          (list) =>
            extensions.set(id.toLowerCase(), {
              extensions: list,
              legacyQualys: list.filter(isLegacyQualysExtension),
            }),
          (error: unknown) =>
            extensions.set(id.toLowerCase(), {
              error: (error as Error).message ?? 'The extensions could not be read.',
            }),
        )
        .finally(() => {
          running -= 1;
          changed();
          pump();
        });
    }
  }

  const coverage = new Map<string, CoverageState>();
  let coverageUnavailable: string | undefined;

  const coverageQueue: string[] = [];
  let coverageRunning = 0;

  function pumpCoverage() {
    while (coverageRunning < COVERAGE_CONCURRENCY && coverageQueue.length > 0) {
      const subscriptionId = coverageQueue.shift()!;
      coverageRunning += 1;
      void loadCoverage(subscriptionId).finally(() => {
        coverageRunning -= 1;
        pumpCoverage();
      });
    }
  }

  async function loadCoverage(subscriptionId: string) {
    const key = subscriptionId.toLowerCase();
    if (coverageUnavailable) {
      coverage.set(key, { state: 'unavailable', message: coverageUnavailable });
      return;
    }
    try {
      const assessments = await client.listAll<AssessmentBody>(
        `/subscriptions/${subscriptionId}/providers/Microsoft.Security/assessments`,
        { apiVersion: API.assessments },
      );
      const byMachine = new Map<string, MachineCoverage>();
      for (const assessment of assessments) {
        if (assessment.name.toLowerCase() !== VA_ASSESSMENT_KEY) continue;
        byMachine.set(assessedResourceId(assessment).toLowerCase(), coverageOfAssessment(assessment));
      }
      coverage.set(key, { state: 'loaded', byMachine });
    } catch (error) {
      const message =
        error instanceof ArmRequestError
          ? `${error.code}: ${error.message}`
          : String((error as Error).message);
      // A server that does not serve assessments at all answers so for every subscription.
      if (error instanceof ArmRequestError && (error.code === 'InvalidResourceType' || error.status === 404))
        coverageUnavailable = message;
      coverage.set(key, { state: 'unavailable', message });
    }
    changed();
  }

  function coverageOfMachine(machine: MachineRow): MachineCoverage {
    const state = coverage.get(machine.subscriptionId.toLowerCase());
    if (state?.state !== 'loaded') return UNKNOWN_COVERAGE;
    return state.byMachine.get(machine.id.toLowerCase()) ?? UNKNOWN_COVERAGE;
  }

  const sources = new Map<string, MachineSource>();

  function createSource(subscriptionIds: readonly string[]): MachineSource {
    const cursors: Cursor[] = subscriptionIds.flatMap((subscriptionId) => [
      { subscriptionId, kind: 'vm' as const, next: undefined, started: false },
      { subscriptionId, kind: 'arc' as const, next: undefined, started: false },
    ]);
    // Replaced, never mutated, on each page: a new reference tells React that rows changed.
    let rows: readonly MachineRow[] = [];
    let loading: Promise<void> | undefined;
    let error: ArmRequestError | undefined;
    let pagesRead = 0;

    function pathOf(cursor: Cursor): { path: string; apiVersion?: string; query?: Record<string, string> } {
      if (cursor.next) return { path: cursor.next };
      const top = String(pagesRead === 0 ? FIRST_PAGE : PAGE);
      return cursor.kind === 'vm'
        ? {
            path: `/subscriptions/${cursor.subscriptionId}/providers/Microsoft.Compute/virtualMachines`,
            apiVersion: API.compute,
            query: { $top: top, $expand: 'instanceView' },
          }
        : {
            path: `/subscriptions/${cursor.subscriptionId}/providers/Microsoft.HybridCompute/machines`,
            apiVersion: API.hybridCompute,
            query: { $top: top },
          };
    }

    async function readNext(): Promise<void> {
      // The cursors at the front: one subscription's next page, or several small subscriptions at once.
      const batch = cursors.slice(0, pagesRead === 0 ? 2 : SUBSCRIPTIONS_IN_PARALLEL * 2);
      const pages = await Promise.all(
        batch.map(async (cursor) => {
          const request = pathOf(cursor);
          const page = await client.page<VmBody | ArcBody>(request.path, {
            apiVersion: request.apiVersion,
            query: request.query,
          });
          return { cursor, page };
        }),
      );
      const read: MachineRow[] = [];
      for (const { cursor, page } of pages) {
        for (const body of page.value)
          read.push(cursor.kind === 'vm' ? vmRow(body as VmBody) : arcRow(body as ArcBody));
        cursor.started = true;
        cursor.next = page.nextLink;
      }
      rows = rows.concat(read);
      pagesRead += 1;
      for (let index = cursors.length - 1; index >= 0; index -= 1) {
        if (cursors[index]!.started && cursors[index]!.next === undefined) cursors.splice(index, 1);
      }
    }

    const source: MachineSource = {
      get rows() {
        return rows;
      },
      get done() {
        return cursors.length === 0;
      },
      get loading() {
        return loading !== undefined;
      },
      get error() {
        return error;
      },
      get subscriptionsRead() {
        const open = new Set(cursors.map((cursor) => cursor.subscriptionId));
        return subscriptionIds.length - open.size;
      },
      subscriptionsTotal: subscriptionIds.length,
      loadMore() {
        if (loading) return loading;
        if (cursors.length === 0) return Promise.resolve();
        error = undefined;
        loading = readNext()
          .catch((caught: unknown) => {
            error =
              caught instanceof ArmRequestError
                ? caught
                : new ArmRequestError(0, { code: 'ClientError', message: String(caught) });
          })
          .finally(() => {
            loading = undefined;
            changed();
          });
        changed();
        return loading;
      },
    };
    return source;
  }

  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    version: () => version,
    machineSource(subscriptionIds) {
      const key = subscriptionIds.join(',').toLowerCase();
      let source = sources.get(key);
      if (!source) {
        source = createSource(subscriptionIds);
        sources.set(key, source);
      }
      return source;
    },
    extensionsOf: (machineId) => extensions.get(machineId.toLowerCase()),
    requestExtensions(machineIds, options = {}) {
      let added = false;
      for (const id of machineIds) {
        if (extensions.has(id.toLowerCase())) continue;
        if (queued.has(id) && !options.urgent) continue;
        queued.add(id);
        (options.urgent ? urgentQueue : backgroundQueue).push(id);
        added = true;
      }
      if (added) {
        changed();
        pump();
      }
    },
    pendingExtensions: () => queued.size + running,
    coverageOf: coverageOfMachine,
    coverageState(subscriptionId) {
      if (coverageUnavailable) return { state: 'unavailable', message: coverageUnavailable };
      return coverage.get(subscriptionId.toLowerCase());
    },
    requestCoverage(subscriptionId) {
      if (coverageUnavailable || coverage.has(subscriptionId.toLowerCase())) return;
      coverage.set(subscriptionId.toLowerCase(), { state: 'loading' });
      coverageQueue.push(subscriptionId);
      changed();
      pumpCoverage();
    },
    assessmentsUnavailable: () => coverageUnavailable,
    legacyOf(machine) {
      const fromAssessment = coverageOfMachine(machine).legacyQualys;
      if (fromAssessment !== undefined) return fromAssessment ? 'yes' : 'no';
      const state = extensions.get(machine.id.toLowerCase());
      if (!state?.legacyQualys) return 'unknown';
      return state.legacyQualys.length > 0 ? 'yes' : 'no';
    },
    needsExtensions(machine) {
      const state = coverageUnavailable
        ? 'unavailable'
        : coverage.get(machine.subscriptionId.toLowerCase())?.state;
      if (state === 'unavailable') return true;
      return state === 'loaded' && coverageOfMachine(machine).legacyQualys === undefined;
    },
    async readLegacyExtensions(machineId) {
      const list = await client.listAll<ExtensionBody>(`${machineId}/extensions`, {
        apiVersion: /\/microsoft\.hybridcompute\//i.test(machineId) ? API.hybridCompute : API.compute,
      });
      const legacyQualys = list.filter(isLegacyQualysExtension);
      extensions.set(machineId.toLowerCase(), { extensions: list, legacyQualys });
      changed();
      return legacyQualys;
    },
    forgetMachine(machine) {
      extensions.delete(machine.id.toLowerCase());
      coverage.delete(machine.subscriptionId.toLowerCase());
      changed();
    },
    forgetMachines() {
      sources.clear();
      coverage.clear();
      coverageUnavailable = undefined;
      changed();
    },
  };
}
