import type { ApiApp } from '../env.js';

export function registerTaskWorkRoutes(_v1: ApiApp): void {}
