/**
 * Reading an explanation tree: which conditions decided the verdict, and a plain-text rendering that
 * the CLI, the portal and `policyStates` reasons can show.
 */
import type { Explanation } from './evaluate.js';
import type { JsonValue } from './types.js';

type Leaf = Extract<Explanation, { kind: 'field' | 'value' | 'count' }>;

/**
 * The leaves that decided the result: for an `allOf` that failed, its failing members (for one that
 * held, all of them); for an `anyOf` that held, its holding members (for one that failed, all of them).
 */
export function decisiveConditions(explanation: Explanation): Leaf[] {
  switch (explanation.kind) {
    case 'allOf':
    case 'anyOf': {
      const wanted = explanation.kind !== 'allOf';
      const deciding =
        explanation.result === !wanted
          ? explanation.children
          : explanation.children.filter((child) => child.result === wanted);
      return deciding.flatMap(decisiveConditions);
    }
    case 'not':
      return decisiveConditions(explanation.child);
    default:
      return [explanation];
  }
}

const show = (value: JsonValue | undefined): string =>
  value === undefined ? '(absent)' : JSON.stringify(value);

function expectedText(leaf: Leaf): string {
  const source = leaf.expectedSource;
  const isExpression =
    typeof source === 'string' && source.startsWith('[') && source !== JSON.stringify(leaf.expected);
  return isExpression && leaf.expected !== undefined
    ? `${show(source)} (= ${show(leaf.expected)})`
    : show(leaf.expected);
}

/** One line for a leaf: `if.allOf[0]: field 'type' is "…"; equals "…" → false`. */
export function describeLeaf(leaf: Leaf): string {
  const verdict = leaf.result ? 'true' : 'false';
  switch (leaf.kind) {
    case 'field': {
      const read = leaf.members
        ? `selects ${leaf.members.length} member(s) ${show(leaf.actual)}`
        : `is ${show(leaf.actual)}`;
      const failing = leaf.members?.filter((member) => !member.result) ?? [];
      const detail =
        failing.length > 0 ? ` (failing: ${failing.map((member) => show(member.value)).join(', ')})` : '';
      return `${leaf.path}: field '${leaf.field}' ${read}; ${leaf.operator} ${expectedText(leaf)} → ${verdict}${detail}`;
    }
    case 'value':
      return `${leaf.path}: value ${show(leaf.valueSource)} is ${show(leaf.actual)}; ${leaf.operator} ${expectedText(leaf)} → ${verdict}`;
    case 'count':
      return `${leaf.path}: count of ${leaf.source} is ${leaf.count} of ${leaf.members.length}; ${leaf.operator} ${expectedText(leaf)} → ${verdict}`;
  }
}

/** The whole tree, indented, one node a line. */
export function formatExplanation(explanation: Explanation, indent = ''): string[] {
  switch (explanation.kind) {
    case 'allOf':
    case 'anyOf':
      return [
        `${indent}${explanation.path}: ${explanation.kind} → ${explanation.result}`,
        ...explanation.children.flatMap((child) => formatExplanation(child, `${indent}  `)),
      ];
    case 'not':
      return [
        `${indent}${explanation.path}: not → ${explanation.result}`,
        ...formatExplanation(explanation.child, `${indent}  `),
      ];
    default:
      return [`${indent}${describeLeaf(explanation)}`];
  }
}
