// Each room's change feed as the page follows it (docs/WEB.md "Following a room"; the same
// logic as src/dynamotalk/client/feed.py). Pure: no DOM, no socket. frames.js hands every frame
// to `feeds.handle` and does what the step says: send its frames, show its applied changes,
// reload the rooms whose feed expired.
//
// The rule, per room, for a change carrying `seq`: seq <= lastSeq is a duplicate and dropped;
// seq == lastSeq + 1 is applied (and any change held past a gap that now follows on); a larger
// seq is a gap: the change is held and the page syncs from lastSeq, looping while `hasMore`.
// Applying is idempotent: a post upserts its message by id; an edit, a delete or a reaction
// replaces the message when the page holds it; member.joined / member.left change the members;
// a reply's `thread` sets (never adds) its parent's counts. Which frame types are room changes
// is config.json `changeTypes` (store.js): the client spells none of them.
// A room whose lastSeq is unknown follows from the first change it sees; a change without
// `seq` (a v1 server) is applied as it comes.

import { actions, changeTypes, limits } from "./store.js";

/** Messages kept per room (the newest by id), so a long session's memory stays bounded. */
export const HELD_MESSAGES = 1000;
/** Sync rounds in a row that leave a gap open before the page stops asking (the next change
 * past the gap asks again: the server's feed may lag what was already delivered). */
export const STALLED_ROUNDS = 3;
const FEED_EXPIRED = "feed_expired";

export class RoomFeed {
  constructor(roomId) {
    this.roomId = roomId;
    this.lastSeq = null;        // seq of the newest change applied; null until history or a change
    this.messages = new Map();  // message id -> message
    this.members = new Map();   // user id -> membership
    this.held = new Map();      // seq -> change that arrived past a gap
    this.syncing = false;
    this.stalled = 0;
  }

  /** A history page: hold its messages and follow the feed from its `seq`. Without `reset` a
   * feed already further on stays there; with it (feed_expired) it starts over. */
  followFrom(seq, messages = [], reset = false) {
    if (reset) { this.messages.clear(); this.held.clear(); this.lastSeq = null; }
    for (const message of messages) this.messages.set(message.id, message);
    this.trim();
    if (seq != null && (this.lastSeq == null || seq > this.lastSeq)) {
      this.lastSeq = seq;
      for (const held of [...this.held.keys()]) if (held <= seq) this.held.delete(held);
    }
  }

  /** Offer one change by the rule; the changes applied, oldest first. */
  receive(change) {
    const seq = change.seq;
    if (seq == null) { this.apply(change); return [change]; }
    if (this.lastSeq == null) this.lastSeq = seq - 1;
    if (seq <= this.lastSeq) return [];
    if (seq > this.lastSeq + 1) { this.held.set(seq, change); return []; }
    this.apply(change);
    this.lastSeq = seq;
    return [change, ...this.release()];
  }

  get gap() { return this.held.size > 0; }

  /** Change the room state as `change` says; applying it again changes nothing. */
  apply(change) {
    switch (change.type) {
      case "message.posted":
        this.messages.set(change.message.id, change.message);
        if (change.thread && this.messages.has(change.thread.parentId)) {
          const parent = this.messages.get(change.thread.parentId);
          this.messages.set(parent.id, { ...parent, replyCount: change.thread.replyCount, lastReplyAt: change.thread.lastReplyAt });
        }
        this.trim();
        return;
      case "message.edited":
      case "message.deleted":
      case "reaction.changed":
        if (this.messages.has(change.message.id)) this.messages.set(change.message.id, change.message);
        return;
      case "member.joined": this.members.set(change.membership.userId, change.membership); return;
      case "member.left": this.members.delete(change.userId); return;
    }
  }

  /** Apply the held changes that now follow on; drop those already passed. */
  release() {
    const applied = [];
    for (const seq of [...this.held.keys()].sort((a, b) => a - b)) {
      if (seq <= this.lastSeq) { this.held.delete(seq); continue; }
      if (seq !== this.lastSeq + 1) break;
      const change = this.held.get(seq);
      this.held.delete(seq);
      this.apply(change);
      this.lastSeq = seq;
      applied.push(change);
    }
    return applied;
  }

  trim() {
    if (this.messages.size <= HELD_MESSAGES) return;
    for (const id of [...this.messages.keys()].sort().slice(0, this.messages.size - HELD_MESSAGES)) this.messages.delete(id);
  }
}

/** Every room the page follows and the syncs in flight (requestId -> roomId). */
export class Feeds {
  constructor(limit = null) {
    this.rooms = new Map();
    this.syncs = new Map();
    this.limit = limit;
    this.nextId = 1;
  }

  room(roomId) {
    if (!this.rooms.has(roomId)) this.rooms.set(roomId, new RoomFeed(roomId));
    return this.rooms.get(roomId);
  }

  /** Take any frame; returns {applied, send, reload, consumed} (consumed: a room change or a
   * sync's answer, which the feeds dealt with). */
  handle(frame) {
    if (changeTypes.has(frame.type) && frame.roomId) return this.onChange(frame);
    if (frame.type === "ack" && frame.action === actions.Sync && Array.isArray(frame.changes)) return this.onSync(frame);
    if (frame.type === "error" && this.syncs.has(frame.requestId)) return this.onRefused(frame);
    return step(false);
  }

  /** After a reconnect: a sync from lastSeq for every followed room (or those given) whose
   * lastSeq is known. */
  resync(roomIds = [...this.rooms.keys()]) {
    const frames = [];
    for (const roomId of roomIds) {
      const feed = this.rooms.get(roomId);
      if (feed && feed.lastSeq != null) { feed.syncing = false; feed.stalled = 0; frames.push(this.sync(feed)); }
    }
    return frames;
  }

  sync(feed) {
    feed.syncing = true;
    const requestId = `sync-${this.nextId++}`;
    this.syncs.set(requestId, feed.roomId);
    return { action: actions.Sync, requestId, roomId: feed.roomId, limit: this.limit ?? limits.pageSizeMax, afterSeq: feed.lastSeq };
  }

  onChange(change) {
    const feed = this.room(change.roomId);
    const result = step(true, feed.receive(change));
    if (feed.gap && !feed.syncing) { feed.stalled = 0; result.send.push(this.sync(feed)); }
    return result;
  }

  onSync(reply) {
    const roomId = this.syncs.get(reply.requestId) ?? reply.roomId;
    this.syncs.delete(reply.requestId);
    if (!roomId) return step(true);
    const feed = this.room(roomId);
    const before = feed.lastSeq;
    const result = step(true);
    for (const change of reply.changes) result.applied.push(...feed.receive(change));
    // The server has given everything up to its `seq`: follow on from there.
    if (feed.lastSeq == null || reply.seq > feed.lastSeq) feed.lastSeq = reply.seq;
    result.applied.push(...feed.release());
    feed.stalled = feed.lastSeq !== before ? 0 : feed.stalled + 1;
    if ((reply.hasMore || feed.gap) && feed.stalled < STALLED_ROUNDS) result.send.push(this.sync(feed));
    else feed.syncing = false;
    return result;
  }

  onRefused(frame) {
    const roomId = this.syncs.get(frame.requestId);
    this.syncs.delete(frame.requestId);
    const feed = this.room(roomId);
    feed.syncing = false;
    const result = step(true);
    if (frame.error?.code === FEED_EXPIRED) { feed.held.clear(); result.reload.push(roomId); }
    return result;
  }
}

function step(consumed, applied = []) {
  return { applied, send: [], reload: [], consumed };
}

/** The page's feeds, one per room it follows. */
export const feeds = new Feeds();
