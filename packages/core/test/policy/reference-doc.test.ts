import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REFERENCE_PATH, PolicyReferenceError, readSchema, renderPolicyReference } from '../../../../scripts/policy-reference.js';
import { compilePolicy } from '../../src/index.js';

// docs/policy-reference.md is generated from the JSON Schema; this keeps the two from drifting.

type Node = { properties?: Record<string, Node>; items?: Node; additionalProperties?: Node | boolean; $ref?: string; $defs?: Record<string, Node>; description?: string };

/** Every property path the schema declares (outside $defs), as the reference writes them. */
function paths(node: Node, defs: Record<string, Node>, prefix = ''): string[] {
  const resolved = node.$ref ? defs[node.$ref.replace('#/$defs/', '')]! : node;
  if (node.$ref && resolved.properties) return []; // documented in its own definition section
  const out: string[] = [];
  for (const [name, child] of Object.entries(resolved.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    out.push(path, ...paths(child, defs, path));
  }
  if (resolved.items) out.push(...paths(resolved.items, defs, `${prefix}[]`));
  if (typeof resolved.additionalProperties === 'object') out.push(...paths(resolved.additionalProperties, defs, `${prefix}.<name>`));
  return out;
}

describe('policy reference (docs/policy-reference.md)', () => {
  it('is what the schema generates: run `pnpm docs:policy` after changing the schema', () => {
    const committed = readFileSync(REFERENCE_PATH, 'utf8');
    const generated = renderPolicyReference(readSchema());
    expect(committed, 'docs/policy-reference.md is stale: run `pnpm docs:policy` and commit it').toBe(generated);
  });

  it('documents every property, with its description, default and pattern', () => {
    const schema = readSchema() as Node;
    const text = renderPolicyReference(schema);
    const all = paths(schema, schema.$defs ?? {});
    expect(all.length).toBeGreaterThan(80);
    for (const path of all) expect(text, path).toContain(`| \`${path}\``);
    expect(text).toMatch(/\| `limits\[\]\.onExceed` \| string \| `"throttle"` \| one of `"challenge"`, `"throttle"`, `"block"` \| Verdict when the limit is exceeded\. \|/);
    expect(text).toContain('pattern `^[0-9]{1,9}(ms\\|s\\|m\\|h\\|d\\|w)$`');
    for (const def of Object.keys(schema.$defs ?? {})) expect(text).toContain(`### ${def}\n`);
  });

  it('refuses a schema property without a description', () => {
    const schema = structuredClone(readSchema()) as Node;
    delete schema.properties!.failMode!.description;
    expect(() => renderPolicyReference(schema)).toThrow(PolicyReferenceError);
    expect(() => renderPolicyReference(schema)).toThrow(/failMode has no description/);
  });

  it('the schema with its descriptions still validates and compiles the reference policies', () => {
    for (const name of ['classifieds', 'signup', 'api']) {
      const policy = JSON.parse(readFileSync(new URL(`../../../../rules/${name}.json`, import.meta.url), 'utf8'));
      expect(compilePolicy(policy, { file: new URL(`../../../../rules/${name}.json`, import.meta.url).pathname }).id).toMatch(new RegExp(`^${name}@`));
    }
  });
});
