import { describe, expect, it } from 'vitest';
import { type SecurityConnectorProperties, serversOffering, withVaProvider } from './model.js';
import { V2022, V2023, V2024 } from './schema.js';
import { checkConsistency, parseConnectorBody, projectProperties } from './validation.js';

const gcp = (va?: {
  enabled?: boolean;
  configuration?: { type?: 'TVM' | 'Qualys' };
}): SecurityConnectorProperties => ({
  hierarchyIdentifier: '123456789012',
  environmentName: 'GCP',
  offerings: [
    { offeringType: 'CspmMonitorGcp' },
    {
      offeringType: 'DefenderForServersGcp',
      subPlan: { type: 'P1' },
      ...(va ? { vaAutoProvisioning: va } : {}),
    },
  ],
  environmentData: { environmentType: 'GcpProject' },
});

describe('serversOffering', () => {
  it('names the cloud, the VA solution it provisions and the sub-plan', () => {
    expect(
      serversOffering({ properties: gcp({ enabled: true, configuration: { type: 'Qualys' } }) }),
    ).toMatchObject({
      cloud: 'GCP',
      vaProvider: 'Qualys',
      subPlan: 'P1',
    });
  });

  it('selects no VA solution when auto-provisioning is off or names none', () => {
    expect(
      serversOffering({ properties: gcp({ enabled: false, configuration: { type: 'TVM' } }) })?.vaProvider,
    ).toBeUndefined();
    expect(serversOffering({ properties: gcp({ enabled: true }) })?.vaProvider).toBeUndefined();
    expect(serversOffering({ properties: gcp() })?.vaProvider).toBeUndefined();
  });

  it('is undefined for a connector without a Defender for Servers offering', () => {
    expect(
      serversOffering({
        properties: { environmentName: 'GCP', offerings: [{ offeringType: 'CspmMonitorGcp' }] },
      }),
    ).toBeUndefined();
    expect(serversOffering({})).toBeUndefined();
  });
});

describe('withVaProvider', () => {
  it('enables VA auto-provisioning with the solution and leaves the input and other offerings alone', () => {
    const before = gcp({ enabled: false, configuration: { type: 'Qualys' } });
    const snapshot = structuredClone(before);
    const after = withVaProvider(before, 'TVM');
    expect(serversOffering({ properties: after })).toMatchObject({ vaProvider: 'TVM', subPlan: 'P1' });
    expect(after.offerings?.[0]).toBe(before.offerings?.[0]);
    expect(before).toEqual(snapshot);
  });

  it('returns properties without a servers offering unchanged', () => {
    const properties: SecurityConnectorProperties = {
      environmentName: 'AWS',
      offerings: [{ offeringType: 'CspmMonitorAws' }],
    };
    expect(withVaProvider(properties, 'TVM')).toBe(properties);
  });
});

describe('parse and project', () => {
  const body = {
    location: 'westeurope',
    properties: {
      hierarchyIdentifier: '210987654321',
      environmentName: 'AWS',
      offerings: [
        {
          offeringType: 'DefenderForServersAws',
          vmScanners: {
            enabled: true,
            configuration: { cloudRoleArn: 'arn:aws:iam::1:role/scanner', scanningMode: 'Default' },
          },
          subPlan: 'P2',
        },
      ],
      environmentData: { environmentType: 'AwsAccount', regions: ['us-east-1'], scanInterval: 6 },
    },
  };

  it('parses at the version whose members the body uses, normalising the sub-plan', () => {
    const parsed = parseConnectorBody(body, V2023);
    expect(parsed.properties?.offerings[0].subPlan).toEqual({ type: 'P2' });
    expect(() => checkConsistency(parsed.properties!)).not.toThrow();
    expect(() => parseConnectorBody(body, V2022)).toThrow(/regions/);
  });

  it('projects onto each version only what that version defines', () => {
    const stored = parseConnectorBody(body, V2023).properties!;
    expect(projectProperties(stored, V2022).environmentData).toEqual({ environmentType: 'AwsAccount' });
    expect(projectProperties(stored, V2024).offerings[0].vmScanners).toEqual({
      enabled: true,
      configuration: { scanningMode: 'Default' },
    });
    expect(projectProperties(stored, V2023)).toEqual(stored);
  });

  it('an offering type a version does not know shows as its discriminator only', () => {
    const stored = { environmentName: 'Github', offerings: [{ offeringType: 'DefenderForDevOpsGithub' }] };
    expect(projectProperties(stored, V2024).offerings).toEqual([{ offeringType: 'DefenderForDevOpsGithub' }]);
  });
});
