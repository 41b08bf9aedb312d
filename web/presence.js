// Who is online in the open room: its members, and those of them with at least one tab connected
// (GET /api/rooms/{id}/members; the web role counts the consumers on each member's online queue,
// docs/design.md, presence). Kept live without asking for every change: a `presence` event naming
// one person who joined, or an `online` event "alice came online", marks them online at once; an
// `online` event "alice went offline" (the broker saw her last tab go) marks her offline at once;
// any other (a leave, a batch of "alice, bob and 47 others joined", which the login service
// gathers so a storm of sign-ins costs few events) asks again, but not sooner than `minGapMs`
// after the last ask; and the list is asked for every `refreshMs` while the room is open, which
// notices closed tabs where the broker sends no consumer events.
//
//   const presence = new RoomPresence({ api, clock, onChange: draw });
//   presence.open('ops');          // asks now
//   presence.presenceEvent(event); // a presence event arrived (they come in general)
//   presence.people()              // [{name, online}], online first

/** How often the open room's members are asked for anyway. */
export const PRESENCE_REFRESH_MS = 60_000;
/** The least time between two asks prompted by presence events. */
export const PRESENCE_MIN_GAP_MS = 10_000;

export class RoomPresence {
  /**
   * @param {{api: {members: (id: string) => Promise<{members: string[], online?: string[]}>},
   *   clock: {now: () => number, setTimeout: Function, clearTimeout: Function},
   *   onChange?: () => void, refreshMs?: number, minGapMs?: number, log?: {warn: Function}}} options
   */
  constructor({ api, clock, onChange = () => {}, refreshMs = PRESENCE_REFRESH_MS, minGapMs = PRESENCE_MIN_GAP_MS, log = console }) {
    Object.assign(this, { api, clock, onChange, refreshMs, minGapMs, log });
    this._timer = null;
    this.close();
  }

  /** Shows room `id` and asks for its members now. */
  open(id) {
    this.close();
    this.roomId = id;
    void this._ask();
  }

  /** Stops (logout, or before another room opens). */
  close() {
    if (this._timer !== null) this.clock.clearTimeout(this._timer);
    this._timer = null;
    this.roomId = null;
    this.members = [];
    /** @type {Set<string> | null} null: the server did not say who is online */
    this.online = null;
    this.error = '';
    this._lastAsk = -Infinity;
    this._generation = (this._generation ?? 0) + 1;
  }

  /**
   * A presence or online event arrived ("alice joined", "alice left", "alice came online",
   * "alice went offline", "alice, bob and 3 others joined").
   * @param {{from: string, text: string}} event
   */
  presenceEvent(event) {
    if (this.roomId === null) return;
    const from = event?.from;
    const came = event?.text === `${from} joined` || event?.text === `${from} came online`;
    const went = event?.kind === 'online' && event.text === `${from} went offline`;
    if (this.online && typeof from === 'string' && (came || went)) {
      if (!this.members.includes(from)) return; // not in this room: nothing to show
      if (this.online.has(from) !== came) {
        if (came) this.online.add(from);
        else this.online.delete(from);
        this.onChange();
      }
      return;
    }
    this._askSoon(Math.max(0, this._lastAsk + this.minGapMs - this.clock.now()));
  }

  /** The members, those online first, each by name. */
  people() {
    const online = this.online;
    const people = this.members.map((name) => ({ name, online: online?.has(name) ?? false }));
    return online ? [...people.filter((p) => p.online), ...people.filter((p) => !p.online)] : people;
  }

  async _ask() {
    const generation = this._generation;
    const id = this.roomId;
    this._lastAsk = this.clock.now();
    this._askSoon(this.refreshMs);
    let answer;
    try {
      answer = await this.api.members(id);
    } catch (error) {
      if (generation !== this._generation) return;
      this.error = error.message;
      this.onChange();
      return;
    }
    if (generation !== this._generation) return; // another room opened meanwhile
    this.error = '';
    this.members = Array.isArray(answer?.members) ? answer.members.filter((m) => typeof m === 'string') : [];
    this.online = Array.isArray(answer?.online) ? new Set(answer.online) : null;
    this.onChange();
  }

  /** Asks after `delayMs` unless an ask is due sooner. */
  _askSoon(delayMs) {
    const at = this.clock.now() + delayMs;
    if (this._timer !== null && this._timerAt <= at) return;
    if (this._timer !== null) this.clock.clearTimeout(this._timer);
    this._timerAt = at;
    this._timer = this.clock.setTimeout(() => {
      this._timer = null;
      void this._ask();
    }, delayMs);
  }
}
