import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { Config } from '../config.js';

/** Whether the peer `address`, `hop` steps from this server, is a proxy whose forwarded headers count. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/**
 * The trust of `api.trustProxy`: `true` believes whoever connects, a list believes peers in
 * those addresses and CIDRs; `false` (undefined here) believes no `X-Forwarded-*` header.
 * The one function is given to Fastify and used by {@link clientAddress}, so both agree.
 */
export function proxyTrust(setting: Config['api']['trustProxy']): ProxyTrust | undefined {
  if (setting === false) return undefined;
  if (setting === true) return () => true;
  return proxyAddr.compile(setting.split(',').map((a) => a.trim()));
}

/**
 * The client's address as Fastify's `request.ip` gives it, for a request Fastify refused
 * before building its full request (a path the router could not read), whose `ip` ignores
 * the proxy settings.
 */
export function clientAddress(raw: IncomingMessage, trust: ProxyTrust | undefined): string {
  if (trust) return proxyAddr(raw, trust);
  return raw.socket.remoteAddress ?? '';
}
