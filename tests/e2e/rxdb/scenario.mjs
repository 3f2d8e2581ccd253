// Runs one scenario of the real RxDB client against a Meijing server:
//
//   node scenario.mjs <scenario> < config.json
//
// config: { http, ws, branchId, officerId, tokens: { a, b, ... }, ... } (see tests/e2e/test_rxdb.py)
// The result is one line of JSON, the last on stdout; tests/e2e/test_rxdb.py asserts on it.
// A scenario only acts and reports: what must hold is decided by the Python test.

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Phone, COLLECTIONS, newVisit, newPatrol, newServiceAction, within } from './phone.mjs';

const SETTLE_MS = 20000;
// The guarantee under test: a change reaches a live phone within 2 s of the write's response.
const LIVE_MS = 2000;

const scenarios = {
  /** A phone writes one record of each collection; a second phone signing in pulls them. */
  async pushAndPull(config) {
    const a = await Phone.open(config, 'a', config.tokens.a);
    const sent = {
      visit: await a.insert('visit', newVisit(config)),
      patrol: await a.insert('patrol', newPatrol(config)),
      serviceAction: await a.insert('serviceAction', newServiceAction(config)),
    };
    await a.inSync();
    const b = await Phone.open(config, 'b', config.tokens.b, { live: false });
    await b.inSync();
    const received = {};
    for (const collection of COLLECTIONS) received[collection] = await b.all(collection);
    const result = { sent, received, errors: [...a.errors, ...b.errors] };
    await a.close();
    await b.close();
    return result;
  },

  /** B holds two visits; A edits one and deletes the other; B (live) must follow. */
  async updateAndDelete(config) {
    const a = await Phone.open(config, 'a', config.tokens.a);
    const kept = await a.insert('visit', newVisit(config, { village: '东关村' }));
    const dropped = await a.insert('visit', newVisit(config, { village: '西关村' }));
    await a.inSync();
    const b = await Phone.open(config, 'b', config.tokens.b);
    await b.inSync();
    const before = { kept: await b.get('visit', kept.id), dropped: await b.get('visit', dropped.id) };
    await a.patch('visit', kept.id, { concerns: '道路积水', status: 'escalated' });
    await a.remove('visit', dropped.id);
    await a.inSync();
    const waits = [
      b.until('visit', kept.id, (d) => d?.concerns === '道路积水', SETTLE_MS, 'the edit'),
      b.until('visit', dropped.id, (d) => d === null, SETTLE_MS, 'the delete'),
    ];
    const outcome = await Promise.allSettled(waits);
    const result = {
      before,
      after: { kept: await b.get('visit', kept.id), dropped: await b.get('visit', dropped.id) },
      waits: outcome.map((o) => o.status === 'fulfilled' ? 'seen' : o.reason.message),
      errors: [...a.errors, ...b.errors],
    };
    await a.close();
    await b.close();
    return result;
  },

  /**
   * A and B hold the same visit. Offline, A changes concerns and B resolution; both change
   * household. The server merges B's push with A's against the state both started from.
   */
  async merge(config) {
    const a = await Phone.open(config, 'a', config.tokens.a);
    const doc = await a.insert('visit', newVisit(config));
    await a.inSync();
    const b = await Phone.open(config, 'b', config.tokens.b);
    await b.inSync();
    await b.until('visit', doc.id, (d) => d !== null, SETTLE_MS, 'the visit');
    await b.pause();
    await a.patch('visit', doc.id, { concerns: '邻里纠纷', household: '张家(A)' });
    await a.inSync();
    await b.patch('visit', doc.id, { resolution: '已调解', household: '张家(B)' });
    await b.resume();
    await b.inSync();
    const merged = (d) => d?.concerns === '邻里纠纷' && d?.resolution === '已调解';
    const outcome = await Promise.allSettled([
      a.until('visit', doc.id, merged, SETTLE_MS, 'the merge at A'),
      b.until('visit', doc.id, merged, SETTLE_MS, 'the merge at B'),
    ]);
    const result = {
      id: doc.id,
      a: await a.get('visit', doc.id),
      b: await b.get('visit', doc.id),
      waits: outcome.map((o) => o.status === 'fulfilled' ? 'seen' : o.reason.message),
      conflictsAtB: b.conflicts,
      errors: [...a.errors, ...b.errors],
    };
    await a.close();
    await b.close();
    return result;
  },

  /** A phone signing in pulls every visit the server holds, `pullBatchSize` at a time. */
  async paging(config) {
    const b = await Phone.open(config, 'b', config.tokens.a, {
      live: false,
      pullBatchSize: config.pullBatchSize,
    });
    await b.inSync();
    const result = {
      ids: (await b.all('visit')).map((d) => d.id),
      pages: b.pages.filter((p) => p.collection === 'visit'),
      errors: b.errors,
    };
    await b.close();
    return result;
  },

  /** A change written by another phone reaches a live phone within LIVE_MS. */
  async live(config) {
    const reader = await Phone.open(config, 'reader', config.tokens.a);
    const writer = await Phone.open(config, 'writer', config.tokens.b);
    await reader.inSync();
    await writer.inSync();
    // The server registers a subscription asynchronously and says nothing when it has: a first
    // change, with all the time it needs, shows the stream is open before the one measured.
    const warmUp = await writer.insert('visit', newVisit(config, { village: '预热村' }));
    await reader.until('visit', warmUp.id, (d) => d !== null, SETTLE_MS, 'the warm-up change');
    const doc = newVisit(config, { village: '实时村' });
    const arrived = reader.until('visit', doc.id, (d) => d !== null, 60000, 'the live change');
    arrived.catch(() => undefined);
    await writer.insert('visit', doc);
    await writer.inSync();
    let outcome = 'seen';
    try {
      await within(LIVE_MS, arrived, 'the live change');
    } catch (error) {
      outcome = error.message;
    }
    const result = {
      id: doc.id,
      outcome,
      received: await reader.get('visit', doc.id),
      streamed: reader.pages.filter((p) => p.origin === 'stream').length,
      errors: [...reader.errors, ...writer.errors],
    };
    await reader.close();
    await writer.close();
    return result;
  },

  /**
   * Two replicas on one sign-in (two tabs, or an app reinstalled that kept its token): both
   * use the same access token, each its own database. A changes peopleReached and resolution;
   * B, still holding the old state, changes concerns.
   */
  async twoReplicas(config) {
    const a = await Phone.open(config, 'tab-a', config.tokens.a);
    const doc = await a.insert('visit', newVisit(config));
    await a.inSync();
    const b = await Phone.open(config, 'tab-b', config.tokens.a);
    await b.inSync();
    await b.until('visit', doc.id, (d) => d !== null, SETTLE_MS, 'the visit');
    await b.pause();
    await a.patch('visit', doc.id, { peopleReached: 9, resolution: '已送医' });
    await a.inSync();
    await b.patch('visit', doc.id, { concerns: '独居老人需定期探访' });
    await b.resume();
    await b.inSync();
    const all = (d) => d?.peopleReached === 9 && d?.resolution === '已送医'
      && d?.concerns === '独居老人需定期探访';
    const outcome = await Promise.allSettled([
      a.until('visit', doc.id, all, 5000, 'all three edits at A'),
      b.until('visit', doc.id, all, 5000, 'all three edits at B'),
    ]);
    const result = {
      id: doc.id,
      a: await a.get('visit', doc.id),
      b: await b.get('visit', doc.id),
      waits: outcome.map((o) => o.status === 'fulfilled' ? 'seen' : o.reason.message),
      conflictsAtB: b.conflicts,
      errors: [...a.errors, ...b.errors],
    };
    await a.close();
    await b.close();
    return result;
  },

  /**
   * graphql-ws (the client RxDB streams with) subscribed to streamVisit; the session is revoked
   * over HTTP once an event arrived. Reports how the socket closed (no retries: RxDB retries a
   * 4403, and the retried subscription is refused with UNAUTHENTICATED).
   */
  async signedOut(config) {
    const closes = [];
    const events = [];
    const client = createClient({
      url: config.ws,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { Authorization: `Bearer ${config.tokens.a}` },
      on: { closed: (event) => closes.push({ code: event.code, reason: event.reason }) },
    });
    const query = `subscription { streamVisit { documents { id } checkpoint { id updatedAt } } }`;
    const ended = new Promise((resolve) => {
      client.subscribe({ query }, {
        next: (message) => events.push(message),
        error: (error) => resolve({ error: { code: error?.code ?? null, reason: error?.reason ?? null } }),
        complete: () => resolve({ complete: true }),
      });
    });
    await within(SETTLE_MS, (async () => {
      // Written until the stream shows it is open (the server registers it asynchronously).
      while (events.length === 0) {
        await push(config, newVisit(config));
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })(), 'a first event');
    await graphql(config, config.tokens.a,
      'mutation($id: ID!) { revokeSession(sessionId: $id) { __typename } }', { id: config.sessionId });
    let end;
    try {
      end = await within(SETTLE_MS, ended, 'the socket closing');
    } catch (error) {
      end = { timeout: error.message };
    }
    await client.dispose();
    return { events: events.length, end, closes };
  },
};

async function graphql(config, token, query, variables) {
  const response = await fetch(config.http, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function push(config, doc) {
  await graphql(config, config.tokens.a, `mutation($rows: [VisitInputPushRow!]) {
    pushVisit(visitPushRow: $rows) { id } }`, { rows: [{ assumedMasterState: null, newDocumentState: doc }] });
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const name = process.argv[2];
if (!(name in scenarios)) {
  console.error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
try {
  const result = await scenarios[name](await readStdin());
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
  process.exit(0);
} catch (error) {
  console.error(error?.stack ?? error);
  process.exit(1);
}
