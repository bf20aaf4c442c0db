import type { ApiApp } from '../env.js';

export function registerSignalRoutes(_v1: ApiApp): void {}
