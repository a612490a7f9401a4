/**
 * The server-wide clock that every domain rule reads (retirement dates, LRO due times, systemData).
 * `--now` starts it at a chosen instant so a user can rehearse pre-retirement behaviour; it then
 * advances in real time. Token lifetimes deliberately use real time instead: a token must be valid
 * for the client's clock, not for the rehearsal.
 */
export interface Clock {
  now(): Date;
  nowMs(): number;
}

export function systemClock(): Clock {
  return { now: () => new Date(), nowMs: () => Date.now() };
}

export function clockStartingAt(start: Date): Clock {
  const offset = start.getTime() - Date.now();
  const nowMs = () => Date.now() + offset;
  return { now: () => new Date(nowMs()), nowMs };
}
