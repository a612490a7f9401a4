/**
 * Routes (hash-based, see router.ts). Every page talks to the ARM API only, with the signed-in
 * principal's token.
 *
 *   #/                                          Overview
 *   #/environment                               Environment settings (tree + connectors)
 *   #/environment/subscriptions/{id}[/plans]    a subscription's Defender plans
 *   #/environment/subscriptions/{id}/plans/servers   Defender for Servers "Settings & monitoring"
 *   #/environment/subscriptions/{id}/integrations    its integrations (settings)
 *   #/environment/connectors/{connector id}     a GCP/AWS connector and its offerings
 *   #/machines?subscription=&os=&power=&provider=&legacy=   the machine list
 *   #/machines/{machine id}                     one machine
 *
 *   #/policy[/definitions]                      Policy definitions (search, built-in/custom)
 *   #/policy/definitions/{definition id}        one definition, and Assign
 *   #/policy/assign?definition=                 Assign policy (Basics, Parameters, Remediation, Review + create)
 *   #/policy/compliance?scope=                  compliance by assignment
 *   #/policy/compliance/assignment?id=          one assignment's compliance by resource
 *   #/policy/remediation?scope=                 remediation tasks with progress
 */

import { useSessionContext } from './auth/session';
import { ErrorBoundary } from './components/ErrorBoundary';
import { type Section, Shell } from './components/Shell';
import { EstateProvider } from './estate/context';
import { ConnectorPage } from './pages/ConnectorPage';
import { EnvironmentSettings } from './pages/EnvironmentSettings';
import { MachinePage } from './pages/MachinePage';
import { Machines } from './pages/Machines';
import { NotFound } from './pages/NotFound';
import { Overview } from './pages/Overview';
import { Assign } from './pages/policy/Assign';
import { AssignmentCompliance, Compliance } from './pages/policy/Compliance';
import { DefinitionPage, Definitions } from './pages/policy/Definitions';
import { Remediations } from './pages/policy/Remediations';
import { SignIn } from './pages/SignIn';
import { SubscriptionPage } from './pages/SubscriptionPage';
import { type Route, useRoute } from './router';

function pageFor(route: Route): { section: Section; page: React.ReactNode } {
  const [first, second, third, ...rest] = route.segments;
  if (first === undefined) return { section: 'overview', page: <Overview /> };
  if (first === 'environment') {
    if (second === undefined)
      return { section: 'environment', page: <EnvironmentSettings query={route.query} /> };
    if (second === 'subscriptions' && third)
      return { section: 'environment', page: <SubscriptionPage subscriptionId={third} view={rest} /> };
    if (second === 'connectors' && third)
      return { section: 'environment', page: <ConnectorPage connectorId={third} /> };
  }
  if (first === 'machines') {
    if (second === undefined) return { section: 'machines', page: <Machines query={route.query} /> };
    return { section: 'machines', page: <MachinePage machineId={second} /> };
  }
  if (first === 'policy') {
    if (second === undefined || (second === 'definitions' && third === undefined))
      return { section: 'policy', page: <Definitions /> };
    if (second === 'definitions' && third)
      return { section: 'policy', page: <DefinitionPage definitionId={third} /> };
    if (second === 'assign')
      return { section: 'policy', page: <Assign definitionId={route.query.get('definition') ?? ''} /> };
    if (second === 'compliance' && third === 'assignment')
      return { section: 'policy', page: <AssignmentCompliance assignmentId={route.query.get('id') ?? ''} /> };
    if (second === 'compliance') return { section: 'policy', page: <Compliance query={route.query} /> };
    if (second === 'remediation') return { section: 'policy', page: <Remediations query={route.query} /> };
  }
  return { section: 'overview', page: <NotFound path={route.path} /> };
}

export function App() {
  const { session } = useSessionContext();
  const route = useRoute();
  if (!session) return <SignIn />;
  const { section, page } = pageFor(route);
  return (
    <EstateProvider key={session.token}>
      <Shell section={section}>
        <ErrorBoundary resetKey={route.path}>{page}</ErrorBoundary>
      </Shell>
    </EstateProvider>
  );
}
