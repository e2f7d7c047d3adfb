/**
 * Envoy simulator for geosync's tests (never shipped). See envoy-semantics.md for the rules modelled;
 * each module cites the section or Envoy source file it reproduces.
 */
export { startEnvoySim, type EnvoySim } from './simulator';
export { startEnvoy, startRealEnvoy, findEnvoyBinary, type RealEnvoyOptions } from './real-envoy';
export { type EnvoyHandle, type ListenerInfo, listenerUrl } from './handle';
export { type Knobs, resolveKnobs } from './knobs';
export { readBootstrap, type Bootstrap } from './bootstrap';
export { Stats } from './stats';
