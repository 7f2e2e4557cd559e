/**
 * Text from outside (a record id, a system's error message, a value someone
 * typed) shown to a person: control characters (terminal escape sequences
 * among them), bidirectional-text controls (U+202A-U+202E, U+2066-U+2069,
 * marks) and other invisible format characters would reorder, hide or rewrite
 * what the Web UI, a log or a terminal shows, so they are written as \uXXXX
 * escapes instead. Pure: used by workflow code too.
 */

const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
/** The same, less what JSON.stringify escapes itself (C0 controls) or needs as it is (the line feeds between members). */
const INVISIBLE_IN_JSON = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `text` with every invisible or control character, line feeds included, written as a \uXXXX escape. */
export function visible(text: string): string {
  return text.replace(INVISIBLE, escape);
}

/** JSON text (from JSON.stringify) with the invisible characters it left raw in strings escaped: the same value, safe to print. */
export function visibleJson(json: string): string {
  return json.replace(INVISIBLE_IN_JSON, escape);
}
