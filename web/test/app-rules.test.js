// The shared rules (web/rules.json) and their vectors (web/rules-vectors.json): every vector, as
// the server decides it, must come out the same from the page's checks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { Limits, SESSION_ID_PATTERN, rules, validateLogin, validatePost, validateSession } from '../validate.js';

const vectors = JSON.parse(readFileSync(new URL('../rules-vectors.json', import.meta.url), 'utf8'));

/** A vector's input: a string, or parts (strings, or [string, times]) joined. */
function expand(value) {
  if (typeof value === 'string') return value;
  return value.map((part) => (typeof part === 'string' ? part : part[0].repeat(part[1]))).join('');
}

function short(text) {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 20)}…(${text.length})` : text);
}

function check(vector, result) {
  const input = expand(vector.input);
  const what = `${vector.note}: ${short(input)}`;
  assert.equal(result.ok, vector.ok, `${what}: ${result.message ?? 'accepted'}`);
  if (vector.ok) return;
  assert.equal(result.code, vector.code, what);
  assert.equal(result.message, vector.message, what);
}

describe('the shared rules', () => {
  it('are the limits the page uses', () => {
    assert.equal(Limits.textMaxCharacters, rules.textMaxCharacters);
    assert.equal(Limits.loginMaxLength, rules.loginMaxLength);
    assert.match('A'.repeat(rules.sessionMinLength), SESSION_ID_PATTERN);
    assert.doesNotMatch('A'.repeat(rules.sessionMinLength - 1), SESSION_ID_PATTERN);
    assert.doesNotMatch('A'.repeat(rules.sessionMaxLength + 1), SESSION_ID_PATTERN);
  });

  it('have a vector for every refusal code of login names, session ids and posts', () => {
    const codes = new Set(['login', 'session', 'posts'].flatMap((k) => vectors[k].filter((v) => !v.ok).map((v) => v.code)));
    for (const code of ['login.empty', 'login.tooLong', 'login.invalidCharacter', 'session.tooShort', 'session.tooLong',
      'session.invalidCharacter', 'text.empty', 'text.tooLong', 'text.controlCharacter']) {
      assert.ok(codes.has(code), code);
    }
    const routes = new Set(vectors.posts.filter((v) => v.ok).map((v) => v.route));
    assert.deepEqual([...routes].sort(), ['plain', ...Object.keys(rules.proofSuffixes)].sort());
  });

  it('are what the committed Swift (Sources/WarrenCore/Generated/Rules.swift) was generated from', (t) => {
    const script = new URL('../../scripts/gen-rules', import.meta.url).pathname;
    const run = spawnSync('python3', [script, '--check'], { encoding: 'utf8' });
    if (run.error) return t.skip('no python3 here');
    assert.equal(run.status, 0, run.stderr);
  });
});

describe('the rules vectors, through the page\'s checks', () => {
  it('login names', () => {
    for (const vector of vectors.login) check(vector, validateLogin(expand(vector.input)));
  });

  it('session ids', () => {
    for (const vector of vectors.session) {
      check(vector, validateSession(expand(vector.input)));
      assert.equal(SESSION_ID_PATTERN.test(expand(vector.input)), vector.ok, vector.note);
    }
  });

  it('posts: verdict, refusal, route and the text the room will show', () => {
    for (const vector of vectors.posts) {
      const result = validatePost(expand(vector.input));
      check(vector, result);
      if (!vector.ok) continue;
      const what = `${vector.note}: ${short(expand(vector.input))}`;
      assert.equal(result.route, vector.route, what);
      assert.equal(result.body, expand(vector.text), what);
      assert.equal(result.proof, vector.route !== 'plain', what);
    }
  });
});
