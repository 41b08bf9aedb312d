// The rooms REST API as the page uses it (docs/api.md, rooms and direct messages), with the signed-in
// person's token. Every call resolves to the answer's JSON, or throws an Error whose message a
// person can read (the server's refusal, e.g. "You are not a member of ops; join it first.") and
// whose `code` is the refusal's code (`room.notMember`, `room.nameInvalidCharacter`, …).

const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json', accept: 'application/json' });

/** The path of a room's resource: `/api/rooms/<id>/<what>`. */
export function roomPath(id, what) {
  return `/api/rooms/${encodeURIComponent(id)}/${what}`;
}

/** The URL of a page of a room's history: the latest events, or those just before `before`. */
export function roomHistoryURL(id, before, limit) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before) query.set('before', before);
  return `${roomPath(id, 'history')}?${query}`;
}

export class RoomsAPI {
  /** @param {{fetch: typeof fetch}} options a fetch that adds the access token */
  constructor({ fetch: fetchFn }) {
    this.fetch = fetchFn;
  }

  /** GET /api/rooms: `{rooms, publicRooms}`. */
  list() {
    return this._call('GET', '/api/rooms');
  }

  /** Makes a room; resolves to the room. */
  async create(name, visibility) {
    return (await this._call('POST', '/api/rooms', { name, visibility })).room;
  }

  async join(id) {
    return (await this._call('POST', roomPath(id, 'join'))).room;
  }

  async leave(id) {
    return (await this._call('POST', roomPath(id, 'leave'))).room;
  }

  async invite(id, name) {
    return (await this._call('POST', roomPath(id, 'invite'), { name })).room;
  }

  /** The direct-message room with `name`, made on first use. */
  async direct(name) {
    return (await this._call('POST', '/api/dm', { name })).room;
  }

  /** Moves the read position of room `id` forward to event `eventId`. */
  read(id, eventId) {
    return this._call('POST', roomPath(id, 'read'), { id: eventId });
  }

  /** `{members: [...], online?: [...]}` of room `id`. */
  members(id) {
    return this._call('GET', roomPath(id, 'members'));
  }

  async _call(method, url, body) {
    let response;
    try {
      response = await this.fetch(url, {
        method,
        headers: JSON_HEADERS,
        cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new Error(`The web server could not be reached (${error.message}).`);
    }
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      // not JSON: described below
    }
    if (!response.ok || answer?.ok !== true) {
      const error = new Error(typeof answer?.error === 'string' ? answer.error : `The web server answered ${response.status}.`);
      error.code = typeof answer?.code === 'string' ? answer.code : `http.${response.status}`;
      throw error;
    }
    return answer;
  }
}
