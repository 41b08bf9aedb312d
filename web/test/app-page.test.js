// PageState (what the page shows, by named actions) and the Composer (the compose box's logic).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Composer, composeCount } from '../composer.js';
import { OUTBOX_LIMIT, Outbox } from '../outbox.js';
import { PageState, View } from '../page-state.js';
import { Room } from '../room.js';

describe('PageState', () => {
  it('tells its listener about every action, and hands one-shot effects out once', () => {
    const page = new PageState();
    let changes = 0;
    page.onChange(() => (changes += 1));
    page.showBanner('lost', true);
    page.loginFailed('The password is 5 characters long; use at least 8.', 'password');
    page.fillLoginName('alice');
    assert.equal(changes, 3);
    assert.deepEqual(page.banner, { text: 'lost', action: true });
    assert.equal(page.invalidField, 'password');
    assert.deepEqual(page.takeEffects(), [{ focus: 'login-password' }, { loginName: 'alice' }]);
    assert.deepEqual(page.takeEffects(), []);
    page.hideBanner();
    page.clearLoginError();
    assert.equal(page.banner, null);
    assert.deepEqual([page.loginError, page.invalidField], ['', null]);
  });

  it('shows a fatal error as its own view, disconnected', () => {
    const page = new PageState();
    page.showFatal('Could not load /config.json.');
    assert.equal(page.view, View.fatal);
    assert.equal(page.fatalText, 'Could not load /config.json.');
    assert.deepEqual(page.status, { kind: 'disconnected', text: 'Not connected' });
  });
});

describe('Composer', () => {
  function setup() {
    const room = new Room({ pendingLimit: OUTBOX_LIMIT });
    const page = new PageState();
    const outbox = new Outbox({ room, transport: { connected: false, send: async () => {} }, identity: () => ({ login: 'a', session: 's' }), newClientId: () => `c${room.pendingCount}` });
    return { room, page, composer: new Composer({ outbox, page }) };
  }

  it('posts valid text (suffix kept for the server) and clears the error and the counter', () => {
    const { room, page, composer } = setup();
    page.setComposeError('old');
    assert.equal(composer.submit('  hard work !POW '), true);
    assert.deepEqual(room.entries().map((e) => [e.pending.text, e.pending.proof]), [['hard work !POW', true]]);
    assert.equal(page.composeError, '');
    assert.deepEqual(page.composeCount, { text: '', over: false });
  });

  it('keeps the text and says why when the rules refuse it, or when the outbox is full', () => {
    const { page, composer } = setup();
    assert.equal(composer.submit('!rpc'), false);
    assert.equal(page.composeError, 'The post has nothing before "!rpc"; write the text to prove.');
    composer.typed('x');
    assert.equal(page.composeError, '');
    for (let i = 0; i < OUTBOX_LIMIT; i += 1) assert.equal(composer.submit(`p${i}`), true);
    assert.equal(composer.submit('one more'), false);
    assert.match(page.composeError, /100 posts are already waiting/);
  });

  it('counts as the server does: without the proof suffix, shown from 80 % of the limit', () => {
    assert.deepEqual(composeCount('x'.repeat(1600)), { text: '', over: false });
    assert.deepEqual(composeCount('x'.repeat(1601)), { text: '1601 / 2000', over: false });
    assert.deepEqual(composeCount(`${'x'.repeat(2000)} !pow`), { text: '2000 / 2000', over: false });
    assert.deepEqual(composeCount('x'.repeat(2001)), { text: '2001 / 2000', over: true });
  });
});
