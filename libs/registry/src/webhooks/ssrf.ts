import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * The SSRF guard for webhook targets: only http(s), no credentials in the URL, and the host must resolve to public
 * addresses only. The check runs at every send and returns the address to connect to, so the connection is pinned
 * to what was checked (a DNS answer that changes between check and connect — rebinding — cannot redirect it).
 */

const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['2001:db8::', 32], // documentation
  ['100::', 64], // discard
  ['fd00:ec2::', 32], // AWS metadata over IPv6
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}

/** why an address may not be reached, or null when it is public */
export function blockedReason(address: string): string | null {
  const v = isIP(address);
  if (v === 0) return 'not an IP address';
  if (v === 4)
    return BLOCKED.check(address, 'ipv4')
      ? `${address} is a private, loopback, link-local or reserved address`
      : null;
  const lower = address.toLowerCase();
  // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d)
  const embedded = /^(?:::ffff:(?:0:)?|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (embedded) {
    const inner = blockedReason(embedded[1]);
    return inner ? `${address} maps to ${embedded[1]}: ${inner}` : null;
  }
  const hex = /^(?:::ffff:(?:0:)?|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const n = (parseInt(hex[1], 16) << 16) | parseInt(hex[2], 16);
    const v4 = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    const inner = blockedReason(v4);
    return inner ? `${address} maps to ${v4}: ${inner}` : null;
  }
  return BLOCKED.check(address, 'ipv6')
    ? `${address} is a private, loopback, link-local or reserved address`
    : null;
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
