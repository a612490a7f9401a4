/**
 * Date formatting for `utcNow(format)` and `addDays()`: the .NET format strings ARM accepts, in UTC.
 * Standard one-letter formats `o`, `s`, `u`, `d`, `t`, `T`, `D`-less subset and the custom specifiers
 * `yyyy yy MM M dd d HH H hh h mm m ss s f… tt` with quoted literals; other characters are literal.
 */
import { ExpressionError } from './errors.js';

/** `yyyy-MM-ddTHH:mm:ss.fffffffZ`: what `utcNow()` returns in a policy rule. */
export const POLICY_DATE_FORMAT = 'yyyy-MM-ddTHH:mm:ss.fffffffZ';
/** `yyyyMMddTHHmmssZ`: what `utcNow()` returns in a template. */
export const TEMPLATE_DATE_FORMAT = 'yyyyMMddTHHmmssZ';

const STANDARD_FORMATS: Record<string, string> = {
  o: POLICY_DATE_FORMAT,
  O: POLICY_DATE_FORMAT,
  s: 'yyyy-MM-ddTHH:mm:ss',
  u: 'yyyy-MM-dd HH:mm:ssZ',
  d: 'M/d/yyyy',
  t: 'h:mm tt',
  T: 'h:mm:ss tt',
};

const pad = (value: number, width: number) => String(value).padStart(width, '0');

export function formatDate(date: Date, format: string): string {
  const pattern = format.length === 1 ? STANDARD_FORMATS[format] : format;
  if (pattern === undefined) {
    throw new ExpressionError(`The date format '${format}' is not a supported .NET date format string.`);
  }
  const ticks = date.getUTCMilliseconds() * 10_000;
  let output = '';
  let index = 0;
  while (index < pattern.length) {
    const char = pattern[index]!;
    if (char === "'" || char === '"') {
      const close = pattern.indexOf(char, index + 1);
      if (close < 0)
        throw new ExpressionError(`The date format '${format}' has an unterminated quoted literal.`);
      output += pattern.slice(index + 1, close);
      index = close + 1;
      continue;
    }
    if (char === '\\') {
      output += pattern[index + 1] ?? '';
      index += 2;
      continue;
    }
    let run = 1;
    while (pattern[index + run] === char) run++;
    switch (char) {
      case 'y':
        output += run <= 2 ? pad(date.getUTCFullYear() % 100, run) : pad(date.getUTCFullYear(), run);
        break;
      case 'M':
        output += pad(date.getUTCMonth() + 1, Math.min(run, 2));
        break;
      case 'd':
        output += pad(date.getUTCDate(), Math.min(run, 2));
        break;
      case 'H':
        output += pad(date.getUTCHours(), Math.min(run, 2));
        break;
      case 'h':
        output += pad(date.getUTCHours() % 12 || 12, Math.min(run, 2));
        break;
      case 'm':
        output += pad(date.getUTCMinutes(), Math.min(run, 2));
        break;
      case 's':
        output += pad(date.getUTCSeconds(), Math.min(run, 2));
        break;
      case 'f':
        output += pad(ticks, 7).slice(0, Math.min(run, 7));
        break;
      case 't':
        output += (date.getUTCHours() < 12 ? 'AM' : 'PM').slice(0, run === 1 ? 1 : 2);
        break;
      default:
        output += char.repeat(run);
    }
    index += run;
  }
  return output;
}

/** Parses the ISO 8601 date-times Azure Policy compares and `addDays` accepts. */
export function parseIsoDate(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(text))
    return undefined;
  // JavaScript keeps milliseconds only; the extra digits of .NET's 7-digit fractions are dropped.
  const normalised = text.replace(/(\.\d{3})\d+/, '$1');
  const withZone =
    /T/.test(normalised) && !/(Z|[+-]\d{2}:\d{2})$/.test(normalised) ? `${normalised}Z` : normalised;
  const date = new Date(withZone);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
