/**
 * The ARM template-expression language as Azure Policy uses it: a string `"[…]"` holds one expression
 * (`concat(parameters('a'), '/x')`, `resourceGroup().tags['env']`), `"[[…"` is a literal that starts
 * with `[`, and any other string is itself. A tokenizer and a recursive-descent parser turn the text into
 * a small tree once; `evaluateExpression` walks it against an `ExpressionHost` that supplies what the
 * functions read (parameters, fields, the clock …). The function library is in `functions.ts`.
 *
 * Like ARM, the language has string literals (`'it''s'`), integer literals and function calls; `true`,
 * `false` and `null` are the functions `true()`, `false()`, `null()`. Function names and property names
 * are case-insensitive.
 */
import { ExpressionError } from './errors.js';
import { FUNCTIONS, type FunctionAvailability } from './functions.js';
import { propertyOf, typeName } from './json.js';
import type { JsonObject, JsonValue } from './types.js';

// ─── Syntax tree ─────────────────────────────────────────────────────────────────────────────────

export type ExpressionNode =
  | { kind: 'string'; value: string }
  | { kind: 'integer'; value: number }
  | { kind: 'call'; name: string; args: ExpressionNode[]; position: number }
  | { kind: 'property'; target: ExpressionNode; name: string }
  | { kind: 'index'; target: ExpressionNode; index: ExpressionNode };

/** A parsed `"[…]"` string: its source text (for messages and explanations) and its tree. */
export interface Expression {
  source: string;
  root: ExpressionNode;
}

// ─── Strings that are expressions ────────────────────────────────────────────────────────────────

export function isExpressionString(text: string): boolean {
  return text.length >= 2 && text.startsWith('[') && !text.startsWith('[[') && text.endsWith(']');
}

/** A string that is not an expression, with the `[[` escape removed. */
export function literalString(text: string): string {
  return text.startsWith('[[') ? text.slice(1) : text;
}

// ─── Tokenizer ───────────────────────────────────────────────────────────────────────────────────

type TokenKind =
  | 'Identifier'
  | 'Integer'
  | 'String'
  | 'LeftParenthesis'
  | 'RightParenthesis'
  | 'LeftSquareBracket'
  | 'RightSquareBracket'
  | 'Comma'
  | 'Dot'
  | 'EndOfData';

interface Token {
  kind: TokenKind;
  text: string;
  /** 0-based offset in the expression text (inside the outer brackets). */
  position: number;
}

const PUNCTUATION: Record<string, TokenKind> = {
  '(': 'LeftParenthesis',
  ')': 'RightParenthesis',
  '[': 'LeftSquareBracket',
  ']': 'RightSquareBracket',
  ',': 'Comma',
  '.': 'Dot',
};

function tokenize(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char === ' ' || char === '\t' || char === '\r' || char === '\n') {
      index++;
      continue;
    }
    const punctuation = PUNCTUATION[char];
    if (punctuation) {
      tokens.push({ kind: punctuation, text: char, position: index });
      index++;
      continue;
    }
    if (char === "'") {
      const start = index;
      let value = '';
      index++;
      for (;;) {
        if (index >= text.length) {
          throw new ExpressionError(
            `Unable to parse language expression '${source}': the string literal starting near position '${start + 1}' is not terminated.`,
          );
        }
        const next = text[index]!;
        if (next === "'") {
          if (text[index + 1] === "'") {
            value += "'";
            index += 2;
            continue;
          }
          index++;
          break;
        }
        value += next;
        index++;
      }
      tokens.push({ kind: 'String', text: value, position: start });
      continue;
    }
    if (/[0-9]/.test(char) || (char === '-' && /[0-9]/.test(text[index + 1] ?? ''))) {
      const start = index;
      index++;
      while (index < text.length && /[0-9]/.test(text[index]!)) index++;
      if (text[index] === '.' && /[0-9]/.test(text[index + 1] ?? '')) {
        throw new ExpressionError(
          `Unable to parse language expression '${source}': the number near position '${start + 1}' is not an integer; ARM expressions have integer literals only (use json('${text.slice(start, index)}…') for a float).`,
        );
      }
      tokens.push({ kind: 'Integer', text: text.slice(start, index), position: start });
      continue;
    }
    if (/[A-Za-z_$]/.test(char)) {
      const start = index;
      index++;
      while (index < text.length && /[A-Za-z0-9_$]/.test(text[index]!)) index++;
      tokens.push({ kind: 'Identifier', text: text.slice(start, index), position: start });
      continue;
    }
    throw new ExpressionError(
      `Unable to parse language expression '${source}': the character '${char}' near position '${index + 1}' is not expected.`,
    );
  }
  tokens.push({ kind: 'EndOfData', text: '', position: text.length });
  return tokens;
}

