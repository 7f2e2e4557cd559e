/**
 * OData v4 pieces both service connectors (Dataverse, Business Central) build
 * their queries from: string literals, identifier and GUID checks. Each
 * connector wraps them in its own error type and message; the rules are here,
 * once, so a value can never change the shape of a query in one connector and
 * not the other.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A simple identifier (a property, entity set or logical name): a letter or "_", then letters, digits or "_". No dot, space or quote. */
export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** A GUID in its 8-4-4-4-12 hex form, either case. */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** A string literal: quotes doubled, the only escape OData has inside '...'. */
export function stringLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
