// The latchkey admin console: one ES module, no dependencies. It talks only to this origin: the console's own
// endpoints (/console/api/...) and the Backend API's (/v1/...), authorised by the HttpOnly console session
// cookie; every write carries the session's CSRF token. Data from the server is only ever put in the page as
// text (textContent, attribute values), never parsed as HTML.

const main = document.getElementById('main');
const statusLine = document.getElementById('status');
let session = null; // {operator, csrf_token, rights}

// ---- DOM helpers -------------------------------------------------------------------------------------------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const when = ms => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—');
function say(text, bad = false) {
  statusLine.textContent = text;
  statusLine.className = 'status ' + (bad ? 'error' : 'ok');
}
function show(...nodes) {
  main.replaceChildren(...nodes);
  main.focus();
}
const can = right => !!session && session.rights.includes(right);

// ---- API ---------------------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, body) {
    const e = body && body.errors && body.errors[0];
    super(e ? e.long_message || e.message : `HTTP ${status}`);
    this.status = status;
    this.code = e ? e.code : '';
  }
}
async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (method !== 'GET') init.headers['X-Latchkey-Csrf'] = session ? session.csrf_token : '';
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) {
    if (res.status === 401 && json && json.errors && json.errors[0].code === 'console_session_invalid') {
      session = null;
      renderSignIn('Your console session has ended. Sign in again.');
    }
    throw new ApiError(res.status, json);
  }
  return json;
}
/// Runs an action; `after` (a re-render) runs before "done" is said, so what the page shows then is the outcome.
async function act(label, fn, after) {
  try {
    await fn();
    if (after) await after();
    say(`${label}: done`);
  } catch (e) {
    say(`${label}: ${e.message}`, true);
    throw e;
  }
}

// ---- sign-in -----------------------------------------------------------------------------------------------
function renderSignIn(message) {
  document.getElementById('nav').hidden = true;
  document.getElementById('who').replaceChildren();
  const err = h('p', { class: 'error', role: 'alert', text: message || '' });
  const form = h('form', { 'aria-label': 'Operator sign-in' },
    h('h1', { text: 'Sign in to the console' }),
    h('p', { class: 'muted', text: 'Use a link from `latchkey console-link`, or your operator name, password and authenticator code.' }),
    h('label', { for: 'op-name', text: 'Operator name' }), h('input', { id: 'op-name', name: 'name', autocomplete: 'username', required: true }),
    h('label', { for: 'op-password', text: 'Password' }), h('input', { id: 'op-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    h('label', { for: 'op-code', text: 'Authenticator code' }), h('input', { id: 'op-code', name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code' }),
    h('p', {}, h('button', { type: 'submit', class: 'primary', text: 'Sign in' })),
    err);
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const fd = new FormData(form);
    try {
      session = await api('POST', '/console/api/sign_in', { name: fd.get('name'), password: fd.get('password'), code: fd.get('code') });
      await start();
    } catch (e) {
      err.textContent = e.message;
    }
  });
  show(h('section', {}, form));
}

// ---- users -------------------------------------------------------------------------------------------------
const primaryEmail = u => (u.email_addresses || []).find(e => e.id === u.primary_email_address_id)?.email_address || '';
const fullName = u => [u.first_name, u.last_name].filter(Boolean).join(' ');

function renderUsers(query = '') {
  const input = h('input', { type: 'search', id: 'user-search', value: query, placeholder: 'email, phone, username, name, id or external id', autocomplete: 'off' });
  const body = h('tbody');
  const table = h('div', { class: 'scroll' }, h('table', { 'aria-label': 'Users' },
    h('thead', {}, h('tr', {}, h('th', { text: 'Name' }), h('th', { text: 'Email' }), h('th', { text: 'Username' }), h('th', { text: 'Created' }))), body));
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  let seq = 0;
  async function search() {
    const q = input.value.trim();
    const mine = ++seq;
    const params = new URLSearchParams({ limit: '20', order_by: '-created_at' });
    if (q) params.set('query', q);
    try {
      const users = await api('GET', `/v1/users?${params}`);
      if (mine !== seq) return;
      body.replaceChildren(...users.map(u => h('tr', {},
        h('td', {}, h('a', { href: `#/users/${encodeURIComponent(u.id)}`, text: fullName(u) || u.id })),
        h('td', { text: primaryEmail(u) }),
        h('td', { text: u.username || '' }),
        h('td', { text: when(u.created_at) }))));
      count.textContent = users.length === 0 ? 'No users found.' : `${users.length} shown`;
      history.replaceState(null, '', q ? `#/users?q=${encodeURIComponent(q)}` : '#/users');
    } catch (e) {
      say(e.message, true);
    }
  }
  let timer = 0;
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 150); });
  const create = can('write') ? renderCreateUser() : null;
  show(h('h1', { text: 'Users' }),
    h('section', {}, h('label', { for: 'user-search', text: 'Search users' }), input, count, table),
    create);
  search();
}

