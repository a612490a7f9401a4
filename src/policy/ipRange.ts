/**
 * `ipRangeContains(range, targetRange)`: whether one IP range holds another. Each side is a single
 * address (`10.0.0.1`, `2001:db8::3:fffe`), a CIDR block (`10.0.0.0/24`) or a start-end pair
 * (`192.168.0.1-192.168.0.9`). Empty ranges and mixed families are errors, as Azure documents.
 */
import { ExpressionError } from './errors.js';

interface IpRange {
  family: 4 | 6;
  start: bigint;
  end: bigint;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  let body = text;
  const lastColon = body.lastIndexOf(':');
  // An embedded IPv4 tail (`::ffff:10.0.0.1`) becomes its two 16-bit groups.
  if (body.slice(lastColon + 1).includes('.')) {
    const ipv4 = parseIpv4(body.slice(lastColon + 1));
    if (ipv4 === undefined) return undefined;
    body = `${body.slice(0, lastColon + 1)}${(ipv4 >> 16n).toString(16)}:${(ipv4 & 0xffffn).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): bigint[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    if (groups.some((group) => !/^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
    return groups.map((group) => BigInt(`0x${group}`));
  };
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const explicit = head.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  const groups = [...head, ...new Array<bigint>(8 - explicit).fill(0n), ...tail];
  return groups.reduce((value, group) => (value << 16n) | group, 0n);
}

function parseAddress(text: string): { family: 4 | 6; value: bigint } | undefined {
  const trimmed = text.trim();
  const ipv4 = parseIpv4(trimmed);
  if (ipv4 !== undefined) return { family: 4, value: ipv4 };
  if (trimmed.includes(':')) {
    const ipv6 = parseIpv6(trimmed);
    if (ipv6 !== undefined) return { family: 6, value: ipv6 };
  }
  return undefined;
}

export function parseIpRange(text: string): IpRange {
  const invalid = () =>
    new ExpressionError(
      `The template language function 'ipRangeContains' cannot parse '${text}' as an IP address, CIDR range or start-end range.`,
    );
  if (text.trim() === '') throw invalid();
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const address = parseAddress(text.slice(0, slash));
    const prefixText = text.slice(slash + 1).trim();
    if (!address || !/^\d{1,3}$/.test(prefixText)) throw invalid();
    const bits = address.family === 4 ? 32n : 128n;
    const prefix = BigInt(prefixText);
    if (prefix > bits) throw invalid();
    const hostBits = bits - prefix;
    const start = (address.value >> hostBits) << hostBits;
    return { family: address.family, start, end: start + (1n << hostBits) - 1n };
  }
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const first = parseAddress(text.slice(0, dash));
    const last = parseAddress(text.slice(dash + 1));
    if (!first || !last || first.family !== last.family || first.value > last.value) throw invalid();
    return { family: first.family, start: first.value, end: last.value };
  }
  const address = parseAddress(text);
  if (!address) throw invalid();
  return { family: address.family, start: address.value, end: address.value };
}

export function ipRangeContains(range: string, target: string): boolean {
  const outer = parseIpRange(range);
  const inner = parseIpRange(target);
  if (outer.family !== inner.family) {
    throw new ExpressionError(
      `The template language function 'ipRangeContains' cannot compare IPv${outer.family} range '${range}' with IPv${inner.family} range '${target}'.`,
    );
  }
  return inner.start >= outer.start && inner.end <= outer.end;
}
