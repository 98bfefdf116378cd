/**
 * An independent reader of CEF lines, written from the format's rules
 * (ArcSight Common Event Format): the header split on unescaped `|` with `\|`
 * and `\\` as its only escapes, the extension split into key=value pairs at
 * unescaped `=`, values unescaped (`\\`, `\=`, `\n`, `\r`), and any other
 * escape or a raw line break refused.
 */
export interface CefEvent {
  version: string;
  vendor: string;
  product: string;
  productVersion: string;
  signatureId: string;
  name: string;
  severity: string;
  extension: Map<string, string>;
}

/** Keys of the CEF dictionary (ArcSight CEF, revision 25) that a line may use. */
export const CEF_KEYS = new Set([
  'rt',
  'externalId',
  'cat',
  'act',
  'outcome',
  'suser',
  'src',
  'c6a2',
  'c6a2Label',
  'shost',
  'dvchost',
  'msg',
  'reason',
  'cs1',
  'cs1Label',
  'cs2',
  'cs2Label',
  'cs3',
  'cs3Label',
  'cs4',
  'cs4Label',
  'cn1',
  'cn1Label',
]);

export function parseCef(line: string): CefEvent {
  if (/[\r\n]/u.test(line)) throw new Error('a raw line break in a CEF line');
  const header: string[] = [];
  let field = '';
  let i = 0;
  for (; i < line.length && header.length < 7; i++) {
    const c = line[i]!;
    if (c === '\\') {
      const next = line[++i];
      if (next !== '\\' && next !== '|')
        throw new Error(`bad header escape \\${next ?? ''} at ${i}`);
      field += next;
    } else if (c === '|') {
      header.push(field);
      field = '';
    } else field += c;
  }
  if (header.length !== 7) throw new Error(`a header of ${header.length} fields`);
  const rest = line.slice(i);
  // the positions of unescaped `=`: each ends a key, which starts after the last space before it
  const extension = new Map<string, string>();
  const equals: number[] = [];
  for (let j = 0; j < rest.length; j++) {
    if (rest[j] === '\\') j++;
    else if (rest[j] === '=') equals.push(j);
  }
  let start = 0;
  for (let k = 0; k < equals.length; k++) {
    const eq = equals[k]!;
    const key = rest.slice(start, eq);
    if (!/^[A-Za-z0-9_]+$/u.test(key)) throw new Error(`bad key ${JSON.stringify(key)}`);
    const next = equals[k + 1];
    const end = next === undefined ? rest.length : rest.lastIndexOf(' ', next);
    if (end <= eq) throw new Error(`no value boundary after ${key}`);
    const raw = rest.slice(eq + 1, end);
    let value = '';
    for (let j = 0; j < raw.length; j++) {
      if (raw[j] !== '\\') {
        value += raw[j];
        continue;
      }
      const e = raw[++j];
      if (e === '\\' || e === '=') value += e;
      else if (e === 'n') value += '\n';
      else if (e === 'r') value += '\r';
      else throw new Error(`bad extension escape \\${e ?? ''} in ${key}`);
    }
    if (extension.has(key)) throw new Error(`key ${key} twice`);
    extension.set(key, value);
    start = end + 1;
  }
  if (equals.length === 0 && rest.length > 0) throw new Error('an extension without keys');
  const [version, vendor, product, productVersion, signatureId, name, severity] = header as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return { version, vendor, product, productVersion, signatureId, name, severity, extension };
}
