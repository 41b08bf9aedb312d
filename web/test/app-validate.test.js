import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { countCharacters, describeCharacter, normalisePost, validateLogin, validatePost, wantsProof } from '../validate.js';

describe('validateLogin', () => {
  it('accepts 1 to 32 characters of [A-Za-z0-9_.-]', () => {
    for (const name of ['a', 'alice', 'Bob_2.x-y', 'x'.repeat(32)]) assert.deepEqual(validateLogin(name), { ok: true, login: name });
  });

  it('refuses an empty name', () => {
    assert.deepEqual(validateLogin(''), {
      ok: false,
      code: 'login.empty',
      message: 'The login name is empty; choose 1 to 32 characters.',
    });
  });

  it('refuses a long name, counting characters', () => {
    const result = validateLogin('x'.repeat(40));
    assert.equal(result.code, 'login.tooLong');
    assert.equal(result.message, 'The login name is 40 characters long; at most 32 are allowed.');
  });

  it('names the bad character, printable or not', () => {
    assert.equal(
      validateLogin('al ice').message,
      "The login name contains U+0020; only letters A-Z and a-z, digits, '_', '.' and '-' are allowed.",
    );
    assert.equal(validateLogin('josé').code, 'login.invalidCharacter');
    assert.match(validateLogin('josé').message, /contains 'é' \(U\+00E9\);/);
    assert.match(validateLogin('a<b').message, /contains '<' \(U\+003C\);/);
    assert.match(validateLogin('😀').message, /'😀' \(U\+1F600\)/);
  });

  it('checks characters before length, like the server', () => {
    assert.equal(validateLogin(' '.repeat(40)).code, 'login.invalidCharacter');
  });
});

describe('validatePost', () => {
  it('trims and normalises line endings', () => {
    assert.deepEqual(validatePost('  hello\r\nworld\r!  \n'), { ok: true, text: 'hello\nworld\n!', proof: false, route: 'plain', body: 'hello\nworld\n!' });
    assert.equal(normalisePost('\u00a0\u2003x\u3000'), 'x');
  });

  it('refuses an empty post', () => {
    for (const text of ['', '   ', '\n\n', '\r\n']) {
      assert.deepEqual(validatePost(text), { ok: false, code: 'text.empty', message: 'The post is empty; write at least one character.' });
    }
  });

  it('refuses a !pow or !rpc post with nothing else', () => {
    assert.equal(validatePost('!pow').code, 'text.empty');
    assert.equal(validatePost('  !rpc ').code, 'text.empty');
  });

  it('marks posts that ask for a proof of work', () => {
    assert.deepEqual(validatePost('hard work !pow'), { ok: true, text: 'hard work !pow', proof: true, route: 'pow', body: 'hard work' });
    assert.equal(validatePost('via rpc!rpc').proof, true);
    assert.equal(validatePost('!pow is at the start').proof, false);
  });

  it('matches the proof suffix in any case, as the server does', () => {
    assert.equal(wantsProof('x !POW'), true);
    assert.deepEqual(validatePost('x !Rpc'), { ok: true, text: 'x !Rpc', proof: true, route: 'rpc', body: 'x' });
  });

  it('counts the length without the proof suffix, as the server does', () => {
    assert.equal(validatePost(`${'x'.repeat(2000)} !pow`).ok, true);
    assert.equal(validatePost(`${'x'.repeat(2001)} !pow`).code, 'text.tooLong');
  });

  it('counts grapheme clusters: 2000 emoji with skin tones pass, 2001 do not', () => {
    const wave = '👋🏽';
    assert.equal(countCharacters(wave), 1);
    assert.equal(countCharacters('👨‍👩‍👧‍👦e\u0301'), 2);
    assert.equal(validatePost(wave.repeat(2000)).ok, true);
    assert.deepEqual(validatePost(wave.repeat(2001)), {
      ok: false,
      code: 'text.tooLong',
      message: 'The post is 2001 characters long; at most 2000 are allowed.',
    });
  });

  it('refuses control characters other than newline, naming them', () => {
    assert.deepEqual(validatePost('a\tb'), {
      ok: false,
      code: 'text.controlCharacter',
      message: 'The post contains the control character U+0009; only newline is allowed.',
    });
    for (const c of ['\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u009f']) {
      assert.equal(validatePost(`a${c}b`).code, 'text.controlCharacter', `U+${c.charCodeAt(0).toString(16)}`);
    }
    assert.equal(validatePost('a\nb').ok, true);
  });

  it('accepts markup as plain text', () => {
    assert.deepEqual(validatePost('<img src=x onerror=alert(1)>'), {
      ok: true,
      text: '<img src=x onerror=alert(1)>',
      proof: false,
      route: 'plain',
      body: '<img src=x onerror=alert(1)>',
    });
  });

  it('describes characters without printing invisible ones', () => {
    assert.equal(describeCharacter('\n'), 'U+000A');
    assert.equal(describeCharacter('\u00a0'), 'U+00A0');
    assert.equal(describeCharacter('x'), "'x' (U+0078)");
  });
});
