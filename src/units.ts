/** Milliseconds in a second: durations in the config and in code are milliseconds. */
export const SECOND = 1000;
/** Milliseconds in a minute. */
export const MINUTE = 60 * SECOND;
/** Milliseconds in an hour. */
export const HOUR = 60 * MINUTE;
/** Milliseconds in a day. */
export const DAY = 24 * HOUR;
/** Bytes in a mebibyte. */
export const MIB = 1024 * 1024;
