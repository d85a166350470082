/**
 * The policy reference, generated from the JSON Schema so it cannot drift from what the
 * validator accepts: every property with its type, default, allowed values (enum, pattern,
 * bounds) and description, section by section, then the shared definitions.
 *
 *   pnpm docs:policy          (writes docs/policy-reference.md)
 *
 * `packages/core/test/policy/reference-doc.test.ts` renders it again in memory and fails when the
 * committed file differs: change the schema, run `pnpm docs:policy`, commit both.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCHEMA_PATH = fileURLToPath(new URL('../packages/core/schema/policy.schema.json', import.meta.url));
export const REFERENCE_PATH = fileURLToPath(new URL('../docs/policy-reference.md', import.meta.url));

/** The subset of JSON Schema the policy schema uses. */
interface Schema {
  $ref?: string;
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  propertyNames?: Schema;
  items?: Schema;
  required?: string[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  $defs?: Record<string, Schema>;
  title?: string;
}

/** Thrown when the schema holds something this generator cannot document faithfully. */
export class PolicyReferenceError extends Error {
  readonly code = 'POLICY_REFERENCE';
}

interface Row {
  path: string;
  required: boolean;
  type: string;
  default: string;
  allowed: string;
  description: string;
}

const code = (text: string) => `\`${text.replace(/\|/g, '\\|')}\``;
/** Prose for a table cell or paragraph: pipes escaped, `<` and `>` shown as text rather than read as HTML. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderPolicyReference(schema: Schema): string {
  const defs = schema.$defs ?? {};
  /** Definitions that are documented in their own section (objects) rather than inlined. */
  const sectioned = new Set(Object.keys(defs).filter((name) => defs[name]!.properties));

  const defName = (ref: string): string => {
    const match = /^#\/\$defs\/(.+)$/.exec(ref);
    if (!match || !defs[match[1]!]) throw new PolicyReferenceError(`unsupported $ref ${ref}`);
    return match[1]!;
  };
  /** The schema a `$ref` points to, merged under the referring schema's own keywords. */
  const resolveRef = (node: Schema): Schema => {
    if (!node.$ref) return node;
    const { $ref, ...own } = node;
    return { ...resolveRef(defs[defName($ref)]!), ...own };
  };

  const typeOf = (node: Schema): string => {
    if (node.$ref && sectioned.has(defName(node.$ref))) return `[${defName(node.$ref)}](#${defName(node.$ref).toLowerCase()})`;
    const n = resolveRef(node);
    const branches = n.oneOf ?? n.anyOf;
    if (branches) return [...new Set(branches.map(typeOf))].join(' \\| ');
    if (n.enum) return [...new Set(n.enum.map((v) => (v === null ? 'null' : typeof v === 'number' && Number.isInteger(v) ? 'integer' : typeof v)))].join(' \\| ');
    const type = Array.isArray(n.type) ? n.type.join(' \\| ') : n.type;
    if (type === 'array') return `array of ${n.items ? typeOf(n.items) : 'any'}`;
    if (type === 'object' && !n.properties && typeof n.additionalProperties === 'object') return `object of ${typeOf(n.additionalProperties)}`;
    if (type) return type;
    if (n.pattern !== undefined) return 'string';
    return 'any';
  };

  const allowedOf = (node: Schema): string[] => {
    const n = resolveRef(node);
    const out: string[] = [];
    if (n.enum) out.push(`one of ${n.enum.map((v) => code(JSON.stringify(v))).join(', ')}`);
    if (n.pattern !== undefined) out.push(`pattern ${code(n.pattern)}`);
    const bounds: [keyof Schema, string][] = [
      ['minimum', '≥'], ['exclusiveMinimum', '>'], ['maximum', '≤'], ['minLength', 'length ≥'], ['maxLength', 'length ≤'],
      ['minItems', 'items ≥'], ['maxItems', 'items ≤'], ['minProperties', 'entries ≥'], ['maxProperties', 'entries ≤'],
    ];
    for (const [key, label] of bounds) if (n[key] !== undefined) out.push(`${label} ${String(n[key])}`);
    if (n.propertyNames) out.push(`names: ${allowedOf(n.propertyNames).join(', ')}`);
    for (const branch of n.oneOf ?? n.anyOf ?? []) {
      if (branch.$ref && sectioned.has(defName(branch.$ref))) continue;
      const inner = allowedOf(branch);
      if (inner.length > 0) out.push(inner.join(', '));
    }
    if (n.items && !(n.items.$ref && sectioned.has(defName(n.items.$ref)))) {
      const inner = allowedOf(n.items);
      if (inner.length > 0) out.push(`each: ${inner.join(', ')}`);
    }
    if (typeof n.additionalProperties === 'object' && !n.properties && !n.additionalProperties.properties) {
      const inner = allowedOf(n.additionalProperties);
      if (inner.length > 0) out.push(`each value: ${inner.join(', ')}`);
    }
    return out;
  };

