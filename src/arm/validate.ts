/**
 * Parsing request bodies at the edge: every provider checks shapes with these, so malformed input is
 * refused with one consistent ARM error (worded like ARM's Json.NET deserializer) and nothing else.
 */
import type { ArmBody } from '../store/index.js';
import { ArmError, errors } from './errors.js';

export function isPlainObject(value: unknown): value is ArmBody {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as an object, or InvalidRequestContent. */
export function objectBody(body: unknown, required = 'properties'): ArmBody {
  if (body === undefined || body === null) {
    throw errors.invalidRequestContent(
      `Required property '${required}' not found in JSON. Path '', line 1, position 0.`,
    );
  }
  if (!isPlainObject(body)) {
    throw errors.invalidRequestContent(
      `Cannot deserialize the current JSON ${Array.isArray(body) ? 'array' : 'value'} into an object because the type requires a JSON object. Path ''.`,
    );
  }
  return body;
}

/** A nested object member: absent or null reads as empty; anything but an object is refused. */
export function optionalObject(value: unknown, path: string, typeName: string): ArmBody {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) {
    throw errors.invalidRequestContent(
      `Error converting value ${JSON.stringify(value)} to type '${typeName}'. Path '${path}'`,
    );
  }
  return value;
}

/** Refuses members the schema does not have: unknown input fails loudly rather than being dropped. */
export function rejectUnknown(value: ArmBody, allowed: readonly string[], typeName: string, path = ''): void {
  const known = new Set(allowed.map((name) => name.toLowerCase()));
  for (const name of Object.keys(value)) {
    if (!known.has(name.toLowerCase())) {
      const at = path ? `${path}.${name}` : name;
      throw errors.invalidRequestContent(
        `Could not find member '${name}' on object of type '${typeName}'. Path '${at}'`,
      );
    }
  }
}

export function expectString(
  value: unknown,
  path: string,
  options: { optional?: boolean } = {},
): string | undefined {
  if (value === undefined && options.optional) return undefined;
  if (typeof value !== 'string') {
    throw errors.invalidRequestContent(
      `Error converting value ${JSON.stringify(value) ?? 'undefined'} to type 'System.String'. Path '${path}'`,
    );
  }
  return value;
}

export function expectBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    throw errors.invalidRequestContent(
      `Error converting value ${JSON.stringify(value)} to type 'System.Boolean'. Path '${path}'`,
    );
  }
  return value;
}

export function expectEnum<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  const text = expectString(value, path)!;
  const match = allowed.find((candidate) => candidate.toLowerCase() === text.toLowerCase());
  if (!match) {
    throw new ArmError({
      status: 400,
      code: 'InvalidRequestContent',
      message: `The value '${text}' is not valid for '${path}'. The allowed values are '${allowed.join(', ')}'.`,
      target: path,
    });
  }
  return match;
}

/** ARM tags: an object of at most 50 string values, names up to 512 and values up to 256 characters. */
export function parseTags(value: unknown, path = 'tags'): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    throw errors.invalidRequestContent(
      `Cannot deserialize the current JSON value into type 'Dictionary<string, string>'. Path '${path}'`,
    );
  }
  const entries = Object.entries(value);
  if (entries.length > 50) {
    throw new ArmError({
      status: 400,
      code: 'InvalidTag',
      message: 'The number of tags exceeds the limit of 50.',
      target: path,
    });
  }
  for (const [name, tag] of entries) {
    if (typeof tag !== 'string') {
      throw errors.invalidRequestContent(
        `Error converting value ${JSON.stringify(tag)} to type 'System.String'. Path '${path}.${name}'`,
      );
    }
    if (name.length > 512 || tag.length > 256 || /[<>%&\\?/]/.test(name)) {
      throw new ArmError({
        status: 400,
        code: 'InvalidTagNameCharacters',
        message: `The tag names '${name}' have reserved characters '<,>,%,&,\\,?,/' or control characters, or exceed the length limits.`,
        target: path,
      });
    }
  }
  return value as Record<string, string>;
}

