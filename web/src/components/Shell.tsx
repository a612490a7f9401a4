import {
  Avatar,
  Button,
  Hamburger,
  makeStyles,
  NavDrawer,
  NavDrawerBody,
  NavItem,
  NavSectionHeader,
  Popover,
  PopoverSurface,
  PopoverTrigger,
  Text,
  tokens,
} from '@fluentui/react-components';
import {
  Board20Regular,
  DesktopMac20Regular,
  DocumentBulletList20Regular,
  Settings20Regular,
  ShieldKeyhole20Regular,
} from '@fluentui/react-icons';
import { type ReactNode, useEffect, useState } from 'react';
import { useSignedInRoles } from '../auth/access';
import { useSession, useSessionContext } from '../auth/session';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', height: '100vh', overflow: 'hidden' },
  header: {
    display: 'flex',
    alignItems: 'center',
    gap: '8px',
    height: '40px',
    flexShrink: 0,
    padding: '0 8px 0 4px',
    backgroundColor: '#1b1a19',
    color: '#ffffff',
  },
  brand: { display: 'flex', alignItems: 'center', gap: '8px', color: '#ffffff', textDecoration: 'none' },
  brandName: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase300 },
  brandTag: {
    fontSize: tokens.fontSizeBase100,
    border: '1px solid #c8c6c4',
    borderRadius: '2px',
    padding: '0 4px',
  },
  spacer: { flexGrow: 1 },
  user: {
    color: '#ffffff',
    minWidth: 0,
    ':hover': { color: '#ffffff', backgroundColor: '#3b3a39' },
    ':hover:active': { color: '#ffffff', backgroundColor: '#484644' },
  },
  userText: { display: 'flex', flexDirection: 'column', alignItems: 'flex-end', lineHeight: '14px' },
  userRoles: {
    fontSize: tokens.fontSizeBase100,
    color: '#e1dfdd',
    maxWidth: '260px',
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
  },
  body: { display: 'flex', flexGrow: 1, minHeight: 0 },
  nav: { flexShrink: 0, borderRight: `1px solid ${tokens.colorNeutralStroke2}` },
  main: { flexGrow: 1, overflowY: 'auto', minWidth: 0, backgroundColor: tokens.colorNeutralBackground1 },
  hamburger: { color: '#ffffff', ':hover': { color: '#ffffff', backgroundColor: '#3b3a39' } },
  popover: { display: 'flex', flexDirection: 'column', gap: '8px', maxWidth: '360px' },
  grants: { margin: 0, paddingLeft: '16px' },
});

export type Section = 'overview' | 'environment' | 'machines' | 'policy';

const NARROW = '(max-width: 900px)';

function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => window.matchMedia(NARROW).matches);
  useEffect(() => {
    const query = window.matchMedia(NARROW);
    const listener = () => setNarrow(query.matches);
    query.addEventListener('change', listener);
    return () => query.removeEventListener('change', listener);
  }, []);
  return narrow;
}

function UserMenu() {
  const styles = useStyles();
  const session = useSession();
  const { signOut } = useSessionContext();
  const roles = useSignedInRoles();
  const roleNames = [...new Set(roles.grants.map((grant) => grant.role.roleName))];
  const summary = roles.loading
    ? 'Reading roles…'
    : roles.error
      ? 'Roles unknown'
      : roleNames.length > 0
        ? roleNames.join(', ')
        : 'No role assignments';
  return (
    <Popover positioning="below-end" withArrow>
      <PopoverTrigger disableButtonEnhancement>
        <Button
          appearance="transparent"
          className={styles.user}
          aria-label={`Signed in as ${session.claims.name} (${summary}). Account menu`}
          icon={<Avatar name={session.claims.name} size={24} color="brand" />}
          iconPosition="after"
        >
          <span className={styles.userText}>
            <span data-testid="user-name">{session.claims.name}</span>
            <span className={styles.userRoles} data-testid="user-roles">
              {summary}
            </span>
          </span>
        </Button>
      </PopoverTrigger>
      <PopoverSurface aria-label="Account">
        <div className={styles.popover}>
          <Text weight="semibold">{session.claims.name}</Text>
          <Text size={200}>
            {session.claims.kind === 'app' ? 'Application' : 'User'} · object id {session.claims.oid}
          </Text>
          <Text size={200}>Tenant {session.claims.tid}</Text>
          <Text size={200}>Token expires {new Date(session.claims.expiresAt).toLocaleString()}</Text>
          {roles.error && <Text size={200}>Roles could not be read: {roles.error}</Text>}
          {roles.grants.length > 0 && (
            <ul className={styles.grants} aria-label="Role assignments">
              {roles.grants.map((grant) => (
                <li key={`${grant.role.id}:${grant.scope}`}>
                  <Text size={200}>
                    {grant.role.roleName} at {grant.scope === '/' ? 'the tenant root' : grant.scope}
                  </Text>
                </li>
              ))}
            </ul>
          )}
          <Button onClick={signOut}>Sign out</Button>
        </div>
      </PopoverSurface>
    </Popover>
  );
}

export function Shell({ section, children }: { section: Section; children: ReactNode }) {
  const styles = useStyles();
  const narrow = useNarrow();
  const [open, setOpen] = useState(!narrow);
  useEffect(() => setOpen(!narrow), [narrow]);
  return (
    <div className={styles.root}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className={styles.header}>
        <Hamburger
          className={styles.hamburger}
          aria-label={open ? 'Hide the menu' : 'Show the menu'}
          aria-expanded={open}
          onClick={() => setOpen((value) => !value)}
        />
        <a className={styles.brand} href="#/">
          <ShieldKeyhole20Regular aria-hidden />
          <span className={styles.brandName}>Microsoft Azure</span>
          <span className={styles.brandTag}>vaplane</span>
        </a>
        <span className={styles.spacer} />
        <UserMenu />
      </header>
      <div className={styles.body}>
        <NavDrawer
          className={styles.nav}
          open={open}
          type={narrow ? 'overlay' : 'inline'}
          onOpenChange={(_event, data) => setOpen(data.open)}
          selectedValue={section}
          aria-label="Microsoft Defender for Cloud"
          size="small"
        >
          <NavDrawerBody>
            <NavSectionHeader>General</NavSectionHeader>
            <NavItem
              href="#/"
              value="overview"
              icon={<Board20Regular />}
              onClick={() => narrow && setOpen(false)}
            >
              Overview
            </NavItem>
            <NavSectionHeader>Cloud security</NavSectionHeader>
            <NavItem
              href="#/machines"
              value="machines"
              icon={<DesktopMac20Regular />}
              onClick={() => narrow && setOpen(false)}
            >
              Machines
            </NavItem>
            <NavSectionHeader>Management</NavSectionHeader>
            <NavItem
              href="#/environment"
              value="environment"
              icon={<Settings20Regular />}
              onClick={() => narrow && setOpen(false)}
            >
              Environment settings
            </NavItem>
            <NavItem
              href="#/policy"
              value="policy"
              icon={<DocumentBulletList20Regular />}
              onClick={() => narrow && setOpen(false)}
            >
              Policy
            </NavItem>
          </NavDrawerBody>
        </NavDrawer>
        <main id="main" className={styles.main} tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