  /** Rows for `node`'s properties, then their nested object properties, depth first. */
  const rowsOf = (node: Schema, prefix: string, rows: Row[]): Row[] => {
    const n = resolveRef(node);
    const required = new Set(n.required ?? []);
    for (const [name, child] of Object.entries(n.properties ?? {})) {
      const path = prefix ? `${prefix}.${name}` : name;
      const resolved = resolveRef(child);
      const description = child.description ?? resolved.description;
      if (!description) throw new PolicyReferenceError(`${path} has no description in the schema`);
      rows.push({
        path,
        required: required.has(name),
        type: typeOf(child),
        default: child.default !== undefined ? code(JSON.stringify(child.default)) : resolved.default !== undefined ? code(JSON.stringify(resolved.default)) : '',
        allowed: allowedOf(child).join('; '),
        description,
      });
      if (child.$ref && sectioned.has(defName(child.$ref))) continue;
      if (resolved.properties) rowsOf(resolved, path, rows);
      const items = resolved.items;
      if (items && !(items.$ref && sectioned.has(defName(items.$ref))) && resolveRef(items).properties) rowsOf(items, `${path}[]`, rows);
      const values = resolved.additionalProperties;
      if (typeof values === 'object' && resolveRef(values).properties) rowsOf(values, `${path}.<name>`, rows);
    }
    return rows;
  };

  const table = (rows: Row[]) => [
    '| property | type | default | allowed | description |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${code(r.path)}${r.required ? ' (required)' : ''} | ${r.type} | ${r.default} | ${r.allowed} | ${cell(r.description)} |`),
  ];

  const out: string[] = [
    '<!-- Generated from packages/core/schema/policy.schema.json by scripts/policy-reference.ts (pnpm docs:policy). Do not edit by hand: a test fails when this file and the schema differ. -->',
    '',
    `# ${schema.title ?? 'Policy'}: schema reference`,
    '',
    cell(schema.description ?? ''),
    '',
    'Every property the JSON Schema accepts, generated from it. The narrative guide with examples is',
    '[policy.md](policy.md). Properties of nested objects are written with dots; `[]` is an array',
    'element and `<name>` a key you choose.',
    '',
    '## Top level',
    '',
  ];
  const top = schema.properties ?? {};
  const topRows = Object.entries(top).map(([name, child]) => rowsOf({ properties: { [name]: child }, required: (schema.required ?? []).filter((r) => r === name) }, '', []));
  out.push(...table(topRows.map((rows) => rows[0]!)), '');
  for (const rows of topRows) {
    if (rows.length <= 1) continue;
    out.push(`## \`${rows[0]!.path}\``, '', cell(rows[0]!.description), '', ...table(rows.slice(1)), '');
  }
  out.push('## Definitions', '', 'Shared by several properties above.', '');
  for (const name of Object.keys(defs)) {
    const def = defs[name]!;
    out.push(`### ${name}`, '');
    if (def.description) out.push(cell(def.description), '');
    if (sectioned.has(name)) {
      out.push(...table(rowsOf(def, '', [])), '');
    } else {
      const allowed = allowedOf(def).join('; ');
      out.push(`${typeOf(def)}${allowed ? `; ${allowed}` : ''}`, '');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

export function readSchema(): Schema {
  return JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Schema;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(REFERENCE_PATH, renderPolicyReference(readSchema()));
  console.log(`wrote ${REFERENCE_PATH}`);
}
