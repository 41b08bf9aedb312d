// Checks on the page's files that the browser and the server's CSP rely on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (name) => readFileSync(join(web, name), 'utf8');
const modules = readdirSync(web).filter((name) => name.endsWith('.js'));

describe('the page\'s files', () => {
  it('never parse text as HTML', () => {
    for (const name of modules) {
      const code = read(name).replace(/\/\/.*$/gm, '');
      assert.doesNotMatch(code, /\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(/, name);
    }
  });

  it('have no inline script, style or event handler (CSP: script-src and style-src \'self\')', () => {
    const html = read('index.html');
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'inline <script>');
    assert.doesNotMatch(html, /<style\b/i);
    assert.doesNotMatch(html, /\sstyle\s*=/i);
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i);
    assert.doesNotMatch(html, /(href|src)\s*=\s*"(https?:)?\/\//i, 'no external assets');
    assert.match(html, /<script type="module" src="app\.js"><\/script>/);
  });

  it('name every element app.js looks up', () => {
    const html = read('index.html');
    const ids = ['app.js', 'sidebar.js'].flatMap((name) => [...read(name).matchAll(/\$\('([^']+)'\)/g)].map((m) => m[1]));
    assert.ok(ids.length > 10);
    for (const id of ids) assert.match(html, new RegExp(`id="${id}"`), id);
  });

  it('import only files that exist, by relative path (JSON with its import attribute)', () => {
    for (const name of modules) {
      for (const [, spec, rest] of read(name).matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'(.*)$/gm)) {
        assert.match(spec, /^\.\/.+\.(js|json)$/, `${name} imports ${spec}`);
        if (spec.endsWith('.json')) assert.match(rest, /^ with \{ type: 'json' \};/, `${name} imports ${spec} without { type: 'json' }`);
        assert.ok(existsSync(join(web, spec)), `${name} imports missing ${spec}`);
      }
    }
  });

  it('keep the shared rules in JSON the server reads too', () => {
    const rules = JSON.parse(read('rules.json'));
    for (const key of ['textMaxCharacters', 'loginMaxLength', 'sessionMinLength', 'proofSuffixes']) assert.ok(key in rules, key);
  });

  it('load no external fonts or URLs from the stylesheet', () => {
    const css = read('style.css');
    assert.doesNotMatch(css, /@import|url\(|@font-face/);
    assert.match(css, /prefers-color-scheme: dark/);
    assert.match(css, /white-space: pre-wrap/);
  });
});
