// Looking back: earlier events when the room list is scrolled to its top (GET /api/history) and a
// search panel (GET /api/search: every room the person belongs to). The web server answers both through the history service.
// HistoryLoader is the logic (no DOM); attachHistory and attachSearch wire it to the page. Every
// piece of text goes in with textContent.
//
//   const history = attachHistory({ list, room, receive: (e) => feed.receive(e), render });
//   history.reset();                                         // on logout
//   attachSearch({ form, input, panel, title, results, close });

import { el } from './render.js';
import { formatFullTime, formatTime } from './format.js';
import { rules } from './validate.js';

/** Events asked for per page of history. */
export const HISTORY_PAGE = 50;
/** Results asked for per search. */
export const SEARCH_LIMIT = 20;

/** What the loader is doing: idle (more may be there), loading, done (none left), failed, full. */
export const HistoryStatus = Object.freeze({
  idle: 'idle',
  loading: 'loading',
  done: 'done',
  failed: 'failed',
  full: 'full',
});

/** The URL of a page of history: the latest events, or those just before `before`. */
export function historyURL(before, limit = HISTORY_PAGE) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before) query.set('before', before);
  return `/api/history?${query}`;
}

/** The URL of a search (spaces as %20: the server does not read `+` as a space). */
export function searchURL(text, limit = SEARCH_LIMIT) {
  return `/api/search?q=${encodeURIComponent(text)}&limit=${encodeURIComponent(String(limit))}`;
}

/**
 * GETs a list of events: `{ok: true, events: [...]}`; anything else throws an Error whose message
 * a person can read (the server's refusal when it sent one).
 * @param {typeof fetch} fetchFn
 * @param {string} url
 * @returns {Promise<object[]>}
 */
