// A phone as the README wires it: RxDB collections with the README's schemas, replicated with
// replicateGraphQL and RxDB's own schema-based query builders, live over graphql-ws.
// Storage is RxDB's memory storage: each phone is its own database, as each device is.

import { randomUUID } from 'node:crypto';
import { createRxDatabase, defaultConflictHandler } from 'rxdb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import {
  replicateGraphQL,
  pullQueryBuilderFromRxSchema,
  pushQueryBuilderFromRxSchema,
  pullStreamBuilderFromRxSchema,
} from 'rxdb/plugins/replication-graphql';
import { filter, firstValueFrom, timeout } from 'rxjs';

export const COLLECTIONS = ['visit', 'patrol', 'serviceAction'];

// The README's "The RxDB schema", and the same for patrols and service actions.
export const SCHEMAS = {
  visit: {
    version: 0,
    primaryKey: 'id',
    type: 'object',
    properties: {
      id: { type: 'string', maxLength: 64 },
      branchId: { type: 'string' },
      officerId: { type: 'string' },
      village: { type: 'string' },
      household: { type: ['string', 'null'] },
      category: { type: 'string' },
      concerns: { type: ['string', 'null'] },
      resolution: { type: ['string', 'null'] },
      status: { type: 'string' },
      peopleReached: { type: 'integer' },
      visitedAt: { type: 'string' },
      updatedAt: { type: 'number' },
    },
    required: ['id', 'branchId', 'officerId', 'village', 'category', 'status',
      'peopleReached', 'visitedAt'],
  },
  patrol: {
    version: 0,
    primaryKey: 'id',
    type: 'object',
    properties: {
      id: { type: 'string', maxLength: 64 },
      branchId: { type: 'string' },
      officerId: { type: 'string' },
      kind: { type: 'string' },
      area: { type: 'string' },
      startedAt: { type: 'string' },
      endedAt: { type: ['string', 'null'] },
      participants: { type: 'string' },
      track: { type: 'string' },
      observations: { type: ['string', 'null'] },
      updatedAt: { type: 'number' },
    },
    required: ['id', 'branchId', 'officerId', 'kind', 'area', 'startedAt', 'participants',
      'track'],
  },
  serviceAction: {
    version: 0,
    primaryKey: 'id',
    type: 'object',
    properties: {
      id: { type: 'string', maxLength: 64 },
      branchId: { type: 'string' },
      officerId: { type: 'string' },
      type: { type: 'string' },
      title: { type: 'string' },
      place: { type: ['string', 'null'] },
      happenedAt: { type: 'string' },
      participants: { type: 'string' },
      peopleReached: { type: 'integer' },
      difficultiesSolved: { type: 'integer' },
      bannersReceived: { type: 'integer' },
      notes: { type: ['string', 'null'] },
      updatedAt: { type: 'number' },
    },
    required: ['id', 'branchId', 'officerId', 'type', 'title', 'happenedAt', 'participants',
      'peopleReached', 'difficultiesSolved', 'bannersReceived'],
  },
};

