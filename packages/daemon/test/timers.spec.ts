/**
 * The node process's timers port (src/timers.ts) under vitest's fake timers, which keep Node's
 * rule that a delay above 2^31 − 1 ms fires after 1 ms: the first test shows the fake host does
 * overflow, so the others prove the bounded re-arming, not a forgiving fake.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SystemTimers, TIMER_STEP_MS_MAX, afterMs } from '../src/timers.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const SET_TIMEOUT_MS_MAX = 2 ** 31 - 1;

describe('timers re-armed in bounded steps', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the host overflows: a raw setTimeout 30 days out fires after 1 ms', () => {
    const fired = vi.fn();
    setTimeout(fired, 30 * DAY_MS);
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    expect(TIMER_STEP_MS_MAX).toBeLessThan(SET_TIMEOUT_MS_MAX);
  });

  it('fires a 30-day timer at 30 days, not a millisecond before', () => {
    const fired = vi.fn();
    afterMs(30 * DAY_MS, fired);
    vi.advanceTimersByTime(30 * DAY_MS - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60 * DAY_MS);
    expect(fired).toHaveBeenCalledTimes(1); // once
  });

  it('fires a ten-year timer on time, and short and negative delays as setTimeout would', () => {
    const tenYearsMs = (10 * 365 + 3) * DAY_MS;
    const long = vi.fn();
    const short = vi.fn();
    const past = vi.fn();
    afterMs(tenYearsMs, long);
    afterMs(250, short);
    afterMs(-5, past);
    vi.advanceTimersByTime(0);
    expect(past).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(250);
    expect(short).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(tenYearsMs - 251);
    expect(long).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(long).toHaveBeenCalledTimes(1);
  });

  it('a cancel between steps stops it for good, and only one host timer is ever armed per timer', () => {
    const fired = vi.fn();
    const cancel = afterMs(40 * DAY_MS, fired);
    vi.advanceTimersByTime(3 * DAY_MS + 5);
    expect(vi.getTimerCount()).toBe(1);
    cancel();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60 * DAY_MS);
    expect(fired).not.toHaveBeenCalled();
  });

  it('SystemTimers forgets fired and cancelled timers, and cancelAll stops the rest', () => {
    const timers = new SystemTimers();
    const fired = vi.fn();
    timers.after(10, fired);
    const cancelLater = timers.after(50 * DAY_MS, fired);
    timers.after(400 * DAY_MS, fired);
    expect(timers.size).toBe(3);
    vi.advanceTimersByTime(10);
    expect(fired).toHaveBeenCalledTimes(1);
    expect(timers.size).toBe(2);
    cancelLater();
    expect(timers.size).toBe(1);
    timers.cancelAll();
    expect(timers.size).toBe(0);
    vi.advanceTimersByTime(500 * DAY_MS);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it("re-arms against the node's clock: a clock stepped forward is caught up with at the next step", () => {
    const fired = vi.fn();
    afterMs(30 * DAY_MS, fired);
    vi.setSystemTime(Date.now() + 20 * DAY_MS); // the clock jumps; no timer fires for it
    vi.advanceTimersByTime(TIMER_STEP_MS_MAX); // the next step sees 9 days left, not 29
    vi.advanceTimersByTime(9 * DAY_MS - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('refuses a delay that is not a finite number of ms', () => {
    expect(() => afterMs(Number.NaN, () => {})).toThrow(/finite/);
    expect(() => afterMs(Number.POSITIVE_INFINITY, () => {})).toThrow(/finite/);
  });
});
