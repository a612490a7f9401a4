/**
 * The two requests of Microsoft's transition page sent with `az rest` (Debian's azure-cli 2.45) as
 * the page prints them — `{subscriptionId}` left for az to fill from the signed-in account, only the
 * host swapped for vaplane's — against the demo estate over HTTPS, signed in as a managed identity
 * that owns the subscription of the estate's GCP connector still on Qualys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoEstate } from '../../src/estate/index.js';
import { AZ_ON_PATH, type AzSession, azSession, azSignIn, azSuiteTitle } from '../support/az.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  fill,
  GCP_CONNECTOR_PUT,
  gcpConnectorValues,
  PAGE_HOST,
  SUBSCRIPTION_PUT,
} from '../support/transitionPage.js';

type Body = any;

const serversOffering = (connector: Body): Body =>
  connector.properties.offerings.find((offering: Body) => offering.offeringType === 'DefenderForServersGcp');

describe.skipIf(!AZ_ON_PATH)(azSuiteTitle("az rest sends the transition page's requests as printed"), () => {
  let t: TestServer;
  let session: AzSession;
  let subscriptionId: string;
  let connector: Body;

  beforeAll(async () => {
    t = await startTestServer();
    await seedDemoEstate(t.server.store.db, {
      tenantId: t.server.tenantId,
      now: t.server.services.clock.now(),
    });
    t.server.services.authz.invalidate();
    const subscriptions = await t.inject({ method: 'GET', url: '/subscriptions?api-version=2022-12-01' });
    for (const subscription of subscriptions.body.value) {
      const listed = await t.inject({
        method: 'GET',
        url: `${subscription.id}/providers/Microsoft.Security/securityConnectors?api-version=2022-08-01-preview`,
      });
      connector ??= listed.body.value.find(
        (candidate: Body) =>
          candidate.properties.environmentName === 'GCP' &&
          serversOffering(candidate).vaAutoProvisioning.configuration.type === 'Qualys',
      );
    }
    expect(connector, 'the demo estate has a GCP connector on Qualys').toBeDefined();
    subscriptionId = connector.id.split('/')[2];
    session = await azSession(t, { identityName: 'transition-runner', ownerOf: [subscriptionId] });
    const accounts = await azSignIn(session, t);
    expect(accounts).toEqual([expect.objectContaining({ id: subscriptionId, isDefault: true })]);
  });
  afterAll(async () => {
    await t?.close();
    session?.close();
  });

  /** The page's URL with vaplane's host; `{subscriptionId}` stays for az to fill in. */
  const onVaplane = (url: string) => url.replace(PAGE_HOST, t.url);

  it('the subscription PUT selects MdeTvm', async () => {
    const answer = await session.az(
      'rest',
      '--method',
      'put',
      '--url',
      onVaplane(SUBSCRIPTION_PUT.url),
      '--body',
      SUBSCRIPTION_PUT.body,
    );
    expect(answer).toMatchObject({
      id: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`,
      name: 'AzureServersSetting',
      type: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings',
      kind: 'AzureServersSetting',
      properties: { selectedProvider: 'MdeTvm' },
      systemData: { createdByType: 'ManagedIdentity', lastModifiedByType: 'ManagedIdentity' },
    });
    const stored = await t.inject({
      method: 'GET',
      url: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/azureServersSetting?api-version=2023-05-01`,
    });
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual(answer);
  });

  it('the GCP connector PUT, filled from the connector az reads first, switches its VA to TVM and keeps its identifiers', async () => {
    const { subscriptionId: _filledByAz, ...values } = gcpConnectorValues(connector);
    const url = onVaplane(fill(GCP_CONNECTOR_PUT.url, values, ['subscriptionId']));
    expect(url).toContain('/subscriptions/{subscriptionId}/');
    expect(url).toContain('/resourcegroups/');
    expect(url).toContain('/securityconnectors/');
    const read = await session.az('rest', '--method', 'get', '--url', url);
    expect(serversOffering(read).vaAutoProvisioning.configuration.type).toBe('Qualys');
    const body = fill(GCP_CONNECTOR_PUT.body, gcpConnectorValues(read));
    expect(body).toContain('"subPlan": "P2"');

    const answer = await session.az('rest', '--method', 'put', '--url', url, '--body', body);
    expect(answer).toMatchObject({
      id: read.id,
      name: read.name,
      location: read.location,
      properties: {
        hierarchyIdentifier: read.properties.hierarchyIdentifier,
        environmentName: 'GCP',
        environmentData: {
          environmentType: 'GcpProject',
          projectDetails: read.properties.environmentData.projectDetails,
        },
      },
    });
    expect(serversOffering(answer)).toMatchObject({
      arcAutoProvisioning: { enabled: true },
      mdeAutoProvisioning: { enabled: true },
      vaAutoProvisioning: { enabled: true, configuration: { type: 'TVM' } },
      subPlan: { type: 'P2' },
    });
    expect(answer.etag).not.toBe(read.etag);

    const stored = await t.inject({ method: 'GET', url: `${connector.id}?api-version=2023-10-01-preview` });
    expect(stored.status).toBe(200);
    expect(serversOffering(stored.body).vaAutoProvisioning.configuration.type).toBe('TVM');
    expect(stored.body.etag).toBe(answer.etag);
    expect(stored.body.systemData.lastModifiedByType).toBe('ManagedIdentity');
  });
});
