/**
 * The options every `vaplane transition` command takes to say where it talks to, and their
 * resolution into an `ArmTarget` and client options. Real Azure needs nothing (`az login`, the
 * environment or a managed identity, through `DefaultAzureCredential`); a vaplane server needs its
 * URL, the CA it printed, and a token or an application's client credentials. The token and the
 * secret can come from the environment (`VAPLANE_TOKEN`, `VAPLANE_CLIENT_SECRET`) so that they stay out
 * of the process list and shell history. Azure's own `AZURE_*` variables are left to
 * `DefaultAzureCredential`, which reads them itself.
 */
import { ClientSecretCredential } from '@azure/identity';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ArmClientOptions, DEFAULT_MAX_CONCURRENCY } from './client.js';
import { type ArmTarget, AZURE_ENDPOINT, staticTokenCredential } from './target.js';

/** Hosts of Azure's public and sovereign ARM endpoints: a target there is Azure, anything else a vaplane server. */
const AZURE_ARM_HOSTS = [
  'management.azure.com',
  'management.usgovcloudapi.net',
  'management.chinacloudapi.cn',
] as const;

export interface TargetOptionValues {
  endpoint: string;
  ca?: string;
  token?: string;
  tenant?: string;
  clientId?: string;
  clientSecret?: string;
  maxConcurrency: number;
}

function parseConcurrency(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > 1000)
    throw new InvalidArgumentError(`'${value}' is not a whole number between 1 and 1000`);
  return number;
}

function parseEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`'${value}' is not a URL`);
  }
  if (url.protocol !== 'https:')
    throw new InvalidArgumentError(`'${value}' is not https (bearer tokens are never sent in clear)`);
  return url.origin;
}

/** Adds `--endpoint`, `--ca`, `--token`, `--tenant`, `--client-id`, `--client-secret` and `--max-concurrency`. */
export function addTargetOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--endpoint <url>',
        'ARM endpoint: Azure, or a vaplane server such as https://127.0.0.1:8443',
      )
        .env('VAPLANE_ENDPOINT')
        .argParser(parseEndpoint)
        .default(AZURE_ENDPOINT),
    )
    .addOption(
      new Option(
        '--ca <file>',
        "PEM file of the CA to trust for the endpoint (the vaplane server's ca.pem)",
      ).env('VAPLANE_CA'),
    )
    .addOption(
      new Option('--token <jwt>', 'bearer token (`vaplane token`, or `az account get-access-token`)').env(
        'VAPLANE_TOKEN',
      ),
    )
    .addOption(new Option('--tenant <id>', 'tenant of the application (with --client-id)'))
    .addOption(new Option('--client-id <id>', "application's client id"))
    .addOption(new Option('--client-secret <secret>', "application's secret").env('VAPLANE_CLIENT_SECRET'))
    .addOption(
      new Option('--max-concurrency <n>', 'requests in flight at once')
        .argParser(parseConcurrency)
        .default(DEFAULT_MAX_CONCURRENCY),
    );
}

export function isAzureEndpoint(endpoint: string): boolean {
  const host = new URL(endpoint).hostname.toLowerCase();
  return AZURE_ARM_HOSTS.some((azureHost) => host === azureHost);
}

/**
 * The target the options name. Throws `InvalidArgumentError` (a usage error) when they do not add up:
 * client credentials given in part, or a vaplane endpoint without any credential.
 */
export function targetOf(options: TargetOptionValues): ArmTarget {
  if (options.token && options.clientId !== undefined) {
    throw new InvalidArgumentError('give either --token or --client-id, not both');
  }
  // A secret from the environment alone does not ask for client credentials when a token is given.
  const clientCredentials =
    options.clientId !== undefined || (!options.token && options.clientSecret !== undefined);
  if (clientCredentials && !(options.tenant && options.clientId && options.clientSecret)) {
    throw new InvalidArgumentError('--tenant, --client-id and --client-secret go together');
  }
  const azure = isAzureEndpoint(options.endpoint);
  if (options.token) {
    return azure
      ? { kind: 'azure', endpoint: options.endpoint, credential: staticTokenCredential(options.token) }
      : { kind: 'vaplane', endpoint: options.endpoint, caPath: options.ca, auth: { token: options.token } };
  }
  if (clientCredentials) {
    const { tenant, clientId, clientSecret } = options as Required<TargetOptionValues>;
    return azure
      ? {
          kind: 'azure',
          endpoint: options.endpoint,
          credential: new ClientSecretCredential(tenant, clientId, clientSecret),
        }
      : {
          kind: 'vaplane',
          endpoint: options.endpoint,
          caPath: options.ca,
          auth: { tenantId: tenant, clientId, clientSecret },
        };
  }
  if (azure) return { kind: 'azure', endpoint: options.endpoint };
  throw new InvalidArgumentError(
    `${options.endpoint} is not Azure: give --token (from \`vaplane token\`) or --tenant, --client-id and --client-secret`,
  );
}

export function clientOptionsOf(options: TargetOptionValues): ArmClientOptions {
  return { maxConcurrency: options.maxConcurrency };
}
