import {
  Button,
  Checkbox,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  makeStyles,
  Radio,
  RadioGroup,
  Select,
  Tab,
  TabList,
  Text,
  Textarea,
  tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { ArmRequestError } from '../../arm/client';
import { API } from '../../arm/versions';
import { useSession } from '../../auth/session';
import { ArmErrorBar } from '../../components/ArmErrorBar';
import { HOME, Page } from '../../components/Page';
import { invalidate, toArmError, useArmQuery } from '../../data';
import { useSubscriptions } from '../../estate/subscriptions';
import { hrefOf, navigate } from '../../router';
import {
  accessAt,
  DEPLOYING_EFFECTS,
  displayNameOf,
  effectOf,
  getDefinition,
  type ParameterDefinition,
  POLICY_API,
  type PolicyDefinition,
} from './api';
import { DEFINITIONS, POLICY } from './Definitions';

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: '12px', maxWidth: '640px' },
  code: {
    margin: 0,
    padding: '12px',
    overflow: 'auto',
    fontFamily: tokens.fontFamilyMonospace,
    fontSize: tokens.fontSizeBase200,
    backgroundColor: tokens.colorNeutralBackground2,
    border: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  footer: {
    display: 'flex',
    gap: '8px',
    paddingTop: '8px',
    borderTop: `1px solid ${tokens.colorNeutralStroke2}`,
  },
});

type ScopeKind = 'managementGroup' | 'subscription' | 'resourceGroup';
type Step = 'basics' | 'parameters' | 'remediation' | 'review';

const LOCATIONS = ['eastus', 'eastus2', 'westus2', 'westeurope', 'northeurope', 'uksouth', 'australiaeast'];

interface GroupList {
  value: { name: string; properties: { displayName: string } }[];
}

function scopeOf(kind: ScopeKind, group: string, subscription: string, resourceGroup: string): string {
  if (kind === 'managementGroup')
    return group ? `/providers/Microsoft.Management/managementGroups/${group}` : '';
  if (!subscription) return '';
  if (kind === 'subscription') return `/subscriptions/${subscription}`;
  return resourceGroup ? `/subscriptions/${subscription}/resourceGroups/${resourceGroup}` : '';
}

/** A parameter's form value as text, and back. */
function initialText(parameter: ParameterDefinition): string {
  if (parameter.defaultValue === undefined) return '';
  return typeof parameter.defaultValue === 'string'
    ? parameter.defaultValue
    : JSON.stringify(parameter.defaultValue);
}

function parseValue(parameter: ParameterDefinition, text: string): { value?: unknown; error?: string } {
  if (parameter.type === 'String' || parameter.type === 'DateTime') return { value: text };
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { error: `Enter a ${parameter.type.toLowerCase()} in JSON.` };
  }
}

function newAssignmentName(): string {
  return crypto.randomUUID().replace(/-/g, '').slice(0, 24);
}

/** Assign policy: Basics (scope, name), Parameters, Remediation (managed identity), Review + create. */
export function Assign({ definitionId }: { definitionId: string }) {
  const session = useSession();
  const definition = useArmQuery(`policy:definition:${definitionId}`, (signal) =>
    getDefinition(session.client, definitionId, signal),
  );
  return definition.data ? (
    <AssignForm definition={definition.data} />
  ) : (
    <Page
      crumbs={[HOME, POLICY, DEFINITIONS, { label: 'Assign policy' }]}
      title="Assign policy"
      loading={definition.loading}
    >
      <ArmErrorBar error={definition.error} title="The definition could not be read" />
    </Page>
  );
}

