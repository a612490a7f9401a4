import {
  Button,
  Card,
  Field,
  Input,
  makeStyles,
  Tab,
  TabList,
  Text,
  Textarea,
  tokens,
} from '@fluentui/react-components';
import { ShieldKeyhole24Regular } from '@fluentui/react-icons';
import { type FormEvent, useEffect, useState } from 'react';
import { ArmRequestError } from '../arm/client';
import { tokenFromClientCredentials, useSessionContext } from '../auth/session';
import { ArmErrorBar } from '../components/ArmErrorBar';
import { toArmError } from '../data';

const useStyles = makeStyles({
  root: {
    minHeight: '100vh',
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'center',
    backgroundColor: tokens.colorNeutralBackground2,
    padding: '16px',
    boxSizing: 'border-box',
  },
  card: { width: '100%', maxWidth: '480px', padding: '24px' },
  heading: { display: 'flex', alignItems: 'center', gap: '8px', margin: 0, fontSize: tokens.fontSizeBase500 },
  form: { display: 'flex', flexDirection: 'column', gap: '12px' },
  hint: { color: tokens.colorNeutralForeground2 },
});

type Method = 'token' | 'client';

export function SignIn() {
  const styles = useStyles();
  const { signIn } = useSessionContext();
  const [method, setMethod] = useState<Method>('token');
  const [token, setToken] = useState('');
  const [tenantId, setTenantId] = useState('');
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ArmRequestError>();

  useEffect(() => {
    document.title = 'Sign in — vaplane';
    // ARM's cloud metadata names the tenant: a convenience default for the client-credentials form.
    fetch('/metadata/endpoints?api-version=2022-09-01')
      .then((response) => (response.ok ? response.json() : []))
      .then((clouds: { authentication?: { tenant?: string } }[]) => {
        const tenant = clouds[0]?.authentication?.tenant;
        if (tenant) setTenantId((current) => current || tenant);
      })
      .catch(() => undefined);
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const accessToken =
        method === 'token'
          ? token.trim().replace(/^Bearer\s+/i, '')
          : await tokenFromClientCredentials({
              tenantId: tenantId.trim(),
              clientId: clientId.trim(),
              clientSecret,
            });
      signIn(accessToken);
    } catch (caught) {
      setError(
        caught instanceof ArmRequestError
          ? caught
          : new ArmRequestError(0, { code: 'InvalidToken', message: toArmError(caught).message }),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className={styles.root}>
      <Card className={styles.card}>
        <h1 className={styles.heading}>
          <ShieldKeyhole24Regular aria-hidden /> Sign in to Microsoft Defender for Cloud (vaplane)
        </h1>
        <TabList
          selectedValue={method}
          onTabSelect={(_event, data) => {
            setMethod(data.value as Method);
            setError(undefined);
          }}
          aria-label="Sign-in method"
        >
          <Tab value="token">Access token</Tab>
          <Tab value="client">Client credentials</Tab>
        </TabList>
        <form className={styles.form} onSubmit={submit} aria-label="Sign in">
          {method === 'token' ? (
            <Field
              label="Access token"
              required
              hint="`vaplane serve` prints an Owner token; `vaplane token --role Reader` prints others."
            >
              <Textarea
                value={token}
                onChange={(_event, data) => setToken(data.value)}
                resize="vertical"
                rows={5}
                spellCheck={false}
              />
            </Field>
          ) : (
            <>
              <Field label="Tenant ID" required>
                <Input value={tenantId} onChange={(_event, data) => setTenantId(data.value)} />
              </Field>
              <Field
                label="Client ID"
                required
                hint="`vaplane principal <name> --role <role>` creates an application."
              >
                <Input value={clientId} onChange={(_event, data) => setClientId(data.value)} />
              </Field>
              <Field label="Client secret" required>
                <Input
                  type="password"
                  value={clientSecret}
                  onChange={(_event, data) => setClientSecret(data.value)}
                />
              </Field>
            </>
          )}
          <ArmErrorBar error={error} title="Sign-in failed" />
          <Button type="submit" appearance="primary" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </Button>
          <Text size={200} className={styles.hint}>
            The portal talks only to this server's ARM API, with your token. The token stays in this browser
            tab.
          </Text>
        </form>
      </Card>
    </main>
  );
}