/** How deep containers may nest in a request body: Json.NET's default `MaxDepth`, which ARM keeps. */
export const MAX_JSON_DEPTH = 64;

/**
 * A request body's JSON, or InvalidRequestContent worded as ARM's Json.NET reader words the fault.
 * A byte-order mark is skipped and a `null` document reads as no content, as Json.NET reads them.
 */
export function parseJsonBody(text: string): unknown {
  const json = text.replace(/^\uFEFF/, '');
  if (json.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw errors.invalidRequestContent(jsonSyntaxError(json));
  }
  if (nestingDepth(json) > MAX_JSON_DEPTH) throw errors.invalidRequestContent(jsonSyntaxError(json));
  return parsed === null ? undefined : parsed;
}

/** The deepest nesting of objects and arrays in well-formed JSON text, counted without recursion. */
function nestingDepth(json: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let k = 0; k < json.length; k++) {
    const ch = json[k];
    if (inString) {
      if (ch === '\\') k++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') deepest = Math.max(deepest, ++depth);
    else if (ch === '}' || ch === ']') depth--;
  }
  return deepest;
}

/**
 * Why `text` is not JSON, worded as ARM's Json.NET reader words it, with its path, line and position
 * (`Unexpected end when reading JSON. Path 'location', line 1, position 12.`). Positions count the
 * characters before the offending one on its line, as Json.NET does; the path names the property or
 * array element being read. Nesting past `MAX_JSON_DEPTH` is a fault too, so the scan never recurses
 * deeper than that.
 */
export function jsonSyntaxError(text: string): string {
  const scanner = new JsonScanner(text);
  try {
    scanner.document();
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error.message;
    throw error;
  }
  return scanner.fail('Unexpected character encountered while parsing value.', 0).message;
}

class JsonSyntaxError extends Error {}

type PathEntry = { kind: 'object'; name?: string } | { kind: 'array'; index: number };

