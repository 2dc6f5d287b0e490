import { useCallback, useEffect, useRef, useState } from 'react';
import type { ServerEventType } from '../../shared/events.js';
import { useSession } from '../session.js';
import { Store } from './store.js';

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (fn: (current: T | undefined) => T | undefined) => void;
}

/**
 * Loads something for a screen and keeps loading, error and data apart. A reload keeps the
 * data on screen while it fetches, so live refreshes never flash a spinner.
 */
export function useResource<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: unknown[],
): Resource<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    loadRef.current(controller.signal).then(
      (value) => {
        if (controller.signal.aborted) return;
        setDataState(value);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setError(err);
        setLoading(false);
      },
    );
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tick, ...deps]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback(
    (fn: (current: T | undefined) => T | undefined) => setDataState((c) => fn(c)),
    [],
  );
  return { data, error, loading, reload, setData };
}

/** Calls `refresh` (debounced) whenever one of these live events arrives or the connection returns. */
export function useLiveRefresh(types: ServerEventType[], refresh: () => void, delayMs = 250): void {
  const { live } = useSession();
  const refreshRef = useRef(refresh);
  refreshRef.current = refresh;
  const key = types.join(',');
  useEffect(() => {
    if (!live) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(() => refreshRef.current(), delayMs);
    };
    const offs = key.split(',').map((t) => live.on(t as ServerEventType, schedule));
    offs.push(live.onConnection((up) => up && schedule()));
    return () => {
      clearTimeout(timer);
      for (const off of offs) off();
    };
  }, [live, key, delayMs]);
}

/** The current screen's name; the layout adds the unread count and puts it in the tab title. */
export const pageTitle = new Store<string>('carechat');

export function useDocumentTitle(title: string): void {
  useEffect(() => {
    pageTitle.set(title);
  }, [title]);
}
