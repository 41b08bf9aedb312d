// Test doubles for ChatSession: a STOMP client the test drives by hand, an Auth, a Storage.

import { StompError } from '../../stomp-errors.js';

/** A StompClient stand-in: records requests, sends and subscriptions; the test plays the broker. */
export class FakeStompClient {
  constructor() {
    this.state = 'disconnected';
    this.connected = false;
    this.active = false;
    this.suspended = false;
    this.requests = []; // {destination, body (parsed), headers, timeoutMs, resolve, reject}
    this.sends = []; // {destination, body (parsed), headers, resolve, reject}
    this.subscriptions = []; // {destination, handler, options, active}
    this.log = []; // activate, deactivate, suspend, resume
    this._listeners = { state: new Set(), error: new Set() };
    this._waiters = [];
  }

  on(type, listener) {
    this._listeners[type].add(listener);
    return () => this._listeners[type].delete(listener);
  }

  activate() {
    this.active = true;
    this.log.push('activate');
  }

  deactivate() {
    this.active = false;
    this.log.push('deactivate');
    this.connected = false;
    this._settle(new StompError('deactivated', 'the client was deactivated'));
    this._state('disconnected');
    return Promise.resolve();
  }

  suspend() {
    this.suspended = true;
    this.log.push('suspend');
    this.connected = false;
    this._state('disconnected');
  }

  resume() {
    this.suspended = false;
    this.log.push('resume');
  }

  whenConnected({ timeoutMs } = {}) {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => this._waiters.push({ resolve, reject, timeoutMs }));
  }

  request(destination, body, { timeoutMs, headers } = {}) {
    if (!this.connected) return Promise.reject(new StompError('not-connected', 'not connected'));
    return new Promise((resolve, reject) => this.requests.push({ destination, body: JSON.parse(body), headers, timeoutMs, resolve, reject }));
  }

  send(destination, body, headers) {
    if (!this.connected) return Promise.reject(new StompError('not-connected', 'not connected'));
    return new Promise((resolve, reject) => {
      const entry = { destination, body: JSON.parse(body), headers, settled: false };
      entry.resolve = (value) => ((entry.settled = true), resolve(value));
      entry.reject = (error) => ((entry.settled = true), reject(error));
      this.sends.push(entry);
    });
  }

  subscribe(destination, handler, options) {
    const sub = { destination, handler, options, active: true };
    sub.unsubscribe = () => (sub.active = false);
    this.subscriptions.push(sub);
    return sub;
  }

  // ---- the test's side ----

  /** CONNECTED: the state event, then whoever waited for it. */
  connect() {
    this.connected = true;
    this._state('connected');
    this._settle();
  }

  /** The connection drops; the client will reconnect. */
  drop() {
    this.connected = false;
    for (const s of this.sends) if (!s.settled) s.reject(new StompError('connection-lost', 'socket closed'));
    this._state('reconnecting', { delayMs: 700, attempt: 1 });
  }

  /** The broker refuses the CONNECT. */
  refuse(message = 'Bad CONNECT') {
    const error = new StompError('auth-failed', `connection refused: ${message}`);
    this.active = false;
    this._settle(error);
    this._state('auth-failed', { error });
  }

  /** Gives up waiting for a connection, as whenConnected's timer would. */
  timeOut() {
    this._settle(new StompError('connect-timeout', 'not connected within 15000 ms'));
  }

  /** Answers the oldest open request with a reply body. */
  reply(value) {
    const request = this.requests.shift();
    request.resolve({ body: JSON.stringify(value) });
    return request;
  }

  /** The live subscription (the last one made and not unsubscribed). */
  get subscription() {
    return this.subscriptions.filter((s) => s.active).at(-1);
  }

  /** Delivers a MESSAGE to the live subscription; returns the message, with its ACK count. */
  deliver(value) {
    const message = { body: JSON.stringify(value), acks: 0 };
    message.ack = () => {
      message.acks += 1;
      return true;
    };
    this.subscription.handler(message);
    return message;
  }

  _state(state, detail = {}) {
    this.state = state;
    for (const listener of this._listeners.state) listener({ state, ...detail });
  }

  _settle(error) {
    for (const waiter of this._waiters.splice(0)) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }
}

/** An Auth stand-in: signs anyone in whose password is not 'wrong password'. */
export class FakeAuth {
  constructor({ resumes = null } = {}) {
    this.name = null;
    this.resumes = resumes; // the name a reload resumes, or null
    this.calls = [];
  }

  get signedIn() {
    return this.name !== null;
  }

  async resume() {
    this.calls.push('resume');
    this.name = this.resumes;
    return this.name;
  }

  async login(name, password) {
    this.calls.push(`login ${name}`);
    if (password === 'wrong password') throw new Error('The name or the password is wrong.');
    this.name = name;
    return name;
  }

  async register(name, password) {
    this.calls.push(`register ${name}`);
    return this.login(name, password);
  }

  async logout() {
    this.calls.push('logout');
    this.name = null;
  }

  async refresh() {
    this.calls.push('refresh');
  }

  async freshToken() {
    return 'token';
  }
}

/** sessionStorage in memory. */
export class MemoryStorage {
  constructor() {
    this.map = new Map();
  }

  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }

  setItem(key, value) {
    this.map.set(key, String(value));
  }

  removeItem(key) {
    this.map.delete(key);
  }
}
