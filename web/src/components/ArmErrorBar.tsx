import { MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import type { ArmRequestError } from '../arm/client';

/** The API's own words for a refused or failed call: its code, message and details. */
export function ArmErrorBar({ error, title }: { error: ArmRequestError | undefined; title?: string }) {
  if (!error) return null;
  return (
    <MessageBar intent="error" layout="multiline" role="alert">
      <MessageBarBody>
        <MessageBarTitle>{title ?? 'The request was refused'}</MessageBarTitle>
        <span data-testid="arm-error">
          {error.code}: {error.message}
        </span>
        {error.details.length > 0 && (
          <ul style={{ margin: '4px 0 0', paddingLeft: 20 }}>
            {error.details.map((detail) => (
              <li key={`${detail.code}:${detail.message}`}>
                {detail.code}: {detail.message}
              </li>
            ))}
          </ul>
        )}
      </MessageBarBody>
    </MessageBar>
  );
}
