// Reads /config.json, which the warren web server writes from its environment. It holds no
// credentials: each person signs in to the broker with their name and access token (auth.js).

/** A queue name, or a prefix of one: dot-separated words of letters, digits, `_` and `-`. */
const QUEUE_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Checks the configuration's shape.
 * @param {unknown} value parsed JSON
 * @returns {{stompURL: string, stompURLs: string[], vhost: string, prefix: string, powBits: number, generalStream?: string}}
 *   `stompURLs` lists every broker node's Web-STOMP endpoint (just `stompURL` when absent);
 *   `generalStream` names the stream queue general is read from, in a deployment that has one
 *   (docs/design.md, the page): absent, general comes through the tab queue like every room
 * @throws {Error} naming the field that is missing or wrong
 */
export function parseConfig(value) {
  if (!value || typeof value !== 'object') throw new Error('it is not a JSON object');
  const config = {};
  for (const key of ['stompURL', 'vhost', 'prefix']) {
    if (typeof value[key] !== 'string') throw new Error(`"${key}" is missing or not a string`);
    config[key] = value[key];
  }
  const urls = value.stompURLs ?? [config.stompURL];
  if (!Array.isArray(urls) || urls.length === 0) throw new Error('"stompURLs" must be a non-empty list of URLs');
  for (const url of [config.stompURL, ...urls]) {
    if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) throw new Error(`"stompURL" must be a ws:// or wss:// URL, not ${JSON.stringify(url)}`);
  }
  config.stompURLs = [...urls];
  if (!QUEUE_NAME.test(config.prefix)) throw new Error(`"prefix" ${JSON.stringify(config.prefix)} is not a queue name prefix`);
  const bits = value.powBits ?? 24;
  if (!Number.isInteger(bits) || bits < 1 || bits > 64) throw new Error('"powBits" must be a whole number from 1 to 64');
  config.powBits = bits;
  if (value.generalStream !== undefined) {
    if (typeof value.generalStream !== 'string' || !QUEUE_NAME.test(value.generalStream)) {
      throw new Error(`"generalStream" ${JSON.stringify(value.generalStream)} is not a queue name`);
    }
    config.generalStream = value.generalStream;
  }
  return config;
}

/**
 * Fetches and checks the configuration.
 * @param {typeof fetch} [fetchImpl]
 * @param {string} [url]
 * @returns {Promise<ReturnType<typeof parseConfig>>}
 * @throws {Error} with a message fit for the page
 */
export async function loadConfig(fetchImpl = globalThis.fetch, url = '/config.json') {
  let response;
  try {
    response = await fetchImpl(url, { cache: 'no-store', headers: { accept: 'application/json' } });
  } catch (cause) {
    throw new Error(`Could not load ${url}: ${cause?.message ?? cause}.`);
  }
  if (!response.ok) throw new Error(`Could not load ${url}: the server answered ${response.status} ${response.statusText ?? ''}`.trim() + '.');
  let value;
  try {
    value = await response.json();
  } catch {
    throw new Error(`${url} is not valid JSON.`);
  }
  try {
    return parseConfig(value);
  } catch (error) {
    throw new Error(`${url} is not usable: ${error.message}.`);
  }
}

/**
 * The destinations the page uses, from the prefix.
 * @param {string} prefix
 */
export function destinations(prefix) {
  return {
    login: `/exchange/${prefix}.in/${prefix}.login`,
    inbox: `/exchange/${prefix}.in/${prefix}.inbox`,
    queue: (name) => `/amq/queue/${name}`,
  };
}
