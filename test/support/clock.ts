// A clock a test moves by hand: key expiry and lastUsedAt throttling without waiting.
import type { Clock } from '../../src/clock';

export class ManualClock implements Clock {
  private at: number;

  constructor(start: Date = new Date()) {
    this.at = start.getTime();
  }

  now(): Date {
    return new Date(this.at);
  }

  /** The time `ms` from now, without moving the clock. */
  in(ms: number): Date {
    return new Date(this.at + ms);
  }

  advance(ms: number): void {
    this.at += ms;
  }
}