function renderCreateUser() {
  const form = h('form', { 'aria-label': 'Create user' },
    h('h2', { text: 'Create a user' }),
    h('label', { for: 'new-email', text: 'Email address' }), h('input', { id: 'new-email', type: 'email' }),
    h('label', { for: 'new-first', text: 'First name' }), h('input', { id: 'new-first' }),
    h('label', { for: 'new-last', text: 'Last name' }), h('input', { id: 'new-last' }),
    h('label', { for: 'new-password', text: 'Password (optional)' }), h('input', { id: 'new-password', type: 'password', autocomplete: 'new-password' }),
    h('p', {}, h('button', { type: 'submit', text: 'Create user' })));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const body = { first_name: form.querySelector('#new-first').value, last_name: form.querySelector('#new-last').value };
    const email = form.querySelector('#new-email').value.trim();
    if (email) body.email_address = [email];
    const pw = form.querySelector('#new-password').value;
    if (pw) body.password = pw; else body.skip_password_requirement = true;
    await act('Create user', async () => {
      const u = await api('POST', '/v1/users', body);
      location.hash = `#/users/${encodeURIComponent(u.id)}`;
    }).catch(() => {});
  });
  return h('section', {}, form);
}

function kv(pairs) {
  return h('div', { class: 'kv' }, pairs.flatMap(([k, v]) => [h('span', { class: 'muted', text: k }), v instanceof Node ? v : h('span', { text: v ?? '' })]));
}

/// A table that scrolls inside its own box on a narrow screen (the page itself never scrolls sideways).
function grid(label, headers, rows) {
  return h('div', { class: 'scroll' }, h('table', { 'aria-label': label },
    h('thead', {}, h('tr', {}, ...headers.map(t => h('th', { text: t })))), h('tbody', {}, rows)));
}
const none = text => h('p', { class: 'muted', text });
/// A labelled form of text inputs and selects; `onsubmit(values, form)` runs with the values by name.
function smallForm(label, fields, submitLabel, onsubmit, right = 'write') {
  const form = h('form', { 'aria-label': label, class: 'inline' },
    ...fields.flatMap(f => {
      const id = `f-${label}-${f.name}`.replace(/\W+/g, '-');
      const input = f.options
        ? h('select', { id, name: f.name }, f.options.map(o => h('option', { value: o, text: o })))
        : h('input', { id, name: f.name, type: f.type || 'text', required: f.required, autocomplete: 'off' });
      return [h('label', { for: id, text: f.label }), input];
    }),
    h('button', { type: 'submit', disabled: !can(right), text: submitLabel }));
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    onsubmit(Object.fromEntries(new FormData(form)), form);
  });
  return form;
}

function metadataEditor(user, field, label) {
  const id = `md-${field}`;
  const area = h('textarea', { id, spellcheck: 'false' });
  area.value = JSON.stringify(user[field] ?? {}, null, 2);
  const err = h('p', { class: 'error', role: 'alert' });
  const save = h('button', { type: 'button', text: `Save ${label}`, disabled: !can('write') });
  save.addEventListener('click', async () => {
    let parsed;
    try {
      parsed = JSON.parse(area.value);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('Metadata must be a JSON object.');
    } catch (e) {
      err.textContent = `Invalid JSON: ${e.message}`;
      area.setAttribute('aria-invalid', 'true');
      return;
    }
    err.textContent = '';
    area.removeAttribute('aria-invalid');
    await act(`Save ${label}`, () => api('PATCH', `/v1/users/${encodeURIComponent(user.id)}`, { [field]: parsed })).catch(() => {});
  });
  return h('div', {}, h('label', { for: id, text: label }), area, err, save);
}

