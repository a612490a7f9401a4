/** The `vaplane` command line: serve, token, principal, estate, transition. */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_TENANT_ID, loadSigningKeys } from '../arm/auth.js';
import { createPrincipal } from '../arm/principals.js';
import { roleByName } from '../arm/rbac.js';
import { bootstrapTenant, tokenFor } from '../bootstrap.js';
import { grantRole } from '../providers/authorization/index.js';
import { createServer } from '../server.js';
import { DEFAULT_DB, openStore } from '../store/index.js';
import { addVerifyAndReportCommands } from '../transition/cliVerify.js';
import { transitionCommand } from './transition.js';

function parseDate(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError(`'${value}' is not an ISO-8601 date-time`);
  return date;
}

function parseInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0)
    throw new InvalidArgumentError(`'${value}' is not a whole number`);
  return number;
}

function parseShare(value: string): number {
  const share = Number(value);
  if (!(share >= 0 && share <= 1))
    throw new InvalidArgumentError(`'${value}' is not a fraction between 0 and 1`);
  return share;
}

function seconds(startedAt: number): string {
  return `${((performance.now() - startedAt) / 1000).toFixed(1)} s`;
}

function printCounts(counts: Record<string, number>): void {
  const width = Math.max(...Object.keys(counts).map((label) => label.length));
  for (const [label, count] of Object.entries(counts)) console.log(`  ${label.padEnd(width)}  ${count}`);
}

const dbOption = () => new Option('--db <path|url>', 'SQLite file or postgres:// URL').default(DEFAULT_DB);
const stateOption = () =>
  new Option(
    '--state-dir <dir>',
    'where keys and certificates live (default: beside the SQLite file, or ./data)',
  );

