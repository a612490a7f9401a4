import { describe, expect, it } from 'vitest';
import { ArmError } from './errors.js';
import { jsonSyntaxError, objectBody, parseTags, rejectUnknown } from './validate.js';

describe('jsonSyntaxError words broken JSON as Json.NET does', () => {
  it.each([
    ['{"location":', "Unexpected end when reading JSON. Path 'location', line 1, position 12."],
    ['{', "Unexpected end when reading JSON. Path '', line 1, position 1."],
    [
      '{"location":"west',
      `Unterminated string. Expected delimiter: ". Path 'location', line 1, position 17.`,
    ],
    [
      '{"location":}',
      "Unexpected character encountered while parsing value: }. Path 'location', line 1, position 12.",
    ],
    ['<html>', "Unexpected character encountered while parsing value: <. Path '', line 0, position 0."],
    ['{location:1}', "Invalid property identifier character: l. Path '', line 1, position 1."],
    [
      '{"a" 1}',
      "Invalid character after parsing property name. Expected ':' but got: 1. Path 'a', line 1, position 5.",
    ],
    [
      '{"a":"b" "c":1}',
      `After parsing a value an unexpected character was encountered: ". Path 'a', line 1, position 9.`,
    ],
    [
      '{"a":1}x',
      "Additional text encountered after finished reading JSON content: x. Path '', line 1, position 7.",
    ],
    ['{"a":tru}', "Error parsing boolean value. Path 'a', line 1, position 5."],
    ['{"a":nul', "Unexpected end when reading JSON. Path 'a', line 1, position 8."],
    ['{"a":01}', "Input string '01' is not a valid number. Path 'a', line 1, position 5."],
    ['{"a":"\\q"}', "Bad JSON escape sequence: \\q. Path 'a', line 1, position 7."],
    [
      '{"tags":{"x":[1,2,}}',
      "Unexpected character encountered while parsing value: }. Path 'tags.x[1]', line 1, position 18.",
    ],
    ['{"a b":[', "Unexpected end when reading JSON. Path '['a b']', line 1, position 8."],
    [
      '{\n  "location": "eastus",\n  "tags": {\n}',
      "Unexpected end when reading JSON. Path 'tags', line 4, position 1.",
    ],
    ['[{"a":1},{"b":', "Unexpected end when reading JSON. Path '[1].b', line 1, position 14."],
  ])('%j', (text, expected) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonSyntaxError(text)).toBe(expected);
  });
});

describe('body shapes', () => {
  function errorOf(run: () => unknown): ArmError {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(ArmError);
      return error as ArmError;
    }
    throw new Error('no error');
  }

  it('a missing body, an array and a scalar are InvalidRequestContent', () => {
    expect(errorOf(() => objectBody(undefined, 'location')).message).toBe(
      "The request content was invalid and could not be deserialized: 'Required property 'location' not found in JSON. Path '', line 1, position 0.'.",
    );
    expect(errorOf(() => objectBody([1])).message).toContain('Cannot deserialize the current JSON array');
    expect(errorOf(() => objectBody('x')).code).toBe('InvalidRequestContent');
  });

  it('unknown members are refused with their path', () => {
    const error = errorOf(() =>
      rejectUnknown({ location: 'x', colour: 'red' }, ['location'], 'ResourceGroup'),
    );
    expect(error.message).toBe(
      "The request content was invalid and could not be deserialized: 'Could not find member 'colour' on object of type 'ResourceGroup'. Path 'colour''.",
    );
  });

  it('tags must be an object of strings', () => {
    expect(errorOf(() => parseTags('x')).code).toBe('InvalidRequestContent');
    expect(errorOf(() => parseTags({ a: 1 })).message).toContain("Path 'tags.a'");
    expect(parseTags({ a: 'b' })).toEqual({ a: 'b' });
  });
});