async function renderUser(id) {
  const path = `/v1/users/${encodeURIComponent(id)}`;
  let user, sessions, orgs;
  try {
    [user, sessions, orgs] = await Promise.all([
      api('GET', path),
      api('GET', `/v1/sessions?user_id=${encodeURIComponent(id)}&paginated=true&limit=50`),
      api('GET', `${path}/organization_memberships?limit=50`).catch(() => ({ data: [] })),
    ]);
  } catch (e) {
    show(h('h1', { text: 'User' }), h('p', { class: 'error', text: e.message }));
    return;
  }
  const reload = () => renderUser(id);
  const button = (label, right, fn, cls) => h('button', { type: 'button', class: cls, disabled: !can(right), onclick: () => act(label, fn, reload).catch(() => {}) , text: label });

  const flags = [];
  if (user.banned) flags.push(h('span', { class: 'badge bad', text: 'banned' }));
  if (user.locked) flags.push(h('span', { class: 'badge bad', text: 'locked' }));

  const idents = h('table', { 'aria-label': 'Identifiers' },
    h('thead', {}, h('tr', {}, h('th', { text: 'Identifier' }), h('th', { text: 'Kind' }), h('th', { text: 'Verification' }))),
    h('tbody', {},
      ...(user.email_addresses || []).map(e => h('tr', {}, h('td', { text: e.email_address }), h('td', { text: 'email' }), h('td', { text: e.verification?.status || 'unverified' }))),
      ...(user.phone_numbers || []).map(p => h('tr', {}, h('td', { text: p.phone_number }), h('td', { text: 'phone' }), h('td', { text: p.verification?.status || 'unverified' }))),
      ...(user.username ? [h('tr', {}, h('td', { text: user.username }), h('td', { text: 'username' }), h('td', { text: '—' }))] : []),
      ...(user.web3_wallets || []).map(w => h('tr', {}, h('td', { text: w.web3_wallet }), h('td', { text: 'web3 wallet' }), h('td', { text: w.verification?.status || '' })))));

  const methods = [];
  if (user.password_enabled) methods.push('password');
  if ((user.passkeys || []).length) methods.push(`passkeys (${user.passkeys.length})`);
  const second = [];
  if (user.totp_enabled) second.push('authenticator app');
  if (user.backup_code_enabled) second.push('backup codes');
  if ((user.phone_numbers || []).some(p => p.reserved_for_second_factor)) second.push('SMS code');

  const sessionRows = (sessions.data || []).map(s => {
    const a = s.latest_activity || {};
    const place = [a.city, a.country].filter(Boolean).join(', ');
    const device = [a.device_type, a.is_mobile ? '(mobile)' : ''].filter(Boolean).join(' ');
    return h('tr', {},
      h('td', { text: s.id }), h('td', { text: s.status }),
      h('td', { text: device }), h('td', { text: [a.browser_name, a.browser_version].filter(Boolean).join(' ') }),
      h('td', { text: a.ip_address || '' }), h('td', { text: place }), h('td', { text: when(s.last_active_at) }),
      h('td', {}, s.status === 'active' ? button(`End session ${s.id}`, 'write', () => api('POST', `/v1/sessions/${encodeURIComponent(s.id)}/revoke`)) : ''));
  });
  const active = (sessions.data || []).filter(s => s.status === 'active');

  const externals = (user.external_accounts || []).map(x => h('li', { text: `${x.provider}: ${x.email_address || x.username || x.provider_user_id || x.id}` }));
  const orgItems = (orgs.data || []).map(m => h('li', { text: `${m.organization?.name ?? m.organization?.id ?? ''} (${m.role})` }));

  const impersonateOut = h('p', { 'aria-live': 'polite' });
  const impersonate = h('button', { type: 'button', disabled: !can('impersonate'), text: 'Impersonate' });
  impersonate.addEventListener('click', () => act('Impersonate', async () => {
    const t = await api('POST', '/v1/actor_tokens', { user_id: user.id, actor: { sub: `operator:${session.operator.name}` }, expires_in_seconds: 600 });
    impersonateOut.replaceChildren('Open this link in a private window (single use, 10 minutes): ',
      h('a', { href: t.url, rel: 'noreferrer', target: '_blank', id: 'impersonation-link', text: t.url }));
  }).catch(() => {}));

  const confirmInput = h('input', { id: 'delete-confirm', autocomplete: 'off' });
  const del = h('button', { type: 'button', class: 'danger', disabled: !can('write'), text: 'Delete user' });
  del.addEventListener('click', () => {
    if (confirmInput.value !== user.id) {
      say('Type the user id exactly to confirm the deletion.', true);
      confirmInput.focus();
      return;
    }
    act('Delete user', () => api('DELETE', path)).then(() => { location.hash = '#/users'; }, () => {});
  });

  show(
    h('p', {}, h('a', { href: '#/users', text: '← Users' })),
    h('h1', {}, h('span', { id: 'user-name', text: fullName(user) || primaryEmail(user) || user.id }), ...flags),
    h('section', { 'aria-label': 'Overview' }, kv([
      ['User id', user.id], ['External id', user.external_id || '—'],
      ['Created', when(user.created_at)], ['Last sign-in', when(user.last_sign_in_at)], ['Last active', when(user.last_active_at)],
      ['Sign-in methods', methods.join(', ') || '—'], ['Second factors', second.join(', ') || 'none'],
    ])),
    h('section', { 'aria-label': 'Actions' }, h('h2', { text: 'Actions' }),
      user.banned ? button('Unban', 'write', () => api('POST', `${path}/unban`)) : button('Ban', 'write', () => api('POST', `${path}/ban`), 'danger'),
      user.locked ? button('Unlock', 'write', () => api('POST', `${path}/unlock`)) : button('Lock', 'write', () => api('POST', `${path}/lock`)),
      button('End all sessions', 'write', () => Promise.all(active.map(s => api('POST', `/v1/sessions/${encodeURIComponent(s.id)}/revoke`)))),
      button('Reset second factors', 'write', () => api('DELETE', `${path}/mfa`)),
      impersonate, impersonateOut,
      h('div', {}, h('label', { for: 'delete-confirm', text: `To delete, type the user id (${user.id})` }), confirmInput, del)),
    h('section', { 'aria-label': 'Identifiers' }, h('h2', { text: 'Identifiers' }), h('div', { class: 'scroll' }, idents)),
    h('section', { 'aria-label': 'Sessions' }, h('h2', { text: `Sessions (${active.length} active)` }),
      grid('Sessions', ['Session', 'Status', 'Device', 'Browser', 'IP', 'Place', 'Last active', ''], sessionRows)),
    h('section', { 'aria-label': 'Organizations' }, h('h2', { text: 'Organizations' }), orgItems.length ? h('ul', {}, orgItems) : h('p', { class: 'muted', text: 'None' })),
    h('section', { 'aria-label': 'External accounts' }, h('h2', { text: 'External accounts' }), externals.length ? h('ul', {}, externals) : h('p', { class: 'muted', text: 'None' })),
    h('section', { 'aria-label': 'Metadata' }, h('h2', { text: 'Metadata' }),
      metadataEditor(user, 'public_metadata', 'Public metadata'),
      metadataEditor(user, 'private_metadata', 'Private metadata'),
      metadataEditor(user, 'unsafe_metadata', 'Unsafe metadata')));
}