// ─── Parser ──────────────────────────────────────────────────────────────────────────────────────

/** Parses the text between the outer `[` and `]` of an expression string. */
export function parseExpressionText(text: string): ExpressionNode {
  const tokens = tokenize(text, text);
  let cursor = 0;
  const peek = (): Token => tokens[cursor]!;
  const expect = (kind: TokenKind): Token => {
    const token = peek();
    if (token.kind !== kind) {
      // Azure's wording (Azure/azure-monitor-baseline-alerts#616): "Unable to parse language expression
      // 'field('id')]': expected token 'EndOfData' and actual 'RightSquareBracket' near position '12'."
      throw new ExpressionError(
        `Unable to parse language expression '${text}': expected token '${kind}' and actual '${token.kind}' near position '${token.position + 1}'.`,
      );
    }
    cursor++;
    return token;
  };

  const parsePrimary = (): ExpressionNode => {
    const token = peek();
    if (token.kind === 'String') {
      cursor++;
      return { kind: 'string', value: token.text };
    }
    if (token.kind === 'Integer') {
      cursor++;
      return { kind: 'integer', value: Number.parseInt(token.text, 10) };
    }
    if (token.kind === 'Identifier') {
      cursor++;
      if (peek().kind !== 'LeftParenthesis') {
        const hint = ['true', 'false', 'null'].includes(token.text.toLowerCase())
          ? ` ARM expressions have no '${token.text}' literal: call ${token.text}().`
          : '';
        throw new ExpressionError(
          `Unable to parse language expression '${text}': expected token 'LeftParenthesis' and actual '${peek().kind}' near position '${peek().position + 1}'.${hint}`,
        );
      }
      cursor++;
      const args: ExpressionNode[] = [];
      if (peek().kind !== 'RightParenthesis') {
        args.push(parseAccessors(parsePrimary()));
        while (peek().kind === 'Comma') {
          cursor++;
          args.push(parseAccessors(parsePrimary()));
        }
      }
      expect('RightParenthesis');
      return { kind: 'call', name: token.text, args, position: token.position };
    }
    throw new ExpressionError(
      `Unable to parse language expression '${text}': expected token 'Identifier' and actual '${token.kind}' near position '${token.position + 1}'.`,
    );
  };

  const parseAccessors = (target: ExpressionNode): ExpressionNode => {
    let node = target;
    for (;;) {
      const token = peek();
      if (token.kind === 'Dot') {
        cursor++;
        node = { kind: 'property', target: node, name: expect('Identifier').text };
      } else if (token.kind === 'LeftSquareBracket') {
        cursor++;
        const index = parseAccessors(parsePrimary());
        expect('RightSquareBracket');
        node = { kind: 'index', target: node, index };
      } else {
        return node;
      }
    }
  };

  const root = parseAccessors(parsePrimary());
  expect('EndOfData');
  return root;
}

/** Parses an expression string `"[…]"`. */
export function parseExpression(source: string): Expression {
  if (!isExpressionString(source)) {
    throw new ExpressionError(`'${source}' is not a template language expression.`);
  }
  return { source, root: parseExpressionText(source.slice(1, -1)) };
}

// ─── Static checks ───────────────────────────────────────────────────────────────────────────────

