/** The little XML the query protocol needs: escaped text, nested elements. */
export type XmlValue = string | number | boolean | undefined | XmlNode | XmlNode[];
export interface XmlNode {
  [name: string]: XmlValue;
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Serialises members in order; arrays become <member> lists; undefined members are left out. */
export function toXml(node: XmlNode): string {
  let out = '';
  for (const [name, value] of Object.entries(node)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) out += `<${name}>${value.map((m) => `<member>${toXml(m)}</member>`).join('')}</${name}>`;
    else if (typeof value === 'object') out += `<${name}>${toXml(value)}</${name}>`;
    else out += `<${name}>${escapeXml(String(value))}</${name}>`;
  }
  return out;
}