const PATH_SPECIAL = /[.\s'/"[\]()\\\u0085\u2028\u2029]/;

class JsonScanner {
  private at = 0;
  private started = false;
  private readonly path: PathEntry[] = [];

  constructor(private readonly text: string) {}

  document(): void {
    this.skipSpace();
    this.value();
    this.skipSpace();
    if (this.at < this.text.length) {
      throw this.fail(`Additional text encountered after finished reading JSON content: ${this.peek()}.`);
    }
  }

  fail(message: string, at = this.at): JsonSyntaxError {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < at && k < this.text.length; k++) {
      if (this.text[k] === '\n') {
        line++;
        lineStart = k + 1;
      }
    }
    const position = at - lineStart;
    const shownLine = !this.started && at === 0 ? 0 : line;
    return new JsonSyntaxError(
      `${message} Path '${this.pathText()}', line ${shownLine}, position ${position}.`,
    );
  }

  private pathText(): string {
    let text = '';
    for (const entry of this.path) {
      if (entry.kind === 'array') {
        if (entry.index >= 0) text += `[${entry.index}]`;
      } else if (entry.name !== undefined) {
        if (PATH_SPECIAL.test(entry.name)) text += `['${entry.name.replace(/'/g, "\\'")}']`;
        else text += text === '' ? entry.name : `.${entry.name}`;
      }
    }
    return text;
  }

  private peek(): string {
    return this.text[this.at] ?? '';
  }

  private skipSpace(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at]!)) this.at++;
  }

  private endOfInput(): JsonSyntaxError {
    return this.fail('Unexpected end when reading JSON.', this.text.length);
  }

  /** A value token begins: an enclosing array counts it, as Json.NET's path does. */
  private token(): void {
    this.started = true;
    const top = this.path[this.path.length - 1];
    if (top?.kind === 'array') top.index++;
  }

  private value(): void {
    this.skipSpace();
    const ch = this.peek();
    if (ch === '') throw this.endOfInput();
    if (ch === '{') this.object();
    else if (ch === '[') this.array();
    else if (ch === '"') {
      this.string();
      this.token();
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      this.number();
      this.token();
    } else {
      this.literal(ch);
      this.token();
    }
  }

  private literal(ch: string): void {
    const literal = ['true', 'false', 'null'].find((candidate) => candidate[0] === ch);
    if (!literal) throw this.fail(`Unexpected character encountered while parsing value: ${ch}.`);
    if (this.text.startsWith(literal, this.at)) {
      this.at += literal.length;
      return;
    }
    if (this.text.length - this.at < literal.length && literal.startsWith(this.text.slice(this.at))) {
      throw this.endOfInput();
    }
    throw this.fail(`Error parsing ${literal === 'null' ? 'null' : 'boolean'} value.`);
  }

  /** Json.NET refuses the container that would open one level past its MaxDepth. */
  private open(): void {
    if (this.path.length >= MAX_JSON_DEPTH) {
      throw this.fail(`The reader's MaxDepth of ${MAX_JSON_DEPTH} has been exceeded.`);
    }
    this.token();
    this.at++;
  }

  private object(): void {
    this.open();
    const entry: PathEntry = { kind: 'object' };
    this.path.push(entry);
    this.skipSpace();
    if (this.peek() === '}') {
      this.at++;
      this.path.pop();
      return;
    }
    for (;;) {
      this.skipSpace();
      const ch = this.peek();
      if (ch === '') throw this.endOfInput();
      if (ch !== '"') throw this.fail(`Invalid property identifier character: ${ch}.`);
      entry.name = this.string();
      this.skipSpace();
      const colon = this.peek();
      if (colon === '') throw this.endOfInput();
      if (colon !== ':') {
        throw this.fail(`Invalid character after parsing property name. Expected ':' but got: ${colon}.`);
      }
      this.at++;
      this.value();
      if (this.afterValue('}')) break;
    }
    this.path.pop();
  }

  private array(): void {
    this.open();
    this.path.push({ kind: 'array', index: -1 });
    this.skipSpace();
    if (this.peek() === ']') {
      this.at++;
      this.path.pop();
      return;
    }
    for (;;) {
      this.value();
      if (this.afterValue(']')) break;
    }
    this.path.pop();
  }

  /** After a member or element: true at the closing bracket, false after a comma. */
  private afterValue(close: '}' | ']'): boolean {
    this.skipSpace();
    const ch = this.peek();
    if (ch === '') throw this.endOfInput();
    this.at++;
    if (ch === close) return true;
    if (ch === ',') return false;
    throw this.fail(`After parsing a value an unexpected character was encountered: ${ch}.`, this.at - 1);
  }

  private string(): string {
    this.at++;
    let value = '';
    for (;;) {
      if (this.at >= this.text.length)
        throw this.fail('Unterminated string. Expected delimiter: ".', this.text.length);
      const ch = this.text[this.at]!;
      if (ch === '"') {
        this.at++;
        return value;
      }
      if (ch === '\\') {
        const escaped = this.text[this.at + 1];
        if (escaped === undefined) throw this.endOfInput();
        if (escaped === 'u') {
          const hex = this.text.slice(this.at + 2, this.at + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.fail(`Invalid Unicode escape sequence: \\u${hex}.`);
          value += String.fromCharCode(Number.parseInt(hex, 16));
          this.at += 6;
          continue;
        }
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        };
        if (simple[escaped] === undefined)
          throw this.fail(`Bad JSON escape sequence: \\${escaped}.`, this.at + 1);
        value += simple[escaped];
        this.at += 2;
        continue;
      }
      if (ch < ' ') {
        throw this.fail(
          `Invalid character U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} in a string literal.`,
        );
      }
      value += ch;
      this.at++;
    }
  }

  private number(): void {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.at));
    const raw = /^[-+\w.]*/.exec(this.text.slice(this.at))![0];
    if (!match || match[0].length !== raw.length)
      throw this.fail(`Input string '${raw}' is not a valid number.`);
    this.at += raw.length;
  }
}
