import {
  Button,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
} from '@fluentui/react-components';
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface State {
  error?: Error;
}

/**
 * Keeps a failing page from blanking the portal: the page is replaced by what went wrong and a way
 * back; the header and navigation stay. `resetKey` (the route) clears the error on navigation.
 */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, State> {
  override state: State = {};

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('portal page failed', error, info.componentStack);
  }

  override componentDidUpdate(previous: { resetKey?: string }): void {
    if (this.state.error && previous.resetKey !== this.props.resetKey) this.setState({ error: undefined });
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div role="alert" style={{ padding: 24 }}>
        <MessageBar intent="error" layout="multiline">
          <MessageBarBody>
            <MessageBarTitle>This page failed to show</MessageBarTitle>
            {error.message || String(error)}
          </MessageBarBody>
          <MessageBarActions>
            <Button onClick={() => this.setState({ error: undefined })}>Try again</Button>
            <Button
              onClick={() => {
                window.location.hash = '#/';
                this.setState({ error: undefined });
              }}
            >
              Go to the overview
            </Button>
          </MessageBarActions>
        </MessageBar>
      </div>
    );
  }
}
