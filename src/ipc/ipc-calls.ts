/**
 * Request/response over an IPC channel (worker ↔ primary, primary ↔ control thread): ids keep
 * concurrent calls apart, and
 * a call that gets no answer within the timeout settles as null instead of hanging.
 */

/** Pending calls whose answers arrive as separate messages. */
export class IpcCalls<T> {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve(v: T | null): void; timer: NodeJS.Timeout }>();
  readonly #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Start a call; `send(id)` returns false when the message could not be sent (→ null). */
  call(send: (id: number) => boolean): Promise<T | null> {
    return new Promise((resolve) => {
      const id = this.#nextId++;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(null);
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, timer });
      if (!send(id)) this.settle(id, null);
    });
  }

  /** Deliver the answer to call `id` (ignored when it already timed out). */
  settle(id: number, value: T | null): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(value);
  }
}
