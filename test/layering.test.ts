import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './helpers/paths';

/**
 * The map of the code in docs/how-it-works.md (folder → what it owns → what it may import) is held to the code: every
 * `@brine/…` import of every folder under apps/ and libs/ must be one the map allows, and every folder must be on it.
 */
function mapOfReadme(): Map<string, Set<string>> {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'how-it-works.md'), 'utf8');
  const section = doc.slice(doc.indexOf('# How it works'), doc.indexOf('Data flows one way'));
  const map = new Map<string, Set<string>>();
  for (const m of section.matchAll(/^\| `((?:apps|libs)\/[a-z-]+)`[^|]*\|[^|]*\| ([^|]*) \|$/gm)) {
    const allowed = m[2].trim() === '—' ? [] : m[2].split(',').map((x) => x.trim().split(/\s/)[0]);
    map.set(m[1], new Set(allowed));
  }
  return map;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : sources(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

function importsOf(folder: string): Set<string> {
  const found = new Set<string>();
  const self = folder.split('/')[1];
  for (const file of sources(join(REPO_ROOT, folder))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/from '@brine\/([a-z-]+(?:\/[a-z-]+)?)'/g)) {
      if (m[1].split('/')[0] !== self) found.add(m[1]);
    }
  }
  return found;
}

describe('the map of the code in docs/how-it-works.md', () => {
  const map = mapOfReadme();

  it('names every folder of apps/ and libs/', () => {
    for (const top of ['apps', 'libs']) {
      for (const name of readdirSync(join(REPO_ROOT, top))) {
        if (statSync(join(REPO_ROOT, top, name)).isDirectory())
          assert.ok(map.has(`${top}/${name}`), `${top}/${name} is not on the map in docs/how-it-works.md`);
      }
    }
  });

  it("allows every import the code makes, and a lib's sub-entry only where named", () => {
    const wrong: string[] = [];
    for (const [folder, allowed] of map) {
      for (const imported of importsOf(folder)) {
        // "jobs/producers" on the map allows only that entry; "jobs" allows the lib and its entries
        const ok = allowed.has(imported) || allowed.has(imported.split('/')[0]);
        if (!ok) wrong.push(`${folder} imports @brine/${imported}, which the map does not allow`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