export interface ExpressionRules {
  /** Where the expression sits: a policy rule, or a deployment template (`variables`, `resourceId` …). */
  context: FunctionAvailability;
  /** Functions refused here although known (Modify conditions refuse `field`, `subscription` …). */
  refuse?: readonly string[];
  /** Called for every `parameters('literal')`, to check that the parameter is declared. */
  onParameter?: (name: string) => void;
  /** Called for every `field('literal')`, to check that the field is known. */
  onField?: (name: string) => void;
  /** Called for every `variables('literal')`, to check that the template declares it. */
  onVariable?: (name: string) => void;
}

/**
 * Checks an expression without evaluating it: every function exists, is available here and has an
 * accepted number of arguments. Unknown functions are an error that names the function.
 */
export function checkExpression(expression: Expression, rules: ExpressionRules): void {
  const visit = (node: ExpressionNode): void => {
    if (node.kind === 'property') {
      visit(node.target);
      return;
    }
    if (node.kind === 'index') {
      visit(node.target);
      visit(node.index);
      return;
    }
    if (node.kind !== 'call') return;
    const lower = node.name.toLowerCase();
    const definition = FUNCTIONS.get(lower);
    if (!definition) {
      throw new ExpressionError(
        `The template function '${node.name}' is not valid. Please see https://aka.ms/arm-template-expressions for usage details.`,
      );
    }
    if (
      (definition.availability !== 'both' && definition.availability !== rules.context) ||
      rules.refuse?.some((name) => name.toLowerCase() === lower)
    ) {
      const where = rules.context === 'policyRule' ? 'in a policy rule' : 'in a deployment template';
      throw new ExpressionError(`The template function '${node.name}' is not available ${where}.`);
    }
    const [min, max] = definition.arity;
    if (node.args.length < min || node.args.length > max) {
      const expected =
        min === max ? `${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} to ${max}`;
      throw new ExpressionError(
        `The template language function '${node.name}' must have ${expected} parameter(s); ${node.args.length} given.`,
      );
    }
    const first = node.args[0];
    if (first?.kind === 'string') {
      if (lower === 'parameters') rules.onParameter?.(first.value);
      if (lower === 'field') rules.onField?.(first.value);
      if (lower === 'variables') rules.onVariable?.(first.value);
    }
    for (const arg of node.args) visit(arg);
  };
  visit(expression.root);
}

// ─── Evaluation ──────────────────────────────────────────────────────────────────────────────────

/** A scope bound by an enclosing `count`: the member being enumerated. */
export type CountScope =
  | { kind: 'field'; key: string; element: JsonValue | undefined }
  | { kind: 'value'; name: string; element: JsonValue | undefined };

/**
 * What functions read. Each member is optional: a function whose input is absent fails with a message
 * that says so (e.g. `resourceGroup()` for a subscription).
 */
export interface ExpressionHost {
  context: FunctionAvailability;
  now: Date;
  parameter(name: string): JsonValue;
  variable?(name: string): JsonValue;
  field?(name: string): JsonValue;
  current?(name: string | undefined): JsonValue;
  subscription?(): JsonObject;
  resourceGroup?(): JsonObject;
  requestContext?(): JsonObject;
  policy?(): JsonObject;
  /** Where `resourceId()` without scope arguments points (the deployment's scope). */
  deploymentScope?: { subscriptionId: string; resourceGroupName?: string };
  reference?(resourceId: string, apiVersion: string | undefined, full: boolean): JsonValue;
}

/** A lazily evaluated argument: `if()` evaluates only the branch it takes. */
export type Argument = () => JsonValue;

export function evaluateExpression(expression: Expression, host: ExpressionHost): JsonValue {
  return evaluateNode(expression.root, host);
}