// ---- audit log ---------------------------------------------------------------------------------------------
async function renderAudit() {
  try {
    const log = await api('GET', '/console/api/audit?limit=100');
    show(h('h1', { text: 'Audit log' }), h('section', {}, grid('Audit log', ['When', 'Operator', 'Action', 'Target', 'From', 'Status'],
      log.data.map(e => h('tr', {},
        h('td', { text: when(e.at) }), h('td', { text: e.operator_name || '—' }), h('td', { text: e.action }),
        h('td', { text: e.target }), h('td', { text: e.ip }), h('td', { text: String(e.status) }))))));
  } catch (e) {
    say(e.message, true);
  }
}

// ---- charts ------------------------------------------------------------------------------------------------
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
/// Bars per bucket; `b` (optional) stacks a second series on top (failed sign-ins).
function barChart(title, buckets, a, b) {
  const W = 640, H = 160, pad = 20;
  const max = Math.max(1, ...a.map((v, i) => v + (b ? b[i] : 0)));
  const bw = (W - pad) / Math.max(1, buckets.length);
  const bars = [];
  buckets.forEach((t, i) => {
    const ha = (a[i] / max) * (H - pad), hb = b ? (b[i] / max) * (H - pad) : 0;
    bars.push(svg('rect', { class: 'a', x: pad + i * bw, y: H - pad - ha, width: Math.max(1, bw - 1), height: ha }));
    if (b) bars.push(svg('rect', { class: 'b', x: pad + i * bw, y: H - pad - ha - hb, width: Math.max(1, bw - 1), height: hb }));
  });
  const total = a.reduce((x, y) => x + y, 0), totalB = b ? b.reduce((x, y) => x + y, 0) : 0;
  const label = b ? `${title}: ${total} succeeded, ${totalB} failed` : `${title}: ${total}`;
  return h('figure', {},
    svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label },
      svg('title', {}, label), svg('text', { x: 0, y: 10 }, String(max)), svg('text', { x: 0, y: H - pad }, '0'), ...bars),
    h('figcaption', { text: label }));
}
async function renderCharts(range = 'day') {
  const picker = h('div', { role: 'group', 'aria-label': 'Range' },
    ...['hour', 'day', 'month'].map(r => h('button', { type: 'button', 'aria-pressed': String(r === range), onclick: () => renderCharts(r), text: `Last ${r}` })));
  try {
    const s = await api('GET', `/console/api/stats?range=${range}`);
    const pick = (name) => s.series[name] || s.buckets.map(() => 0);
    const methods = Object.keys(s.series).filter(k => k.startsWith('sign_ins.ok.')).map(k => k.slice('sign_ins.ok.'.length));
    show(h('h1', { text: 'Charts' }), picker,
      h('section', {}, barChart('Sign-ups', s.buckets, pick('sign_ups'))),
      h('section', {}, barChart('Sign-ins', s.buckets, pick('sign_ins.ok'), pick('sign_ins.failed')),
        h('p', { class: 'legend' }, h('span', { class: 'sw-a', text: '■ succeeded' }), h('span', { class: 'sw-b', text: '■ failed' })),
        h('ul', { 'aria-label': 'Sign-ins by method' }, methods.map(m => h('li', { text: `${m}: ${pick('sign_ins.ok.' + m).reduce((x, y) => x + y, 0)}` })))),
      h('section', {}, barChart('Active sessions', s.buckets, pick('active_sessions'))));
  } catch (e) {
    show(h('h1', { text: 'Charts' }), picker, h('p', { class: 'error', text: e.message }));
  }
}