export async function fetchEvents(fetchFn, url) {
  let response;
  try {
    response = await fetchFn(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
  } catch (error) {
    throw new Error(`the web server could not be reached (${error.message})`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: described below
  }
  if (!response.ok || !body?.ok) {
    throw new Error(typeof body?.error === 'string' ? body.error : `the web server answered ${response.status}`);
  }
  if (!Array.isArray(body.events)) throw new Error('the web server sent no list of events');
  return body.events;
}

/** Loads pages of earlier events into a Room, one page at a time, until none are left. */
export class HistoryLoader {
  /**
   * @param {{room: import('./room.js').Room, receive: (event: object) => {accepted: boolean},
   *   fetch: typeof fetch, pageSize?: number, url?: (before: string | undefined, limit: number) => string}} options
   *   `receive` takes one event in as a live one is (RoomFeed.receive: de-duplicated, proof
   *   checked); `url` names a page of history (default: general's, /api/history)
   */
  constructor({ room, receive, fetch: fetchFn, pageSize = HISTORY_PAGE, url = historyURL }) {
    if (typeof receive !== 'function') throw new TypeError('a HistoryLoader needs receive(event), which checks proofs');
    this.room = room;
    this.receive = receive;
    this.fetch = fetchFn;
    this.pageSize = pageSize;
    this.url = url;
    this.reset();
  }

  /** Forgets what was loaded (on logout). */
  reset() {
    this.status = HistoryStatus.idle;
    this.error = '';
    this._generation = (this._generation ?? 0) + 1;
  }

  /** Whether another page may be asked for now. */
  get canLoad() {
    return this.status === HistoryStatus.idle || this.status === HistoryStatus.failed;
  }

  /**
   * Asks for the page just before the oldest event shown (the latest page when none is shown)
   * and puts it in the room, which drops what it already shows.
   * @returns {Promise<number>} how many events were new to the room
   */
  async loadEarlier() {
    if (!this.canLoad) return 0;
    // The room keeps `limit` events and drops the oldest: a page that would not fit is not asked for.
    if (this.room.size + this.pageSize > this.room.limit) {
      this.status = HistoryStatus.full;
      return 0;
    }
    const generation = this._generation;
    this.status = HistoryStatus.loading;
    this.error = '';
    let events;
    try {
      events = await fetchEvents(this.fetch, this.url(this.room.oldestId, this.pageSize));
    } catch (error) {
      if (generation === this._generation) {
        this.status = HistoryStatus.failed;
        this.error = error.message;
      }
      return 0;
    }
    if (generation !== this._generation) return 0; // logged out meanwhile
    let added = 0;
    for (const event of events) if (this.receive(event).accepted) added += 1;
    this.status = events.length < this.pageSize ? HistoryStatus.done : HistoryStatus.idle;
    return added;
  }

  /** The line shown at the top of the room list, or '' for none. */
  get statusText() {
    switch (this.status) {
      case HistoryStatus.loading: return 'Loading earlier messages…';
      case HistoryStatus.done: return 'Beginning of the room';
      case HistoryStatus.failed: return `Could not load earlier messages: ${this.error} Scroll up to try again.`;
      case HistoryStatus.full: return 'Earlier messages are not kept on this page.';
      default: return '';
    }
  }
}

/** How close to the top (px) the list must be for earlier events to load. */
const NEAR_TOP = 40;

/**
 * Loads earlier events whenever the room list is scrolled (or sits) at its top, keeping what the
 * person was looking at in place, and shows the loader's status in a fixed first line of the list.
 * @param {{list: HTMLElement, room: import('./room.js').Room, receive: (event: object) => {accepted: boolean},
 *   render: () => void, fetch?: typeof fetch, url?: (before: string | undefined, limit: number) => string}} options
 *   `receive` takes an event in (RoomFeed.receive); `render` draws the room at once (syncList);
 *   `url` names a page of history
 * @returns {{check: () => void, reset: () => void, switchTo: (room: import('./room.js').Room,
 *   url: (before: string | undefined, limit: number) => string) => void, loader: HistoryLoader}}
 */
export function attachHistory({ list, room, receive, render, url, fetch: fetchFn = globalThis.fetch.bind(globalThis) }) {
  const loader = new HistoryLoader({ room, receive, fetch: fetchFn, url });
  const line = el(list.ownerDocument, 'li', 'history-status');
  line.dataset.fixed = '';
  line.setAttribute('role', 'status');
  list.prepend(line);

  const show = () => {
    line.textContent = loader.statusText;
    line.hidden = line.textContent === '';
  };

  const check = async () => {
    if (list.hidden || list.offsetParent === null || list.scrollTop > NEAR_TOP || !loader.canLoad) return;
    const fromBottom = list.scrollHeight - list.scrollTop;
    const loading = loader.loadEarlier();
    show();
    const added = await loading;
    show();
    if (added > 0) {
      render();
      list.scrollTop = list.scrollHeight - fromBottom; // the lines shown before stay where they were
    }
    // A short room does not scroll: keep going while the top is in view.
    if (added > 0 && loader.status === HistoryStatus.idle) requestAnimationFrame(() => check());
  };

  list.addEventListener('scroll', () => check());
  show();
  return {
    check: () => void check(),
    reset: () => {
      loader.reset();
      if (!list.contains(line)) list.prepend(line);
      show();
    },
    // Another room opened: its own history, from its oldest event shown.
    switchTo: (nextRoom, nextURL) => {
      loader.room = nextRoom;
      loader.url = nextURL;
      loader.reset();
      if (!list.contains(line)) list.prepend(line);
      show();
    },
    loader,
  };
}

/**
 * Wires the search form to its results panel: Enter searches (every room the person belongs to;
 * the server decides which), Escape or the close button closes. `roomName` names a result's room.
 * @param {{form: HTMLFormElement, input: HTMLInputElement, panel: HTMLElement, title: HTMLElement,
 *   results: HTMLElement, close: HTMLElement, fetch?: typeof fetch, roomName?: (id: string) => string}} parts
 */
export function attachSearch({ form, input, panel, title, results, close, fetch: fetchFn = globalThis.fetch.bind(globalThis), roomName = (id) => id }) {
  const doc = form.ownerDocument;
  let asked = 0;

  const hide = () => {
    asked += 1; // an answer still on its way is not shown
    panel.hidden = true;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text === '') {
      hide();
      return;
    }
    const mine = ++asked;
    panel.hidden = false;
    title.textContent = `Searching for “${text}”…`;
    results.replaceChildren();
    let events;
    try {
      events = await fetchEvents(fetchFn, searchURL(text));
    } catch (error) {
      if (mine === asked) title.textContent = `The search failed: ${error.message}`;
      return;
    }
    if (mine !== asked) return;
    title.textContent = events.length === 0 ? `Nothing found for “${text}”` : `Found for “${text}” (newest first)`;
    results.replaceChildren(...events.map((found) => renderResult(doc, found, roomName)));
  });
  close.addEventListener('click', hide);
  doc.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !panel.hidden) {
      hide();
      input.focus();
    }
  });
}

/** One search result as an <li>: who, when, in which room, what (text only). */
export function renderResult(doc, found, roomName = (id) => id) {
  const item = el(doc, 'li', 'result');
  const head = el(doc, 'p', 'meta');
  head.append(el(doc, 'span', 'author', String(found?.from ?? '')));
  const at = typeof found?.at === 'string' ? found.at : '';
  const time = el(doc, 'time', 'at', at ? formatTime(at) : '');
  if (at) {
    time.dateTime = at;
    time.title = formatFullTime(at);
  }
  head.append(' ', time, ' ', el(doc, 'span', 'room', `in ${roomName(typeof found?.room === 'string' ? found.room : rules.generalRoom)}`));
  item.append(head, el(doc, 'p', 'text', String(found?.text ?? '')));
  return item;
}
