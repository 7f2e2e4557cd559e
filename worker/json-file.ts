/**
 * Reads a JSON file an operator wrote (SYSTEMS_CONFIG, a mappings file). Such a
 * file may hold a secret inline, and Node's own JSON errors quote the text
 * around the mistake; so a file that is not JSON is refused with the line and
 * column of the first mistake and what was expected there, quoting nothing.
 */
import { readFileSync } from 'node:fs';
import { printParseErrorCode, visit, type ParseErrorCode } from 'jsonc-parser';
import { ConfigError } from './config';

/** What each of jsonc-parser's error codes means, in words that quote nothing. */
const EXPECTED: Partial<Record<ReturnType<typeof printParseErrorCode>, string>> = {
  InvalidSymbol: 'a character that cannot start a JSON value',
  InvalidNumberFormat: 'a malformed number',
  PropertyNameExpected: 'a property name in double quotes was expected',
  ValueExpected: 'a value was expected',
  ColonExpected: 'a colon was expected',
  CommaExpected: 'a comma was expected',
  CloseBraceExpected: 'a closing brace was expected',
  CloseBracketExpected: 'a closing bracket was expected',
  EndOfFileExpected: 'the JSON should end here',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'comments are not allowed in JSON',
  UnexpectedEndOfString: 'a string that is never closed',
  UnexpectedEndOfNumber: 'a number that ends too early',
  InvalidUnicode: 'a malformed \\u escape in a string',
  InvalidEscapeCharacter: 'a malformed escape in a string',
  InvalidCharacter: 'a string holding a control character (write it as a \\u escape)',
};

/** Where the first mistake of text that JSON.parse refused is, e.g. "line 3, column 21: a value was expected". */
function firstMistake(text: string): string {
  let found: string | null = null;
  visit(
    text,
    {
      onError(error: ParseErrorCode, _offset, _length, startLine, startCharacter) {
        found ??= `line ${startLine + 1}, column ${startCharacter + 1}: ${EXPECTED[printParseErrorCode(error)] ?? 'not JSON'}`;
      },
    },
    { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
  );
  return found ?? 'not JSON';
}

/** Parses `text` (a leading byte-order mark is ignored), or throws a ConfigError: `${what} is not valid JSON: line L, column C: ...`. */
export function parseJsonText(text: string, what: string): unknown {
  const body = text.replace(/^\uFEFF/, '');
  try {
    return JSON.parse(body);
  } catch {
    throw new ConfigError(`${what} is not valid JSON: ${firstMistake(body)}.`);
  }
}

/** Reads and parses a JSON file; `what` names it in messages, e.g. `SYSTEMS_CONFIG "systems.json"`. */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`${what} cannot be read${code ? ` (${code})` : ''}.`);
  }
  return parseJsonText(text, what);
}