// ---- organizations -----------------------------------------------------------------------------------------
function renderOrgs(query = '') {
  const input = h('input', { type: 'search', id: 'org-search', value: query, placeholder: 'name or slug', autocomplete: 'off' });
  const body = h('tbody');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  let seq = 0;
  async function search() {
    const q = input.value.trim();
    const mine = ++seq;
    const params = new URLSearchParams({ limit: '50', order_by: '-created_at', include_members_count: 'true' });
    if (q) params.set('query', q);
    try {
      const r = await api('GET', `/v1/organizations?${params}`);
      if (mine !== seq) return;
      body.replaceChildren(...r.data.map(o => h('tr', {},
        h('td', {}, h('a', { href: `#/orgs/${encodeURIComponent(o.id)}`, text: o.name })),
        h('td', { text: o.slug || '' }), h('td', { text: String(o.members_count ?? '') }), h('td', { text: when(o.created_at) }))));
      count.textContent = r.data.length === 0 ? 'No organizations found.' : `${r.data.length} of ${r.total_count} shown`;
      history.replaceState(null, '', q ? `#/orgs?q=${encodeURIComponent(q)}` : '#/orgs');
    } catch (e) {
      say(e.message, true);
    }
  }
  let timer = 0;
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 150); });
  const table = h('div', { class: 'scroll' }, h('table', { 'aria-label': 'Organizations' },
    h('thead', {}, h('tr', {}, ...['Name', 'Slug', 'Members', 'Created'].map(t => h('th', { text: t })))), body));
  const create = smallForm('Create organization', [{ name: 'name', label: 'Organization name', required: true }], 'Create organization',
    v => act('Create organization', async () => {
      const o = await api('POST', '/v1/organizations', { name: v.name });
      location.hash = `#/orgs/${encodeURIComponent(o.id)}`;
    }).catch(() => {}));
  show(h('h1', { text: 'Organizations' }),
    h('section', {}, h('label', { for: 'org-search', text: 'Search organizations' }), input, count, table),
    h('section', {}, h('h2', { text: 'Create an organization' }), create));
  search();
}

async function renderOrg(id) {
  const base = `/v1/organizations/${encodeURIComponent(id)}`;
  let org, members, invitations, domains, roles;
  try {
    [org, members, invitations, domains, roles] = await Promise.all([
      api('GET', base),
      api('GET', `${base}/memberships?limit=100`),
      api('GET', `${base}/invitations?limit=100`),
      api('GET', `${base}/domains?limit=100`),
      api('GET', '/v1/organization_roles?limit=100').catch(() => ({ data: [] })),
    ]);
  } catch (e) {
    show(h('h1', { text: 'Organization' }), h('p', { class: 'error', text: e.message }));
    return;
  }
  const reload = () => renderOrg(id);
  const roleKeys = (roles.data || []).map(r => r.key);
  for (const m of members.data) if (!roleKeys.includes(m.role)) roleKeys.push(m.role);
  if (!roleKeys.length) roleKeys.push('org:admin', 'org:member');
  const memberName = m => {
    const u = m.public_user_data || {};
    return [u.first_name, u.last_name].filter(Boolean).join(' ') || u.identifier || u.user_id;
  };
  const memberRows = members.data.map(m => {
    const uid = m.public_user_data?.user_id;
    const name = memberName(m);
    const select = h('select', { 'aria-label': `Role of ${name}`, disabled: !can('write') },
      roleKeys.map(k => h('option', { value: k, text: k, selected: k === m.role })));
    select.addEventListener('change', () => act(`Change role of ${name}`,
      () => api('PATCH', `${base}/memberships/${encodeURIComponent(uid)}`, { role: select.value }), reload).catch(() => {}));
    return h('tr', {},
      h('td', {}, h('a', { href: `#/users/${encodeURIComponent(uid)}`, text: name })),
      h('td', { text: m.public_user_data?.identifier || '' }), h('td', {}, select),
      h('td', {}, h('button', { type: 'button', class: 'danger', disabled: !can('write'), text: `Remove ${name}`,
        onclick: () => act(`Remove ${name}`, () => api('DELETE', `${base}/memberships/${encodeURIComponent(uid)}`), reload).catch(() => {}) })));
  });
  const addMember = smallForm('Add member', [
    { name: 'user_id', label: 'User id', required: true }, { name: 'role', label: 'Role', options: roleKeys }], 'Add member',
  v => act('Add member', () => api('POST', `${base}/memberships`, v), reload).catch(() => {}));
  const inviteRows = invitations.data.map(i => h('tr', {},
    h('td', { text: i.email_address }), h('td', { text: i.role }), h('td', { text: i.status }),
    h('td', {}, i.status === 'pending' ? h('button', { type: 'button', disabled: !can('write'), text: `Revoke invitation ${i.email_address}`,
      onclick: () => act('Revoke invitation', () => api('POST', `${base}/invitations/${encodeURIComponent(i.id)}/revoke`, {}), reload).catch(() => {}) }) : '')));
  const invite = smallForm('Invite', [
    { name: 'email_address', label: 'Email address', type: 'email', required: true }, { name: 'role', label: 'Invitation role', options: roleKeys }], 'Send invitation',
  v => act('Send invitation', () => api('POST', `${base}/invitations`, v), reload).catch(() => {}));
  const domainRows = domains.data.map(d => h('tr', {},
    h('td', { text: d.name }), h('td', { text: d.enrollment_mode }), h('td', { text: d.verification?.status || 'unverified' }),
    h('td', {}, h('button', { type: 'button', class: 'danger', disabled: !can('write'), text: `Delete domain ${d.name}`,
      onclick: () => act('Delete domain', () => api('DELETE', `${base}/domains/${encodeURIComponent(d.id)}`), reload).catch(() => {}) }))));
  const addDomain = smallForm('Add domain', [
    { name: 'name', label: 'Domain', required: true },
    { name: 'enrollment_mode', label: 'Enrollment', options: ['manual_invitation', 'automatic_invitation', 'automatic_suggestion'] }], 'Add domain',
  v => act('Add domain', () => api('POST', `${base}/domains`, { ...v, verified: true }), reload).catch(() => {}));
  show(
    h('p', {}, h('a', { href: '#/orgs', text: '← Organizations' })),
    h('h1', {}, h('span', { id: 'org-name', text: org.name })),
    h('section', { 'aria-label': 'Overview' }, kv([
      ['Organization id', org.id], ['Slug', org.slug || '—'], ['Members', String(org.members_count ?? members.total_count)],
      ['Created', when(org.created_at)], ['Public metadata', JSON.stringify(org.public_metadata || {})]])),
    h('section', { 'aria-label': 'Members' }, h('h2', { text: `Members (${members.total_count})` }),
      memberRows.length ? grid('Members', ['Member', 'Identifier', 'Role', ''], memberRows) : none('No members'), addMember),
    h('section', { 'aria-label': 'Invitations' }, h('h2', { text: 'Invitations' }),
      inviteRows.length ? grid('Invitations', ['Email', 'Role', 'Status', ''], inviteRows) : none('No invitations'), invite),
    h('section', { 'aria-label': 'Domains' }, h('h2', { text: 'Domains' }),
      domainRows.length ? grid('Domains', ['Domain', 'Enrollment', 'Verification', ''], domainRows) : none('No domains'), addDomain));
}