function AssignForm({ definition }: { definition: PolicyDefinition }) {
  const styles = useStyles();
  const session = useSession();
  const subscriptions = useSubscriptions();
  const groups = useArmQuery('policy:managementGroups', (signal) =>
    session.client.get<GroupList>('/providers/Microsoft.Management/managementGroups', {
      apiVersion: API.managementGroups,
      signal,
    }),
  );
  const [step, setStep] = useState<Step>('basics');
  const [kind, setKind] = useState<ScopeKind>('subscription');
  const [group, setGroup] = useState('');
  const [subscription, setSubscription] = useState('');
  const [resourceGroup, setResourceGroup] = useState('');
  const [displayName, setDisplayName] = useState(displayNameOf(definition));
  const [description, setDescription] = useState('');
  const [enforced, setEnforced] = useState(true);
  const parameters = definition.properties.parameters ?? {};
  const [texts, setTexts] = useState<Record<string, string>>(() =>
    Object.fromEntries(Object.entries(parameters).map(([name, parameter]) => [name, initialText(parameter)])),
  );
  const [identity, setIdentity] = useState(true);
  const [location, setLocation] = useState('eastus');
  const [submitError, setSubmitError] = useState<ArmRequestError>();
  const [creating, setCreating] = useState(false);
  const [name] = useState(newAssignmentName);

  const resourceGroups = useArmQuery(
    kind === 'resourceGroup' && subscription ? `policy:resourceGroups:${subscription}` : null,
    (signal) =>
      session.client.listAll<{ name: string }>(`/subscriptions/${subscription}/resourcegroups`, {
        apiVersion: POLICY_API.resourceGroups,
        signal,
      }),
  );
  const scope = scopeOf(kind, group, subscription, resourceGroup);
  const access = useArmQuery(scope ? `policy:access:${scope}` : null, (signal) =>
    accessAt(session.client, {
      principalId: session.claims.oid,
      scope,
      action: 'Microsoft.Authorization/policyAssignments/write',
      what: 'assign a policy at this scope',
      signal,
    }),
  );

  const parsed = Object.entries(parameters).map(([parameterName, parameter]) => {
    const text = texts[parameterName] ?? '';
    if (text === '' && parameter.defaultValue === undefined)
      return { parameterName, error: 'A value is required.' };
    if (text === '') return { parameterName };
    return { parameterName, ...parseValue(parameter, text) };
  });
  const values: Record<string, unknown> = Object.fromEntries(
    parsed
      .filter((entry) => 'value' in entry && entry.value !== undefined)
      .map((entry) => [entry.parameterName, entry.value]),
  );
  const parameterErrors = parsed.filter((entry) => entry.error);
  const effect = effectOf(definition, values);
  const needsIdentity = DEPLOYING_EFFECTS.includes(effect.toLowerCase());
  const withIdentity = needsIdentity && identity;

  const assignmentId = scope ? `${scope}/providers/Microsoft.Authorization/policyAssignments/${name}` : '';
  const assignmentParameters = Object.fromEntries(
    Object.entries(values)
      .filter(
        ([parameterName, value]) =>
          JSON.stringify(value) !== JSON.stringify(parameters[parameterName]?.defaultValue),
      )
      .map(([parameterName, value]) => [parameterName, { value }]),
  );
  const body = {
    ...(withIdentity ? { location, identity: { type: 'SystemAssigned' } } : {}),
    properties: {
      displayName,
      ...(description ? { description } : {}),
      policyDefinitionId: definition.id,
      enforcementMode: enforced ? 'Default' : 'DoNotEnforce',
      ...(Object.keys(assignmentParameters).length > 0 ? { parameters: assignmentParameters } : {}),
    },
  };
  const problems = [
    ...(scope ? [] : ['Choose a scope.']),
    ...(displayName.trim() ? [] : ['Enter an assignment name.']),
    ...parameterErrors.map((entry) => `Parameter ${entry.parameterName}: ${entry.error}`),
    ...(needsIdentity && !identity
      ? [`The effect ${effect} deploys resources: remediation needs a managed identity.`]
      : []),
  ];
  const denied = access.data && !access.data.can ? access.data.reason : undefined;

  async function create() {
    setCreating(true);
    setSubmitError(undefined);
    try {
      await session.client.request('PUT', assignmentId, { apiVersion: POLICY_API.authorization, body });
      invalidate('policy:');
      navigate(hrefOf(['policy', 'compliance', 'assignment'], { id: assignmentId }));
    } catch (error) {
      setSubmitError(toArmError(error));
    } finally {
      setCreating(false);
    }
  }

  const steps: Step[] = ['basics', 'parameters', 'remediation', 'review'];
  const next = steps[steps.indexOf(step) + 1];
  const previous = steps[steps.indexOf(step) - 1];
  return (
    <Page
      crumbs={[
        HOME,
        POLICY,
        DEFINITIONS,
        { label: displayNameOf(definition), href: hrefOf(['policy', 'definitions', definition.id]) },
        { label: 'Assign policy' },
      ]}
      title="Assign policy"
      subtitle={displayNameOf(definition)}
    >
      <TabList
        selectedValue={step}
        onTabSelect={(_event, data) => setStep(data.value as Step)}
        aria-label="Assign policy steps"
      >
        <Tab value="basics">Basics</Tab>
        <Tab value="parameters">Parameters</Tab>
        <Tab value="remediation">Remediation</Tab>
        <Tab value="review">Review + create</Tab>
      </TabList>
      {step === 'basics' && (
        <div className={styles.form}>
          <Field label="Scope type">
            <RadioGroup
              layout="horizontal"
              value={kind}
              onChange={(_event, data) => setKind(data.value as ScopeKind)}
            >
              <Radio value="managementGroup" label="Management group" />
              <Radio value="subscription" label="Subscription" />
              <Radio value="resourceGroup" label="Resource group" />
            </RadioGroup>
          </Field>
          <ArmErrorBar
            error={groups.error ?? subscriptions.error ?? resourceGroups.error}
            title="The scopes could not be read"
          />
          {kind === 'managementGroup' ? (
            <Field label="Management group" required>
              <Select value={group} onChange={(_event, data) => setGroup(data.value)}>
                <option value="">Select a management group</option>
                {(groups.data?.value ?? []).map((item) => (
                  <option key={item.name} value={item.name}>
                    {item.properties.displayName}
                  </option>
                ))}
              </Select>
            </Field>
          ) : (
            <Field label="Subscription" required>
              <Select value={subscription} onChange={(_event, data) => setSubscription(data.value)}>
                <option value="">Select a subscription</option>
                {(subscriptions.data ?? []).map((item) => (
                  <option key={item.subscriptionId} value={item.subscriptionId}>
                    {item.displayName}
                  </option>
                ))}
              </Select>
            </Field>
          )}
          {kind === 'resourceGroup' && (
            <Field label="Resource group" required>
              <Select value={resourceGroup} onChange={(_event, data) => setResourceGroup(data.value)}>
                <option value="">Select a resource group</option>
                {(resourceGroups.data ?? []).map((item) => (
                  <option key={item.name} value={item.name}>
                    {item.name}
                  </option>
                ))}
              </Select>
            </Field>
          )}
          <Text>Scope: {scope || '—'}</Text>
          <Field label="Policy definition">
            <Input readOnly value={displayNameOf(definition)} />
          </Field>
          <Field label="Assignment name" required>
            <Input value={displayName} onChange={(_event, data) => setDisplayName(data.value)} />
          </Field>
          <Field label="Description">
            <Textarea value={description} onChange={(_event, data) => setDescription(data.value)} />
          </Field>
          <Field label="Policy enforcement">
            <RadioGroup
              layout="horizontal"
              value={enforced ? 'Enabled' : 'Disabled'}
              onChange={(_event, data) => setEnforced(data.value === 'Enabled')}
            >
              <Radio value="Enabled" label="Enabled" />
              <Radio value="Disabled" label="Disabled" />
            </RadioGroup>
          </Field>
        </div>
      )}
      {step === 'parameters' && (
        <div className={styles.form}>
          {Object.keys(parameters).length === 0 && <Text>This definition has no parameters.</Text>}
          {Object.entries(parameters).map(([parameterName, parameter]) => {
            const error = parsed.find((entry) => entry.parameterName === parameterName)?.error;
            const label = parameter.metadata?.displayName ?? parameterName;
            const text = texts[parameterName] ?? '';
            const set = (value: string) => setTexts((current) => ({ ...current, [parameterName]: value }));
            return (
              <Field
                key={parameterName}
                label={label}
                hint={parameter.metadata?.description}
                validationMessage={error}
              >
                {parameter.allowedValues ? (
                  <Select value={text} onChange={(_event, data) => set(data.value)}>
                    {parameter.allowedValues.map((value) => {
                      const option = typeof value === 'string' ? value : JSON.stringify(value);
                      return (
                        <option key={option} value={option}>
                          {option}
                        </option>
                      );
                    })}
                  </Select>
                ) : parameter.type === 'Array' || parameter.type === 'Object' ? (
                  <Textarea value={text} onChange={(_event, data) => set(data.value)} />
                ) : (
                  <Input value={text} onChange={(_event, data) => set(data.value)} />
                )}
              </Field>
            );
          })}
        </div>
      )}
      {step === 'remediation' && (
        <div className={styles.form}>
          <Text>
            Effect with these parameters: <strong>{effect}</strong>.{' '}
            {needsIdentity
              ? 'Resources that are not compliant are remediated by deployments that run as the assignment’s managed identity.'
              : 'This effect does not deploy resources, so the assignment needs no managed identity.'}
          </Text>
          {needsIdentity && (
            <>
              <Checkbox
                checked={identity}
                onChange={(_event, data) => setIdentity(data.checked === true)}
                label="Create a Managed Identity (system assigned)"
              />
              {identity && (
                <Field label="System assigned identity location">
                  <Select value={location} onChange={(_event, data) => setLocation(data.value)}>
                    {LOCATIONS.map((item) => (
                      <option key={item}>{item}</option>
                    ))}
                  </Select>
                </Field>
              )}
              {definition.properties.policyRule.then.details?.roleDefinitionIds && (
                <Text>
                  The identity is granted:{' '}
                  {definition.properties.policyRule.then.details.roleDefinitionIds
                    .map((id) => id.split('/').pop())
                    .join(', ')}
                </Text>
              )}
            </>
          )}
        </div>
      )}
      {step === 'review' && (
        <div className={styles.form}>
          {problems.length > 0 && (
            <MessageBar intent="warning" layout="multiline">
              <MessageBarBody>
                <ul>
                  {problems.map((problem) => (
                    <li key={problem}>{problem}</li>
                  ))}
                </ul>
              </MessageBarBody>
            </MessageBar>
          )}
          {denied && (
            <MessageBar intent="info" layout="multiline">
              <MessageBarBody data-testid="assign-denied">{denied}</MessageBarBody>
            </MessageBar>
          )}
          <ArmErrorBar error={access.error} title="Your access could not be read" />
          <Text weight="semibold">Request</Text>
          <Text data-testid="assign-request">
            PUT {assignmentId || '(choose a scope)'}?api-version={POLICY_API.authorization}
          </Text>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard. */}
          <section className={styles.code} tabIndex={0} aria-label="Request body">
            <pre style={{ margin: 0 }}>{JSON.stringify(body, null, 2)}</pre>
          </section>
          <ArmErrorBar error={submitError} title="The assignment was not created" />
        </div>
      )}
      <div className={styles.footer}>
        {step === 'review' ? (
          <Button
            appearance="primary"
            disabled={problems.length > 0 || creating || !access.data?.can}
            title={denied}
            onClick={create}
          >
            {creating ? 'Creating…' : 'Create'}
          </Button>
        ) : (
          <Button appearance="primary" onClick={() => setStep('review')}>
            Review + create
          </Button>
        )}
        {previous && <Button onClick={() => setStep(previous)}>Previous</Button>}
        {next && <Button onClick={() => setStep(next)}>Next</Button>}
      </div>
    </Page>
  );
}
