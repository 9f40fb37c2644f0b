import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The SSRF guard for webhook targets: only http(s), no credentials in the URL, and the host must resolve to public
 * addresses only — classified by ipaddr.js after normalising every IPv6 form that embeds an IPv4 address. The check runs at every send and returns the address to connect to, so the connection is pinned
 * to what was checked (a DNS answer that changes between check and connect — rebinding — cannot redirect it).
 */

/**
 * The IPv4 address an IPv6 address carries, for every form that embeds one: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d, deprecated but routed by some stacks), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
 */
function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4 | null {
  const p = ip.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  if (ip.isIPv4MappedAddress()) return ip.toIPv4Address();
  if (ip.range() === 'rfc6052') return v4(p[6], p[7]);
  if (ip.range() === '6to4') return v4(p[1], p[2]);
  // IPv4-compatible: 96 zero bits, then the address (:: and ::1 are themselves)
  if (p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7] > 1)) return v4(p[6], p[7]);
  return null;
}

/** why an address may not be reached, or null when it is a public unicast address */
export function blockedReason(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  const parsed = ipaddr.parse(address);
  let ip: ipaddr.IPv4 | ipaddr.IPv6 = parsed;
  if (parsed.kind() === 'ipv6') {
    const inner = embeddedIPv4(parsed as ipaddr.IPv6);
    if (inner) ip = inner;
  }
  const range = ip.range();
  // Teredo hides an IPv4 address (obfuscated); nothing legitimate sends webhooks to one
  if (range === 'unicast') return null;
  const shown = ip === parsed ? address : `${address} (that is ${ip.toString()})`;
  return `${shown} is a ${range} address, not a public one`;
}

export class TargetRefused extends Error {}

/** validates a webhook URL's form (at subscription time and before each send) */
export function checkWebhookUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new TargetRefused(`url must be an absolute http(s) URL, got ${JSON.stringify(raw.slice(0, 100))}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new TargetRefused(`url must use http or https, not ${u.protocol}`);
  if (u.username || u.password)
    throw new TargetRefused('url must not carry credentials; use the signing secret to authenticate');
  if (raw.length > 2048) throw new TargetRefused('url must be at most 2048 characters');
  return u;
}

export interface ResolvedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/**
 * Resolves the URL's host and checks every address it resolves to. Returns the first address, to which the
 * caller pins the connection. With allowPrivate (tests, local setups) private addresses are allowed.
 */
export async function resolveTarget(raw: string, allowPrivate: boolean): Promise<ResolvedTarget> {
  const url = checkWebhookUrl(raw);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const answers = isIP(host)
    ? [{ address: host, family: isIP(host) as 4 | 6 }]
    : await lookup(host, { all: true, verbatim: true });
  if (answers.length === 0) throw new TargetRefused(`${host} does not resolve`);
  if (!allowPrivate) {
    for (const a of answers) {
      const why = blockedReason(a.address);
      if (why)
        throw new TargetRefused(
          `refusing ${host}: ${why} (set BRINE_WEBHOOK_ALLOW_PRIVATE=true to allow private targets)`,
        );
    }
  }
  const first = answers[0];
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