function evaluateNode(node: ExpressionNode, host: ExpressionHost): JsonValue {
  switch (node.kind) {
    case 'string':
      return node.value;
    case 'integer':
      return node.value;
    case 'call': {
      const definition = FUNCTIONS.get(node.name.toLowerCase());
      if (!definition) {
        throw new ExpressionError(
          `The template function '${node.name}' is not valid. Please see https://aka.ms/arm-template-expressions for usage details.`,
        );
      }
      const args: Argument[] = node.args.map((arg) => () => evaluateNode(arg, host));
      return definition.evaluate(args, host, node.name);
    }
    case 'property':
      return readProperty(evaluateNode(node.target, host), node.name);
    case 'index': {
      const target = evaluateNode(node.target, host);
      const index = evaluateNode(node.index, host);
      if (Array.isArray(target)) {
        if (typeof index !== 'number' || !Number.isInteger(index)) {
          throw new ExpressionError(
            `The language expression array index must be an integer; '${typeName(index)}' given.`,
          );
        }
        if (index < 0 || index >= target.length) {
          throw new ExpressionError(
            `The language expression property array index '${index}' is out of bounds.`,
          );
        }
        return target[index]!;
      }
      if (typeof index !== 'string') {
        throw new ExpressionError(
          `The language expression property '${JSON.stringify(index)}' can't be evaluated on a value of type '${typeName(target)}'.`,
        );
      }
      return readProperty(target, index);
    }
  }
}

/** ARM property access: case-insensitive, and an error (not null) when the property is missing. */
function readProperty(target: JsonValue, name: string): JsonValue {
  if (target === null || typeof target !== 'object' || Array.isArray(target)) {
    throw new ExpressionError(
      `The language expression property '${name}' can't be evaluated, the property is read from a value of type '${typeName(target)}'.`,
    );
  }
  const found = propertyOf(target, name);
  if (found === undefined) {
    throw new ExpressionError(
      `The language expression property '${name}' doesn't exist, available properties are '${Object.keys(target).join(', ')}'.`,
    );
  }
  return found;
}

// ─── Compiled JSON values ────────────────────────────────────────────────────────────────────────

/**
 * A JSON value from a definition with its expression strings parsed once: a literal, an expression, or
 * an array/object whose members may hold expressions.
 */
export type CompiledValue =
  | { kind: 'literal'; value: JsonValue }
  | { kind: 'expression'; expression: Expression }
  | { kind: 'array'; items: CompiledValue[] }
  | { kind: 'object'; entries: [string, CompiledValue][] };

export function compileValue(value: JsonValue, rules: ExpressionRules): CompiledValue {
  if (typeof value === 'string') {
    if (!isExpressionString(value)) return { kind: 'literal', value: literalString(value) };
    const expression = parseExpression(value);
    checkExpression(expression, rules);
    return { kind: 'expression', expression };
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => compileValue(item, rules));
    return items.every((item) => item.kind === 'literal')
      ? { kind: 'literal', value: items.map((item) => (item as { value: JsonValue }).value) }
      : { kind: 'array', items };
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([key, member]): [string, CompiledValue] => [
      key,
      compileValue(member, rules),
    ]);
    if (entries.every(([, member]) => member.kind === 'literal')) {
      return {
        kind: 'literal',
        value: Object.fromEntries(
          entries.map(([key, member]) => [key, (member as { value: JsonValue }).value]),
        ),
      };
    }
    return { kind: 'object', entries };
  }
  return { kind: 'literal', value };
}

export function evaluateValue(value: CompiledValue, host: ExpressionHost): JsonValue {
  switch (value.kind) {
    case 'literal':
      return value.value;
    case 'expression':
      return evaluateExpression(value.expression, host);
    case 'array':
      return value.items.map((item) => evaluateValue(item, host));
    case 'object':
      return Object.fromEntries(value.entries.map(([key, member]) => [key, evaluateValue(member, host)]));
  }
}

/** The source text of a compiled value, for explanations: the expression as written, or the literal. */
export function sourceOf(value: CompiledValue): JsonValue {
  switch (value.kind) {
    case 'literal':
      return value.value;
    case 'expression':
      return value.expression.source;
    case 'array':
      return value.items.map(sourceOf);
    case 'object':
      return Object.fromEntries(value.entries.map(([key, member]) => [key, sourceOf(member)]));
  }
}

/** Parses, checks and evaluates a JSON value in one go (tests, one-off template rendering). */
export function resolveValue(
  value: JsonValue,
  host: ExpressionHost,
  rules?: Omit<ExpressionRules, 'context'>,
): JsonValue {
  return evaluateValue(compileValue(value, { ...rules, context: host.context }), host);
}
