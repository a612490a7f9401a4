import { Link, Text } from '@fluentui/react-components';
import { DEFENDER, HOME, Page } from '../components/Page';

export function NotFound({ path }: { path: string }) {
  return (
    <Page crumbs={[HOME, DEFENDER]} title="Page not found">
      <Text>
        The portal has no page at <code>#{path}</code>. <Link href="#/">Go to the overview</Link>.
      </Text>
    </Page>
  );
}
