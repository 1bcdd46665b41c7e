/** Active health checks run by the control thread. */
export { HealthProber, statusExpected, type HealthChange } from './health-prober.js';
