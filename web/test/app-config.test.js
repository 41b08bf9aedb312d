import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { destinations, loadConfig, parseConfig } from '../config.js';

const good = { stompURL: 'ws://127.0.0.1:15674/ws', vhost: 'warren', prefix: 'chat', powBits: 24 };
const respond = (status, body) => async () => ({ ok: status >= 200 && status < 300, status, statusText: status === 404 ? 'Not Found' : 'OK', json: async () => JSON.parse(body) });

describe('config', () => {
  it('reads the web server\'s /config.json', async () => {
    assert.deepEqual(await loadConfig(respond(200, JSON.stringify(good))), { ...good, stompURLs: [good.stompURL] });
  });

  it('reads every node of a cluster, and checks each', () => {
    const nodes = ['ws://127.0.0.1:15701/ws', 'ws://127.0.0.1:15702/ws', 'wss://c.example/ws'];
    assert.deepEqual(parseConfig({ ...good, stompURL: nodes[0], stompURLs: nodes }).stompURLs, nodes);
    assert.throws(() => parseConfig({ ...good, stompURLs: [] }), /stompURLs/);
    assert.throws(() => parseConfig({ ...good, stompURLs: 'ws://a/ws' }), /stompURLs/);
    assert.throws(() => parseConfig({ ...good, stompURLs: ['ws://a/ws', 'http://b/'] }), /ws:\/\/ or wss:\/\//);
  });

  it('explains a missing config (a static file server)', async () => {
    await assert.rejects(loadConfig(respond(404, 'x')), { message: 'Could not load /config.json: the server answered 404 Not Found.' });
    await assert.rejects(loadConfig(async () => { throw new TypeError('Failed to fetch'); }), { message: 'Could not load /config.json: Failed to fetch.' });
    await assert.rejects(loadConfig(respond(200, '<html>')), { message: '/config.json is not valid JSON.' });
  });

  it('names a missing or wrong field', async () => {
    await assert.rejects(loadConfig(respond(200, JSON.stringify({ ...good, stompURL: undefined }))), /"stompURL" is missing/);
    assert.throws(() => parseConfig({ ...good, stompURL: 'http://x' }), /ws:\/\/ or wss:\/\//);
    assert.throws(() => parseConfig({ ...good, prefix: 'a b' }), /prefix/);
    assert.throws(() => parseConfig({ ...good, powBits: 0 }), /powBits/);
    assert.equal(parseConfig({ ...good, powBits: undefined }).powBits, 24);
  });

  it('reads the stream general comes from, when the deployment has one, and checks its name', () => {
    assert.equal(parseConfig({ ...good, generalStream: 'chat.stream.general' }).generalStream, 'chat.stream.general');
    assert.equal('generalStream' in parseConfig(good), false, 'absent: general comes through the tab queue');
    for (const bad of ['', 'chat stream', 'chat..general', '.general', 'chat/general', 42, null]) {
      assert.throws(() => parseConfig({ ...good, generalStream: bad }), /^Error: "generalStream" .* is not a queue name$/, JSON.stringify(bad));
    }
  });

  it('keeps no credentials an older server still sends', () => {
    assert.deepEqual(parseConfig({ ...good, login: 'browser', passcode: 'browser' }), { ...good, stompURLs: [good.stompURL] });
  });

  it('builds the destinations from the prefix', () => {
    const dest = destinations('chat');
    assert.equal(dest.login, '/exchange/chat.in/chat.login');
    assert.equal(dest.inbox, '/exchange/chat.in/chat.inbox');
    assert.equal(dest.queue('chat.user.alice.S'), '/amq/queue/chat.user.alice.S');
  });
});
