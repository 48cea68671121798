/**
 * The XML S3 and STS speak: a small writer that escapes every text it is
 * given, and a small parser for the few request bodies S3 receives
 * (CompleteMultipartUpload, Delete, CreateBucketConfiguration). The parser
 * takes elements, text, CDATA, comments, the XML declaration and the five
 * named plus numeric character references; it refuses DOCTYPE (no entity
 * expansion) and anything malformed.
 */

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** Escapes text for element content. `\r` is kept as a reference so a parser does not fold it. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => ESCAPES[c]!);
}
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' };

/** A child: an element name with its content, or undefined to leave it out. */
export type XmlContent = string | number | boolean | Date | XmlNode[] | undefined;
export type XmlNode = [name: string, content: XmlContent] | undefined;

/** S3's timestamp form in XML: ISO 8601 with milliseconds, UTC. */
export const isoTime = (d: Date): string => d.toISOString();

function render(content: XmlContent): string {
  if (content === undefined) return '';
  if (Array.isArray(content)) return content.map((n) => (n ? element(n[0], n[1]) : '')).join('');
  if (content instanceof Date) return isoTime(content);
  return escapeXml(String(content));
}

/** `<name>content</name>`; an empty string or list gives `<name></name>`. */
export function element(name: string, content: XmlContent): string {
  if (content === undefined) return '';
  return `<${name}>${render(content)}</${name}>`;
}

/** A whole document with the declaration and the root's namespace. */
export function xmlDocument(root: string, children: XmlNode[] | string, ns: string = S3_NS): string {
  const body = typeof children === 'string' ? escapeXml(children) : render(children);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns ? ` xmlns="${ns}"` : ''}>${body}</${root}>`;
}

// ---- parsing ----

export interface XmlElement {
  /** Local name (any namespace prefix removed). */
  name: string;
  children: XmlElement[];
  /** The element's own text (concatenated, outside child elements). */
  text: string;
}

export class XmlParseError extends Error {}

const NAME_RE = /^[A-Za-z_:][\w.:-]*/;

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);?/g, (m, ref: string) => {
    if (!m.endsWith(';')) throw new XmlParseError(`unterminated character reference ${m}`);
    if (ref.startsWith('#x')) return codePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return codePoint(parseInt(ref.slice(1), 10));
    const named = NAMED[ref];
    if (named === undefined) throw new XmlParseError(`unknown entity &${ref};`);
    return named;
  });
}
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
function codePoint(n: number): string {
  if (!Number.isFinite(n) || n > 0x10ffff) throw new XmlParseError('character reference out of range');
  return String.fromCodePoint(n);
}

const localName = (qname: string): string => qname.slice(qname.indexOf(':') + 1);

/** Parses a document into its root element. */
export function parseXml(input: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const text = (s: string): void => {
    const top = stack[stack.length - 1];
    if (top) top.text += s;
    else if (s.trim() !== '') throw new XmlParseError('text outside the root element');
  };
  if (input.charCodeAt(0) === 0xfeff) i = 1;
  while (i < input.length) {
    const lt = input.indexOf('<', i);
    if (lt < 0) {
      text(decodeEntities(input.slice(i)));
      break;
    }
    if (lt > i) text(decodeEntities(input.slice(i, lt)));
    if (input.startsWith('<?', lt)) {
      const end = input.indexOf('?>', lt + 2);
      if (end < 0) throw new XmlParseError('unterminated processing instruction');
      i = end + 2;
    } else if (input.startsWith('<!--', lt)) {
      const end = input.indexOf('-->', lt + 4);
      if (end < 0) throw new XmlParseError('unterminated comment');
      i = end + 3;
    } else if (input.startsWith('<![CDATA[', lt)) {
      const end = input.indexOf(']]>', lt + 9);
      if (end < 0) throw new XmlParseError('unterminated CDATA section');
      text(input.slice(lt + 9, end));
      i = end + 3;
    } else if (input.startsWith('<!', lt)) {
      throw new XmlParseError('DOCTYPE and other declarations are not accepted');
    } else if (input.startsWith('</', lt)) {
      const end = input.indexOf('>', lt);
      if (end < 0) throw new XmlParseError('unterminated end tag');
      const name = localName(input.slice(lt + 2, end).trim());
      const open = stack.pop();
      if (!open || open.name !== name) throw new XmlParseError(`unexpected end tag </${name}>`);
      i = end + 1;
    } else {
      const end = findTagEnd(input, lt + 1);
      let inner = input.slice(lt + 1, end);
      const selfClosing = inner.endsWith('/');
      if (selfClosing) inner = inner.slice(0, -1);
      const m = NAME_RE.exec(inner);
      if (!m) throw new XmlParseError('malformed start tag');
      const el: XmlElement = { name: localName(m[0]), children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (root) throw new XmlParseError('more than one root element');
      else root = el;
      if (!selfClosing) stack.push(el);
      i = end + 1;
    }
  }
  if (stack.length) throw new XmlParseError(`unclosed element <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new XmlParseError('no root element');
  return root;
}

/** The index of the '>' closing a start tag, skipping quoted attribute values. */
function findTagEnd(s: string, from: number): number {
  let quote = '';
  for (let j = from; j < s.length; j++) {
    const c = s[j]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return j;
  }
  throw new XmlParseError('unterminated start tag');
}

/** The first child with this name. */
export const child = (el: XmlElement, name: string): XmlElement | undefined => el.children.find((c) => c.name === name);
/** Every child with this name. */
export const childrenNamed = (el: XmlElement, name: string): XmlElement[] => el.children.filter((c) => c.name === name);
