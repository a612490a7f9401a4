import {
  Breadcrumb,
  BreadcrumbButton,
  BreadcrumbDivider,
  BreadcrumbItem,
  makeStyles,
  Spinner,
  Text,
  tokens,
} from '@fluentui/react-components';
import { Fragment, type ReactNode, useEffect } from 'react';

const useStyles = makeStyles({
  page: {
    display: 'flex',
    flexDirection: 'column',
    gap: '12px',
    padding: '12px 24px 24px',
    minWidth: 0,
    '@media (max-width: 720px)': { padding: '8px 12px 16px' },
  },
  title: { display: 'flex', flexDirection: 'column', gap: '2px' },
  heading: {
    margin: 0,
    fontSize: tokens.fontSizeBase600,
    lineHeight: tokens.lineHeightBase600,
    fontWeight: tokens.fontWeightSemibold,
    color: tokens.colorNeutralForeground1,
  },
  subtitle: { color: tokens.colorNeutralForeground2 },
  commands: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: '4px',
    alignItems: 'center',
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    paddingBottom: '6px',
  },
});

export interface Crumb {
  label: string;
  href?: string;
}

/**
 * A portal blade: breadcrumb, title ("Microsoft Defender for Cloud | Environment settings"),
 * subtitle, command bar, content. Sets the document title so each page is announced.
 */
export function Page(props: {
  crumbs: Crumb[];
  title: string;
  subtitle?: ReactNode;
  commands?: ReactNode;
  loading?: boolean;
  children: ReactNode;
}) {
  const styles = useStyles();
  useEffect(() => {
    document.title = `${props.title} — vaplane`;
  }, [props.title]);
  return (
    <div className={styles.page}>
      <Breadcrumb aria-label="Breadcrumb" size="small">
        {props.crumbs.map((crumb, index) => (
          <Fragment key={`${crumb.label}:${crumb.href ?? ''}`}>
            {index > 0 && <BreadcrumbDivider />}
            <BreadcrumbItem>
              <BreadcrumbButton
                href={crumb.href}
                current={index === props.crumbs.length - 1}
                aria-current={index === props.crumbs.length - 1 ? 'page' : undefined}
              >
                {crumb.label}
              </BreadcrumbButton>
            </BreadcrumbItem>
          </Fragment>
        ))}
      </Breadcrumb>
      <div className={styles.title}>
        <h1 className={styles.heading}>{props.title}</h1>
        {props.subtitle && <Text className={styles.subtitle}>{props.subtitle}</Text>}
      </div>
      {props.commands && (
        <div className={styles.commands} role="toolbar" aria-label="Commands">
          {props.commands}
        </div>
      )}
      {props.loading && <Spinner size="tiny" label="Loading…" labelPosition="after" />}
      {props.children}
    </div>
  );
}

export const HOME: Crumb = { label: 'Home', href: '#/' };
export const DEFENDER: Crumb = { label: 'Microsoft Defender for Cloud', href: '#/' };