/** Rejects with `what` when `promise` has not settled after `ms` milliseconds. */
export async function within(ms, promise, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** What an error$ event says, as plain JSON (RxDB wraps the server's errors in its own). */
export function describe(error) {
  const codes = [];
  const messages = [];
  const seen = new Set();
  const walk = (value) => {
    if (!value || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (typeof value.extensions?.code === 'string') {
      codes.push(value.extensions.code);
      messages.push(String(value.message));
    }
    Object.values(value).forEach(walk);
  };
  walk(error);
  return {
    message: String(error?.message ?? error),
    code: typeof error?.code === 'number' || typeof error?.code === 'string' ? error.code : null,
    reason: typeof error?.reason === 'string' ? error.reason : null,
    graphqlCodes: codes,
    graphqlMessages: messages,
  };
}

export class Phone {
  /**
   * A phone signed in with `token`, its collections replicating live (or once, `live: false`).
   * Each phone gets its own WebSocket, as each device has its own; RxDB shares one per URL.
   */
  static async open(config, name, token, options = {}) {
    const { live = true, pullBatchSize = 200, pushBatchSize = 50 } = options;
    const db = await createRxDatabase({
      name: `${name}-${randomUUID()}`,
      storage: getRxStorageMemory(),
      multiInstance: false,
    });
    const phone = new Phone(name, db);
    const conflictHandler = {
      isEqual: defaultConflictHandler.isEqual,
      resolve(input, context) {
        // What the server sent back for the phone to adopt: the app's handler sees it here.
        phone.conflicts.push({
          newDocumentState: input.newDocumentState,
          realMasterState: input.realMasterState,
          assumedMasterState: input.assumedMasterState ?? null,
        });
        return defaultConflictHandler.resolve(input, context);
      },
    };
    await db.addCollections(Object.fromEntries(
      COLLECTIONS.map((c) => [c, { schema: SCHEMAS[c], conflictHandler }]),
    ));
    for (const collection of COLLECTIONS) {
      const builderInput = {
        schema: SCHEMAS[collection],
        checkpointFields: ['id', 'updatedAt'],
        deletedField: 'deleted',
        headerFields: ['Authorization'],
      };
      const streamBuilder = pullStreamBuilderFromRxSchema(collection, builderInput);
      const replication = replicateGraphQL({
        collection: db[collection],
        replicationIdentifier: `meijing-${collection}`,
        url: { http: config.http, ws: `${config.ws}?phone=${encodeURIComponent(name)}` },
        headers: { Authorization: `Bearer ${token}`, 'X-Meijing-App-Version': 'rxdb-e2e' },
        deletedField: 'deleted',
        live,
        retryTime: 1000,
        pull: {
          queryBuilder: pullQueryBuilderFromRxSchema(collection, builderInput),
          // As the README wires it: the builder sends every header as the subscription's
          // `headers` argument, whose type declares Authorization only.
          streamQueryBuilder: (headers) => streamBuilder({ Authorization: headers.Authorization }),
          batchSize: pullBatchSize,
          responseModifier: (data, origin) => {
            phone.pages.push({ collection, origin, size: data.documents.length });
            return data;
          },
        },
        push: {
          queryBuilder: pushQueryBuilderFromRxSchema(collection, builderInput),
          batchSize: pushBatchSize,
        },
      });
      replication.error$.subscribe((error) => phone.errors.push(describe(error)));
      phone.replications[collection] = replication;
    }
    return phone;
  }

  constructor(name, db) {
    this.name = name;
    this.db = db;
    this.replications = {};
    this.errors = [];
    this.conflicts = [];
    this.pages = [];
  }

  /** Every collection pushed and pulled; fails with the replication errors seen meanwhile. */
  async inSync(ms = 20000) {
    await within(
      ms,
      Promise.all(Object.values(this.replications).map((r) => r.awaitInSync())),
      `${this.name} in sync (errors: ${JSON.stringify(this.errors)})`,
    );
  }

  async pause() {
    await Promise.all(Object.values(this.replications).map((r) => r.pause()));
  }

  async resume() {
    await Promise.all(Object.values(this.replications).map((r) => r.start()));
  }

  async insert(collection, doc) {
    await this.db[collection].insert(doc);
    return doc;
  }

  async patch(collection, id, changes) {
    const doc = await this.db[collection].findOne(id).exec(true);
    await doc.incrementalPatch(changes);
  }

  async remove(collection, id) {
    const doc = await this.db[collection].findOne(id).exec(true);
    await doc.remove();
  }

  /** The document as the app reads it; null when absent or deleted. */
  async get(collection, id) {
    const doc = await this.db[collection].findOne(id).exec();
    return doc ? doc.toJSON() : null;
  }

  async all(collection) {
    const docs = await this.db[collection].find().exec();
    return docs.map((d) => d.toJSON());
  }

  /** Resolves once the document (null when absent) satisfies `predicate`. */
  async until(collection, id, predicate, ms, what) {
    const states = this.db[collection].findOne(id).$.pipe(
      filter((doc) => predicate(doc ? doc.toJSON() : null)),
      timeout(ms),
    );
    try {
      await firstValueFrom(states);
    } catch (error) {
      throw new Error(`${this.name}: ${what} not seen within ${ms} ms `
        + `(errors: ${JSON.stringify(this.errors)}; ${error.message})`);
    }
  }

  async close() {
    await Promise.all(Object.values(this.replications).map((r) => r.cancel()));
    await this.db.close();
  }
}

export function newVisit(config, overrides = {}) {
  return {
    id: randomUUID(),
    branchId: config.branchId,
    officerId: config.officerId,
    village: '玫瑰村',
    household: '张家',
    category: 'household',
    concerns: null,
    resolution: null,
    status: 'open',
    peopleReached: 3,
    visitedAt: '2026-05-01T10:00:00+08:00',
    ...overrides,
  };
}

export function newPatrol(config, overrides = {}) {
  return {
    id: randomUUID(),
    branchId: config.branchId,
    officerId: config.officerId,
    kind: 'night',
    area: '玫瑰村至东阿路',
    startedAt: '2026-05-01T21:00:00+08:00',
    endedAt: '2026-05-01T23:00:00+08:00',
    participants: JSON.stringify([config.officerId]),
    track: JSON.stringify([
      { t: '2026-05-01T21:00:00+08:00', lat: 36.28, lng: 116.45 },
      { t: '2026-05-01T21:30:00+08:00', lat: 36.29, lng: 116.46 },
    ]),
    observations: '路灯损坏一处',
    ...overrides,
  };
}

export function newServiceAction(config, overrides = {}) {
  return {
    id: randomUUID(),
    branchId: config.branchId,
    officerId: config.officerId,
    type: 'visit',
    title: '走访孤寡老人',
    place: '玫瑰村',
    happenedAt: '2026-05-02T09:00:00+08:00',
    participants: JSON.stringify([
      { memberId: config.officerId },
      { name: '刘建国', role: 'old_party_member' },
    ]),
    peopleReached: 12,
    difficultiesSolved: 2,
    bannersReceived: 1,
    notes: null,
    ...overrides,
  };
}
