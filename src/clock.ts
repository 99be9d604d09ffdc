// The monotonic clock the long runs default to when no clock is passed in (tests pass their own).

/** Monotonic milliseconds, from process.hrtime (perf_hooks would cost every start-up its loading). */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
