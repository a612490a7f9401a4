import { DefaultAzureCredential } from '@azure/identity';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addTargetOptions, isAzureEndpoint, type TargetOptionValues, targetOf } from './targetOptions.js';

const VAPLANE = 'https://127.0.0.1:8443';
const base: TargetOptionValues = { endpoint: VAPLANE, maxConcurrency: 16 };

function parsed(args: string[], env: Record<string, string> = {}): TargetOptionValues {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const command = addTargetOptions(new Command('probe').exitOverride());
    command.parse(args, { from: 'user' });
    return command.opts<TargetOptionValues>();
  } finally {
    process.env = saved;
  }
}

describe('target options', () => {
  it('default to Azure with DefaultAzureCredential and 16 requests in flight', () => {
    const options = parsed([]);
    expect(options).toMatchObject({ endpoint: 'https://management.azure.com', maxConcurrency: 16 });
    const target = targetOf(options);
    expect(target).toEqual({ kind: 'azure', endpoint: 'https://management.azure.com' });
  });

  it('point at a vaplane server with its CA and a token from the environment', () => {
    const options = parsed(['--endpoint', `${VAPLANE}/`, '--ca', 'ca.pem'], { VAPLANE_TOKEN: 'jwt' });
    expect(targetOf(options)).toEqual({
      kind: 'vaplane',
      endpoint: VAPLANE,
      caPath: 'ca.pem',
      auth: { token: 'jwt' },
    });
  });

  it('take client credentials for vaplane as a set', () => {
    expect(targetOf({ ...base, tenant: 't', clientId: 'c', clientSecret: 's' })).toMatchObject({
      kind: 'vaplane',
      auth: { tenantId: 't', clientId: 'c', clientSecret: 's' },
    });
    expect(() => targetOf({ ...base, clientId: 'c', clientSecret: 's' })).toThrow(/go together/);
    expect(() => targetOf({ ...base, token: 'jwt', clientId: 'c' })).toThrow(/not both/);
  });

  it('let a token win over a client secret that only the environment set', () => {
    expect(targetOf({ ...base, token: 'jwt', clientSecret: 'from-env' })).toMatchObject({
      auth: { token: 'jwt' },
    });
  });

  it('refuse a vaplane endpoint without a credential, and plain http anywhere', () => {
    expect(() => targetOf(base)).toThrow(/give --token/);
    expect(() => parsed(['--endpoint', 'http://127.0.0.1:8443'])).toThrow(/not https/);
    expect(() => parsed(['--max-concurrency', '0'])).toThrow(/between 1 and 1000/);
  });

  it("know Azure's public and sovereign ARM endpoints", () => {
    expect(isAzureEndpoint('https://management.usgovcloudapi.net')).toBe(true);
    expect(isAzureEndpoint(VAPLANE)).toBe(false);
    const azure = targetOf({ ...base, endpoint: 'https://management.azure.com', token: 'jwt' });
    expect(azure.kind).toBe('azure');
    expect(azure.kind === 'azure' && azure.credential).toBeTruthy();
    expect(azure.kind === 'azure' && azure.credential instanceof DefaultAzureCredential).toBe(false);
  });
});
