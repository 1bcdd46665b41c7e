/** Send an IPC message to a worker if it can still hear it; failures go to `onError`. */
import type { Worker } from 'node:cluster';
import type { ToWorker } from '../ipc/index.js';

/** True when the message was handed to the channel. */
export function sendToWorker(worker: Worker, msg: ToWorker, onError?: (err: Error) => void): boolean {
  if (!worker.isConnected()) return false;
  worker.send(msg, (err: Error | null) => {
    if (err !== null) onError?.(err);
  });
  return true;
}
