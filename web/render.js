// Draws Room entries as DOM elements. Every piece of text goes in with textContent; nothing is
// parsed as HTML. Elements are kept per entry key and rebuilt only when the entry's rev changes.

import { formatDuration, formatFullTime, formatRate, formatTime, shortHash } from './format.js';

/**
 * Creates an element with classes and optional text.
 * @param {Document} doc
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElement}
 */
export function el(doc, tag, className, text) {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const PENDING_LABELS = {
  queued: 'Waiting for the connection…',
  sending: 'Sending…',
  sent: 'Sent',
  failed: 'Not sent',
  refused: 'Refused',
};

/** How each proof path is named beside a proof (`via`): the job queue, RPC over the broker, a direct gRPC call. */
const VIA_NAMES = { queue: 'job queue', rpc: 'RPC', grpc: 'gRPC' };
const KIND_LABELS = { reply: 'reply', proof: 'proof of work', system: 'system', presence: 'presence', error: 'error' };

/**
 * Keeps a list element in step with the room's entries, after its leading `data-fixed` lines.
 * @param {HTMLElement} list the <ol>
 * @param {import('./room.js').Entry[]} entries
 * @param {Map<string, {rev: number, node: HTMLElement}>} cache kept between calls
 * @param {{now?: Date}} [options]
 */
export function syncList(list, entries, cache, options = {}) {
  const doc = list.ownerDocument;
  const keep = new Set();
  let cursor = list.firstElementChild;
  // Lines marked data-fixed (the history status line) stay first and are not entries.
  while (cursor?.dataset.fixed !== undefined) cursor = cursor.nextElementSibling;
  for (const entry of entries) {
    keep.add(entry.key);
    let cached = cache.get(entry.key);
    if (!cached || cached.rev !== entry.rev) {
      const node = renderEntry(doc, entry, options);
      if (cached) cached.node.replaceWith(node);
      if (cursor === cached?.node) cursor = node;
      cached = { rev: entry.rev, node };
      cache.set(entry.key, cached);
    }
    if (cached.node !== cursor) list.insertBefore(cached.node, cursor);
    else cursor = cursor.nextElementSibling;
  }
  for (const [key, cached] of cache) {
    if (!keep.has(key)) {
      cached.node.remove();
      cache.delete(key);
    }
  }
}

/**
 * One entry as an <li>.
 * @param {Document} doc
 * @param {import('./room.js').Entry} entry
 * @param {{now?: Date}} [options]
 * @returns {HTMLElement}
 */
export function renderEntry(doc, entry, options = {}) {
  if (entry.pending) return renderPending(doc, entry);
  const event = entry.event;
  const known = event.kind === 'message' || Object.hasOwn(KIND_LABELS, event.kind);
  const kind = known ? event.kind : 'system'; // a kind this page does not know shows as a plain line
  const item = el(doc, 'li', `entry kind-${kind}${entry.own ? ' own' : ''}${entry.orphan ? ' orphan' : ''}`);
  item.dataset.key = entry.key;
  if (kind === 'system' || kind === 'presence' || kind === 'error') {
    const line = el(doc, 'p', 'line');
    if (kind === 'error') line.append(el(doc, 'strong', 'line-label', 'Error: '));
    line.append(el(doc, 'span', 'text', event.text));
    line.append(doc.createTextNode(' '));
    line.append(meta(doc, event, options, { author: kind === 'system' }));
    item.append(line);
    return item;
  }
  item.append(meta(doc, event, options, { author: true, own: entry.own }));
  if (entry.orphan) item.append(el(doc, 'p', 'note', 'in reply to a post that is not shown'));
  item.append(el(doc, 'p', 'text', event.text));
  if (event.proof) item.append(renderProof(doc, event.proof, entry.proofCheck));
  appendErrors(doc, item, entry.errors);
  if (entry.replies.length > 0) {
    const replies = el(doc, 'ol', 'replies');
    replies.setAttribute('aria-label', `Replies to ${event.from}`);
    for (const reply of entry.replies) replies.append(renderReply(doc, reply, options));
    item.append(replies);
  }
  return item;
}

function renderReply(doc, reply, options) {
  const event = reply.event;
  const item = el(doc, 'li', `reply${reply.own ? ' own' : ''}`);
  item.dataset.key = reply.key;
  item.append(meta(doc, event, options, { author: true, own: reply.own }));
  item.append(el(doc, 'p', 'text', event.text));
  if (event.proof) item.append(renderProof(doc, event.proof, reply.proofCheck));
  return item;
}

function renderPending(doc, entry) {
  const { clientId, text, at, proof, status, error } = entry.pending;
  const working = proof && status === 'sent';
  const item = el(doc, 'li', `entry kind-message own pending status-${status}${working ? ' working' : ''}`);
  item.dataset.key = entry.key;
  item.dataset.clientId = clientId;
  const head = el(doc, 'div', 'meta');
  head.append(el(doc, 'span', 'author', 'you'));
  head.append(timeElement(doc, at));
  item.append(head);
  item.append(el(doc, 'p', 'text', text));
  const state = el(doc, 'p', 'pending-status');
  if (working || status === 'sending' || status === 'queued') {
    const spinner = el(doc, 'span', 'spinner');
    spinner.setAttribute('aria-hidden', 'true');
    state.append(spinner);
  }
  const label = working ? 'Working on proof of work…' : PENDING_LABELS[status] ?? status;
  state.append(el(doc, 'span', 'pending-label', error ? `${label}: ${error}` : label));
  item.append(state);
  if (status === 'failed' || status === 'refused') {
    const actions = el(doc, 'div', 'actions');
    if (status === 'failed') actions.append(actionButton(doc, 'retry', clientId, 'Retry'));
    actions.append(actionButton(doc, 'dismiss', clientId, 'Dismiss'));
    item.append(actions);
  }
  return item;
}

function actionButton(doc, action, clientId, label) {
  const button = el(doc, 'button', `small ${action}`, label);
  button.type = 'button';
  button.dataset.action = action;
  button.dataset.clientId = clientId;
  return button;
}

function meta(doc, event, options, { author, own = false }) {
  const head = el(doc, 'span', 'meta');
  if (author) head.append(el(doc, 'span', 'author', own ? `${event.from} (you)` : event.from));
  const kindLabel = KIND_LABELS[event.kind];
  if (kindLabel && event.kind !== 'system' && event.kind !== 'presence' && event.kind !== 'error') {
    head.append(el(doc, 'span', 'badge', kindLabel));
  }
  head.append(timeElement(doc, event.at, options));
  return head;
}

function timeElement(doc, at, options = {}) {
  const time = el(doc, 'time', 'time', formatTime(at, { now: options.now }));
  if (at) {
    time.dateTime = at;
    time.title = formatFullTime(at);
  }
  return time;
}

const CHECK_LABELS = {
  checking: 'checking proof…',
  verified: '✓ proof verified',
  invalid: '⚠ invalid proof',
  unavailable: 'proof not checked',
};

function renderProof(doc, proof, check = { status: 'checking' }) {
  const box = el(doc, 'div', `proof check-${check.status}`);
  const status = el(doc, 'p', 'proof-status', CHECK_LABELS[check.status] ?? check.status);
  if (check.reason) status.append(el(doc, 'span', 'proof-reason', ` — ${check.reason}`));
  box.append(status);
  const facts = el(doc, 'dl', 'proof-facts');
  const fact = (name, value) => {
    const pair = el(doc, 'div', 'fact');
    pair.append(el(doc, 'dt', '', name), el(doc, 'dd', '', String(value)));
    facts.append(pair);
  };
  fact('bits', proof.bits);
  fact('nonce', proof.nonce);
  const hash = el(doc, 'div', 'fact');
  const hashValue = el(doc, 'dd', 'hash', shortHash(proof.hash));
  if (typeof proof.hash === 'string') hashValue.title = proof.hash;
  hash.append(el(doc, 'dt', '', 'hash'), hashValue);
  facts.append(hash);
  fact('time', formatDuration(proof.elapsedMs));
  fact('rate', formatRate(proof.hashesPerSecond));
  fact('via', VIA_NAMES[proof.via] ?? String(proof.via ?? '?'));
  box.append(facts);
  return box;
}

function appendErrors(doc, item, errors) {
  for (const error of errors) item.append(el(doc, 'p', 'entry-error', `Error: ${error.text}`));
}
