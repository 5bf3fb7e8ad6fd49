import { z } from 'zod';
import type { Config } from '../config.js';
import { CALLBACK_ON } from '../redis/names.js';

/** Longest callback URL accepted, in characters. */
const MAX_URL_LENGTH = 2_048;

/**
 * A batch's callback URL: http or https only (no `file:`, `gopher:` or other schemes a
 * receiver-side parser might follow), no credentials in it (they would sit in Redis and in
 * BullMQ's job data), at most {@link MAX_URL_LENGTH} characters.
 */
export const CallbackUrlSchema = z
  .string()
  .max(MAX_URL_LENGTH, { error: `must be at most ${MAX_URL_LENGTH} characters` })
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }))
  // Runs after a failed URL check too, so it must not assume a URL: `new URL` would throw.
  .refine((u) => {
    const url = URL.parse(u);
    return url === null || (url.username === '' && url.password === '');
  }, 'must not hold a user name or password (the POST is signed instead)');

/** When the callback is sent: `done` once, or `failed-and-done` also once per failed job. */
export const CallbackOnSchema = z.enum(CALLBACK_ON);
export type CallbackOn = z.infer<typeof CallbackOnSchema>;

/**
 * Whether `hostname` matches the allow-list: an entry is a host name or address matched
 * exactly, or `*.example.com` for any subdomain of example.com. An empty list allows every host.
 */
export function hostAllowed(hostname: string, allowedHosts: readonly string[]): boolean {
  if (allowedHosts.length === 0) return true;
  const host = hostname.toLowerCase();
  return allowedHosts.some((entry) => {
    const pattern = entry.toLowerCase();
    return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern;
  });
}

/**
 * Why a (well-formed) callback URL cannot be used with these settings, or undefined when it
 * can: no secret to sign with, or a host the allow-list leaves out. Checked at enqueue and
 * again before each POST, since the settings may change in between.
 */
export function callbackRefusal(url: string, callbacks: Config['callbacks']): string | undefined {
  if (callbacks.secret === undefined) {
    return 'needs a signing secret: set CALLBACK_SECRET (or callbacks.secret in the config) for the producer and the workers';
  }
  const { hostname } = new URL(url);
  if (!hostAllowed(hostname, callbacks.allowedHosts)) {
    return `host "${hostname}" is not in callbacks.allowedHosts`;
  }
  return undefined;
}