// ---- instance ----------------------------------------------------------------------------------------------
async function renderInstance() {
  let inst, templates, deliveries, waitlist;
  try {
    [inst, templates, deliveries, waitlist] = await Promise.all([
      api('GET', '/console/api/instance'),
      api('GET', '/v1/jwt_templates'),
      api('GET', '/v1/webhook_deliveries?limit=50'),
      api('GET', '/v1/waitlist_entries?limit=100'),
    ]);
  } catch (e) {
    show(h('h1', { text: 'Instance' }), h('p', { class: 'error', text: e.message }));
    return;
  }
  const reload = () => renderInstance();
  const settingRows = Object.entries(inst.settings).map(([k, v]) =>
    h('tr', {}, h('th', { scope: 'row', text: k }), h('td', { text: typeof v === 'string' ? v : JSON.stringify(v) })));
  // Signing keys: rotate (after a confirmation) and retire; admins only (the "keys" right).
  const keyRows = inst.signing_keys.map(k => h('tr', {}, h('td', { text: k.kid }), h('td', { text: `${k.alg} ${k.bits}` }),
    h('td', { text: k.active ? 'signing' : 'published (verifies older tokens)' }),
    h('td', {}, k.active ? '' : h('button', { type: 'button', class: 'danger', disabled: !can('keys'), text: `Retire ${k.kid}`,
      onclick: () => act('Retire key', () => api('DELETE', `/v1/signing_keys/${encodeURIComponent(k.kid)}`), reload).catch(() => {}) }))));
  const rotateConfirm = h('p', { hidden: true, role: 'group', 'aria-label': 'Confirm rotation' },
    'New tokens will be signed by a new key; the current key stays in the JWKS until you retire it. ',
    h('button', { type: 'button', text: 'Confirm rotation',
      onclick: () => act('Rotate key', () => api('POST', '/v1/signing_keys', {}), reload).catch(() => {}) }), ' ',
    h('button', { type: 'button', text: 'Cancel', onclick: () => { rotateConfirm.hidden = true; } }));
  const rotate = can('keys')
    ? h('div', {}, h('button', { type: 'button', text: 'Rotate signing key', onclick: () => { rotateConfirm.hidden = false; } }), rotateConfirm)
    : none('Key rotation is for admins.');

  // JWT templates: the claims rendered on the server for a chosen user.
  const tplSelect = h('select', { id: 'tpl-select' }, templates.map(t => h('option', { value: t.id, text: t.name })));
  const tplUser = h('input', { id: 'tpl-user', autocomplete: 'off', placeholder: 'user_...' });
  const tplOut = h('pre', { id: 'tpl-claims', class: 'code', 'aria-label': 'Template claims', 'aria-live': 'polite' });
  const tplForm = h('form', { 'aria-label': 'Template preview', class: 'inline' },
    h('label', { for: 'tpl-select', text: 'Template' }), tplSelect,
    h('label', { for: 'tpl-user', text: 'Preview for user id' }), tplUser,
    h('button', { type: 'submit', text: 'Preview claims', disabled: !templates.length }));
  tplForm.addEventListener('submit', async ev => {
    ev.preventDefault();
    try {
      const p = await api('GET', `/v1/jwt_templates/${encodeURIComponent(tplSelect.value)}/preview?user_id=${encodeURIComponent(tplUser.value.trim())}`);
      tplOut.textContent = JSON.stringify(p.claims, null, 2);
    } catch (e) {
      tplOut.textContent = '';
      say(`Preview: ${e.message}`, true);
    }
  });

  const hookRows = inst.webhook_endpoints.map(w => h('tr', {}, h('td', { text: w.url }), h('td', { text: w.events.length ? w.events.join(', ') : 'all events' })));
  const deliveryRows = deliveries.data.map(d => h('tr', {},
    h('td', { text: d.event_type }), h('td', { text: d.url }), h('td', { text: d.status }), h('td', { text: String(d.attempts) }),
    h('td', { text: d.response_code ? String(d.response_code) : '' }), h('td', { text: d.last_error || '' }), h('td', { text: when(d.created_at) }),
    h('td', {}, d.status === 'delivered' ? h('span', { class: 'muted', text: `delivered ${when(d.delivered_at)}` })
      : h('button', { type: 'button', disabled: !can('write') || d.status === 'sending', text: `Retry ${d.id}`,
        onclick: () => act('Retry delivery', () => api('POST', `/v1/webhook_deliveries/${encodeURIComponent(d.id)}/retry`, {}), reload).catch(() => {}) }))));

  const waitRows = waitlist.data.map(w => h('tr', {},
    h('td', { text: w.email_address }), h('td', { text: w.status }), h('td', { text: when(w.created_at) }),
    h('td', {}, w.status === 'pending' ? [
      h('button', { type: 'button', disabled: !can('write'), text: `Invite ${w.email_address}`,
        onclick: () => act('Invite', () => api('POST', `/v1/waitlist_entries/${encodeURIComponent(w.id)}/invite`, {}), reload).catch(() => {}) }),
      h('button', { type: 'button', class: 'danger', disabled: !can('write'), text: `Reject ${w.email_address}`,
        onclick: () => act('Reject', () => api('POST', `/v1/waitlist_entries/${encodeURIComponent(w.id)}/reject`, {}), reload).catch(() => {}) })] : '')));

  const exports = can('export')
    ? h('p', {}, h('a', { href: '/v1/exports/users?format=clerk-csv', download: 'users.csv', class: 'button', text: 'Download users (CSV)' }), ' ',
        h('a', { href: '/v1/exports/users?format=clerk-json', download: 'users.json', class: 'button', text: 'Download users (JSON)' }))
    : none('Exports are for admins.');

  show(h('h1', { text: 'Instance' }),
    h('section', { 'aria-label': 'Overview' }, kv([
      ['Instance id', inst.id], ['Environment', inst.environment_type], ['Frontend API', inst.frontend_api],
      ['Publishable key', inst.publishable_key], ['Token issuer', inst.issuer]])),
    h('section', { 'aria-label': 'Allowed origins' }, h('h2', { text: 'Allowed origins' }),
      inst.allowed_origins.length ? h('ul', {}, inst.allowed_origins.map(o => h('li', { text: o }))) : none('Only the instance\'s own site')),
    h('section', { 'aria-label': 'Settings' }, h('h2', { text: 'Settings in force' }), grid('Settings', ['Setting', 'Value'], settingRows)),
    h('section', { 'aria-label': 'Signing keys' }, h('h2', { text: 'Signing keys' }), grid('Signing keys', ['Key id', 'Algorithm', 'Use', ''], keyRows), rotate),
    h('section', { 'aria-label': 'JWT templates' }, h('h2', { text: 'JWT templates' }),
      templates.length ? grid('JWT templates', ['Name', 'Lifetime', 'Claims'], templates.map(t => h('tr', {},
        h('td', { text: t.name }), h('td', { text: `${t.lifetime} s` }), h('td', {}, h('code', { text: JSON.stringify(t.claims) }))))) : none('No templates'),
      tplForm, tplOut),
    h('section', { 'aria-label': 'Webhooks' }, h('h2', { text: 'Webhooks' }),
      hookRows.length ? grid('Webhook endpoints', ['URL', 'Events'], hookRows) : none('No webhook endpoints configured'),
      h('h3', { text: 'Recent deliveries' }),
      deliveryRows.length ? grid('Webhook deliveries', ['Event', 'URL', 'Status', 'Attempts', 'Response', 'Last error', 'Created', ''], deliveryRows) : none('No deliveries yet.')),
    h('section', { 'aria-label': 'Waitlist' }, h('h2', { text: 'Waitlist' }),
      waitRows.length ? grid('Waitlist', ['Email', 'Status', 'Joined', ''], waitRows) : none('Nobody is waiting')),
    h('section', { 'aria-label': 'Exports' }, h('h2', { text: 'Export users' }), exports));
}

