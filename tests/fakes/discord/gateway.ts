/**
 * The fake Discord gateway (WebSocket, JSON encoding, API v10): HELLO, heartbeats and their acks,
 * IDENTIFY with a token check (close 4004 on a wrong one), READY and GUILD_CREATE, RESUME, and
 * dispatches with increasing sequence numbers to every identified session.
 */
import type { IncomingMessage, Server } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';

/** Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes). */
const OP = {
  DISPATCH: 0,
  HEARTBEAT: 1,
  IDENTIFY: 2,
  RESUME: 6,
  INVALID_SESSION: 9,
  HELLO: 10,
  HEARTBEAT_ACK: 11,
} as const;

const CLOSE = {
  UNKNOWN_OPCODE: 4001,
  DECODE_ERROR: 4002,
  NOT_AUTHENTICATED: 4003,
  AUTHENTICATION_FAILED: 4004,
  ALREADY_AUTHENTICATED: 4005,
  INVALID_API_VERSION: 4012,
} as const;

const payloadSchema = z.object({ op: z.number().int(), d: z.unknown().optional() });
const identifySchema = z.object({
  token: z.string(),
  intents: z.number().int().min(0),
  properties: z.object({ os: z.string(), browser: z.string(), device: z.string() }),
  shard: z.tuple([z.number().int(), z.number().int()]).optional(),
  compress: z.boolean().optional(),
});
const resumeSchema = z.object({
  token: z.string(),
  session_id: z.string(),
  seq: z.number().int().nullable(),
});

export interface GatewaySession {
  readonly socket: WebSocket;
  /** Set once IDENTIFY succeeded. */
  sessionId?: string;
  intents?: number;
  heartbeats: number;
}

export interface GatewayEvents {
  /** The bot token the gateway accepts. */
  readonly token: () => string;
  /** READY's `d` for a new session. */
  readonly ready: (sessionId: string) => Record<string, unknown>;
  /** GUILD_CREATE payloads sent after READY. */
  readonly guilds: () => Record<string, unknown>[];
}

export class FakeGateway {
  readonly sessions: GatewaySession[] = [];
  /** Every payload a client sent, in order. */
  readonly received: { op: number; d?: unknown }[] = [];
  private readonly wss: WebSocketServer;
  private sequence = 0;
  private nextSession = 1;

  constructor(
    server: Server,
    private readonly events: GatewayEvents,
    /** Milliseconds between heartbeats the client is told to keep. */
    private readonly heartbeatInterval = 41_250,
  ) {
    this.wss = new WebSocketServer({ server });
    this.wss.on('connection', (socket, request) => this.accept(socket, request));
  }

  /** Sessions that identified and have not closed. */
  get ready(): GatewaySession[] {
    return this.sessions.filter(
      (session) => session.sessionId !== undefined && session.socket.readyState === 1,
    );
  }

  /** Sends a dispatch to every identified session; returns its sequence number. */
  dispatch(type: string, data: unknown): number {
    const s = ++this.sequence;
    for (const session of this.ready)
      session.socket.send(JSON.stringify({ op: OP.DISPATCH, t: type, s, d: data }));
    return s;
  }

  async close(): Promise<void> {
    for (const session of this.sessions) session.socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(socket: WebSocket, request: IncomingMessage): void {
    const session: GatewaySession = { socket, heartbeats: 0 };
    this.sessions.push(session);
    const query = new URL(request.url ?? '/', 'http://gateway').searchParams;
    if (query.get('v') !== '10' || (query.get('encoding') ?? 'json') !== 'json') {
      socket.close(CLOSE.INVALID_API_VERSION, 'Invalid API version');
      return;
    }
    socket.on('message', (data) => this.receive(session, data.toString()));
    socket.send(JSON.stringify({ op: OP.HELLO, d: { heartbeat_interval: this.heartbeatInterval } }));
  }

  private receive(session: GatewaySession, text: string): void {
    let payload: z.infer<typeof payloadSchema>;
    try {
      payload = payloadSchema.parse(JSON.parse(text));
    } catch {
      session.socket.close(CLOSE.DECODE_ERROR, 'Error while decoding payload.');
      return;
    }
    this.received.push(payload);
    switch (payload.op) {
      case OP.HEARTBEAT:
        session.heartbeats++;
        session.socket.send(JSON.stringify({ op: OP.HEARTBEAT_ACK }));
        return;
      case OP.IDENTIFY:
        this.identify(session, payload.d);
        return;
      case OP.RESUME:
        this.resume(session, payload.d);
        return;
      default:
        if (session.sessionId === undefined)
          session.socket.close(CLOSE.NOT_AUTHENTICATED, 'Not authenticated.');
        else if (![3, 4, 8].includes(payload.op))
          session.socket.close(CLOSE.UNKNOWN_OPCODE, 'Unknown opcode.');
    }
  }

  private identify(session: GatewaySession, data: unknown): void {
    if (session.sessionId !== undefined) {
      session.socket.close(CLOSE.ALREADY_AUTHENTICATED, 'Already authenticated.');
      return;
    }
    const identify = identifySchema.safeParse(data);
    if (!identify.success) {
      session.socket.close(CLOSE.DECODE_ERROR, 'Error while decoding payload.');
      return;
    }
    if (identify.data.token !== this.events.token()) {
      session.socket.close(CLOSE.AUTHENTICATION_FAILED, 'Authentication failed.');
      return;
    }
    session.sessionId = `session${this.nextSession++}`;
    session.intents = identify.data.intents;
    this.sendTo(session, 'READY', this.events.ready(session.sessionId));
    for (const guild of this.events.guilds()) this.sendTo(session, 'GUILD_CREATE', guild);
  }

  private resume(session: GatewaySession, data: unknown): void {
    const resume = resumeSchema.safeParse(data);
    if (!resume.success || resume.data.token !== this.events.token()) {
      session.socket.close(CLOSE.AUTHENTICATION_FAILED, 'Authentication failed.');
      return;
    }
    const known = this.sessions.find((other) => other.sessionId === resume.data.session_id);
    if (known === undefined) {
      session.socket.send(JSON.stringify({ op: OP.INVALID_SESSION, d: false }));
      return;
    }
    session.sessionId = known.sessionId;
    session.intents = known.intents;
    this.sendTo(session, 'RESUMED', null);
  }

  private sendTo(session: GatewaySession, type: string, data: unknown): void {
    session.socket.send(JSON.stringify({ op: OP.DISPATCH, t: type, s: ++this.sequence, d: data }));
  }
}
