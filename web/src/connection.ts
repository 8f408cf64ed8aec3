// One WebSocket to the API that heartbeats, reconnects with backoff (listeners), and follows connectionRefresh.
import { type Action, type GatewayAnswer, type ServerMessage, encodeAction, parseServerMessage } from "./protocol";

/**
 * The protocol's interval (docs/PROTOCOL.md: a heartbeat at least every 5 minutes), a minute under it for a
 * background tab's throttled timers, and so well under the 10-minute idle timeout. The CLI clients use the same
 * (tools/broadcast_client/keepalive.py HEARTBEAT_SECONDS; tests/test_clients.py checks they agree).
 */
export const HEARTBEAT_MS = 240_000;

export type SocketState = "connecting" | "open" | "reconnecting" | "closed";

export interface SocketOptions {
  /** The URL to (re)connect to; read on every attempt. */
  url: () => string;
  /** Runs on every opened connection (a listener joins or rejoins its session here). */
  onOpen: (socket: BroadcastSocket) => void;
  onMessage: (message: ServerMessage | GatewayAnswer) => void;
  onState?: (state: SocketState, attempt: number) => void;
  /** Reconnect after a connection drops (listeners); a speaker's session ends with its connection. */
  reconnect: boolean;
  heartbeatMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
  createWebSocket?: (url: string) => WebSocket;
}

/** Exponential backoff with jitter: attempt 0 waits about `initial`, doubling up to `max`. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** attempt);
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}

export class BroadcastSocket {
  private socket: WebSocket | null = null;
  /** The connection a connectionRefresh is opening, until it is open. */
  private replacement: WebSocket | null = null;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private stopped = false;

  constructor(private readonly options: SocketOptions) {}

  get state(): SocketState {
    if (this.stopped) return "closed";
    if (this.socket?.readyState === WebSocket.OPEN) return "open";
    return this.attempt > 0 ? "reconnecting" : "connecting";
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  /** Sends when connected; false when the message could not be sent now. */
  send(action: Action): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(encodeAction(action));
    return true;
  }

  /** Bytes queued in the browser and not yet sent (the speaker watches it so audio never piles up). */
  get bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    this.socket?.close(1000, "closed by the page");
    this.socket = null;
    this.options.onState?.("closed", this.attempt);
  }

  /** Opens a new connection, joins on it (onOpen), and only then lets the old one go (connectionRefresh). */
  refresh(): void {
    if (this.replacement) return;
    const old = this.socket;
    this.replacement = this.open(() => old?.close(1000, "refreshed"));
  }

  private open(afterOpen?: () => void): WebSocket {
    const create = this.options.createWebSocket ?? ((url: string) => new WebSocket(url));
    const socket = create(this.options.url());
    this.options.onState?.(this.attempt > 0 ? "reconnecting" : "connecting", this.attempt);
    socket.onopen = () => {
      if (this.replacement === socket) this.replacement = null;
      this.socket = socket;
      this.attempt = 0;
      this.options.onState?.("open", 0);
      this.startHeartbeat();
      this.options.onOpen(this);
      afterOpen?.();
    };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== "string") return;
      const message = parseServerMessage(event.data);
      if (message?.type === "connectionRefresh") this.refresh();
      if (message) this.options.onMessage(message);
    };
    socket.onclose = () => {
      if (socket === this.replacement) {
        // The refresh failed: carry on with the old connection, or reconnect if it is gone too.
        this.replacement = null;
        if (this.socket === null) this.dropped();
      } else if (this.socket === socket || this.socket === null) {
        this.socket = null;
        if (!this.replacement) this.dropped(); // else the refresh's connection takes over when it opens
      }
    };
    return socket;
  }

  private dropped(): void {
    clearInterval(this.heartbeat);
    this.socket = null;
    if (this.stopped || !this.options.reconnect) {
      this.stopped = true;
      this.options.onState?.("closed", this.attempt);
      return;
    }
    const delay = backoffDelay(
      this.attempt,
      this.options.initialBackoffMs ?? 500,
      this.options.maxBackoffMs ?? 15_000,
      this.options.random ?? Math.random,
    );
    this.attempt += 1;
    this.options.onState?.("reconnecting", this.attempt);
    this.retry = setTimeout(() => this.open(), delay);
  }

  private startHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.send({ action: "heartbeat" }), this.options.heartbeatMs ?? HEARTBEAT_MS);
  }
}