// ---- operators (admins) ------------------------------------------------------------------------------------
async function renderOperators() {
  let ops;
  try {
    ops = await api('GET', '/console/api/operators');
  } catch (e) {
    show(h('h1', { text: 'Operators' }), h('p', { class: 'error', text: e.message }));
    return;
  }
  const reload = () => renderOperators();
  const secretOut = h('div', { 'aria-live': 'polite' });
  const showSecret = o => {
    if (!o.totp_secret) return;
    secretOut.replaceChildren(h('p', { text: `Authenticator secret for ${o.name} (shown once): ` }, h('code', { id: 'totp-secret', text: o.totp_secret })),
      h('p', { class: 'muted', text: o.otpauth_uri }));
  };
  const rows = ops.data.map(o => {
    const self = o.id === session.operator.id;
    const select = h('select', { 'aria-label': `Role of ${o.name}`, disabled: self },
      ['admin', 'support', 'viewer'].map(r => h('option', { value: r, text: r, selected: r === o.role })));
    select.addEventListener('change', () => act(`Change role of ${o.name}`,
      () => api('PATCH', `/console/api/operators/${encodeURIComponent(o.id)}`, { role: select.value }), reload).catch(reload));
    return h('tr', {},
      h('td', { text: o.name }), h('td', {}, select), h('td', { text: o.totp_enabled ? 'on' : 'off' }), h('td', { text: when(o.last_sign_in_at) }),
      h('td', {}, self ? h('span', { class: 'muted', text: 'you' }) : [
        h('button', { type: 'button', text: `Reset authenticator of ${o.name}`,
          onclick: () => act('Reset authenticator', async () => { showSecret(await api('POST', `/console/api/operators/${encodeURIComponent(o.id)}/reset_totp`, {})); }).catch(() => {}) }),
        h('button', { type: 'button', class: 'danger', text: `Remove ${o.name}`,
          onclick: () => act(`Remove ${o.name}`, () => api('DELETE', `/console/api/operators/${encodeURIComponent(o.id)}`), reload).catch(() => {}) })]));
  });
  const add = smallForm('Add operator', [
    { name: 'name', label: 'Operator name', required: true },
    { name: 'role', label: 'Operator role', options: ['viewer', 'support', 'admin'] },
    { name: 'password', label: 'Initial password (12+ characters, optional)', type: 'password' }], 'Add operator',
  v => act('Add operator', async () => {
    const body = { name: v.name, role: v.role, totp: true };
    if (v.password) body.password = v.password;
    const o = await api('POST', '/console/api/operators', body);
    await renderOperators();
    const again = document.querySelector('#main [aria-live]');
    if (again) again.replaceChildren(h('p', { text: `Authenticator secret for ${o.name} (shown once): ` }, h('code', { id: 'totp-secret', text: o.totp_secret })));
  }).catch(() => {}), 'operators');
  show(h('h1', { text: 'Operators' }),
    h('section', {}, grid('Operators', ['Name', 'Role', 'Authenticator', 'Last sign-in', ''], rows), secretOut),
    h('section', {}, h('h2', { text: 'Add an operator' }), add,
      h('p', { class: 'muted', text: 'Or give them a sign-in link: `latchkey console-link --name NAME`.' })));
}

