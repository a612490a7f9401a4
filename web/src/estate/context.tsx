import { createContext, type ReactNode, useContext, useMemo, useSyncExternalStore } from 'react';
import { useSession } from '../auth/session';
import { createEstateStore, type EstateStore } from './store';

const EstateContext = createContext<EstateStore | undefined>(undefined);

export function EstateProvider({ children }: { children: ReactNode }) {
  const session = useSession();
  const store = useMemo(() => createEstateStore(session.client), [session.client]);
  return <EstateContext.Provider value={store}>{children}</EstateContext.Provider>;
}

/** The estate store; the calling component re-renders whenever the store changes. */
export function useEstate(): EstateStore {
  const store = useContext(EstateContext);
  if (!store) throw new Error('useEstate outside EstateProvider');
  useSyncExternalStore(store.subscribe, store.version);
  return store;
}
