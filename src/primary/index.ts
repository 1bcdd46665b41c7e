/** Public surface of the primary: the node's supervisor side. */
export { runPrimary, type PrimaryOptions } from './primary.js';
export { Supervisor, workerCount, type SupervisorOptions } from './supervisor.js';
export { ControlHost, type ControlHostOptions } from './control-host.js';