// ---- routing -----------------------------------------------------------------------------------------------
function route() {
  if (!session) return;
  say(''); // a message belongs to the page it was said on
  const hash = location.hash || '#/users';
  const [path, qs] = hash.slice(1).split('?');
  const params = new URLSearchParams(qs || '');
  const m = path.match(/^\/users\/([^/]+)$/);
  let mo;
  if (m) renderUser(decodeURIComponent(m[1]));
  else if ((mo = path.match(/^\/orgs\/([^/]+)$/))) renderOrg(decodeURIComponent(mo[1]));
  else if (path === '/orgs') renderOrgs(params.get('q') || '');
  else if (path === '/instance') renderInstance();
  else if (path === '/operators' && can('operators')) renderOperators();
  else if (path === '/audit') renderAudit();
  else if (path === '/charts') renderCharts(params.get('range') || 'day');
  else renderUsers(params.get('q') || '');
}
window.addEventListener('hashchange', route);

async function start() {
  try {
    session = await api('GET', '/console/api/session');
  } catch {
    session = null;
    renderSignIn();
    return;
  }
  document.getElementById('nav').hidden = false;
  document.getElementById('nav-operators').hidden = !can('operators');
  const out = h('button', { type: 'button', text: 'Sign out' });
  out.addEventListener('click', async () => {
    try { await api('POST', '/console/api/sign_out'); } catch { /* ended anyway */ }
    session = null;
    renderSignIn('Signed out.');
  });
  document.getElementById('who').replaceChildren(h('span', { text: `${session.operator.name} (${session.operator.role})` }), out);
  route();
}
start();
