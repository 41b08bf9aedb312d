// What the page shows besides the room list, in one place with named actions: which view, the
// connection status, the banner, the sign-in form's messages and the compose box's. No DOM:
// app.js draws it (renderPage) whenever it changes, and the controllers only call actions, so
// they are tested without a browser.
//
//   const page = new PageState();
//   page.onChange(() => renderPage(page));
//   page.showBanner('The connection to the chat was lost…');

/** The views: one is shown at a time. */
export const View = Object.freeze({ loading: 'loading', fatal: 'fatal', login: 'login', room: 'room' });

export class PageState {
  constructor() {
    this.view = View.loading;
    this.fatalText = '';
    this.status = { kind: 'connecting', text: 'Starting…' };
    /** @type {{text: string, action: boolean} | null} */
    this.banner = null;
    /** The sign-in buttons' busy label ('Signing in…'), or null when they are usable. */
    this.busy = null;
    this.loginError = '';
    /** The sign-in field the error is about ('name' or 'password'), or null. */
    this.invalidField = null;
    this.notice = '';
    /** Who is signed in, shown in the header. */
    this.me = '';
    /** A logout is under way (its button is disabled). */
    this.leaving = false;
    this.composeError = '';
    /** The sidebar's last word: what an action did, or why the server refused it. */
    this.roomsMessage = { text: '', error: false };
    this.composeCount = { text: '', over: false };
    this._effects = []; // one-shot orders for the DOM: focus a field, fill in the name
    this._listeners = new Set();
  }

  /** @param {() => void} listener called after every action @returns {() => void} removes it */
  onChange(listener) {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  showView(view) {
    this.view = view;
    this._changed();
  }

  /** The page cannot start: says why, with a button to try again. */
  showFatal(text) {
    this.fatalText = text;
    this.status = { kind: 'disconnected', text: 'Not connected' };
    this.view = View.fatal;
    this._changed();
  }

  setStatus(kind, text) {
    this.status = { kind, text };
    this._changed();
  }

  /** @param {string} text @param {boolean} [action] with a "Try again" button */
  showBanner(text, action = false) {
    this.banner = { text, action };
    this._changed();
  }

  hideBanner() {
    this.banner = null;
    this._changed();
  }

  /** @param {string | null} label the pressed button's label while busy, null when done */
  setBusy(label) {
    this.busy = label;
    this._changed();
  }

  /** @param {string} message @param {'name' | 'password' | null} [field] the field to mark and focus */
  loginFailed(message, field = null) {
    this.loginError = message;
    this.invalidField = field;
    if (field) this._effects.push({ focus: field === 'name' ? 'login-name' : 'login-password' });
    this._changed();
  }

  clearLoginError() {
    this.loginError = '';
    this.invalidField = null;
    this._changed();
  }

  showNotice(text) {
    this.notice = text ?? '';
    this._changed();
  }

  setMe(name) {
    this.me = name;
    this._changed();
  }

  setLeaving(leaving) {
    this.leaving = leaving;
    this._changed();
  }

  setComposeError(text) {
    this.composeError = text;
    this._changed();
  }

  /** @param {string} text '' for none @param {boolean} [error] a refusal (shown as an alert) */
  setRoomsMessage(text, error = false) {
    this.roomsMessage = { text, error };
    this._changed();
  }

  /** @param {{text: string, over: boolean}} count */
  setComposeCount(count) {
    this.composeCount = count;
    this._changed();
  }

  /** Asks for the keyboard focus on an element (by id) at the next drawing. */
  focus(id) {
    this._effects.push({ focus: id });
    this._changed();
  }

  /** Puts a name in the sign-in form's name field at the next drawing. */
  fillLoginName(name) {
    this._effects.push({ loginName: name });
    this._changed();
  }

  /** The one-shot orders since the last call, for the drawing to carry out. */
  takeEffects() {
    return this._effects.splice(0);
  }

  _changed() {
    for (const listener of [...this._listeners]) listener();
  }
}