export function buildCli(): Command {
  const program = new Command('vaplane')
    .description(
      'An ARM-compatible control plane for the move from built-in Qualys to Microsoft Defender Vulnerability Management',
    )
    .showHelpAfterError();

  program
    .command('serve')
    .description('start the HTTPS ARM endpoint (and portal)')
    .addOption(dbOption())
    .addOption(stateOption())
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', parseInteger, 8443)
    .option('--demo', 'seed the demo estate into an empty database (default)', true)
    .option('--no-demo', 'start with an empty tenant')
    .option(
      '--now <iso>',
      'start the server clock at this instant (rehearse pre-retirement behaviour)',
      parseDate,
    )
    .addOption(
      new Option('--throttle <mode>', 'enforce ARM request limits with 429')
        .choices(['arm', 'off'])
        .default('off'),
    )
    .option('--tls-cert <file>', 'PEM certificate to serve instead of the generated one')
    .option('--tls-key <file>', 'PEM key for --tls-cert')
    .option('--lro-delay <ms>', 'how long long-running operations take', parseInteger, 2000)
    .option(
      '--policy-evaluation-delay <ms>',
      "how long after a write policy evaluates it (Azure's ~15 minutes; evaluationDelay on the same scale)",
      parseInteger,
      1000,
    )
    .addOption(
      new Option('--auth <mode>', 'jwt, or none for local experiments only')
        .choices(['jwt', 'none'])
        .default('jwt'),
    )
    .option('--tenant <id>', 'tenant id', DEFAULT_TENANT_ID)
    .option('--log', 'log every request as JSON lines', false)
    .action(async (options) => {
      if (Boolean(options.tlsCert) !== Boolean(options.tlsKey))
        throw new InvalidArgumentError('--tls-cert and --tls-key go together');
      const server = await createServer({
        db: options.db,
        stateDir: options.stateDir,
        host: options.host,
        port: options.port,
        now: options.now,
        throttle: options.throttle,
        tls: options.tlsCert
          ? { cert: readFileSync(options.tlsCert, 'utf8'), key: readFileSync(options.tlsKey, 'utf8') }
          : undefined,
        lroDelayMs: options.lroDelay,
        policyEvaluationDelayMs: options.policyEvaluationDelay,
        auth: options.auth,
        tenantId: options.tenant,
        logger: options.log,
      });
      const now = server.services.clock.now();
      await bootstrapTenant(server.store.db, server.tenantId, now);
      if (options.demo) {
        const { seedDemoEstate } = await import('../estate/index.js');
        const seeded = await seedDemoEstate(server.store.db, { tenantId: server.tenantId, now });
        if (seeded)
          console.log(
            `seeded the demo estate: ${seeded.subscriptions} subscriptions, ${seeded.machines} machines`,
          );
      }
      const url = await server.listen();
      const { token } = await tokenFor(server.store.db, server.keys, {
        principalName: 'admin',
        tenantId: server.tenantId,
        now,
        lifetimeSeconds: 24 * 3600,
      });
      console.log(`database: ${server.store.location}`);
      if (server.tls.caPath)
        console.log(
          `CA certificate: ${server.tls.caPath}  (export NODE_EXTRA_CA_CERTS=${server.tls.caPath})`,
        );
      console.log(`tenant: ${server.tenantId}`);
      console.log(`Owner token (24 h, user 'admin'):\n${token}`);
      console.log(`vaplane listening on ${url}`);
      const stop = async () => {
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  program
    .command('token')
    .description('print a bearer token valid for the server that uses this database')
    .addOption(dbOption())
    .addOption(stateOption())
    .option('--principal <name>', 'user the token is for', 'admin')
    .option(
      '--role <role>',
      'grant this built-in role first (Owner, Contributor, Reader, Security Admin, Security Reader)',
    )
    .option('--scope <scope>', 'scope of the role assignment', '/')
    .option('--tenant <id>', 'tenant id', DEFAULT_TENANT_ID)
    .option('--lifetime <seconds>', 'token lifetime', parseInteger, 3600)
    .action(async (options) => {
      const store = await openStore({ db: options.db, stateDir: options.stateDir });
      try {
        const keys = await loadSigningKeys(store.stateDir);
        await bootstrapTenant(store.db, options.tenant, new Date());
        const { token } = await tokenFor(store.db, keys, {
          principalName: options.principal,
          roleName: options.role,
          scope: options.scope,
          tenantId: options.tenant,
          now: new Date(),
          lifetimeSeconds: options.lifetime,
        });
        console.log(token);
      } finally {
        await store.close();
      }
    });

  program
    .command('principal')
    .description('create an application (client credentials) or a managed identity and print its secret')
    .argument('<name>', 'display name')
    .addOption(dbOption())
    .addOption(stateOption())
    .addOption(
      new Option('--type <type>', 'kind of principal').choices(['app', 'managed-identity']).default('app'),
    )
    .option('--role <role>', 'grant this built-in role')
    .option('--scope <scope>', 'scope of the role assignment', '/')
    .option('--tenant <id>', 'tenant id', DEFAULT_TENANT_ID)
    .option('--json', 'print JSON', false)
    .action(async (name, options) => {
      const store = await openStore({ db: options.db, stateDir: options.stateDir });
      try {
        const now = new Date();
        await bootstrapTenant(store.db, options.tenant, now);
        const created = await createPrincipal(store.db, {
          name,
          type: options.type === 'app' ? 'Application' : 'ManagedIdentity',
          tenantId: options.tenant,
          now,
        });
        if (options.role) {
          const role = roleByName(options.role);
          if (!role) throw new InvalidArgumentError(`unknown role '${options.role}'`);
          await grantRole(store.db, {
            scope: options.scope,
            roleId: role.id,
            principalId: created.principal.objectId,
            principalType: 'ServicePrincipal',
            by: 'vaplane',
            now,
          });
        }
        const shown = {
          tenantId: options.tenant,
          clientId: created.principal.clientId,
          objectId: created.principal.objectId,
          secret: created.secret,
        };
        console.log(
          options.json
            ? JSON.stringify(shown)
            : Object.entries(shown)
                .map(([k, v]) => `${k}: ${v}`)
                .join('\n'),
        );
      } finally {
        await store.close();
      }
    });

  const estate = program
    .command('estate')
    .description('fill the database with an estate to rehearse against: generated, or imported from Azure');

  estate
    .command('generate')
    .description('generate a deterministic legacy estate (groups, subscriptions, VMs, Arc machines, Qualys)')
    .addOption(dbOption())
    .addOption(stateOption())
    .requiredOption('--subscriptions <n>', 'how many subscriptions', parseInteger)
    .requiredOption('--machines <n>', 'how many machines (about 80% Azure VMs, 20% Arc)', parseInteger)
    .option('--seed <n>', 'the same seed gives the same estate', parseInteger, 1)
    .option(
      '--qualys-share <fraction>',
      'share of machines with the legacy Qualys extension',
      parseShare,
      0.45,
    )
    .option('--tenant <id>', 'tenant id', DEFAULT_TENANT_ID)
    .action(async (options) => {
      const { generateEstate } = await import('../estate/index.js');
      const store = await openStore({ db: options.db, stateDir: options.stateDir });
      try {
        const now = new Date();
        await bootstrapTenant(store.db, options.tenant, now);
        const started = performance.now();
        const counts = await generateEstate(store.db, {
          subscriptions: options.subscriptions,
          machines: options.machines,
          seed: options.seed,
          qualysShare: options.qualysShare,
          tenantId: options.tenant,
          now,
        });
        console.log(`generated in ${seconds(started)} into ${store.location}`);
        printCounts({
          'management groups': counts.managementGroups,
          subscriptions: counts.subscriptions,
          'resource groups': counts.resourceGroups,
          'virtual machines': counts.virtualMachines,
          'Arc machines': counts.arcMachines,
          extensions: counts.extensions,
          'Qualys extensions': counts.qualysExtensions,
        });
      } finally {
        await store.close();
      }
    });

  estate
    .command('import')
    .description(
      'import an Azure Resource Graph export (JSON rows of `az graph query -q "Resources | …" -o json`)',
    )
    .argument('<file>', 'the JSON export')
    .addOption(dbOption())
    .addOption(stateOption())
    .option('--tenant <id>', 'tenant id', DEFAULT_TENANT_ID)
    .action(async (file, options) => {
      const { importResourceGraphExport, parseResourceGraphExport } = await import('../estate/index.js');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new Error(`cannot read ${file}: ${(error as Error).message}`);
      }
      const rows = parseResourceGraphExport(text, file);
      const store = await openStore({ db: options.db, stateDir: options.stateDir });
      try {
        const now = new Date();
        await bootstrapTenant(store.db, options.tenant, now);
        const started = performance.now();
        const report = await importResourceGraphExport(store.db, rows, { tenantId: options.tenant, now });
        console.log(`imported ${report.rows} rows in ${seconds(started)} into ${store.location}`);
        printCounts({
          'management groups': report.imported.managementGroups,
          subscriptions: report.imported.subscriptions,
          'resource groups': report.imported.resourceGroups,
          'virtual machines': report.imported.virtualMachines,
          'VM extensions': report.imported.vmExtensions,
          'Arc machines': report.imported.arcMachines,
          'Arc extensions': report.imported.arcExtensions,
        });
        const created = Object.entries({
          'management groups': report.created.managementGroups,
          subscriptions: report.created.subscriptions,
          'resource groups': report.created.resourceGroups,
        }).filter(([, count]) => count > 0);
        if (created.length > 0)
          console.log(
            `created, as rows implied them: ${created.map(([label, count]) => `${label} ${count}`).join(', ')}`,
          );
        for (const skipped of report.skipped)
          console.log(`skipped ${skipped.count} × ${skipped.type}: ${skipped.reason}`);
        for (const warning of report.warnings) console.log(`warning: ${warning}`);
      } finally {
        await store.close();
      }
    });

  program.addCommand(transitionCommand());
  addVerifyAndReportCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    console.error(`vaplane: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
