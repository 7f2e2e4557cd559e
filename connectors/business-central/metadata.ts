/**
 * The parts of the API's `$metadata` (CSDL XML) the connector uses: the
 * properties of each entity set, with their types, to validate mappings
 * (describeTable) and to send an empty text where a mapping gives null (BC text
 * fields are never null). A few regular expressions rather than an XML parser:
 * the document's shape is fixed by the OData standard and only names and
 * attributes are read.
 */

export interface PropertyInfo {
  name: string;
  /** e.g. Edm.String, Edm.Guid, Edm.Decimal, Edm.Boolean, Edm.DateTimeOffset */
  type: string;
  nullable: boolean;
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([A-Za-z_:][\w.:-]*)\s*=\s*"([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

function localName(qualified: string): string {
  const at = qualified.lastIndexOf('.');
  return at < 0 ? qualified : qualified.slice(at + 1);
}

/** Entity set name -> its properties, in document order. */
export function parseMetadata(xml: string): Map<string, PropertyInfo[]> {
  const types = new Map<string, PropertyInfo[]>();
  for (const m of xml.matchAll(/<EntityType\b([^>]*?)(\/>|>([\s\S]*?)<\/EntityType>)/g)) {
    const name = attributes(m[1]).Name;
    if (!name) continue;
    const properties: PropertyInfo[] = [];
    for (const p of (m[3] ?? '').matchAll(/<Property\b([^>]*?)\/?>/g)) {
      const a = attributes(p[1]);
      if (a.Name && a.Type) properties.push({ name: a.Name, type: a.Type, nullable: a.Nullable !== 'false' });
    }
    types.set(name, properties);
  }
  const sets = new Map<string, PropertyInfo[]>();
  for (const m of xml.matchAll(/<EntitySet\b([^>]*?)\/?>/g)) {
    const a = attributes(m[1]);
    if (!a.Name || !a.EntityType) continue;
    const properties = types.get(localName(a.EntityType));
    if (properties) sets.set(a.Name, properties);
  }
  return sets;
}
