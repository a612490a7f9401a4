import {
  Badge,
  Button,
  Field,
  Input,
  Link,
  makeStyles,
  Radio,
  RadioGroup,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  tokens,
} from '@fluentui/react-components';
import { Search20Regular } from '@fluentui/react-icons';
import { useState } from 'react';
import { useSession } from '../../auth/session';
import { ArmErrorBar } from '../../components/ArmErrorBar';
import { HOME, Page } from '../../components/Page';
import { useArmQuery } from '../../data';
import { hrefOf } from '../../router';
import { displayNameOf, effectOf, getDefinition, listDefinitions, type PolicyDefinition } from './api';

export const POLICY = { label: 'Policy', href: '#/policy' };
export const DEFINITIONS = { label: 'Definitions', href: '#/policy/definitions' };

const useStyles = makeStyles({
  filters: { display: 'flex', flexWrap: 'wrap', gap: '16px', alignItems: 'flex-end' },
  search: { minWidth: '360px', '@media (max-width: 720px)': { minWidth: '100%' } },
  code: {
    margin: 0,
    padding: '12px',
    maxHeight: '480px',
    overflow: 'auto',
    fontFamily: tokens.fontFamilyMonospace,
    fontSize: tokens.fontSizeBase200,
    backgroundColor: tokens.colorNeutralBackground2,
    border: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  facts: { display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '4px 16px' },
});

type TypeFilter = 'All' | 'BuiltIn' | 'Custom';

/** Policy | Definitions: every definition the tenant sees, searched by display name. */
export function Definitions() {
  const styles = useStyles();
  const session = useSession();
  const [search, setSearch] = useState('');
  const [type, setType] = useState<TypeFilter>('All');
  const definitions = useArmQuery('policy:definitions', (signal) =>
    listDefinitions(session.client, session.claims.tid, signal),
  );
  const words = search.trim().toLowerCase();
  const shown = (definitions.data ?? [])
    .filter((definition) => type === 'All' || definition.properties.policyType === type)
    .filter((definition) => !words || displayNameOf(definition).toLowerCase().includes(words))
    .sort((left, right) => displayNameOf(left).localeCompare(displayNameOf(right)));
  return (
    <Page
      crumbs={[HOME, POLICY, DEFINITIONS]}
      title="Policy | Definitions"
      subtitle="Built-in and custom policy definitions"
      loading={definitions.loading && !definitions.data}
    >
      <ArmErrorBar error={definitions.error} title="The definitions could not be read" />
      <div className={styles.filters}>
        <Field label="Search" className={styles.search}>
          <Input
            type="search"
            contentBefore={<Search20Regular aria-hidden />}
            placeholder="Search by name"
            value={search}
            onChange={(_event, data) => setSearch(data.value)}
          />
        </Field>
        <Field label="Type">
          <RadioGroup
            layout="horizontal"
            value={type}
            onChange={(_event, data) => setType(data.value as TypeFilter)}
          >
            <Radio value="All" label="All" />
            <Radio value="BuiltIn" label="Built-in" />
            <Radio value="Custom" label="Custom" />
          </RadioGroup>
        </Field>
      </div>
      <Text aria-live="polite">
        {definitions.data ? `${shown.length} of ${definitions.data.length} definitions` : ''}
      </Text>
      <Table aria-label="Policy definitions" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Name</TableHeaderCell>
            <TableHeaderCell>Type</TableHeaderCell>
            <TableHeaderCell>Category</TableHeaderCell>
            <TableHeaderCell>Effect</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {shown.map((definition) => (
            <TableRow key={definition.id}>
              <TableCell>
                <Link href={hrefOf(['policy', 'definitions', definition.id])}>
                  {displayNameOf(definition)}
                </Link>
              </TableCell>
              <TableCell>{definition.properties.policyType === 'BuiltIn' ? 'Built-in' : 'Custom'}</TableCell>
              <TableCell>{definition.properties.metadata?.category ?? ''}</TableCell>
              <TableCell>{effectOf(definition)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Page>
  );
}

/** One definition: its facts, parameters and rule, and **Assign**. */
export function DefinitionPage({ definitionId }: { definitionId: string }) {
  const styles = useStyles();
  const session = useSession();
  const definition = useArmQuery(`policy:definition:${definitionId}`, (signal) =>
    getDefinition(session.client, definitionId, signal),
  );
  const body: PolicyDefinition | undefined = definition.data;
  const title = body ? displayNameOf(body) : 'Policy definition';
  return (
    <Page
      crumbs={[HOME, POLICY, DEFINITIONS, { label: title }]}
      title={title}
      subtitle="Policy definition"
      loading={definition.loading && !body}
      commands={
        <Button
          appearance="primary"
          disabled={!body}
          as="a"
          href={hrefOf(['policy', 'assign'], { definition: definitionId })}
        >
          Assign
        </Button>
      }
    >
      <ArmErrorBar error={definition.error} title="The definition could not be read" />
      {body && (
        <>
          <div className={styles.facts}>
            <Text weight="semibold">Name</Text>
            <Text>{body.name}</Text>
            <Text weight="semibold">Definition id</Text>
            <Text>{body.id}</Text>
            <Text weight="semibold">Type</Text>
            <Text>
              <Badge appearance="tint">{body.properties.policyType}</Badge>
            </Text>
            <Text weight="semibold">Category</Text>
            <Text>{body.properties.metadata?.category ?? '—'}</Text>
            <Text weight="semibold">Mode</Text>
            <Text>{body.properties.mode ?? '—'}</Text>
            <Text weight="semibold">Effect</Text>
            <Text>{effectOf(body)}</Text>
            <Text weight="semibold">Description</Text>
            <Text>{body.properties.description ?? '—'}</Text>
          </div>
          <h2>Parameters</h2>
          <Table aria-label="Parameters" size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Name</TableHeaderCell>
                <TableHeaderCell>Type</TableHeaderCell>
                <TableHeaderCell>Default</TableHeaderCell>
                <TableHeaderCell>Allowed values</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {Object.entries(body.properties.parameters ?? {}).map(([name, parameter]) => (
                <TableRow key={name}>
                  <TableCell>{parameter.metadata?.displayName ?? name}</TableCell>
                  <TableCell>{parameter.type}</TableCell>
                  <TableCell>{JSON.stringify(parameter.defaultValue) ?? '—'}</TableCell>
                  <TableCell>
                    {parameter.allowedValues?.map((value) => JSON.stringify(value)).join(', ') ?? '—'}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          <h2>Definition</h2>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard. */}
          <section className={styles.code} tabIndex={0} aria-label="Policy rule JSON">
            <pre style={{ margin: 0 }}>{JSON.stringify(body.properties.policyRule, null, 2)}</pre>
          </section>
        </>
      )}
    </Page>
  );
}
