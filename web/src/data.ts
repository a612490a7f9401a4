/**
 * A small read cache for ARM GETs: pages show what they fetched last time at once, refresh it in the
 * background, and writes invalidate by key prefix.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ArmRequestError } from './arm/client';

interface Entry {
  data: unknown;
  at: number;
}

const cache = new Map<string, Entry>();
const listeners = new Set<(key: string) => void>();

export function invalidate(prefix: string): void {
  for (const key of [...cache.keys()]) {
    if (key.startsWith(prefix)) cache.delete(key);
  }
  for (const listener of listeners) listener(prefix);
}

export function clearCache(): void {
  cache.clear();
}

export function toArmError(error: unknown): ArmRequestError {
  if (error instanceof ArmRequestError) return error;
  return new ArmRequestError(0, { code: 'ClientError', message: (error as Error)?.message ?? String(error) });
}

export interface Query<T> {
  data: T | undefined;
  error: ArmRequestError | undefined;
  loading: boolean;
  reload(): void;
}

/** Loads `key` with `load` (null key: nothing to load yet). Cached results show while refreshing. */
export function useArmQuery<T>(key: string | null, load: (signal: AbortSignal) => Promise<T>): Query<T> {
  const [state, setState] = useState<{
    key: string | null;
    data?: T;
    error?: ArmRequestError;
    loading: boolean;
  }>(() => ({
    key,
    data: key ? (cache.get(key)?.data as T | undefined) : undefined,
    loading: key !== null,
  }));
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new `generation` asks for a fresh load.
  useEffect(() => {
    if (key === null) {
      setState({ key, loading: false });
      return;
    }
    const controller = new AbortController();
    const cached = cache.get(key)?.data as T | undefined;
    setState((previous) => ({
      key,
      data: cached ?? (previous.key === key ? previous.data : undefined),
      loading: true,
    }));
    loadRef
      .current(controller.signal)
      .then((data) => {
        if (controller.signal.aborted) return;
        cache.set(key, { data, at: Date.now() });
        setState({ key, data, loading: false });
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ key, error: toArmError(error), loading: false });
      });
    return () => controller.abort();
  }, [key, generation]);

  useEffect(() => {
    if (key === null) return;
    const listener = (prefix: string) => {
      if (key.startsWith(prefix)) setGeneration((value) => value + 1);
    };
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, [key]);

  const reload = useCallback(() => {
    if (key) cache.delete(key);
    setGeneration((value) => value + 1);
  }, [key]);

  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: current ? state.loading : key !== null,
    reload,
  };
}
