// The time, as the service reads it where it matters to a test: key expiry and lastUsedAt.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
