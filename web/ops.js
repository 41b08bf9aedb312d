// The operator's page (/ops): who is signed in (the chat's sign-in, through the refresh cookie,
// or this page's form), then the overview of GET /api/ops every few seconds (ops-view.js).
// Everything is drawn with textContent: a dead letter's payload is someone's text.

import { Auth } from './auth.js';
import { OpsPoller, overviewRows } from './ops-view.js';

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('ops-status'),
  form: $('ops-login-form'),
  name: $('ops-login-name'),
  password: $('ops-login-password'),
  loginError: $('ops-login-error'),
  message: $('ops-message'),
  board: $('ops-board'),
  summary: $('ops-summary'),
  roles: $('ops-roles'),
  queues: $('ops-queues'),
  dead: $('ops-dead'),
  deadSummary: $('ops-dead-summary'),
};

const auth = new Auth({ onEnded: (message) => signIn(message) });
const poller = new OpsPoller({
  token: () => auth.freshToken(),
  fetch: (url, init) => fetch(url, init),
  onUpdate: (update) => show(update),
});

function fillTable(table, rows) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows.map((cells) => {
    const row = document.createElement('tr');
    row.append(...cells.map((text) => {
      const cell = document.createElement('td');
      cell.textContent = text;
      return cell;
    }));
    return row;
  }));
}

function say(message) {
  ui.message.textContent = message ?? '';
  ui.message.hidden = !message;
}

function show(update) {
  if (update.kind === 'overview') {
    const view = overviewRows(update.overview);
    ui.board.hidden = false;
    ui.summary.textContent = view.summary;
    fillTable(ui.roles, view.roles);
    fillTable(ui.queues, view.queues);
    fillTable(ui.dead, view.deadLetters);
    ui.deadSummary.textContent = view.deadSummary;
    say(view.management);
    ui.status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } else if (update.kind === 'forbidden') {
    ui.board.hidden = true;
    ui.status.textContent = 'Not an operator';
    say(update.message);
  } else if (update.kind === 'signedOut') {
    signIn(update.message);
  } else {
    ui.status.textContent = 'Not updated';
    say(update.message);
  }
}

function signIn(message) {
  poller.stop();
  ui.board.hidden = true;
  ui.form.hidden = false;
  ui.status.textContent = 'Signed out';
  say(message);
}

ui.form.addEventListener('submit', async (event) => {
  event.preventDefault();
  ui.loginError.textContent = '';
  try {
    await auth.login(ui.name.value.trim(), ui.password.value);
  } catch (error) {
    ui.loginError.textContent = error.message;
    return;
  }
  ui.password.value = '';
  ui.form.hidden = true;
  say(null);
  watch();
});

function watch() {
  ui.status.textContent = `Signed in as ${auth.name}`;
  poller.start();
}

try {
  if (await auth.resume()) watch();
  else signIn(null);
} catch (error) {
  signIn(`The server cannot be reached: ${error.message}`);
}
